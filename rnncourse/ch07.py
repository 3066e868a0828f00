"""Chapter 07 (attention): references for the tests and the known mistakes they recognise (the
toy sequence-to-sequence task that the chapter and the exercise train on is in `rnncourse.seq2seq`).

The correct values come from PyTorch (`torch.softmax`, `torch.nn.functional.scaled_dot_product_attention`,
float64 tensor arithmetic), never from the reference solutions. Each `*_mistakes` function
returns `(hint, wrong_value)` pairs for `checks.check_close`: what a plausible wrong
implementation computes, so that a failing test can name the mistake.

numpy conventions: q (N, Tq, d), k (N, Tk, d), v (N, Tk, dv); mask True = "may attend".
A row of a mask with no allowed position is outside the exercises' contract (PyTorch's SDPA
returns NaN there, a large negative fill gives a uniform row): the tests never use one.
"""
import time

import numpy as np
import torch
from torch import nn

from rnncourse.checks import blame_dependencies_first, call, check, check_close, check_shape, fail, sizes, to_torch
from rnncourse.seq2seq import VOCAB, Encoder, TableModel, accuracy_by_length, train_seq2seq


def _np_softmax(x, axis):
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------------------------

def reference_softmax(x, axis=-1):
    """torch.softmax in float64."""
    return torch.softmax(to_torch(x), dim=axis).numpy()


def softmax_mistakes(x, axis=-1):
    wrong = []
    for other in range(x.ndim):
        if other != axis % x.ndim:
            wrong.append((f"the softmax is taken over axis {other}; it must normalise along "
                          f"axis={axis} (the values along that axis sum to 1).", reference_softmax(x, other)))
    with np.errstate(all="ignore"):
        e = np.exp(x)
        wrong.append(("the values are normalised over the whole array, not along `axis`: "
                      "use keepdims sums along axis.", e / e.sum()))
        wrong.append(("the exponential is missing: softmax(x) = exp(x) / sum(exp(x)).",
                      x / x.sum(axis=axis, keepdims=True)))
        wrong.append(("the result is not normalised: divide by the sum of the exponentials.",
                      np.exp(x - x.max(axis=axis, keepdims=True))))
    return wrong


def check_softmax(fn, shape, axis=-1, seed=0, scale=1.0, shift=0.0, row_offsets=0.0):
    """fn(x, axis) equals torch.softmax on seeded random x (entries ~ shift + N(0, scale^2)).

    row_offsets: each slice along `axis` shifted by its own uniform value in ±row_offsets (slices
        of very different scale: a maximum over the whole array would underflow the low ones).
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * scale + shift
    x = x + rng.uniform(-row_offsets, row_offsets, size=np.shape(np.max(x, axis=axis, keepdims=True)))
    name = f"softmax(x {shape}, axis={axis})"
    got = call(fn, x, axis=axis, name=name)
    expected = reference_softmax(x, axis)
    if isinstance(got, np.ndarray) and got.shape == expected.shape and np.issubdtype(got.dtype, np.number) \
            and not np.all(np.isfinite(got)):
        fail(f"{name} returned NaN or inf for inputs as large as {np.abs(x).max():.3g}: exp overflows "
             f"in float64 beyond about 709, and underflows to 0 below about -745. Subtract the maximum "
             f"along the axis first, np.max(x, axis=axis, keepdims=True), one per slice "
             f"(softmax(x) = softmax(x - max(x)), the max subtraction keeps every exp <= 1 and the "
             f"largest = 1; one maximum over the whole array leaves slices far below it at 0/0).")
    check_close(f"softmax(x, axis={axis}) for x of shape {shape}", got, expected, rtol=1e-6, atol=1e-10,
                dtype=np.float64, mistakes=softmax_mistakes(x, axis))


def _check_mask_direction(weights, mask, label):
    """Fail with a hint when weights sit mostly where mask is False: an inverted mask."""
    if mask is None or not isinstance(weights, np.ndarray) or weights.shape != mask.shape \
            or not np.issubdtype(weights.dtype, np.number):
        return
    w = np.where(np.isfinite(weights), weights, 0.0)
    total = np.abs(w).sum()
    if total > 0 and np.abs(w[~mask]).sum() > 0.6 * total:
        fail(f"`weights`{label}: the mask is inverted: True means 'may attend'; the positions where "
             f"mask is False must get weight 0 (most of your weight is on them).")
    if not np.all(np.isfinite(weights)):
        fail(f"`weights`{label} contains NaN or inf: exp overflowed, or a row had no allowed position "
             f"(0/0). Subtract each row's maximum before the exponential, and check the mask's "
             f"direction: True means 'may attend'.")


# ---------------------------------------------------------------------------------------------
# scaled dot-product attention
# ---------------------------------------------------------------------------------------------

def attention_inputs(seed, N, Tq, Tk, d, dv, masked=False, scale=1.0):
    """Seeded q, k, v (float64) and a mask (N, Tq, Tk) whose every row allows >= 1 position."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((N, Tq, d)) * scale
    k = rng.standard_normal((N, Tk, d)) * scale
    v = rng.standard_normal((N, Tk, dv))
    mask = None
    if masked:
        mask = rng.random((N, Tq, Tk)) < 0.6
        allowed = rng.integers(0, Tk, size=(N, Tq))
        mask[np.arange(N)[:, None], np.arange(Tq)[None, :], allowed] = True
    return q, k, v, mask


def reference_scaled_dot_product_attention(q, k, v, mask=None):
    """(out, weights) with out from torch's own SDPA and weights from float64 torch arithmetic."""
    tq, tk, tv = to_torch(q), to_torch(k), to_torch(v)
    tmask = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=bool))
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask)
    scores = tq @ tk.transpose(1, 2) / np.sqrt(q.shape[-1])
    if tmask is not None:
        scores = scores.masked_fill(~tmask, float("-inf"))
    return out.numpy(), torch.softmax(scores, dim=-1).numpy()


def scaled_dot_product_attention_mistakes(q, k, v, mask=None):
    """(hint, (out, weights)) pairs of plausible wrong implementations."""
    d = q.shape[-1]
    allowed = np.ones(q.shape[:2] + k.shape[1:2], dtype=bool) if mask is None else np.asarray(mask, bool)
    raw = q @ k.transpose(0, 2, 1)

    def attend(scores, keep=allowed, axis=-1, after=False):
        with np.errstate(all="ignore"):
            if after:
                w = _np_softmax(scores, axis) * keep
            else:
                w = _np_softmax(np.where(keep, scores, -np.inf), axis)
        w = np.nan_to_num(w)
        return w @ v, w

    wrong = [
        ("the scores are divided by d, not by sqrt(d).", attend(raw / d)),
        ("the scores are not scaled: divide q k^T by sqrt(d).", attend(raw)),
        ("the scores are multiplied by sqrt(d); divide by it.", attend(raw * np.sqrt(d))),
        ("the softmax runs over the queries (axis 1); each query's weights over the keys "
         "(the last axis) must sum to 1.", attend(raw / np.sqrt(d), axis=1)),
    ]
    if mask is not None:
        wrong += [
            ("the mask is applied after the softmax: the remaining weights no longer sum to 1. "
             "Set the scores of masked positions to -inf (or a very negative number) BEFORE the softmax.",
             attend(raw / np.sqrt(d), after=True)),
            ("the mask is inverted: True means 'may attend', so the scores where mask is False are removed.",
             attend(raw / np.sqrt(d), keep=~allowed)),
            ("the mask is ignored.", attend(raw / np.sqrt(d), keep=np.ones_like(allowed))),
        ]
    return wrong


def check_scaled_dot_product_attention(fn, N, Tq, Tk, d, dv, seed=0, masked=False, scale=1.0, softmax=None):
    """fn(q, k, v, mask) equals torch's SDPA (out) and a float64 softmax of the scores (weights).

    softmax: the student's softmax, which fn calls; tested first when fn fails.
    """
    own = softmax and (lambda: check_softmax(softmax, (N, Tq, Tk), axis=-1, seed=seed, scale=scale))
    with blame_dependencies_first("scaled_dot_product_attention", [("softmax", "calls", own)]):
        _check_scaled_dot_product_attention(fn, N, Tq, Tk, d, dv, seed, masked, scale)


def _check_scaled_dot_product_attention(fn, N, Tq, Tk, d, dv, seed, masked, scale):
    q, k, v, mask = attention_inputs(seed, N, Tq, Tk, d, dv, masked, scale)
    where = sizes(N=N, Tq=Tq, Tk=Tk, d=d, dv=dv) + (", with a mask" if masked else "") \
        + (f", inputs scaled by {scale:g}" if scale != 1 else "")
    name = "scaled_dot_product_attention"
    result = call(fn, q, k, v, mask, name=name, returns=2)
    out, weights = result
    expected_out, expected_weights = reference_scaled_dot_product_attention(q, k, v, mask)
    mistakes = scaled_dot_product_attention_mistakes(q, k, v, mask)
    if isinstance(weights, np.ndarray) and weights.shape == (N, Tk, Tq) and Tk != Tq:
        fail(f"`weights`{where} has shape {weights.shape}, the transpose of (N, Tq, Tk) = {(N, Tq, Tk)}: "
             f"row i of weights[n] holds query i's weights over the Tk keys.")
    _check_mask_direction(weights, mask, where)
    for label, got, expected, dims, index in (("weights", weights, expected_weights, "(N, Tq, Tk)", 1),
                                              ("out", out, expected_out, "(N, Tq, dv)", 0)):
        if isinstance(got, np.ndarray) and got.shape == expected.shape and not np.all(np.isfinite(got)):
            fail(f"`{label}`{where} contains NaN or inf: exp overflowed or a row was 0/0. Subtract each "
                 f"row's maximum score before the exponential (and keep at least one allowed position).")
        extra = []
        if label == "weights" and Tq == Tk:
            extra = [("the weights are transposed: weights[n, i, j] is query i's weight on key j, "
                      "and each row (not column) sums to 1.", np.swapaxes(expected_weights, 1, 2))]
        check_close(f"{label}{where}", got, expected, rtol=1e-6, atol=1e-9, dtype=np.float64, dims=dims,
                    mistakes=extra + [(hint, value[index]) for hint, value in mistakes])


# ---------------------------------------------------------------------------------------------
# additive attention
# ---------------------------------------------------------------------------------------------

def additive_inputs(seed, N, T, H, A, masked=False):
    """Seeded query (N, H), keys (N, T, H), Wq (H, A), Wk (H, A), v (A,) and a mask (N, T) or None:
    masked=True gives padding masks (prefixes), masked="scattered" masks allowing any positions."""
    rng = np.random.default_rng(seed)
    query = rng.standard_normal((N, H))
    keys = rng.standard_normal((N, T, H))
    Wq = rng.standard_normal((H, A)) / np.sqrt(H)
    Wk = rng.standard_normal((H, A)) / np.sqrt(H)
    v = rng.standard_normal(A)
    mask = None
    if masked == "scattered":  # any positions, at least one per row: not a prefix
        mask = rng.random((N, T)) < 0.5
        mask[np.arange(N), rng.integers(0, T, size=N)] = True
    elif masked:  # padding: each row allows a prefix of length >= 1
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = max(1, T - 1)
        mask = np.arange(T)[None, :] < lengths[:, None]
    return query, keys, Wq, Wk, v, mask


def reference_additive_attention(query, keys, Wq, Wk, v, mask=None):
    """(context, weights) computed with float64 torch tensors."""
    tq, tk, tWq, tWk, tv = map(to_torch, (query, keys, Wq, Wk, v))
    scores = torch.tanh((tq @ tWq)[:, None, :] + tk @ tWk) @ tv
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(np.asarray(mask, bool)), float("-inf"))
    weights = torch.softmax(scores, dim=1)
    context = torch.einsum("nt,nth->nh", weights, tk)
    return context.numpy(), weights.numpy()


def additive_attention_mistakes(query, keys, Wq, Wk, v, mask=None):
    allowed = np.ones(keys.shape[:2], bool) if mask is None else np.asarray(mask, bool)

    def finish(scores, keep=allowed, normalise=True, axis=1):
        with np.errstate(all="ignore"):
            w = _np_softmax(np.where(keep, scores, -np.inf), axis) if normalise else np.where(keep, scores, 0.0)
        w = np.nan_to_num(w)
        return np.einsum("nt,nth->nh", w, keys), w

    pre = (query @ Wq)[:, None, :] + keys @ Wk
    good = np.tanh(pre) @ v
    wrong = [
        ("tanh is missing: score_t = v . tanh(query Wq + keys_t Wk).", finish(pre @ v)),
        ("the query is multiplied by Wk; it goes through Wq (and the keys through Wk).",
         finish(np.tanh((query @ Wk)[:, None, :] + keys @ Wk) @ v)),
        ("Wq and Wk are swapped: query @ Wq and keys @ Wk.",
         finish(np.tanh((query @ Wk)[:, None, :] + keys @ Wq) @ v)),
        ("the context sums the keys with the raw scores: normalise the scores with a softmax first.",
         finish(good, normalise=False)),
        ("the softmax runs over the batch (axis 0); it must run over the T positions of each example.",
         finish(good, axis=0)),
    ]
    if mask is not None:
        wrong += [
            ("the mask is ignored: positions where mask is False must get weight 0.",
             finish(good, keep=np.ones_like(allowed))),
            ("the mask is applied after the softmax: the remaining weights no longer sum to 1.",
             (lambda w: (np.einsum("nt,nth->nh", w, keys), w))(_np_softmax(good, 1) * allowed)),
            ("the mask is read as a prefix length (mask.sum()); use it position by position: every "
             "position where mask is False gets weight 0, wherever it is.",
             finish(good, keep=np.arange(keys.shape[1])[None, :] < allowed.sum(axis=1, keepdims=True))),
        ]
    return wrong


def check_additive_attention(fn, N, T, H, A, seed=0, masked=False, softmax=None):
    """fn(query, keys, Wq, Wk, v, mask) equals float64 torch arithmetic (context and weights).

    softmax: the student's softmax, which fn calls; tested first when fn fails.
    """
    own = softmax and (lambda: check_softmax(softmax, (N, T), axis=1, seed=seed))
    with blame_dependencies_first("additive_attention", [("softmax", "calls", own)]):
        _check_additive_attention(fn, N, T, H, A, seed, masked)


def _check_additive_attention(fn, N, T, H, A, seed, masked):
    query, keys, Wq, Wk, v, mask = additive_inputs(seed, N, T, H, A, masked)
    where = sizes(N=N, T=T, H=H, A=A) + (", with a mask" if masked else "") \
        + (" that is not a prefix" if masked == "scattered" else "")
    result = call(fn, query, keys, Wq, Wk, v, mask, name="additive_attention", returns=2)
    context, weights = result
    expected_context, expected_weights = reference_additive_attention(query, keys, Wq, Wk, v, mask)
    mistakes = additive_attention_mistakes(query, keys, Wq, Wk, v, mask)
    _check_mask_direction(weights, mask, where)
    for label, got, expected, dims, index in (("weights", weights, expected_weights, "(N, T)", 1),
                                              ("context", context, expected_context, "(N, H)", 0)):
        check_close(f"{label}{where}", got, expected, rtol=1e-6, atol=1e-9, dtype=np.float64, dims=dims,
                    mistakes=[(hint, value[index]) for hint, value in mistakes])


class BahdanauDecoder(nn.Module):
    """The chapter's decoder WITH additive attention (Bahdanau et al. 2015), same contract as
    PlainDecoder: at step t the previous state s_{t-1} queries the encoder outputs, the context
    c_t (their weighted sum) joins the previous token's embedding as the GRU cell's input, and
    the logits come from [s_t, c_t]. Returns (logits (N, T, V), attention (N, T, S))."""

    def __init__(self, vocab_size, hidden_size, attention_size=None):
        super().__init__()
        size = attention_size or hidden_size
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.query_proj = nn.Linear(hidden_size, size, bias=False)
        self.key_proj = nn.Linear(hidden_size, size, bias=False)
        self.score = nn.Parameter(torch.randn(size) / size ** 0.5)
        self.rnn_cell = nn.GRUCell(2 * hidden_size, hidden_size)
        self.readout = nn.Linear(2 * hidden_size, vocab_size)

    def forward(self, encoder_outputs, h0, targets_in, src_mask=None):
        projected_keys = self.key_proj(encoder_outputs)                      # (N, S, A)
        state, all_logits, all_weights = h0, [], []
        for token in self.embed(targets_in).unbind(1):                       # (N, H) per step
            energy = torch.tanh(projected_keys + self.query_proj(state).unsqueeze(1)) @ self.score
            if src_mask is not None:
                energy = torch.where(src_mask, energy, torch.full_like(energy, -torch.inf))
            alpha = energy.softmax(dim=-1)                                   # (N, S)
            context = torch.bmm(alpha.unsqueeze(1), encoder_outputs).squeeze(1)
            state = self.rnn_cell(torch.cat((token, context), dim=-1), state)
            all_logits.append(self.readout(torch.cat((state, context), dim=-1)))
            all_weights.append(alpha)
        return torch.stack(all_logits, dim=1), torch.stack(all_weights, dim=1)


# ---------------------------------------------------------------------------------------------
# The AttentionDecoder exercise: tested through its API
# ---------------------------------------------------------------------------------------------

DECODER_HINT = ("Check that its tests above pass, that the attention is computed from the decoder's "
                "previous state at every step and that the logits use the context.")


def decoder_inputs(seed, N, S, T, H, V, masked=True):
    g = torch.Generator().manual_seed(seed)
    encoder_outputs = torch.randn(N, S, H, generator=g)
    h0 = torch.randn(N, H, generator=g)
    targets_in = torch.randint(0, V, (N, T), generator=g)
    mask = None
    if masked:
        lengths = torch.randint(1, S + 1, (N,), generator=g)
        lengths[0] = S
        if N > 1:
            lengths[1] = max(1, S // 2)
        mask = torch.arange(S)[None, :] < lengths[:, None]
    return encoder_outputs, h0, targets_in, mask


def _run_decoder(model, name, encoder_outputs, h0, targets_in, mask):
    return call(model, encoder_outputs, h0, targets_in, mask, name=f"{name}.forward", returns=2)


def check_AttentionDecoder(cls, V=12, H=8, N=3, S=5, T=4, seed=0, masked=True, gradients=True):
    """cls(V, H).forward(encoder_outputs (N, S, H), h0 (N, H), targets_in (N, T), src_mask (N, S))
    returns (logits (N, T, V), attention (N, T, S)) with attention rows that sum to 1 and give
    masked positions no weight, causal in targets_in (teacher forcing), and trainable."""
    name = f"{cls.__name__}({V}, {H})"
    torch.manual_seed(seed)
    model = call(cls, V, H, name=name)
    check(isinstance(model, nn.Module), f"{name} should be an nn.Module.")
    parameters = list(model.named_parameters())
    check(parameters, f"{name} has no parameters: create its layers (nn.Embedding, nn.Linear, "
                      f"nn.GRUCell, ...) in __init__ and assign them as attributes.")
    encoder_outputs, h0, targets_in, mask = decoder_inputs(seed, N, S, T, H, V, masked)
    where = sizes(N=N, S=S, T=T, H=H, V=V) + (", src_mask=None" if mask is None else "")
    encoder_outputs.requires_grad_(gradients)
    h0.requires_grad_(gradients)
    logits, attention = _run_decoder(model, name, encoder_outputs, h0, targets_in, mask)
    _check_decoder_outputs(name, logits, attention, (N, T, S, V), where)
    _check_attention_weights(name, attention.detach(), mask, where)
    if gradients and S > 1:  # with one source position the weights are 1 whatever the scores
        _check_decoder_gradients(name, parameters, logits, encoder_outputs, h0, seed, where)
    with torch.no_grad():
        _check_decoder_reads_its_inputs(name, model, encoder_outputs, h0, targets_in, mask, V, where)


def _check_decoder_outputs(name, logits, attention, shape, where):
    """Two tensors, logits (N, T, V) that are not probabilities and attention (N, T, S)."""
    N, T, S, V = shape
    check(isinstance(logits, torch.Tensor) and isinstance(attention, torch.Tensor),
          f"{name}.forward should return two tensors (logits, attention); got "
          f"{type(logits).__name__}, {type(attention).__name__}.")
    check_shape("logits" + where, logits, (N, T, V), dims="(N, T, V)")
    if tuple(attention.shape) == (N, S, T) and S != T:
        fail(f"`attention`{where} has shape {(N, S, T)}, the transpose of (N, T, S) = {(N, T, S)}: "
             f"stack the weights of the T decoder steps along axis 1 (torch.stack(..., dim=1)).")
    check_shape("attention" + where, attention, (N, T, S), dims="(N, T, S)")
    with torch.no_grad():
        probabilities = bool((logits >= 0).all()) and torch.allclose(logits.sum(-1), torch.ones(N, T), atol=1e-4)
    check(not probabilities, f"{name} returns probabilities (they sum to 1): return the raw scores (logits); "
                             f"the cross-entropy loss applies the log-softmax itself.")


def _check_attention_weights(name, a, mask, where):
    """a: the attention (N, T, S), detached. Finite, each row sums to 1, no weight on padding."""
    N, T, S = a.shape
    if not bool(torch.isfinite(a).all()):
        fail(f"`attention`{where} contains NaN or inf. A softmax over a row whose positions are all "
             f"masked gives 0/0: is the mask inverted (True = real position, may attend)?")
    sums = a.sum(-1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
        by_batch = a.sum(0)
        after = mask is not None and float(a.masked_select(~mask[:, None, :].expand(N, T, S)).abs().sum()) < 1e-6
        hint = (" Hint: the softmax runs over the batch axis; take it over the S source positions."
                if torch.allclose(by_batch, torch.ones_like(by_batch), atol=1e-4) else
                " Hint: the mask is applied after the softmax, so the remaining weights no longer sum to 1: "
                "set the scores of padded positions to -inf BEFORE the softmax." if after else
                " Hint: normalise the scores with a softmax over the S source positions (the last axis).")
        fail(f"the attention weights of each decoder step should sum to 1 over the source positions; "
             f"{name}'s sum to values from {float(sums.min()):.4g} to {float(sums.max()):.4g}{where}.{hint}")
    check(bool((a >= -1e-6).all()), f"`attention`{where} has negative weights: use a softmax.")
    if mask is not None:
        masked_weight = a.masked_select(~mask[:, None, :].expand(N, T, S))
        if masked_weight.numel() and float(masked_weight.abs().max()) > 1e-6:
            padded_rows = (~mask).any(1)
            real_weight = a[padded_rows].masked_select(mask[padded_rows][:, None, :].expand(-1, T, S))
            inverted = real_weight.numel() == 0 or float(real_weight.abs().max()) < 1e-6
            fail(f"{name} puts weight up to {float(masked_weight.max()):.3g} on padded source positions "
                 f"(src_mask False){where}: "
                 + ("the mask is inverted: True means a real position that may be attended to."
                    if inverted else
                    "set their scores to -inf before the softmax (masked_fill(~src_mask, -inf)), so "
                    "that they get weight 0 and the other weights still sum to 1."))


def _check_decoder_gradients(name, parameters, logits, encoder_outputs, h0, seed, where):
    """Every parameter, the encoder outputs and h0 get a gradient from the logits."""
    check(logits.requires_grad, f"{name}'s logits do not require grad: the computation was cut from "
                                f"autograd (.detach(), .data, numpy or torch.no_grad()?).")
    g = torch.Generator().manual_seed(seed + 1)
    (logits * torch.randn(logits.shape, generator=g)).sum().backward()
    for n, p in parameters:
        if p.grad is None or not bool(p.grad.abs().sum() > 0):
            fail(f"{name}.{n} gets no gradient from the logits{where}: it is not used, or only in a "
                 f"part of the computation that does not reach the logits (e.g. attention weights "
                 f"that are computed but not used to build the context).")
    for label, tensor in (("encoder_outputs", encoder_outputs), ("h0", h0)):
        check(tensor.grad is not None and bool(tensor.grad.abs().sum() > 0),
              f"no gradient reaches {label} from {name}'s logits{where}: the encoder could not be trained.")


def _check_decoder_reads_its_inputs(name, model, encoder_outputs, h0, targets_in, mask, V, where):
    """Teacher forcing (step t reads targets_in[:, :t+1] only), padding ignored, and the logits
    depend on the encoder outputs and on h0."""
    T = targets_in.shape[1]
    base, _ = model(encoder_outputs, h0, targets_in, mask)
    if T > 1:
        later = targets_in.clone()
        later[:, 1:] = (later[:, 1:] + 1) % V
        changed, _ = model(encoder_outputs, h0, later, mask)
        check(torch.allclose(changed[:, 0], base[:, 0], atol=1e-5),
              f"{name}'s logits at step 0 change when targets_in[:, 1:] changes{where}: step t may only "
              f"read targets_in[:, :t+1] (the token fed at step t is targets_in[:, t]; it predicts the "
              f"next one). Do not look ahead.")
    now = targets_in.clone()
    now[:, 0] = (now[:, 0] + 1) % V
    changed, _ = model(encoder_outputs, h0, now, mask)
    check(not torch.allclose(changed[:, 0], base[:, 0], atol=1e-6),
          f"{name}'s logits at step 0 ignore targets_in[:, 0]{where}: feed the embedding of "
          f"targets_in[:, t] into the decoder at step t (teacher forcing).")
    other = encoder_outputs + torch.randn(encoder_outputs.shape, generator=torch.Generator().manual_seed(7))
    if mask is not None:
        other = torch.where(mask[:, :, None], encoder_outputs, other)
        changed, _ = model(other, h0, targets_in, mask)
        check(torch.allclose(changed, base, atol=1e-5),
              f"{name}'s logits change when the encoder outputs at PADDED positions change{where}: "
              f"padded positions must not contribute to the context (weight 0 after the softmax).")
    real = encoder_outputs.clone()
    real[0] = real[0] * 2 + 1
    changed, _ = model(real, h0, targets_in, mask)
    check(not torch.allclose(changed[0], base[0], atol=1e-6),
          f"{name}'s logits do not depend on the encoder outputs{where}: the context vector "
          f"(the attention-weighted sum of encoder_outputs) must feed the decoder.")
    other_h0, _ = model(encoder_outputs, h0 + 1, targets_in, mask)
    check(not torch.allclose(other_h0[:, 0], base[:, 0], atol=1e-6),
          f"{name}'s logits do not depend on h0{where}: the decoder starts from the state h0.")


TRAIN_STEPS, TRAIN_MAX_LEN, TRAIN_HIDDEN = 120, 7, 64
ACCURACY_THRESHOLD = 0.8


def train_and_score(decoder_cls, seed, steps=TRAIN_STEPS, time_limit=24.0):
    """Train Encoder + decoder_cls(VOCAB, TRAIN_HIDDEN) on the reversal task (lengths 2 to 7);
    return (encoder, decoder, token accuracy, {length: sequence accuracy}, seconds)."""
    torch.manual_seed(seed)
    encoder = Encoder(VOCAB, TRAIN_HIDDEN)
    decoder = call(decoder_cls, VOCAB, TRAIN_HIDDEN, name=f"{decoder_cls.__name__}({VOCAB}, {TRAIN_HIDDEN})")
    start = time.perf_counter()
    call(train_seq2seq, encoder, decoder, steps=steps, max_len=TRAIN_MAX_LEN, seed=seed, time_limit=time_limit,
         name=f"training {decoder_cls.__name__}")
    seconds = time.perf_counter() - start
    by_length, tokens = call(accuracy_by_length, encoder, decoder, max_len=TRAIN_MAX_LEN, per_length=100,
                             name=f"greedy decoding with {decoder_cls.__name__}")
    return encoder, decoder, tokens, by_length, seconds


# ---------------------------------------------------------------------------------------------
# beam search (the decoding page and the beam_search exercise)
# ---------------------------------------------------------------------------------------------

def _beam(step_fn, start_state, bos, eos, beam_size, max_len, multiply=None, eos_ends=True,
          higher_id_first=False):
    """Beam search as the syllabus specifies it with the default flags; each other value is one
    known mistake (multiply: "probabilities" or "log_probs" multiplied instead of log-probabilities
    added). A hypothesis is (score, tokens, state, finished); ties go to the lexicographically
    smaller token list ("the lower token id first")."""
    if higher_id_first:
        rank = lambda h: (-h[0], [-t for t in h[1]])
    else:
        rank = lambda h: (-h[0], h[1])
    beam = [(1.0 if multiply else 0.0, [], start_state, False)]
    combine = {None: lambda score, lp: score + lp, "probabilities": lambda score, lp: score * np.exp(lp),
               "log_probs": lambda score, lp: score * lp}[multiply]
    best_finished = None
    for _ in range(max_len):
        candidates = []
        for score, tokens, state, finished in beam:
            if finished:
                candidates.append((score, tokens, state, True))
                continue
            log_probs, new_state = step_fn(state, tokens[-1] if tokens else bos)
            for token, log_prob in enumerate(np.asarray(log_probs, dtype=np.float64).tolist()):
                candidates.append((combine(score, log_prob), tokens + [token], new_state, eos_ends and token == eos))
        beam = sorted(candidates, key=rank)[:beam_size]
        for hypothesis in beam:
            if hypothesis[3] and (best_finished is None or rank(hypothesis) < rank(best_finished)):
                best_finished = hypothesis
        if all(h[3] for h in beam):
            break
    best = best_finished if best_finished is not None else beam[0]
    return best[1], float(best[0])


def reference_beam_search(step_fn, start_state, bos, eos, beam_size, max_len):
    """The syllabus's beam search: (tokens, score) of the best hypothesis that finished (ended
    with eos) at any step, else the best of the final beam. step_fn(state, token) -> (log_probs (V,),
    new_state). The tests check it against exhaustive search and greedy decoding."""
    return _beam(step_fn, start_state, bos, eos, beam_size, max_len)


def beam_search_mistakes(step_fn, start_state, bos, eos, beam_size, max_len):
    """(hint, (tokens, score)) pairs of plausible wrong beam searches. (Expanding finished
    hypotheses never changes the result, only the calls to step_fn: check_beam_search watches them.)"""
    args = (step_fn, start_state, bos, eos, beam_size, max_len)
    return [
        ("the probabilities are multiplied (the score is a probability, not a log-probability): a "
         "hypothesis's score is the SUM of the log-probabilities of its tokens (eos included).",
         _beam(*args, multiply="probabilities")),
        ("the log-probabilities are multiplied: a hypothesis's score is their SUM (multiplying "
         "probabilities is adding log-probabilities).", _beam(*args, multiply="log_probs")),
        ("eos never ends a hypothesis: a hypothesis whose last token is eos has finished; it is "
         "carried unchanged and decoding stops when every hypothesis in the beam has finished.",
         _beam(*args, eos_ends=False)),
        ("ties are broken towards the higher token id: among equal scores the lower token id "
         "comes first (sort by (-score, tokens), or use a stable sort on candidates generated in "
         "increasing token order).", _beam(*args, higher_id_first=True)),
    ]


def exhaustive_best(model, eos, max_len):
    """(tokens, score) of the best sequence ending with eos of length <= max_len, by enumerating
    them all; ties to the lexicographically smaller."""
    import itertools
    best = None
    for length in range(1, max_len + 1):
        for prefix in itertools.product([t for t in range(model.V) if t != eos], repeat=length - 1):
            tokens = list(prefix) + [eos]
            key = (-model.score(tokens), tokens)
            best = key if best is None or key < best else best
    return best[1], -best[0]


def greedy_tokens(model, eos, max_len):
    """Greedy decoding, written as greedy decoding (argmax picks the lower id on ties)."""
    tokens, score, state, previous = [], 0.0, 0, model.bos
    for _ in range(max_len):
        log_probs = model.log_probs[state, previous]
        previous = int(np.argmax(log_probs))
        tokens.append(previous)
        score += float(log_probs[previous])
        state += 1
        if previous == eos:
            break
    return tokens, score


def check_beam_search(fn, V, beam_size, max_len, seed=0, eos=0, tie_pairs=(), compare=None):
    """fn(step_fn, start_state, bos, eos, beam_size, max_len) on a TableModel returns the
    reference's (tokens, score); compare: also "exhaustive" (a beam wide enough that it must find
    the best finished sequence) or "greedy" (beam_size 1)."""
    model = TableModel(V, max_len, seed, tie_pairs)
    where = f"(V={V}, beam_size={beam_size}, max_len={max_len}, eos={eos}, seed={seed}" \
            f"{', with tied tokens ' + str(list(tie_pairs)) if tie_pairs else ''})"
    name = f"beam_search{where}"
    result = call(fn, model.step_fn, 0, model.bos, eos, beam_size, max_len, name="beam_search", returns=2)
    tokens, score = result
    check(isinstance(tokens, (list, tuple)) and all(isinstance(t, (int, np.integer)) for t in tokens),
          f"{name} should return the tokens as a list of ints; got {type(tokens).__name__} ({tokens!r:.60}).")
    check(isinstance(score, (float, int, np.floating)) and not isinstance(score, bool),
          f"{name} should return the score as a float; got {type(score).__name__}.")
    tokens, score = [int(t) for t in tokens], float(score)
    check(model.bos not in tokens, f"{name} returned {tokens}: the tokens exclude bos ({model.bos}).")
    expected_tokens, expected_score = reference_beam_search(TableModel(V, max_len, seed, tie_pairs).step_fn, 0,
                                                             model.bos, eos, beam_size, max_len)
    if compare == "exhaustive":  # an independent check of the reference too
        assert (expected_tokens, expected_score) == exhaustive_best(model, eos, max_len)
    if compare == "greedy":
        assert (expected_tokens, expected_score) == greedy_tokens(model, eos, max_len)
    right = tokens == expected_tokens and np.isclose(score, expected_score, rtol=1e-12, atol=1e-12)
    if not right:
        for hint, (wrong_tokens, wrong_score) in beam_search_mistakes(
                TableModel(V, max_len, seed, tie_pairs).step_fn, 0, model.bos, eos, beam_size, max_len):
            if tokens == wrong_tokens and np.isclose(score, wrong_score, rtol=1e-9, atol=1e-12):
                fail(f"{name} returned {tokens} with score {score:.6g}; expected {expected_tokens} with "
                     f"score {expected_score:.6g}.\nHint: {hint}")
    if any(token == eos for _, token in model.calls):
        fail(f"{name} called step_fn with the token eos ({eos}): finished hypotheses are kept expanding. "
             f"A hypothesis that ends with eos has finished: carry it into the next beam unchanged (it "
             f"competes for a slot) and do not call step_fn on it.")
    if right:
        return
    if eos in tokens[:-1]:
        fail(f"{name} returned {tokens}, which continues after eos ({eos}): eos ends a hypothesis.")
    true_score = model.score(tokens) if all(0 <= t < V for t in tokens) else None
    if true_score is not None and not np.isclose(score, true_score, rtol=1e-9, atol=1e-12):
        fail(f"{name} returned {tokens} with score {score:.6g}, but the log-probabilities of these tokens "
             f"sum to {true_score:.6g}: the score is the sum of log_probs[token] over the returned tokens.")
    what = {"exhaustive": f" (the beam is wide enough to keep every hypothesis, so this is the best of all "
                          f"sequences ending with eos, found by trying them all)",
            "greedy": " (with beam_size 1, beam search is greedy decoding: the argmax at every step)"}
    fail(f"{name} returned {tokens} with score {score:.6g}; expected {expected_tokens} with score "
         f"{expected_score:.6g}{what.get(compare, '')}.")
