"""Chapter 08 (language models): references for the tests of the exercises, the known mistakes
they recognise, and the checkers.

The correct values come from PyTorch (`nn.Embedding`, `F.linear`, `F.cross_entropy` with
`ignore_index`, `nn.MultiheadAttention`, `nn.Transformer.generate_square_subsequent_mask`) in
float64 where numpy is checked, and from finite differences (`checks.numeric_gradient`), never
from the reference solutions. Each `foo_mistakes` returns (hint, wrong value) pairs for
`checks.check_close`. A backward is always tested with the cache that the notebook's own forward
returned, and a cache is never inspected.

numpy conventions: row vectors, float64; ids (N, T) ints, W (V, D); h (N, T, H), W (H, V), b (V,);
scores (N, T, V), targets (N, T) ints, mask (N, T) bool, True = the position counts.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.checks import (call, check, check_close, check_gradient, check_parameters_like, fail,
                              load_state_like, numeric_gradient, softmax, to_torch)


def _ids(rng, N, T, V, repeated=True):
    """(N, T) int64 ids in 0..V-1; repeated: at least one id occurs several times."""
    ids = rng.integers(0, V, size=(N, T))
    if repeated and ids.size > 1:
        ids.flat[-1] = ids.flat[0]
    return ids


def _no_alias(name, out, *inputs):
    """A result that shares memory with an input changes when the caller changes the input."""
    for i, a in enumerate(inputs):
        if isinstance(out, np.ndarray) and isinstance(a, np.ndarray) and np.shares_memory(out, a):
            fail(f"`{name}` shares memory with argument {i + 1} (a view, or the input returned "
                 f"itself): return a new array, e.g. with W[ids] or a copy.")


# ---------------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------------

def reference_embedding_forward(ids, W):
    """out (N, T, D) = the rows of W picked by ids, through torch.nn.Embedding in float64."""
    embedding = nn.Embedding.from_pretrained(to_torch(W), freeze=False)
    return embedding(torch.as_tensor(np.asarray(ids), dtype=torch.long)).detach().numpy()


def embedding_forward_mistakes(ids, W):
    V = W.shape[0]
    return [
        ("the rows are picked with ids + 1 (or ids - 1): id v is row v of W, counting from 0.",
         W[(ids + 1) % V]),
        ("the rows are picked in reverse time order: out[:, t] is W[ids[:, t]].", W[ids[:, ::-1]]),
    ]


def check_embedding_forward(fn, N, T, V, D, seed):
    """fn(ids, W) -> (out, cache) picks row ids[n, t] of W for every n, t, as nn.Embedding."""
    rng = np.random.default_rng(seed)
    ids, W = _ids(rng, N, T, V), rng.standard_normal((V, D))
    where = f" (N={N}, T={T}, V={V}, D={D})"
    out, _ = call(fn, ids, W, name="embedding_forward", returns=2)
    _no_alias("out", out, W)
    if isinstance(out, np.ndarray) and out.shape == (N * T, D) and N > 1:
        fail(f"`out`{where} has shape {out.shape}: the ids were flattened. Keep their (N, T) layout: "
             f"W[ids] has shape (N, T, D).")
    mistakes = embedding_forward_mistakes(ids, W)
    check_close("out" + where, out, reference_embedding_forward(ids, W), dtype=np.float64,
                dims="(N, T, D)", rtol=0, atol=0, mistakes=mistakes)


def reference_embedding_backward(ids, W, dout):
    """dW (V, D) of sum(out * dout) for out = nn.Embedding(W)(ids), by autograd in float64."""
    weight = to_torch(W, grad=True)
    out = F.embedding(torch.as_tensor(np.asarray(ids), dtype=torch.long), weight)
    (out * to_torch(dout)).sum().backward()
    return weight.grad.numpy()


def embedding_backward_mistakes(ids, W, dout):
    V, D = W.shape
    overwritten = np.zeros((V, D))
    overwritten[ids.reshape(-1)] = dout.reshape(-1, D)  # fancy assignment: the last write wins
    counts = np.bincount(ids.reshape(-1), minlength=V)[:, None]
    correct = reference_embedding_backward(ids, W, dout)
    first_row = np.zeros((V, D))
    np.add.at(first_row, ids[0], dout[0])
    return [
        ("repeated ids overwrite each other: `dW[ids] = dout` (or `+=`) keeps one write per row. "
         "Accumulate with np.add.at(dW, ids, dout), which adds every occurrence.", overwritten),
        ("the gradient is averaged over the occurrences of each id; it is their SUM.",
         correct / np.maximum(counts, 1)),
        ("the gradient is divided by N*T; dW is the plain sum of dout over the positions of each id.",
         correct / ids.size),
        ("only the first sequence (n = 0) is used: accumulate over every n and t.", first_row),
    ]


def check_embedding_backward(backward, forward, N, T, V, D, seed, numeric=False):
    """backward(dout, cache) with the cache of forward(ids, W) equals nn.Embedding's weight gradient."""
    rng = np.random.default_rng(seed)
    ids, W = _ids(rng, N, T, V), rng.standard_normal((V, D))
    dout = rng.standard_normal((N, T, D))
    where = f" (N={N}, T={T}, V={V}, D={D}, ids repeat)"
    _, cache = call(forward, ids, W, name="embedding_forward", returns=2)
    dW = call(backward, dout, cache, name="embedding_backward")
    _no_alias("dW", dW, dout, W)
    mistakes = embedding_backward_mistakes(ids, W, dout)
    expected = reference_embedding_backward(ids, W, dout)
    check_close("dW" + where, dW, expected, dtype=np.float64, dims="(V, D)", rtol=1e-10, atol=1e-12,
                mistakes=mistakes)
    if numeric:
        Wn = W.copy()
        check_gradient(f"dW{where} (against finite differences)", dW,
                       numeric_gradient(lambda: Wn[ids], Wn, dout), mistakes=mistakes)


# ---------------------------------------------------------------------------------------------
# Temporal affine read-out
# ---------------------------------------------------------------------------------------------

def reference_temporal_affine_forward(h, W, b):
    """out (N, T, V) = h W + b at every step, by torch's F.linear in float64."""
    return F.linear(to_torch(h), to_torch(W).T, to_torch(b)).numpy()


def temporal_affine_forward_mistakes(h, W, b):
    return [
        ("the bias b is not added: out = h @ W + b.", h @ W),
        ("the bias is added twice.", h @ W + 2 * b),
        ("a tanh is applied: the read-out is affine, out = h @ W + b, no nonlinearity.", np.tanh(h @ W + b)),
        ("the bias is subtracted: out = h @ W + b.", h @ W - b),
    ]


def check_temporal_affine_forward(fn, N, T, H, V, seed):
    """fn(h, W, b) -> (out, cache) with out = h @ W + b at every one of the N*T positions."""
    rng = np.random.default_rng(seed)
    h, W, b = rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)
    where = f" (N={N}, T={T}, H={H}, V={V})"
    out, _ = call(fn, h, W, b, name="temporal_affine_forward", returns=2)
    _no_alias("out", out, h, W, b)
    if isinstance(out, np.ndarray) and out.shape == (N, V) and T > 1:
        fail(f"`out`{where} has shape {(N, V)}: only one time step is scored. The read-out applies at "
             f"every step: out has shape (N, T, V).")
    check_close("out" + where, out, reference_temporal_affine_forward(h, W, b), dtype=np.float64,
                dims="(N, T, V)", rtol=1e-10, atol=1e-12, mistakes=temporal_affine_forward_mistakes(h, W, b))


AFFINE_NAMES = ("dh", "dW", "db")
AFFINE_DIMS = ("(N, T, H)", "(H, V)", "(V,)")


def reference_temporal_affine_backward(h, W, b, dout):
    """(dh, dW, db) of sum(out * dout) for out = F.linear(h, W.T, b), by autograd in float64."""
    tensors = [to_torch(a, grad=True) for a in (h, W, b)]
    th, tW, tb = tensors
    (F.linear(th, tW.T, tb) * to_torch(dout)).sum().backward()
    return tuple(t.grad.numpy() for t in tensors)


def temporal_affine_backward_mistakes(h, W, b, dout):
    N, T, H = h.shape
    dh, dW, db = reference_temporal_affine_backward(h, W, b, dout)
    return {
        "dh": [("dh is divided by N*T; the backward of a sum is not a mean.", dh / (N * T)),
               ("dh is in reverse time order: dh[:, t] = dout[:, t] @ W.T.", dh[:, ::-1])],
        "dW": [("dW is averaged over the N*T positions; it is the SUM of h[n, t].T @ dout[n, t].", dW / (N * T)),
               ("dW uses the last time step only: sum h[n, t].T @ dout[n, t] over every n AND t.",
                h[:, -1].T @ dout[:, -1]),
               ("dW uses the first sequence only: sum over every n and t.", h[0].T @ dout[0])],
        "db": [("db is averaged; the bias is added at every position, so db sums dout over N and T.",
                dout.mean(axis=(0, 1))),
               ("db uses the last time step only: sum dout over N and T.", dout[:, -1].sum(axis=0))],
    }


def check_temporal_affine_backward(backward, forward, N, T, H, V, seed, numeric=False):
    """backward(dout, cache) with the cache of forward(h, W, b) matches autograd (and finite differences)."""
    rng = np.random.default_rng(seed)
    h, W, b = rng.standard_normal((N, T, H)), rng.standard_normal((H, V)), rng.standard_normal(V)
    dout = rng.standard_normal((N, T, V))
    where = f" (N={N}, T={T}, H={H}, V={V})"
    _, cache = call(forward, h, W, b, name="temporal_affine_forward", returns=2)
    grads = call(backward, dout, cache, name="temporal_affine_backward", returns=3)
    mistakes = temporal_affine_backward_mistakes(h, W, b, dout)
    dh_got, dW_got, db_got = grads
    if isinstance(db_got, np.ndarray) and db_got.shape in ((T, V), (N, V)) and (N, T) != (1, 1):
        fail(f"`db`{where} has shape {db_got.shape}, not (V,) = ({V},): the bias gradient is not summed "
             f"over N and T. The same b is added at all N*T positions: db = dout.sum(axis=(0, 1)).")
    if isinstance(dW_got, np.ndarray) and dW_got.ndim == 3:
        fail(f"`dW`{where} has shape {dW_got.shape}, not (H, V) = {(H, V)}: one gradient per position is "
             f"returned. Sum h[n, t].T @ dout[n, t] over N and T (reshape h to (N*T, H)).")
    expected = reference_temporal_affine_backward(h, W, b, dout)
    for name, dims, got, want in zip(AFFINE_NAMES, AFFINE_DIMS, grads, expected):
        _no_alias(name, got, h, W, b, dout)
        check_close(name + where, got, want, dtype=np.float64, dims=dims, rtol=1e-8, atol=1e-10,
                    mistakes=mistakes[name])
    if numeric:
        arrays = dict(h=h.copy(), W=W.copy(), b=b.copy())
        f = lambda: arrays["h"] @ arrays["W"] + arrays["b"]
        for name, got, key in zip(AFFINE_NAMES, grads, arrays):
            check_gradient(f"{name}{where} (against finite differences)", got,
                           numeric_gradient(f, arrays[key], dout))


# ---------------------------------------------------------------------------------------------
# Masked softmax cross-entropy over time
# ---------------------------------------------------------------------------------------------

def reference_temporal_softmax_loss(scores, targets, mask):
    """(loss, dscores): F.cross_entropy with ignore_index at the masked-out positions, float64."""
    N, T, V = scores.shape
    t = to_torch(scores, grad=True)
    ignored = np.where(mask, targets, -100)
    loss = F.cross_entropy(t.reshape(N * T, V), torch.as_tensor(ignored.reshape(-1), dtype=torch.long),
                           ignore_index=-100)
    loss.backward()
    return float(loss.detach()), t.grad.numpy()


def temporal_softmax_loss_mistakes(scores, targets, mask):
    """(loss mistakes, dscores mistakes): lists of (hint, wrong value)."""
    N, T, V = scores.shape
    p = softmax(scores)
    onehot = np.eye(V)[targets]
    nll = -np.log(np.take_along_axis(p, targets[..., None], axis=-1))[..., 0]
    m = mask.astype(np.float64)
    count = m.sum()
    d_masked = (p - onehot) * m[..., None]
    loss_mistakes = [
        ("the mask is ignored in the mean: the loss is a mean over the COUNTED positions, "
         "sum(mask * nll) / mask.sum(), not over all N*T.", (nll * m).sum() / (N * T)),
        ("the loss is divided by N (as CS231n's version); this API averages over the counted "
         "positions, like F.cross_entropy(..., ignore_index=...): divide by mask.sum().", (nll * m).sum() / N),
        ("the mask is ignored: positions where mask is False must not count.", nll.mean()),
        ("the mask is inverted: True means the position counts.",
         (nll * (1 - m)).sum() / max((1 - m).sum(), 1)),
        ("the loss is a sum over the counted positions; take their mean.", (nll * m).sum()),
    ]
    d_mistakes = [
        ("dscores is divided by N*T; the loss divides by mask.sum(), so does its gradient.",
         d_masked / (N * T)),
        ("dscores is divided by N (as CS231n's version); divide by mask.sum() like the loss.", d_masked / N),
        ("dscores is not masked: positions where mask is False get zero gradient.", (p - onehot) / count),
        ("dscores is not divided by the number of counted positions.", d_masked),
        ("the one-hot of the targets is not subtracted: dscores = mask * (softmax - onehot) / mask.sum().",
         p * m[..., None] / count),
    ]
    return loss_mistakes, d_mistakes


def _softmax_inputs(seed, N, T, V, scale=1.0, row_offsets=False):
    rng = np.random.default_rng(seed)
    scores = scale * rng.standard_normal((N, T, V))
    if row_offsets:  # each row far from the others: one global maximum does not stabilise them all
        scores = scores + rng.choice([-1000.0, 0.0, 800.0], size=(N, T, 1))
    targets = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) < 0.6
    mask[0, 0], mask[-1, -1] = True, False if N * T > 1 else True  # not a prefix: holes and tails
    if N * T > 2:
        mask[0, -1] = True
    return scores, targets, mask


def check_temporal_softmax_loss(fn, N, T, V, seed, scale=1.0, row_offsets=False, numeric=False):
    """fn(scores, targets, mask) -> (loss, dscores) equals F.cross_entropy with ignore_index."""
    scores, targets, mask = _softmax_inputs(seed, N, T, V, scale, row_offsets)
    where = (f" (N={N}, T={T}, V={V}, mask with {int(mask.sum())} of {mask.size} True, not a prefix"
             f"{', rows offset by -1000 to +800' if row_offsets else ''})")
    loss, dscores = call(fn, scores, targets, mask, name="temporal_softmax_loss", returns=2)
    _no_alias("dscores", dscores, scores)
    check(np.ndim(loss) == 0, f"`loss`{where} should be one number (the mean over the counted "
                              f"positions); got shape {np.shape(loss)}.")
    want_loss, want_d = reference_temporal_softmax_loss(scores, targets, mask)
    loss_mistakes, d_mistakes = temporal_softmax_loss_mistakes(scores, targets, mask)
    loss = float(np.asarray(loss, dtype=np.float64))
    if not np.isfinite(loss):
        fail(f"`loss`{where} is {loss}: exp overflowed. Subtract each row's own maximum (axis=-1, "
             f"keepdims=True) before the exponential, not one maximum for the whole array.")
    check_close("loss" + where, loss, want_loss, rtol=1e-8, atol=1e-10, mistakes=loss_mistakes)
    check_close("dscores" + where, dscores, want_d, dtype=np.float64, dims="(N, T, V)", rtol=1e-7,
                atol=1e-12, mistakes=d_mistakes)
    if numeric:
        s = scores.copy()
        check_gradient(f"dscores{where} (against finite differences of your loss)", dscores,
                       numeric_gradient(lambda: fn(s, targets, mask)[0], s), mistakes=d_mistakes)


# ---------------------------------------------------------------------------------------------
# The whole numpy model: a gradient check that the notebook runs on CharLM
# ---------------------------------------------------------------------------------------------

def check_model_gradients(model, ids, targets, mask, max_relative_error=1e-6):
    """Every analytic gradient of model.loss(ids, targets, mask) -> (loss, grads) agrees with
    central finite differences of the same loss. Returns {parameter: relative error}, measured as
    |analytic - numeric| / (|analytic| + |numeric|) with whole-array norms: entries whose
    gradient is tiny carry only rounding noise and would dominate an entry-by-entry ratio."""
    _, grads = model.loss(ids, targets, mask)
    errors = {}
    for name, value in model.params.items():
        numeric = numeric_gradient(lambda: model.loss(ids, targets, mask)[0], value)
        got = grads[name]
        check_close(f"the gradient of the model's {name}", got, numeric, rtol=0, atol=np.inf)  # type, shape
        errors[name] = float(np.linalg.norm(got - numeric) / max(np.linalg.norm(got) + np.linalg.norm(numeric), 1e-12))
        check(errors[name] <= max_relative_error,
              f"the gradient of the model's {name} disagrees with finite differences of its loss: relative "
              f"error {errors[name]:.2g} (must be below {max_relative_error:g}). The layer that produces it "
              f"or one between it and the loss is wrong; the tests of each function above say which.")
    return errors


# ---------------------------------------------------------------------------------------------
# torch: causal mask, sinusoidal positions
# ---------------------------------------------------------------------------------------------

def reference_causal_mask(T):
    """(T, T) bool, True = may attend, from PyTorch's own -inf/0 float mask."""
    return nn.Transformer.generate_square_subsequent_mask(T) == 0


def causal_mask_mistakes(T):
    allowed = reference_causal_mask(T)
    return [
        ("the mask is inverted: True means 'may attend', so position i may attend to every j <= i "
         "(the lower triangle with the diagonal).", ~allowed),
        ("the diagonal is missing: position i may attend to itself (j <= i, not j < i).",
         allowed & ~torch.eye(T, dtype=torch.bool)),
        ("the mask is transposed: row i (the query) may attend to columns j <= i, the lower triangle.",
         allowed.T),
    ]


def check_causal_mask(fn, T):
    """fn(T) -> (T, T) bool tensor, True where j <= i."""
    where = f"causal_mask({T})"
    got = call(fn, T, name="causal_mask")
    check(torch.is_tensor(got), f"{where} should return a torch tensor; got {type(got).__name__}.")
    check(got.dtype == torch.bool, f"{where} has dtype {got.dtype}: return a bool tensor (True = may "
                                   f"attend), e.g. torch.ones(T, T, dtype=torch.bool).tril(). A float "
                                   f"0/-inf mask is PyTorch's other convention, not this course's.")
    expected = reference_causal_mask(T)
    if tuple(got.shape) == (T, T) and not torch.equal(got, expected):
        for hint, wrong in causal_mask_mistakes(T):  # bool values: compared exactly
            if torch.equal(got, wrong):
                fail(f"{where} is wrong: {int((got != expected).sum())} of {T * T} entries differ.\nHint: {hint}")
    check_close(where, got, expected, dims="(T, T)")


def reference_sinusoidal_positions(T, D):
    """(T, D) float32 from the formula, one entry at a time in float64."""
    pe = np.zeros((T, D))
    for t in range(T):
        for i in range(D // 2):
            angle = t / 10000 ** (2 * i / D)
            pe[t, 2 * i], pe[t, 2 * i + 1] = math.sin(angle), math.cos(angle)
    return torch.tensor(pe, dtype=torch.float32)


def sinusoidal_positions_mistakes(T, D):
    t = np.arange(T)[:, None]
    i = np.arange(D // 2)[None, :]
    angle = t / 10000 ** (2 * i / D)

    def interleave(even, odd):
        pe = np.zeros((T, D))
        pe[:, 0::2], pe[:, 1::2] = even, odd
        return torch.tensor(pe, dtype=torch.float32)

    column = np.arange(D)[None, :]
    return [
        ("sin and cos are swapped: even columns 2i hold sin, odd columns 2i+1 hold cos.",
         interleave(np.cos(angle), np.sin(angle))),
        ("the sines and cosines are in two halves; they alternate: column 2i is sin, column 2i+1 is cos.",
         torch.tensor(np.concatenate([np.sin(angle), np.cos(angle)], axis=1), dtype=torch.float32)),
        ("the exponent uses the column index j: both columns 2i and 2i+1 use the frequency "
         "1 / 10000^(2i/D) of their pair.", torch.tensor(np.where(column % 2 == 0, np.sin(t / 10000 ** (column / D)),
                                                               np.cos(t / 10000 ** (column / D))), dtype=torch.float32)),
        ("the exponent is i/D; it is 2i/D: PE[t, 2i] = sin(t / 10000^(2i/D)).",
         interleave(np.sin(t / 10000 ** (i / D)), np.cos(t / 10000 ** (i / D)))),
        ("t is multiplied by 10000^(2i/D); it is divided: sin(t / 10000^(2i/D)).",
         interleave(np.sin(t * 10000 ** (2 * i / D)), np.cos(t * 10000 ** (2 * i / D)))),
    ]


def check_sinusoidal_positions(fn, T, D):
    """fn(T, D) -> (T, D) float32 tensor of sinusoidal position encodings."""
    where = f"sinusoidal_positions({T}, {D})"
    got = call(fn, T, D, name="sinusoidal_positions")
    check(torch.is_tensor(got), f"{where} should return a torch tensor; got {type(got).__name__}.")
    check(got.dtype == torch.float32, f"{where} has dtype {got.dtype}; return float32 (PyTorch's default).")
    check_close(where, got, reference_sinusoidal_positions(T, D), dims="(T, D)", rtol=1e-5, atol=1e-5,
                mistakes=sinusoidal_positions_mistakes(T, D))


# ---------------------------------------------------------------------------------------------
# torch: multi-head self-attention, compared with nn.MultiheadAttention
# ---------------------------------------------------------------------------------------------

def _attention_variant(reference, x, mask, num_heads, scale="dk", invert=False, split="right",
                       out_proj=True):
    """Multi-head self-attention with reference's weights and one thing changed."""
    N, T, d = x.shape
    dk = d // num_heads
    q, k, v = F.linear(x, reference.in_proj_weight, reference.in_proj_bias).chunk(3, dim=-1)

    def heads(z):
        if split == "right":
            return z.view(N, T, num_heads, dk).transpose(1, 2)
        return z.reshape(N, num_heads, T, dk)  # the memory of (N, T, d) read as (N, heads, T, dk)

    q, k, v = heads(q), heads(k), heads(v)
    factor = {"dk": 1 / math.sqrt(dk), "none": 1.0, "d": 1 / math.sqrt(d)}[scale]
    scores = q @ k.transpose(-2, -1) * factor
    if mask is not None:
        scores = scores.masked_fill(mask if invert else ~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if split == "right":
        out = (weights @ v).transpose(1, 2).reshape(N, T, d)
    else:
        out = (weights @ v).reshape(N, T, d)
    return F.linear(out, reference.out_proj.weight, reference.out_proj.bias) if out_proj else out


def multi_head_self_attention_mistakes(reference, x, mask, num_heads):
    wrong = [
        ("the scores are not scaled: divide q k^T by sqrt(d_k), d_k = d_model / num_heads.",
         dict(scale="none")),
        ("the scores are divided by sqrt(d_model); divide by sqrt(d_k), d_k = d_model / num_heads, "
         "the size of one head.", dict(scale="d")),
        ("the heads are split wrongly: view q as (N, T, num_heads, d_k) and then transpose to "
         "(N, num_heads, T, d_k); reshaping (N, T, d) straight to (N, num_heads, T, d_k) mixes time "
         "steps and heads.", dict(split="wrong")),
        ("out_proj is not applied to the concatenated heads.", dict(out_proj=False)),
    ]
    if mask is not None:
        wrong += [("the mask is inverted: True means 'may attend' (nn.MultiheadAttention's attn_mask "
                   "is the opposite, True = blocked: pass ~mask there).", dict(invert=True)),
                  ("the mask is ignored.", dict(mask=None))]
    out = []
    with torch.no_grad():
        for hint, options in wrong:
            m = options.pop("mask", mask)
            if num_heads == 1 and options.get("scale") == "d":
                continue
            out.append((hint, _attention_variant(reference, x, m, num_heads, **options)))
    return out


def check_multi_head_self_attention(cls, N, T, d_model, num_heads, seed, masked=True, gradients=False):
    """cls(d_model, num_heads) loaded with an nn.MultiheadAttention(batch_first=True) state dict
    computes nn.MultiheadAttention(x, x, x, attn_mask=~mask)[0] (and the same gradients)."""
    torch.manual_seed(seed)
    reference = nn.MultiheadAttention(d_model, num_heads, batch_first=True)
    with torch.no_grad():  # nonzero biases, so that a forgotten bias shows
        reference.in_proj_bias.normal_()
        reference.out_proj.bias.normal_()
    name = f"MultiHeadSelfAttention({d_model}, {num_heads})"
    module = call(cls, d_model, num_heads, name=name)
    check_parameters_like(name, module, reference)
    load_state_like(name, module, reference)
    x = torch.randn(N, T, d_model, requires_grad=gradients)
    mask = reference_causal_mask(T) if masked else None
    where = f" (N={N}, T={T}, d_model={d_model}, num_heads={num_heads}, {'causal mask' if masked else 'mask=None'})"
    out = call(module, x, mask, name=f"{name}.forward")
    expected, _ = reference(x, x, x, attn_mask=None if mask is None else ~mask, need_weights=False)
    if torch.is_tensor(out) and mask is not None and not bool(torch.isfinite(out).all()):
        fail(f"the output{where} contains NaN: a query has every score set to -inf, so the mask is "
             f"inverted. True means 'may attend': set the scores to -inf where mask is False "
             f"(masked_fill(~mask, ...)); with a causal mask every position may attend to itself.")
    check_close("the output" + where, out, expected.detach(), dims="(N, T, d_model)", rtol=1e-4, atol=1e-5,
                mistakes=multi_head_self_attention_mistakes(reference, x.detach(), mask, num_heads))
    if not gradients:
        return
    check(out.requires_grad, f"{name}'s output does not require grad: the computation was cut from "
                             f"autograd (.detach(), .data, numpy or torch.no_grad()?).")
    weights = torch.randn(N, T, d_model)
    (out * weights).sum().backward()
    got = {"x": x.grad.clone(), **{n: p.grad.clone() for n, p in module.named_parameters()}}
    x.grad = None
    (expected * weights).sum().backward()
    want = {"x": x.grad, **{n: p.grad for n, p in reference.named_parameters()}}
    for label, g in got.items():
        check_close(f"the gradient of {label}{where}", g, want[label], rtol=1e-4, atol=1e-5)
