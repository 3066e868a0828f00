"""Chapter 04 (backpropagation through time): references for the tests and the known mistakes
they recognise (the chapter's character model, CharRNN, is in `rnncourse.text`).

The correct gradients come from PyTorch's autograd on the same computation in float64 and from
finite differences (`checks.numeric_gradient`), never from the reference solutions. Each
`*_mistakes` function returns `(hint, wrong_value)` pairs for `checks.check_close`. The `check_*`
functions test an exercise through its API: a backward is always called with the cache that the
notebook's own forward returned, and is never inspected.

numpy conventions: row vectors, x: (N, D), h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,).
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse import ch03
from rnncourse.ch03 import torch_rnn_from_numpy
from rnncourse.text import CharRNN
from rnncourse.checks import (FLOAT32_TOLERANCE, CheckFailure, blame_dependencies_first, call, check, check_close, check_gradient, fail,
                              numeric_gradient, random_arrays, sizes, softmax, to_torch)


# ---------------------------------------------------------------------------------------------
# numpy: one step backward
# ---------------------------------------------------------------------------------------------

def reference_rnn_step_backward(x, prev_h, Wx, Wh, b, dnext_h):
    """(dx, dprev_h, dWx, dWh, db) of sum(next_h * dnext_h), by torch autograd in float64."""
    tensors = [to_torch(a, grad=True) for a in (x, prev_h, Wx, Wh, b)]
    tx, th, tWx, tWh, tb = tensors
    next_h = torch.tanh(tx @ tWx + th @ tWh + tb)
    (next_h * to_torch(dnext_h)).sum().backward()
    return tuple(t.grad.numpy() for t in tensors)


def _step_grads_from_da(da, x, prev_h, Wx, Wh):
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


STEP_NAMES = ("dx", "dprev_h", "dWx", "dWh", "db")
STEP_DIMS = ("(N, D)", "(N, H)", "(D, H)", "(H, H)", "(H,)")


def rnn_step_backward_mistakes(x, prev_h, Wx, Wh, b, dnext_h):
    """{output name: [(hint, wrong value)]} for the usual mistakes of rnn_step_backward."""
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    da = dnext_h * (1 - next_h ** 2)
    wrong = {name: [] for name in STEP_NAMES}

    def whole(hint, da_wrong):
        for name, value in zip(STEP_NAMES, _step_grads_from_da(da_wrong, x, prev_h, Wx, Wh)):
            wrong[name].append((hint, value))

    whole("the derivative of tanh is missing: the gradient of the pre-activation is "
          "dnext_h * (1 - next_h**2).", dnext_h)
    whole("tanh'(a) is 1 - tanh(a)**2 = 1 - next_h**2; you wrote 1 - next_h (not squared).",
          dnext_h * (1 - next_h))
    whole("tanh is applied twice: next_h is already tanh(a), so tanh'(a) = 1 - next_h**2, "
          "not 1 - tanh(next_h)**2.", dnext_h * (1 - np.tanh(next_h) ** 2))
    whole("the derivative of tanh is written with the wrong sign: 1 - next_h**2, not next_h**2 - 1.",
          -da)
    wrong["dprev_h"].append(("Wh is not transposed: with a = x Wx + prev_h Wh + b, "
                             "dprev_h = da @ Wh.T.", da @ Wh))
    wrong["dWh"].append(("dWh is transposed: dWh = prev_h.T @ da, shape (H, H) with rows indexed "
                         "by prev_h.", da.T @ prev_h))
    wrong["dWh"].append(("dWh uses next_h; the recurrent weight multiplies prev_h, so "
                         "dWh = prev_h.T @ da.", next_h.T @ da))
    wrong["db"].append(("db is a mean over the batch; sum over the N rows, as dWx and dWh do.",
                        da.mean(axis=0)))
    wrong["dx"].append(("dx uses Wh instead of Wx.", da @ Wh.T if Wh.shape == Wx.shape else da))
    return wrong


def check_rnn_step_backward(step_backward, step_forward, N, D, H, seed, scale=1.0, numeric=False):
    """step_backward(dnext_h, cache) with the cache of step_forward (the notebook's) matches autograd.

    numeric: also compare every gradient with central finite differences.
    When a gradient is wrong, step_forward's own test runs first (its cache may be the culprit).
    """
    forward = lambda: ch03.check_rnn_step_forward(step_forward, N, D, H, seed, scale)
    with blame_dependencies_first("rnn_step_backward", [("rnn_step_forward", "reads the cache of", forward)]):
        _check_rnn_step_backward(step_backward, step_forward, N, D, H, seed, scale, numeric)


def _check_rnn_step_backward(step_backward, step_forward, N, D, H, seed, scale, numeric):
    x, prev_h, Wx, Wh, b, dnext_h = random_arrays(seed, (N, D), (N, H), (D, H), (H, H), (H,), (N, H),
                                                  scale=scale)
    where = sizes(N=N, D=D, H=H)
    _, cache = call(step_forward, x, prev_h, Wx, Wh, b, name="rnn_step_forward", returns=2)
    grads = call(step_backward, dnext_h, cache, name="rnn_step_backward", returns=5)
    expected = reference_rnn_step_backward(x, prev_h, Wx, Wh, b, dnext_h)
    mistakes = rnn_step_backward_mistakes(x, prev_h, Wx, Wh, b, dnext_h)
    _compare_gradients(STEP_NAMES, STEP_DIMS, grads, expected, mistakes, where)
    if numeric:
        arrays = dict(x=x, prev_h=prev_h, Wx=Wx, Wh=Wh, b=b)
        f = lambda: np.tanh(arrays["x"] @ arrays["Wx"] + arrays["prev_h"] @ arrays["Wh"] + arrays["b"])
        _compare_with_finite_differences(STEP_NAMES, grads, arrays, f, dnext_h, mistakes, where)


def _compare_gradients(names, dims, grads, expected, mistakes, where):
    """Each of grads equals its expected value (float64, to 1e-6), naming known mistakes."""
    for name, shape, got, want in zip(names, dims, grads, expected):
        check_close(name + where, got, want, dtype=np.float64, dims=shape, rtol=1e-6, atol=1e-9,
                    mistakes=mistakes[name])


def _compare_with_finite_differences(names, grads, arrays, f, dout, mistakes, where):
    """grads (in the order of arrays, a dict) against central differences of sum(f() * dout)."""
    for name, got, key in zip(names, grads, arrays):
        check_gradient(f"{name}{where} (against finite differences)", got,
                       numeric_gradient(f, arrays[key], dout), max_relative_error=1e-6,
                       mistakes=mistakes[name])


# ---------------------------------------------------------------------------------------------
# numpy: backward through a whole sequence
# ---------------------------------------------------------------------------------------------

def reference_rnn_backward(x, h0, Wx, Wh, b, dh):
    """(dx, dh0, dWx, dWh, db) of sum(h * dh) for h = the states of a tanh RNN, by torch autograd
    through torch.nn.RNN in float64."""
    rnn = torch_rnn_from_numpy(Wx, Wh, b)
    tx, th0 = to_torch(x, grad=True), to_torch(h0, grad=True)
    h, _ = rnn(tx, th0[None])
    (h * to_torch(dh)).sum().backward()
    return (tx.grad.numpy(), th0.grad.numpy(), rnn.weight_ih_l0.grad.T.numpy(),
            rnn.weight_hh_l0.grad.T.numpy(), rnn.bias_ih_l0.grad.numpy())


def _bptt_variant(x, h0, Wx, Wh, b, dh, carry=True, upstream="all", accumulate=True, forward_time=False):
    """BPTT in numpy with one thing changed, to compute the values wrong implementations return."""
    N, T, _ = x.shape
    states = [h0]
    for t in range(T):
        states.append(np.tanh(x[:, t] @ Wx + states[-1] @ Wh + b))
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    carried = np.zeros_like(h0)
    order = range(T) if forward_time else range(T - 1, -1, -1)
    for t in order:
        if upstream == "last":
            local = dh[:, t] if t == T - 1 else 0
        else:
            local = dh[:, t]
        d = local + (carried if carry else 0)
        da = d * (1 - states[t + 1] ** 2)
        dx[:, t] = da @ Wx.T
        carried = da @ Wh.T
        step = (x[:, t].T @ da, states[t].T @ da, da.sum(axis=0))
        if accumulate:
            dWx, dWh, db = dWx + step[0], dWh + step[1], db + step[2]
        else:
            dWx, dWh, db = step
    return dx, carried, dWx, dWh, db


SEQ_NAMES = ("dx", "dh0", "dWx", "dWh", "db")
SEQ_DIMS = ("(N, T, D)", "(N, H)", "(D, H)", "(H, H)", "(H,)")


def rnn_backward_mistakes(x, h0, Wx, Wh, b, dh):
    """{output name: [(hint, wrong value)]} for the usual mistakes of rnn_backward."""
    args = (x, h0, Wx, Wh, b, dh)
    variants = [
        ("the gradient from the future is not carried: at step t the upstream gradient is "
         "dh[:, t] + dprev_h of step t+1, not dh[:, t] alone.", _bptt_variant(*args, carry=False)),
        ("only dh[:, T-1] is used: every step has a loss, add dh[:, t] at every step t.",
         _bptt_variant(*args, upstream="last")),
        ("the weight gradients are not accumulated: the same Wx, Wh, b are used at every step, so "
         "dWx, dWh, db are SUMS over all time steps.", _bptt_variant(*args, accumulate=False)),
        ("time runs the wrong way: backpropagate from t = T-1 down to 0.",
         _bptt_variant(*args, forward_time=True)),
    ]
    correct = reference_rnn_backward(*args)
    wrong = {name: [] for name in SEQ_NAMES}
    for hint, values in variants:
        for name, value in zip(SEQ_NAMES, values):
            wrong[name].append((hint, value))
    wrong["dh0"].append(("dh0 is the gradient that flows out of the FIRST step (its dprev_h), "
                         "not dh[:, 0].", dh[:, 0]))
    wrong["dh0"].append(("dh0 is zero: return the dprev_h of the first step.", np.zeros_like(h0)))
    wrong["dx"].append(("dx is in reverse time order: dx[:, t] belongs to x[:, t].", correct[0][:, ::-1]))
    return wrong


def check_rnn_backward(backward, forward, N, T, D, H, seed, scale=1.0, numeric=False,
                       rnn_step_backward=None, rnn_step_forward=None):
    """backward(dh, cache) with the cache of forward (the notebook's rnn_forward) matches autograd.

    rnn_step_backward, rnn_step_forward: the student's step functions, which backward calls; when
    backward fails, the step backward's own test runs first and is named if it fails.
    """
    step = rnn_step_backward and rnn_step_forward and (
        lambda: check_rnn_step_backward(rnn_step_backward, rnn_step_forward, N, D, H, seed, scale))
    with blame_dependencies_first("rnn_backward", [("rnn_step_backward", "calls", step)]):
        _check_rnn_backward(backward, forward, N, T, D, H, seed, scale, numeric)


def _check_rnn_backward(backward, forward, N, T, D, H, seed, scale, numeric):
    x, h0, Wx, Wh, b, dh = random_arrays(seed, (N, T, D), (N, H), (D, H), (H, H), (H,), (N, T, H),
                                         scale=scale)
    where = sizes(N=N, T=T, D=D, H=H)
    _, cache = call(forward, x, h0, Wx, Wh, b, name="rnn_forward", returns=2)
    grads = call(backward, dh, cache, name="rnn_backward", returns=5)
    expected = reference_rnn_backward(x, h0, Wx, Wh, b, dh)
    mistakes = rnn_backward_mistakes(x, h0, Wx, Wh, b, dh)
    _compare_gradients(SEQ_NAMES, SEQ_DIMS, grads, expected, mistakes, where)
    if numeric:
        arrays = dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)

        def f():
            h, states = arrays["h0"], []
            for t in range(T):
                h = np.tanh(arrays["x"][:, t] @ arrays["Wx"] + h @ arrays["Wh"] + arrays["b"])
                states.append(h)
            return np.stack(states, axis=1)

        _compare_with_finite_differences(SEQ_NAMES, grads, arrays, f, dh, mistakes, where)


# ---------------------------------------------------------------------------------------------
# numpy: softmax cross-entropy
# ---------------------------------------------------------------------------------------------

def reference_softmax_cross_entropy(logits, targets):
    """(loss, dlogits): mean cross-entropy over all N*T positions and its gradient, by torch."""
    N, T, V = logits.shape
    t = to_torch(logits, grad=True)
    loss = F.cross_entropy(t.reshape(N * T, V), torch.as_tensor(np.asarray(targets).reshape(-1), dtype=torch.long))
    loss.backward()
    return float(loss.detach()), t.grad.numpy()


def softmax_cross_entropy_mistakes(logits, targets):
    """(loss mistakes, dlogits mistakes): lists of (hint, wrong value)."""
    N, T, V = logits.shape
    shifted = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    onehot = np.eye(V)[targets]
    loss, dlogits = reference_softmax_cross_entropy(logits, targets)
    with np.errstate(all="ignore"):  # wrong values may overflow; a warning on stderr costs the points
        wrong_axis = np.exp(logits - logits.max(axis=1, keepdims=True))
        wrong_axis = wrong_axis / wrong_axis.sum(axis=1, keepdims=True)
        wrong_axis_loss = -np.mean(np.log(np.take_along_axis(wrong_axis, targets[..., None], axis=-1)))
    loss_mistakes = [
        ("the loss is a sum; take the mean over all N*T positions.", loss * N * T),
        ("the loss is averaged over N only; average over all N*T positions (divide by N*T).", loss * T),
        ("the loss is averaged over T only; average over all N*T positions (divide by N*T).", loss * N),
        ("the softmax is taken over the wrong axis: normalise over the vocabulary, the last axis.",
         wrong_axis_loss),
    ]
    d_mistakes = [
        ("dlogits is not divided by N*T: the loss is a mean, so is its gradient.", dlogits * N * T),
        ("dlogits is divided by N only; divide by N*T like the loss.", dlogits * T),
        ("the one-hot of the targets is not subtracted: dlogits = (softmax(logits) - onehot) / (N*T).",
         probs / (N * T)),
        ("dlogits is the softmax minus one-hot without the 1/(N*T) and with the wrong sign.",
         onehot - probs),
    ]
    return loss_mistakes, d_mistakes


def check_softmax_cross_entropy(fn, N, T, V, seed, scale=1.0, offset=0.0, row_offsets=0.0):
    """fn(logits, targets) -> (loss, dlogits) equals torch's mean cross-entropy and its gradient.

    offset: added to all logits (large values test numerical stability).
    row_offsets: each position's V logits shifted by its own uniform value in ±row_offsets (rows
        of very different scale: only a per-row maximum keeps every row finite).
    """
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((N, T, V)) + offset
    logits = logits + rng.uniform(-row_offsets, row_offsets, size=(N, T, 1))
    targets = rng.integers(0, V, size=(N, T))
    where = sizes(N=N, T=T, V=V) + (f", logits around {offset:g}" if offset else "") \
        + (f", rows shifted by up to ±{row_offsets:g}" if row_offsets else "")
    loss, dlogits = call(fn, logits, targets, name="softmax_cross_entropy", returns=2)
    want_loss, want_d = reference_softmax_cross_entropy(logits, targets)
    loss_mistakes, d_mistakes = softmax_cross_entropy_mistakes(logits, targets)
    check(np.ndim(loss) == 0, f"`loss`{where} should be a single number (the mean over N*T); got "
                              f"shape {np.shape(loss)}.")
    check(not row_offsets or np.isfinite(loss),
          f"`loss`{where} is {loss}: a row far below the largest logit of the whole array underflows "
          f"(exp(-2000) = 0, log 0 = -inf). Subtract each row's own maximum, "
          f"logits.max(axis=-1, keepdims=True), not one maximum over everything.")
    check_close("loss" + where, float(np.asarray(loss, dtype=np.float64)) if np.isfinite(loss) else loss,
                want_loss, rtol=1e-7, atol=1e-10, mistakes=loss_mistakes)
    check_close("dlogits" + where, dlogits, want_d, dtype=np.float64, dims="(N, T, V)", rtol=1e-6,
                atol=1e-12, mistakes=d_mistakes)


def check_softmax_cross_entropy_numeric(fn, N, T, V, seed):
    """dlogits agrees with central finite differences of the student's own loss."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((N, T, V))
    targets = rng.integers(0, V, size=(N, T))
    _, dlogits = call(fn, logits, targets, name="softmax_cross_entropy", returns=2)
    numeric = numeric_gradient(lambda: fn(logits, targets)[0], logits)
    _, d_mistakes = softmax_cross_entropy_mistakes(logits, targets)
    check_gradient("dlogits (against finite differences of your loss)", dlogits, numeric,
                   max_relative_error=1e-6, mistakes=d_mistakes)


# ---------------------------------------------------------------------------------------------
# Truncated BPTT chunks
# ---------------------------------------------------------------------------------------------

def reference_tbptt_chunks(ids, seq_length):
    """Every full (inputs, targets) pair: inputs = ids[p:p+s], targets = ids[p+1:p+s+1],
    p = 0, s, 2s, ... while p + s + 1 <= L (a short last piece is dropped)."""
    count = (len(ids) - 1) // seq_length
    return [(np.asarray(ids[k * seq_length:(k + 1) * seq_length]),
             np.asarray(ids[k * seq_length + 1:(k + 1) * seq_length + 1])) for k in range(count)]


def _chunk_variants(ids, s):
    L = len(ids)
    full = reference_tbptt_chunks(ids, s)
    with_short = list(full)
    p = len(full) * s
    if p + 1 < L:
        with_short.append((ids[p:L - 1], ids[p + 1:L]))
    return [
        ("the targets are not shifted: targets are the NEXT characters, ids[p+1:p+s+1].",
         [(ids[k * s:(k + 1) * s], ids[k * s:(k + 1) * s]) for k in range(len(full))]),
        ("the chunks overlap: consecutive chunks start seq_length apart (p += seq_length), so that "
         "the state carried from one chunk continues into the next.",
         [(ids[p:p + s], ids[p + 1:p + s + 1]) for p in range(L - s)]),
        ("one character is skipped between chunks: the next chunk starts at p + seq_length, "
         "where the previous inputs stopped.",
         [(ids[p:p + s], ids[p + 1:p + s + 1]) for p in range(0, L - s, s + 1)]),
        ("the short last chunk is kept: as documented, drop a last piece shorter than seq_length.",
         with_short),
        ("the short last chunk is kept: as documented, drop a last piece shorter than seq_length.",
         [(ids[p:p + s], ids[p + 1:p + s + 1]) for p in range(0, L - 1, s)]),
        ("the targets are shifted the wrong way: targets[i] is the character AFTER inputs[i].",
         [(ids[p + 1:p + s + 1], ids[p:p + s]) for p in range(0, L - s - 1 + 1, s)][:len(full)]),
        ("the last full chunk is missing: keep every chunk with p + seq_length + 1 <= len(ids).",
         full[:-1]),
    ]


def _same_chunks(got, expected):
    """True when got is a list of (inputs, targets) pairs equal to expected's, in order."""
    if len(got) != len(expected):
        return False
    for pair, (inputs, targets) in zip(got, expected):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            return False  # check_tbptt_chunks names this shape mistake chunk by chunk
        if not (np.array_equal(np.asarray(pair[0]), inputs) and np.array_equal(np.asarray(pair[1]), targets)):
            return False
    return True


def check_tbptt_chunks(fn, L, seq_length, seed=None):
    """fn(ids, seq_length) returns the full chunks of chunks_reference, in order.

    ids: random ids of length L from seed, or np.arange(L) when seed is None.
    """
    ids = np.arange(L) if seed is None else np.random.default_rng(seed).integers(0, 50, size=L)
    where = f"tbptt_chunks({'np.arange(' + str(L) + ')' if seed is None else 'ids of length ' + str(L)}, seq_length={seq_length})"
    got = call(fn, ids, seq_length, name="tbptt_chunks")
    check(isinstance(got, (list, tuple)), f"{where} should return a list of (inputs, targets) pairs; "
                                          f"got {type(got).__name__}.")
    expected = reference_tbptt_chunks(ids, seq_length)
    if _same_chunks(got, expected):
        return
    for hint, wrong in _chunk_variants(ids, seq_length):
        if _same_chunks(got, wrong):
            fail(f"{where} is wrong.\nHint: {hint}")
    check(len(got) == len(expected),
          f"{where} returned {len(got)} chunks; expected {len(expected)} = (L - 1) // seq_length "
          f"(full chunks only).")
    for k, (pair, (inputs, targets)) in enumerate(zip(got, expected)):
        check(isinstance(pair, (tuple, list)) and len(pair) == 2,
              f"chunk {k} of {where} should be a pair (inputs, targets); got {type(pair).__name__}.")
        check_close(f"inputs of chunk {k}", np.asarray(pair[0]), inputs, dims="(seq_length,)")
        check_close(f"targets of chunk {k}", np.asarray(pair[1]), targets, dims="(seq_length,)")


# ---------------------------------------------------------------------------------------------
# PyTorch: a character model, truncated BPTT and sampling
# ---------------------------------------------------------------------------------------------

DETACH_HINT = ("PyTorch says 'Trying to backward through the graph a second time' when the state "
               "carried into a chunk still holds the graph of the previous chunk, which the previous "
               "backward() has already freed. Carry the state with h = h.detach(): its values go on, "
               "its history is cut, and backward stops at the chunk boundary (truncated BPTT).")


class SpyCharRNN(CharRNN):
    """A CharRNN that records every call and fails, naming the mistake, when the state it is given
    is not the state it returned at the previous call, or still carries autograd history."""

    def __init__(self, vocab_size, hidden_size, ids, seq_length):
        super().__init__(vocab_size, hidden_size)
        self.ids, self.seq_length = torch.as_tensor(ids), seq_length
        self.n_chunks = (len(ids) - 1) // seq_length
        self.calls = []  # (inputs, logits detached, h out detached)

    def forward(self, inputs, h=None):
        k = len(self.calls)
        chunk = k % self.n_chunks
        s = self.seq_length
        check(torch.is_tensor(inputs),
              f"call {k + 1} of the model got inputs of type {type(inputs).__name__}; the model takes a "
              f"torch tensor of ids, shape (1, seq_length) (torch.as_tensor(...) if your chunks are "
              f"numpy arrays).")
        check(tuple(inputs.shape) == (1, s),
              f"call {k + 1} of the model got inputs of shape {tuple(inputs.shape)}; expected (1, {s}): "
              f"one chunk of seq_length ids with a batch axis, inputs[None] or inputs.unsqueeze(0).")
        want = self.ids[chunk * s:(chunk + 1) * s]
        check(torch.equal(inputs[0].long(), want),
              f"call {k + 1} of the model got the wrong inputs; expected chunk {chunk} "
              f"(ids[{chunk * s}:{(chunk + 1) * s}]), chunks in order, starting again from chunk 0 "
              f"with a fresh state after the last full chunk.")
        if chunk == 0:
            check(h is None or (torch.is_tensor(h) and not bool(h.detach().any())),
                  f"call {k + 1} of the model (chunk 0) should start from a fresh state, h=None.")
        else:
            previous = self.calls[-1][2]
            check(h is not None and torch.is_tensor(h),
                  f"chunk {chunk} got h=None: the state is not carried. Truncated BPTT carries the "
                  f"hidden state forward for ever: pass the h returned by the previous chunk "
                  f"(detached) into the next one.")
            check(tuple(h.shape) == tuple(previous.shape) and torch.equal(h.detach(), previous),
                  f"the state passed to chunk {chunk} is not the state the model returned for chunk "
                  f"{chunk - 1}: carry the state forward (h from the previous call, detached), do not "
                  f"reset it to zeros or reuse an older one.")
            check(h.grad_fn is None and not h.requires_grad,
                  f"the state passed to chunk {chunk} still carries autograd history "
                  f"(h.grad_fn = {type(h.grad_fn).__name__}): detach it, h = h.detach(). "
                  + DETACH_HINT)
        logits, h_out = super().forward(inputs, h)
        self.calls.append((inputs.detach().clone(), logits.detach().clone(), h_out.detach().clone()))
        return logits, h_out


def reference_train_tbptt(model, ids, seq_length, steps, lr, zero_grad=True, optimizer="adam"):
    """Truncated BPTT over ids (1-D long), one chunk per step; used to compute what a correct or a
    wrong loop leaves in the parameters."""
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    n = (len(ids) - 1) // seq_length
    h = None
    for step in range(steps):
        k = step % n
        if k == 0:
            h = None
        piece = ids[k * seq_length:(k + 1) * seq_length + 1]
        logits, h = model(piece[None, :-1], h)
        loss = F.cross_entropy(logits[0], piece[1:])
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
        h = h.detach()


def check_train_tbptt(fn, V, H, L, seq_length, steps, lr, seed, tbptt_chunks=None):
    """fn(model, ids, seq_length, steps, lr) trains a spy CharRNN by truncated BPTT with Adam.

    tbptt_chunks: the student's chunking function, which fn calls; when fn fails, its own test
    runs first (same length and seq_length) and is named if it fails.
    """
    chunks = tbptt_chunks and (lambda: check_tbptt_chunks(tbptt_chunks, L, seq_length, seed=seed))
    with blame_dependencies_first("train_tbptt", [("tbptt_chunks", "calls", chunks)]):
        _check_train_tbptt(fn, V, H, L, seq_length, steps, lr, seed)


def _check_train_tbptt(fn, V, H, L, seq_length, steps, lr, seed):
    torch.manual_seed(seed)
    ids = torch.randint(0, V, (L,))
    spy = SpyCharRNN(V, H, ids, seq_length)
    initial = {k: v.clone() for k, v in spy.state_dict().items()}
    where = f"train_tbptt(model, ids of length {L}, seq_length={seq_length}, steps={steps}, lr={lr})"
    try:
        losses = call(fn, spy, ids, seq_length, steps, lr, name="train_tbptt")
    except CheckFailure as failure:
        if "backward through the graph a second time" in str(failure):
            fail(f"{failure}\n{DETACH_HINT}")
        raise
    check(len(spy.calls) == steps, f"{where} called the model {len(spy.calls)} times; expected {steps}, "
                                   f"one chunk per step.")
    check(isinstance(losses, (list, tuple)) and len(losses) == steps,
          f"{where} should return a list of {steps} losses, one per step; got "
          f"{type(losses).__name__}{' of ' + str(len(losses)) if hasattr(losses, '__len__') else ''}.")
    check(all(isinstance(v, (float, int, np.floating)) for v in losses),
          f"{where} should return plain Python floats (loss.item()), not tensors: a list of tensors "
          f"keeps every chunk's graph alive.")
    n = (L - 1) // seq_length
    got = np.array([float(v) for v in losses])
    expected, wrong_targets, summed = [], [], []
    for step, (inputs, logits, _) in enumerate(spy.calls):
        k = step % n
        targets = ids[k * seq_length + 1:(k + 1) * seq_length + 1]
        expected.append(float(F.cross_entropy(logits[0], targets)))
        wrong_targets.append(float(F.cross_entropy(logits[0], inputs[0])))
        summed.append(float(F.cross_entropy(logits[0], targets, reduction="sum")))
    check_close("the losses " + where, got, np.array(expected), **FLOAT32_TOLERANCE, mistakes=[
        ("the targets are the inputs: the model must predict the NEXT id, targets = ids[p+1:p+s+1].",
         np.array(wrong_targets)),
        ("the loss is summed over the chunk; use the mean cross-entropy (F.cross_entropy's default).",
         np.array(summed))])
    # the parameters after training: Adam(lr) on each chunk's mean loss, gradients zeroed every step
    outcomes = {}
    for label, kwargs in [("correct", {}), ("no zero_grad", dict(zero_grad=False)), ("sgd", dict(optimizer="sgd"))]:
        torch.manual_seed(0)
        twin = CharRNN(V, H)
        twin.load_state_dict(initial)
        reference_train_tbptt(twin, ids, seq_length, steps, lr, **kwargs)
        outcomes[label] = torch.cat([p.detach().reshape(-1) for p in twin.parameters()])
    trained = torch.cat([p.detach().reshape(-1) for p in spy.parameters()])
    check_close("the model's parameters after " + where, trained, outcomes["correct"], rtol=1e-3, atol=1e-5,
                mistakes=[("the gradients are not reset: call optimizer.zero_grad() at every step, "
                           "or they add up over the chunks.", outcomes["no zero_grad"]),
                          ("the optimizer is SGD; this exercise uses torch.optim.Adam(model.parameters(), lr=lr).",
                           outcomes["sgd"]),
                          ("the parameters did not change: call loss.backward() and optimizer.step() "
                           "at every step.", torch.cat([v.reshape(-1) for v in [initial[k] for k in spy.state_dict()]]))])


class RecordingTableModel(nn.Module):
    """A model whose next-token logits are table[last input id]; its state counts the tokens read.

    Records every call so that tests can check what a sampler feeds it.
    forward(inputs (1, T) long, h (1, 1, 1) or None) -> (logits (1, T, V), h (1, 1, 1)).
    """

    def __init__(self, table):
        super().__init__()
        self.table = torch.as_tensor(table, dtype=torch.float32)
        self.calls = []  # (inputs list, h_in value or None, h_out value)

    def forward(self, inputs, h=None):
        check(torch.is_tensor(inputs) and inputs.dim() == 2 and inputs.shape[0] == 1,
              f"the model expects inputs of shape (1, T), a long tensor; got "
              f"{tuple(inputs.shape) if torch.is_tensor(inputs) else type(inputs).__name__}.")
        start = torch.zeros(1, 1, 1) if h is None else h
        h_out = start + inputs.shape[1]
        self.calls.append((inputs[0].tolist(), None if h is None else float(h.reshape(-1)[0]), float(h_out)))
        return self.table[inputs.long()], h_out


def _as_id_list(value, n, where):
    """value, which must be a list of n Python ints (the exercise's return type), as a list."""
    check(isinstance(value, list), f"{where} should return a list of ids; got {type(value).__name__}.")
    check(len(value) == n, f"{where} returned {len(value)} ids; expected n = {n} new ids (not the start ids).")
    wrong = [v for v in value if type(v) is not int]
    if wrong:
        fail(f"{where} should return a list of Python ints; it holds {type(wrong[0]).__name__} "
             f"values ({repr(wrong[0])[:40]}): convert each id with int(...), e.g. "
             f"int(torch.multinomial(probabilities, 1)).")
    return value


def check_sample_greedy(fn, V, start_ids, n, seed):
    """At a tiny temperature sampling is greedy: each id is the argmax after the previous one."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((V, V)) * 3
    model = RecordingTableModel(table)
    where = f"sample(model, start_ids={start_ids}, n={n}, temperature=1e-4)"
    torch.manual_seed(seed)
    got = _as_id_list(call(fn, model, list(start_ids), n, 1e-4, name="sample"), n, where)
    best = table.argmax(axis=1)
    chain, last = [], start_ids[-1]
    for _ in range(n):
        last = int(best[last])
        chain.append(last)
    if got != chain:
        if got[0] == int(best[start_ids[0]]) and len(start_ids) > 1:
            fail(f"{where}: the first id is predicted from the FIRST start id. Prime the model with "
                 f"all start ids and sample from the logits of the LAST position, logits[0, -1].")
        repeated = [int(best[start_ids[-1]])] * n
        if got == repeated and chain != repeated:
            fail(f"{where} keeps predicting from the start ids: feed each sampled id back as the next "
                 f"input.")
        k = next(i for i, (a, b) in enumerate(zip(got, chain)) if a != b)
        fail(f"{where} is not greedy at a tiny temperature: id {k} is {got[k]}, but the most likely id "
             f"after {([start_ids[-1]] + chain)[k]} is {chain[k]}. Divide the logits by the temperature "
             f"before the softmax, and feed each sampled id back.")
    # what the model was fed: the start ids, then every sampled id but (possibly) the last
    fed = [i for inputs, _, _ in model.calls for i in inputs]
    expected = list(start_ids) + chain
    check(fed == expected[:len(fed)] and len(fed) >= len(expected) - 1,
          f"{where} fed the model {fed[:12]}...; expected the start ids then each sampled id: "
          f"{expected[:12]}...")
    for c, (_, h_in, _) in enumerate(model.calls[1:], start=1):
        check(h_in is not None and h_in == model.calls[c - 1][2],
              f"{where}: call {c + 1} of the model did not get the state returned by call {c}: carry "
              f"h from step to step while sampling.")


def check_sample_distribution(fn, logits, temperature, n, seed, tolerance=0.03):
    """The empirical frequencies of n samples match softmax(logits / temperature)."""
    V = len(logits)
    model = RecordingTableModel(np.tile(np.asarray(logits, dtype=np.float64), (V, 1)))
    where = f"sample(model, [0], n={n}, temperature={temperature})"
    torch.manual_seed(seed)
    got = _as_id_list(call(fn, model, [0], n, temperature, name="sample"), n, where)
    check(all(0 <= i < V for i in got), f"{where} returned ids outside 0..{V - 1}.")
    torch.manual_seed(seed)
    again = call(fn, model, [0], n, temperature, name="sample")
    check(again == got, f"{where} draws other ids when run again after the same torch.manual_seed({seed}): "
                        f"draw with torch (torch.multinomial), whose random numbers the seed fixes, not "
                        f"with numpy or Python's random module.")
    frequencies = np.bincount(got, minlength=V) / n
    expected = softmax(np.asarray(logits) / temperature)
    candidates = [
        ("the temperature is ignored: sample from softmax(logits / temperature).", softmax(logits)),
        ("the logits are multiplied by the temperature; divide them: softmax(logits / temperature).",
         softmax(np.asarray(logits) * temperature)),
        ("every sample is the most likely id: draw from the distribution (torch.multinomial), do not "
         "take the argmax.", np.eye(V)[int(np.argmax(logits))]),
        ("the samples are uniform: draw from softmax(logits / temperature), not uniformly.",
         np.full(V, 1 / V)),
    ]
    error = np.abs(frequencies - expected).max()
    if error <= tolerance:
        return
    message = (f"{where}: the frequencies of the sampled ids {np.round(frequencies, 3).tolist()} differ "
               f"from softmax(logits / temperature) = {np.round(expected, 3).tolist()} by up to "
               f"{error:.3f}.")
    for hint, wrong in candidates:
        if np.abs(frequencies - wrong).max() <= tolerance:
            fail(f"{message}\nHint: {hint}")
    fail(message)
