"""Plausible wrong answers for solutions/02-design-criteria/padding_and_masks.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

PAD = '''
def pad_sequences(seqs, pad_value):
    lengths = np.array([len(s) for s in seqs]{lengths_extra})
    T = max(len(s) for s in seqs)
    batch = {batch}
    for i, s in enumerate(seqs):
        {fill}
    return {result}
'''


def pad(lengths_extra=", dtype=np.int64", batch="np.full((len(seqs), T), pad_value, dtype=np.int64)",
        fill="batch[i, :len(s)] = s", result="batch, lengths"):
    return PAD.format(lengths_extra=lengths_extra, batch=batch, fill=fill, result=result)


MASK = '''
def sequence_mask(lengths, T):
    mask = {expr}
    return mask
'''

MEAN = '''
def masked_mean(x, lengths):
    N, T, D = x.shape
    mask = np.arange(T)[None, :] < np.asarray(lengths)[:, None]
    masked = np.where({where}[:, :, None], x, 0.0)
    return {result}
'''

CONCEPT = '''
q1_bag_of_words = {q1!r}
q2_fixed_window = {q2!r}
q3_big_window = {q3!r}
q4_window_weights = {q4}
q5_padded_positions = {q5}
'''


def concept(q1="order", q2="long-term dependencies", q3="parameter sharing", q4="50_000_000", q5="6"):
    return CONCEPT.format(q1=q1, q2=q2, q3=q3, q4=q4, q5=q5)


MUTANTS = [
    dict(grade_id="pad_sequences", name="padding at the front", expect="padding is at the front",
         source=pad(fill="batch[i, T - len(s):] = s")),
    dict(grade_id="pad_sequences", name="pads with zeros", expect="the padding is 0",
         source=pad(batch="np.zeros((len(seqs), T), dtype=np.int64)")),
    dict(grade_id="pad_sequences", name="float batch", expect="should hold integers",
         source=pad(batch="np.full((len(seqs), T), pad_value, dtype=float)")),
    dict(grade_id="pad_sequences", name="lengths all T_max", expect="every length is T_max",
         source=pad(result="batch, np.full(len(seqs), T)")),
    dict(grade_id="pad_sequences", name="transposed batch", expect="transposed",
         source=pad(result="batch.T, lengths")),
    dict(grade_id="pad_sequences", name="lengths as a list", expect="`lengths` should be a numpy array",
         source=pad(result="batch, lengths.tolist()")),
    dict(grade_id="pad_sequences", name="float lengths", expect="lengths are integers",
         source=pad(lengths_extra=", dtype=float")),
    dict(grade_id="pad_sequences", name="lengths sorted", expect="lengths are sorted",
         source=pad(result="batch, np.sort(lengths)[::-1]")),
    dict(grade_id="pad_sequences", name="pads the caller's list", expect="changed its argument `seqs`",
         source="def pad_sequences(seqs, pad_value):\n    lengths = np.array([len(s) for s in seqs])\n"
                "    T = lengths.max()\n    for i, s in enumerate(seqs):\n"
                "        seqs[i] = np.concatenate([s, np.full(T - len(s), pad_value, dtype=s.dtype)])\n"
                "    return np.stack(seqs), lengths\n"),
    dict(grade_id="pad_sequences", name="one sequence returned as is", expect="returns one of its inputs",
         source="def pad_sequences(seqs, pad_value):\n    if len(seqs) == 1:\n"
                "        return seqs[0][None, :], np.array([len(seqs[0])])\n"
                + pad().split("def pad_sequences(seqs, pad_value):\n", 1)[1]),
    dict(grade_id="sequence_mask", name="max(lengths) columns", expect="use the given T",
         source=MASK.format(expr="np.arange(np.max(lengths))[None, :] < np.asarray(lengths)[:, None]")),
    dict(grade_id="sequence_mask", name="inverted", expect="mask is inverted",
         source=MASK.format(expr="np.arange(T)[None, :] >= np.asarray(lengths)[:, None]")),
    dict(grade_id="sequence_mask", name="off by one", expect="off by one",
         source=MASK.format(expr="np.arange(T)[None, :] <= np.asarray(lengths)[:, None]")),
    dict(grade_id="sequence_mask", name="int mask", expect="should be bool",
         source=MASK.format(expr="(np.arange(T)[None, :] < np.asarray(lengths)[:, None]).astype(int)")),
    dict(grade_id="sequence_mask", name="transposed", expect="axes are swapped",
         source=MASK.format(expr="np.arange(T)[:, None] < np.asarray(lengths)[None, :]")),
    dict(grade_id="sequence_mask", name="real positions at the end", expect="real positions are at the end",
         source=MASK.format(expr="np.arange(T)[None, :] >= T - np.asarray(lengths)[:, None]")),
    dict(grade_id="masked_mean", name="plain mean", expect="padding is averaged too",
         source=MEAN.format(where="mask", result="x.mean(axis=1)")),
    dict(grade_id="masked_mean", name="divides by T", expect="divided by T",
         source=MEAN.format(where="mask", result="masked.sum(axis=1) / T")),
    dict(grade_id="masked_mean", name="divides by D", expect="divided by D",
         source=MEAN.format(where="mask", result="masked.sum(axis=1) / D")),
    dict(grade_id="masked_mean", name="sum not mean", expect="masked sum; divide it",
         source=MEAN.format(where="mask", result="masked.sum(axis=1)")),
    dict(grade_id="masked_mean", name="inverted mask", expect="mask is inverted",
         source=MEAN.format(where="~mask", result="masked.sum(axis=1) / (T - np.asarray(lengths))[:, None]")),
    dict(grade_id="masked_mean", name="mean over features", expect="over time (axis 1)",
         source=MEAN.format(where="mask", result="masked.sum(axis=2) / np.asarray(lengths)[:, None]")),
    dict(grade_id="masked_mean", name="float32", expect="should be float64",
         source=MEAN.format(where="mask", result="(masked.sum(axis=1) / np.asarray(lengths)[:, None]).astype(np.float32)")),
    dict(grade_id="masked_mean", name="writes into x", expect="changed its argument",
         source="def masked_mean(x, lengths):\n    mask = sequence_mask(lengths, x.shape[1])\n"
                "    x[~mask] = 0\n    return x.sum(axis=1) / np.asarray(lengths)[:, None]\n"),
    dict(grade_id="concept_check", name="bag breaks long-term", expect="q1_bag_of_words",
         source=concept(q1="long-term dependencies")),
    dict(grade_id="concept_check", name="fixed window breaks order", expect="q2_fixed_window",
         source=concept(q2="order")),
    dict(grade_id="concept_check", name="big window breaks variable length", expect="q3_big_window",
         source=concept(q3="variable length")),
    dict(grade_id="concept_check", name="weights without H", expect="q4_window_weights",
         source=concept(q4="50 * 10_000")),
    dict(grade_id="concept_check", name="padded positions counts real ones", expect="q5_padded_positions",
         source=concept(q5="15")),
    dict(grade_id="concept_check", name="answer not a choice", expect="is not one of the allowed answers",
         source=concept(q1="Order")),
    dict(grade_id="concept_check", name="float count", expect="should be a whole number",
         source=concept(q4="5e7")),
]

# A wrong sequence_mask under the solution's masked_mean, which calls it: masked_mean's tests must
# name sequence_mask.
ATTRIBUTIONS = [
    dict(grade_id="sequence_mask", name="off by one", tested="masked_mean",
         source=MASK.format(expr="np.arange(T)[None, :] <= np.asarray(lengths)[:, None]")),
    dict(grade_id="sequence_mask", name="inverted", tested="masked_mean",
         source=MASK.format(expr="np.arange(T)[None, :] >= np.asarray(lengths)[:, None]")),
]
