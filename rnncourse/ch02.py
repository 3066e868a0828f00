"""Chapter 02 (design criteria): references for the tests, known mistakes, and the concept check.

The correct values come from PyTorch (`torch.nn.utils.rnn.pad_sequence`, comparisons of
`torch.arange`, masked sums), never from the reference solutions. Each `*_mistakes` function
returns `(hint, wrong_value)` pairs: what a plausible wrong implementation returns, so that a
failing test can name the mistake. The `check_*` functions run one whole test of an exercise.

Conventions: N sequences, padded to T steps, D features per step; `lengths` is an (N,) integer
array; padding goes at the end of each sequence; a mask is True at real (non-padding) positions.
"""
import numpy as np
import torch

from rnncourse.checks import blame_dependencies_first, call, check, check_close, check_new_arrays, fail


def random_sequences(seed, lengths, vocab_size=20):
    """A list of (T_i,) int64 arrays of token ids in 1 .. vocab_size-1, with the given lengths."""
    rng = np.random.default_rng(seed)
    return [rng.integers(1, vocab_size, size=int(n)).astype(np.int64) for n in lengths]


def _lengths_tensor(lengths):
    return torch.as_tensor(np.asarray(lengths, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# pad_sequences
# ---------------------------------------------------------------------------------------------

def reference_pad_sequences(seqs, pad_value):
    """(batch (N, T_max) int64, lengths (N,) int64), padding at the end with pad_value."""
    tensors = [torch.as_tensor(np.asarray(s, dtype=np.int64)) for s in seqs]
    batch = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True, padding_value=pad_value)
    return batch.numpy(), np.array([len(t) for t in tensors], dtype=np.int64)


def pad_sequences_mistakes(seqs, pad_value):
    batch, lengths = reference_pad_sequences(seqs, pad_value)
    T = batch.shape[1]
    front = np.full_like(batch, pad_value)
    for i, s in enumerate(seqs):
        front[i, T - len(s):] = s
    zeros = reference_pad_sequences(seqs, 0)[0]
    batch_mistakes = [
        ("the padding is at the front; put each sequence first and the padding at the end.", front),
    ]
    if pad_value != 0:
        batch_mistakes.append((f"the padding is 0; pad with the given pad_value ({pad_value}).", zeros))
    lengths_mistakes = [
        ("every length is T_max; lengths[i] is the length of seqs[i] before padding.", np.full_like(lengths, T)),
        ("lengths holds the number of padding positions; it should hold each sequence's own length.", T - lengths),
        ("the lengths are sorted; lengths[i] is the length of seqs[i], in the order of seqs.", np.sort(lengths)),
        ("the lengths are sorted; lengths[i] is the length of seqs[i], in the order of seqs.", np.sort(lengths)[::-1]),
    ]
    return batch_mistakes, lengths_mistakes


def check_pad_sequences(fn, seqs, pad_value):
    expected_batch, expected_lengths = reference_pad_sequences(seqs, pad_value)
    N, T = expected_batch.shape
    where = f" (N={N}, lengths {expected_lengths.tolist()}, pad_value={pad_value})"
    given = [s.copy() for s in seqs]
    given_list = list(given)
    result = call(fn, given, pad_value, name="pad_sequences", returns=2)
    batch, lengths = result
    # call() compares array arguments only: the list and the arrays in it are compared here
    check(len(given) == len(seqs) and all(g is s for g, s in zip(given, given_list)),
          "pad_sequences changed its argument `seqs` (the caller's list) in place, e.g. seqs[i] = "
          "padded: leave the list alone and write the padded rows into a new batch array.")
    for i, (g, s) in enumerate(zip(given, seqs)):
        check(g.shape == s.shape and np.array_equal(g, s),
              f"pad_sequences changed seqs[{i}] in place; leave the sequences as they are and write "
              f"into a new batch array.")
    check_new_arrays("pad_sequences", [batch, lengths], given)
    batch_mistakes, lengths_mistakes = pad_sequences_mistakes(seqs, pad_value)
    check(isinstance(batch, np.ndarray),
          f"`batch` should be a numpy array of shape {(N, T)} (N, T_max); got {type(batch).__name__}.")
    shape_hints = {
        (T, N): "the batch is transposed: one ROW per sequence, (N, T_max).",
        (N, min(expected_lengths)): "the sequences are cut to the shortest length; pad them to the LONGEST.",
    }
    if batch.shape != (N, T) and batch.shape in shape_hints:
        fail(f"`batch` has shape {batch.shape} but should have shape {(N, T)} (N, T_max){where}.\n"
             f"Hint: {shape_hints[batch.shape]}")
    check(batch.dtype.kind in "iu",
          f"`batch` has dtype {batch.dtype} but should hold integers (token ids index an embedding or a "
          f"one-hot table): create it with dtype=np.int64 or the sequences' own dtype, e.g. "
          f"np.full((N, T_max), pad_value, dtype=np.int64).")
    check_close("batch" + where, batch, expected_batch, dims="(N, T_max)", mistakes=batch_mistakes)
    check(isinstance(lengths, np.ndarray),
          f"`lengths` should be a numpy array of shape ({N},); got {type(lengths).__name__}: wrap it "
          f"with np.array(..., dtype=np.int64).")
    check(lengths.dtype.kind in "iu", f"`lengths` has dtype {lengths.dtype}; lengths are integers (np.int64).")
    check_close("lengths" + where, lengths, expected_lengths, dims="(N,)", mistakes=lengths_mistakes)


# ---------------------------------------------------------------------------------------------
# sequence_mask
# ---------------------------------------------------------------------------------------------

def reference_sequence_mask(lengths, T):
    """(N, T) bool, True at positions t < lengths[n]."""
    return (torch.arange(T)[None, :] < _lengths_tensor(lengths)[:, None]).numpy()


def sequence_mask_mistakes(lengths, T):
    mask = reference_sequence_mask(lengths, T)
    return [
        ("the mask is inverted: True must mark the real positions, False the padding.", ~mask),
        ("off by one: position t is real when t < lengths[n] (positions 0 .. lengths[n]-1), "
         "not t <= lengths[n].", reference_sequence_mask(np.asarray(lengths) + 1, T)),
        ("the real positions are at the end; padding is at the end, so the first lengths[n] "
         "positions are True.", mask[:, ::-1]),
        ("every position is True: use lengths to mark the padding False.", np.ones_like(mask)),
    ]


def compare_bool(name, got, expected, mistakes=(), dims=None):
    """Check a boolean array exactly, naming a known mistake when got matches one."""
    check(isinstance(got, np.ndarray),
          f"`{name}` should be a numpy array; got {type(got).__name__}.")
    if got.shape != expected.shape:
        hint = ("\nHint: the axes are swapped: one row per sequence, (N, T)."
                if got.shape == expected.shape[::-1] else "")
        fail(f"`{name}` has shape {got.shape} but should have shape {expected.shape}"
             f"{' ' + dims if dims else ''}.{hint}")
    if got.dtype != bool:
        fail(f"`{name}` has dtype {got.dtype} but should be bool (True at real positions): a comparison "
             f"such as `a < b` gives a bool array; do not convert it to int or float.")
    if np.array_equal(got, expected):
        return
    wrong = np.argwhere(got != expected)
    index = tuple(int(i) for i in wrong[0])
    message = (f"`{name}` differs at {len(wrong)} of {expected.size} positions; first at index {index}: "
               f"got {got[index]}, expected {expected[index]}.")
    for hint, value in mistakes:
        if np.array_equal(got, value):
            fail(f"{message}\nHint: {hint}")
    fail(message)


def check_sequence_mask(fn, lengths, T):
    lengths = np.asarray(lengths, dtype=np.int64)
    where = f" (lengths {lengths.tolist()}, T={T})"
    got = call(fn, lengths.copy(), T, name="sequence_mask")
    longest = int(lengths.max())
    if isinstance(got, np.ndarray) and longest != T and got.shape == (len(lengths), longest):
        fail(f"`mask{where}` has shape {got.shape} but should have shape {(len(lengths), T)} (N, T).\n"
             f"Hint: the mask has max(lengths) = {longest} columns; use the given T, which may be larger "
             f"(a batch padded further).")
    compare_bool("mask" + where, got, reference_sequence_mask(lengths, T), sequence_mask_mistakes(lengths, T), dims="(N, T)")


# ---------------------------------------------------------------------------------------------
# masked_mean
# ---------------------------------------------------------------------------------------------

def reference_masked_mean(x, lengths):
    """(N, D): the mean of x[n, :lengths[n]] over time, computed with a torch mask."""
    xt = torch.as_tensor(x, dtype=torch.float64)
    T = xt.shape[1]
    mask = (torch.arange(T)[None, :] < _lengths_tensor(lengths)[:, None]).to(torch.float64)
    return ((xt * mask[:, :, None]).sum(dim=1) / mask.sum(dim=1, keepdim=True)).numpy()


def masked_mean_mistakes(x, lengths):
    N, T, D = x.shape
    lengths = np.asarray(lengths)
    mask = reference_sequence_mask(lengths, T)[:, :, None]
    masked_sum = np.where(mask, x, 0).sum(axis=1)
    padding_sum = np.where(mask, 0, x).sum(axis=1)
    mistakes = [
        ("the padding is averaged too: x.mean(axis=1) counts every position; average only the real "
         "ones (the first lengths[n]).", x.mean(axis=1)),
        ("the masked sum is divided by T; divide by each sequence's length, lengths[n].", masked_sum / T),
        ("the masked sum is divided by D; the mean is over time, divide by lengths[n].", masked_sum / D),
        ("this is the masked sum; divide it by lengths[n] to get the mean.", masked_sum),
    ]
    pads = (T - lengths)[:, None]
    if np.all(pads > 0):
        mistakes.append(("the mask is inverted: this averages the padding positions, not the real ones.",
                         padding_sum / pads))
    return mistakes


def check_masked_mean(fn, x, lengths, sequence_mask=None):
    """fn(x, lengths) equals a torch masked mean. sequence_mask: the student's, which the notebook
    suggests using inside masked_mean; when fn uses it and fails, sequence_mask's own test runs
    first and is named if it fails."""
    # blamed only when fn's code names it: a masked_mean that builds its own mask does not depend on it
    uses = "sequence_mask" in getattr(getattr(fn, "__code__", None), "co_names", ())
    own_test = ((lambda: check_sequence_mask(sequence_mask, lengths, x.shape[1]))
                if sequence_mask is not None and uses else None)
    with blame_dependencies_first("masked_mean", [("sequence_mask", "calls", own_test)]):
        _check_masked_mean(fn, x, lengths)


def _check_masked_mean(fn, x, lengths):
    N, T, D = x.shape
    where = f" (N={N}, T={T}, D={D}, lengths {np.asarray(lengths).tolist()})"
    got = call(fn, x, np.asarray(lengths, dtype=np.int64), name="masked_mean")
    if isinstance(got, np.ndarray) and got.shape == (N, T):
        fail(f"`mean{where}` has shape {(N, T)} but should have shape {(N, D)} (N, D).\nHint: the mean is "
             f"taken over time (axis 1), not over the features (axis 2).")
    pads = T - np.asarray(lengths)
    padded_rows = pads > 0
    if isinstance(got, np.ndarray) and got.shape == (N, D) and padded_rows.any():
        padding_mean = np.where(reference_sequence_mask(lengths, T)[:, :, None], 0, x).sum(axis=1)[padded_rows] \
            / pads[padded_rows, None]
        if np.allclose(got[padded_rows], padding_mean, rtol=1e-6, atol=1e-9):
            fail(f"`mean{where}` is wrong: its rows with padding are the mean of the padding positions.\n"
                 f"Hint: the mask is inverted: average the positions where the mask is True, t < lengths[n].")
    check_close("mean" + where, got, reference_masked_mean(x, lengths), dtype=np.float64, dims="(N, D)",
                mistakes=masked_mean_mistakes(x, lengths))


# ---------------------------------------------------------------------------------------------
# Concept check: answers recorded in variables
# ---------------------------------------------------------------------------------------------

CRITERIA = ("variable length", "long-term dependencies", "order", "parameter sharing")

QUESTIONS = {
    "q1_bag_of_words": ("criterion", "a criterion from CRITERIA"),
    "q2_fixed_window": ("criterion", "a criterion from CRITERIA"),
    "q3_big_window": ("criterion", "a criterion from CRITERIA"),
    "q4_window_weights": ("count", "a whole number (an int)"),
    "q5_padded_positions": ("count", "a whole number (an int)"),
}

HINTS = {
    "q1_bag_of_words": "compare section 1.3's two sentences: what does a vector of counts forget?",
    "q2_fixed_window": "which word decides 'is' or 'are' in the example, and how far back is it?",
    "q3_big_window": "what does a weight learned for position 5 of the window tell the weights of "
                     "position 500?",
    "q4_window_weights": "one weight per (input, hidden unit) pair: how many inputs does a window of k "
                         "one-hot vectors of length V have?",
    "q5_padded_positions": "pad to the longest sequence; count the False entries of the mask.",
}


def _answer(namespace, name):
    if name not in namespace:
        fail(f"`{name}` is not defined: assign your answer to it in the answer cell above and run "
             f"that cell (delete its `raise NotImplementedError()`).")
    return namespace[name]


def check_concept_answers_format(namespace):
    """Every answer variable exists and has the right kind of value (not whether it is right)."""
    for name, (kind, what) in QUESTIONS.items():
        value = _answer(namespace, name)
        if kind == "criterion":
            check(isinstance(value, str),
                  f"`{name}` should be one of the strings {list(CRITERIA)}; got {type(value).__name__} "
                  f"{value!r}.")
            check(value in CRITERIA,
                  f"`{name}` = {value!r} is not one of the allowed answers {list(CRITERIA)} (copy one "
                  f"exactly, lower case).")
        else:
            check(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
                  f"`{name}` should be {what}; got {type(value).__name__} {value!r}."
                  + (" Write it as an int, e.g. int(...)." if isinstance(value, float) else ""))
            check(value >= 0, f"`{name}` counts something: it cannot be negative ({value}).")


def grade_concept_answer(namespace, name, accepted):
    """Pass when namespace[name] is among `accepted`; else fail with that question's hint."""
    kind, what = QUESTIONS[name]
    value = _answer(namespace, name)
    if kind == "count":
        check(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
              f"`{name}` should be {what}; got {type(value).__name__} {value!r}.")
        value = int(value)
    check(value in accepted, f"`{name}` = {value!r} is not right. Hint: {HINTS[name]}")


# ---------------------------------------------------------------------------------------------
# last_valid_state and pack_by_hand (the packing notebook): compared with PyTorch's packed GRU
# and pack_padded_sequence
# ---------------------------------------------------------------------------------------------

def packing_inputs(seed, lengths, D=3, H=4):
    """A seeded nn.GRU(D, H) in float64 and x (N, T, D) float64 with garbage (not zeros) at the
    padding, T = max(lengths), so that reading a padded position shows."""
    torch.manual_seed(seed)
    gru = torch.nn.GRU(D, H, batch_first=True).double()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), max(lengths), D, generator=g, dtype=torch.float64)
    return gru, x


def reference_last_valid_state(outputs, lengths):
    """outputs[n, lengths[n] - 1] for each n, gathered with torch indexing (same type as outputs)."""
    as_tensor = torch.as_tensor(np.asarray(outputs)) if isinstance(outputs, np.ndarray) else outputs
    result = as_tensor[torch.arange(len(as_tensor)), _lengths_tensor(lengths) - 1]
    return result.numpy() if isinstance(outputs, np.ndarray) else result


def packed_h_n(gru, x, lengths):
    """The final state (N, H) of gru run on x packed with lengths: PyTorch's own answer."""
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, _lengths_tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    with torch.no_grad():
        return gru(packed)[1][0]


def last_valid_state_mistakes(outputs, lengths):
    lengths = np.asarray(lengths)
    o = np.asarray(outputs)
    rows = np.arange(len(o))
    return [
        ("this is the output at the last padded step, outputs[:, -1]: for a shorter sequence it "
         "has read the padding. Take outputs[n, lengths[n] - 1].", o[:, -1]),
        ("off by one: the last real step of a sequence of length L is index L - 1 (0-based), "
         "not L.", o[rows, np.minimum(lengths, o.shape[1] - 1)]),
        ("this is the first step, outputs[:, 0]; the last real one is outputs[n, lengths[n] - 1].", o[:, 0]),
    ]


def check_last_valid_state(fn, lengths, seed=0, as_numpy=True, lengths_as="array"):
    """fn(outputs, lengths) on the outputs of an unpacked GRU equals the h_n of the same GRU run
    on the packed batch; as_numpy: outputs as a numpy array (else a torch tensor); lengths_as:
    "array", "tensor" or "list"."""
    gru, x = packing_inputs(seed, lengths)
    with torch.no_grad():
        outputs = gru(x)[0]  # run over the padding too: the states there are not zero
    expected = packed_h_n(gru, x, lengths)
    assert torch.allclose(reference_last_valid_state(outputs, lengths), expected)
    given = {"array": np.asarray(lengths, dtype=np.int64), "tensor": _lengths_tensor(lengths),
             "list": list(lengths)}[lengths_as]
    where = f" (lengths {list(lengths)} as a {lengths_as}, outputs as a {'numpy array' if as_numpy else 'tensor'})"
    got = call(fn, outputs.numpy() if as_numpy else outputs, given, name="last_valid_state")
    mistakes = last_valid_state_mistakes(outputs.numpy(), lengths)
    check_close("the last valid state" + where, got, expected.numpy() if as_numpy else expected,
                rtol=1e-12, atol=1e-12, dims="(N, H)", mistakes=mistakes)


def reference_pack_by_hand(x, lengths):
    """(data, batch_sizes) of pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)."""
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, _lengths_tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    return packed.data, packed.batch_sizes


def _pack_in_order(x, order, lengths, time_major=True, all_steps=False):
    """data of the sequences in `order`: time-major (step 0 of each, then step 1, ...) or
    sequence by sequence; all_steps: padding included."""
    T = x.shape[1]
    steps = lambda n: T if all_steps else int(lengths[n])
    if time_major:
        return torch.stack([x[n, t] for t in range(T) for n in order if t < steps(n)])
    return torch.stack([x[n, t] for n in order for t in range(steps(n))])


def pack_by_hand_mistakes(x, lengths):
    """(hint, (data, batch_sizes)) of plausible wrong packings."""
    lengths = np.asarray(lengths, dtype=np.int64)
    N, T = len(lengths), int(lengths.max())
    stable = sorted(range(N), key=lambda n: -lengths[n])
    sizes = torch.tensor([int((lengths > t).sum()) for t in range(T)])
    return [
        ("the sequences are not sorted: pack_padded_sequence orders them by decreasing length "
         "(equal lengths in their original order).", (_pack_in_order(x, range(N), lengths), sizes)),
        ("the data is sequence by sequence; a PackedSequence is time-major: step 0 of every "
         "sequence, then step 1 of those still running, ...",
         (_pack_in_order(x, stable, lengths, time_major=False), sizes)),
        ("the padding is packed too: at step t only the sequences longer than t take part, so "
         "batch_sizes[t] = number of lengths > t.",
         (_pack_in_order(x, stable, lengths, all_steps=True), torch.full((T,), N))),
        ("the sequences are sorted by increasing length; decreasing, so that the running ones are "
         "always the first batch_sizes[t].",
         (_pack_in_order(x, sorted(range(N), key=lambda n: lengths[n]), lengths), sizes)),
        ("equal lengths are not in their original order: sort by decreasing length with a stable "
         "sort (sorted(range(N), key=lambda n: -lengths[n])).",
         (_pack_in_order(x, sorted(range(N), key=lambda n: (-lengths[n], -n)), lengths), sizes)),
    ]


def check_pack_by_hand(fn, lengths, seed=0, D=3, lengths_as="list"):
    """fn(x (N, T, D) tensor, lengths) returns pack_padded_sequence's data and batch_sizes."""
    _, x = packing_inputs(seed, lengths, D=D)
    given = _lengths_tensor(lengths) if lengths_as == "tensor" else list(lengths)
    where = f" (lengths {list(lengths)} as a {lengths_as}, D={D})"
    data, batch_sizes = call(fn, x, given, name="pack_by_hand", returns=2)
    expected_data, expected_sizes = reference_pack_by_hand(x, lengths)
    mistakes = pack_by_hand_mistakes(x, lengths)
    check(isinstance(batch_sizes, torch.Tensor),
          f"`batch_sizes`{where} should be a torch tensor (int64); got {type(batch_sizes).__name__}.")
    check(batch_sizes.dtype == torch.int64,
          f"`batch_sizes`{where} has dtype {batch_sizes.dtype}; pack_padded_sequence's is torch.int64.")
    check_close("batch_sizes" + where, batch_sizes, expected_sizes, rtol=0, atol=0, dims="(max_len,)",
                mistakes=[(hint, value[1]) for hint, value in mistakes])
    if isinstance(data, torch.Tensor) and data.shape == expected_data.shape:
        for hint, (wrong, _) in mistakes:
            if torch.equal(data, wrong) and not torch.equal(wrong, expected_data):
                fail(f"`data`{where} is in the wrong order.\nHint: {hint}")
    check_close("data" + where, data, expected_data, rtol=0, atol=0, dims="(sum(lengths), D)")
