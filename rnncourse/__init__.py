"""Helpers of the RNN course.

checks: what every notebook test uses (calling student code, comparing values, gradient checks,
    naming the function at fault when one exercise uses another).
ch01 ... ch07: one module per chapter, the references of its tests: for an exercise `foo`, its
    oracle `reference_foo` (PyTorch or finite differences), the values of its known mistakes
    `foo_mistakes`, and its test `check_foo(student_fn_or_class, ...)`. Not for students' code.
Helpers that students are told to use:
    data: the shipped data sets (text corpus, digits read row by row).
    training: small training loops for classifiers.
    text: chapter 4's character model (CharRNN), its training loop and text generation.
    seq2seq: chapter 7's digit-reversal task (PAD, BOS, VOCAB, reversal_data), its encoder, a
        decoder without attention, training, greedy decoding and scoring.
"""
