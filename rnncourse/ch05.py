"""Chapter 05 (vanishing and exploding gradients): references for the tests, and known mistakes.

The correct values come from PyTorch, never from the reference solutions:
- `jacobian_norms` differentiates the recurrence itself with `torch.autograd.functional.jacobian`
  (the pre-activations are rebuilt from the given states, so the closed form is not used);
- `torch_clip_grad_norm` and `torch_clip_grad_value` call `torch.nn.utils.clip_grad_norm_` and
  `clip_grad_value_`.
Each `*_mistakes` function returns `(hint, wrong_value)` pairs for `checks.check_close`: the
values that plausible wrong implementations compute, so that a failing test names the mistake.
`check_clip_grad_norm` and `check_clip_grad_value` test the clipping exercises through their API
(a list of arrays in, new arrays out, the inputs left unchanged).

numpy conventions: row vectors, h_t = tanh(x_t Wx + h_{t-1} Wh + b); h: (T, H), Wh: (H, H).
"""
import numpy as np
import torch

from rnncourse import ch03
from rnncourse.checks import call, check, check_close, check_new_arrays, fail, to_torch


# ---------------------------------------------------------------------------------------------
# hidden_jacobian_norms
# ---------------------------------------------------------------------------------------------

def rnn_states(seed, T, H, D=3, scale=1.0):
    """Wh (H, H) and the states h (T, H) of one sequence of a tanh RNN with random weights.

    The weights are N(0, scale^2 / H) (so scale is about the spectral radius of Wh), the inputs
    and h0 are N(0, 1), the bias N(0, 0.25). The states come from ch03's torch.nn.RNN reference.
    """
    rng = np.random.default_rng(seed)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = scale * rng.standard_normal((H, H)) / np.sqrt(H)
    b = 0.5 * rng.standard_normal(H)
    x = rng.standard_normal((1, T, D))
    h0 = rng.standard_normal((1, H))
    h = ch03.reference_rnn_forward(x, h0, Wx, Wh, b)[0]
    return Wh, h


def reference_hidden_jacobian_norms(Wh, h):
    """(T,) the spectral norm of d h_{T-1} / d h_t for every t, by autograd through the recurrence.

    The pre-activations that produced h are rebuilt as c_k = arctanh(h_k) - h_{k-1} Wh (inputs
    and bias together), then h_{T-1} is recomputed from h_t by the recurrence and differentiated.
    """
    W, states = to_torch(Wh), to_torch(h)
    T = states.shape[0]
    c = torch.atanh(states[1:]) - states[:-1] @ W  # c[k - 1] drives step k

    def last_state_from(t):
        def run(h_t):
            state = h_t
            for k in range(t + 1, T):
                state = torch.tanh(c[k - 1] + state @ W)
            return state
        return run

    norms = []
    for t in range(T):
        jacobian = torch.autograd.functional.jacobian(last_state_from(t), states[t])
        norms.append(float(torch.linalg.matrix_norm(jacobian, ord=2)))
    return np.array(norms)


def _products(Wh, h, factor, reverse=False):
    """Norm helpers for the mistakes: entry t is built from factor(k) for k = t+1 .. T-1."""
    T, H = h.shape
    out = []
    for t in range(T):
        P = np.eye(H)
        for k in range(T - 1, t, -1):  # J_{T-1} @ ... @ J_{t+1}, or the reverse
            P = P @ factor(k) if not reverse else factor(k) @ P
        out.append(P)
    return out


def hidden_jacobian_norms_mistakes(Wh, h):
    """Values of hidden_jacobian_norms as plausible wrong implementations compute them."""
    T, H = h.shape
    right = lambda k: np.diag(1 - h[k] ** 2) @ Wh.T
    spectral = lambda Ps: np.array([np.linalg.norm(P, 2) for P in Ps])
    correct = spectral(_products(Wh, h, right))
    previous = lambda k: np.diag(1 - h[k - 1] ** 2) @ Wh.T
    radius = np.array([np.max(np.abs(np.linalg.eigvals(P))) for P in _products(Wh, h, right)])
    frobenius = np.array([np.linalg.norm(P) for P in _products(Wh, h, right)])
    last_zero = correct.copy()
    last_zero[-1] = 0.0
    return [
        ("the derivative of tanh is taken at the wrong step: the factor for step k is "
         "diag(1 - h_k**2) Wh.T, with h_k the state that step k PRODUCED, not h_{k-1}.",
         spectral(_products(Wh, h, previous))),
        ("the derivative of tanh is 1 - h**2 (with h = tanh(a) the state), not 1 - h.",
         spectral(_products(Wh, h, lambda k: np.diag(1 - h[k]) @ Wh.T))),
        ("tanh is applied twice: with h = tanh(a) already computed, tanh'(a) = 1 - h**2, "
         "not 1 - tanh(h)**2.",
         spectral(_products(Wh, h, lambda k: np.diag(1 - np.tanh(h[k]) ** 2) @ Wh.T))),
        ("the derivative of tanh is missing: each factor is diag(1 - h_k**2) Wh.T, not Wh.T alone.",
         spectral(_products(Wh, h, lambda k: Wh.T))),
        ("Wh is not transposed: with row vectors, d h_k / d h_{k-1} = diag(1 - h_k**2) @ Wh.T "
         "(entry [i, j] is d h_k[i] / d h_{k-1}[j] = (1 - h_k[i]**2) Wh[j, i]).",
         spectral(_products(Wh, h, lambda k: np.diag(1 - h[k] ** 2) @ Wh))),
        ("the factors are multiplied in the wrong order (or each one is transposed, Wh @ diag): "
         "d h_{T-1} / d h_t = J_{T-1} @ J_{T-2} @ ... @ J_{t+1}, the latest step on the LEFT; "
         "the spectral norm of a product depends on the order.",
         spectral(_products(Wh, h, right, reverse=True))),
        ("this is the Frobenius norm; use the spectral norm, np.linalg.norm(J, 2) (the largest "
         "singular value).", np.append(frobenius[:-1], 1.0)),
        ("this is the Frobenius norm; use the spectral norm, np.linalg.norm(J, 2) (the largest "
         "singular value).", frobenius),
        ("this is the spectral RADIUS (largest |eigenvalue|); use the spectral NORM, "
         "np.linalg.norm(J, 2) (the largest singular value).", radius),
        ("the entries are shifted by one step: entry t is the norm of d h_{T-1} / d h_t, so entry "
         "T-1 (no step in between, the identity) is 1 and entry T-2 is the norm of ONE factor.",
         np.append(correct[1:], 1.0)),
        ("the entries are shifted by one step the other way: entry T-2 must be the norm of one "
         "factor, J_{T-1}, and entry T-1 is 1.", np.concatenate([[1.0], correct[:-1]])),
        ("entry T-1 must be 1: d h_{T-1} / d h_{T-1} is the identity matrix.", last_zero),
    ]


def check_hidden_jacobian_norms(fn, Wh, h, label=""):
    """fn(Wh, h) equals the autograd reference, within a relative 1e-7."""
    got = call(fn, Wh, h, name="hidden_jacobian_norms")
    T, H = h.shape
    check_close(f"norms{label}", got, reference_hidden_jacobian_norms(Wh, h), rtol=1e-7, atol=0.0,
                dtype=np.float64, dims="(T,)", mistakes=hidden_jacobian_norms_mistakes(Wh, h))


# ---------------------------------------------------------------------------------------------
# clip_grad_norm and clip_grad_value
# ---------------------------------------------------------------------------------------------

def _parameters_holding(grads):
    """float64 torch parameters whose .grad are copies of grads (a list of arrays, any shapes)."""
    parameters = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(np.shape(g), dtype=torch.float64))
        p.grad = to_torch(g).reshape(np.shape(g))
        parameters.append(p)
    return parameters


def reference_clip_grad_norm(grads, max_norm):
    """(clipped list, total_norm) computed by torch.nn.utils.clip_grad_norm_ in float64."""
    parameters = _parameters_holding(grads)
    total = torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    return [p.grad.numpy().copy() for p in parameters], float(total)


def reference_clip_grad_value(grads, clip_value):
    """The clipped list computed by torch.nn.utils.clip_grad_value_ in float64."""
    parameters = _parameters_holding(grads)
    torch.nn.utils.clip_grad_value_(parameters, clip_value)
    return [p.grad.numpy().copy() for p in parameters]


def clip_grad_norm_mistakes(grads, max_norm):
    """(hint, clipped list) for the usual mistakes of norm clipping (the clipped arrays)."""
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    squared = total ** 2
    eps = 1e-6

    def scaled(factor):
        return [g * factor for g in grads]

    per_array = [g * min(max_norm / (np.sqrt(np.sum(g ** 2)) + eps), 1.0) for g in grads]
    return [
        ("the notes' snippet: the SQUARED norm sum(g*g) is compared with max_norm and used to "
         "rescale; take its square root first.",
         scaled(max_norm / squared if squared > max_norm else 1.0)),
        ("the squared norm is compared with max_norm: clip when sqrt(sum of squares) > max_norm.",
         scaled(max_norm / (total + eps) if squared > max_norm else 1.0)),
        ("each array is clipped by its own norm; clip_grad_norm uses ONE total norm over all the "
         "arrays together (as if they were concatenated into one vector).", per_array),
        ("the gradients are scaled up when their norm is below max_norm; the factor "
         "max_norm / (total_norm + 1e-6) is clamped at 1 (clip only when above).",
         scaled(max_norm / (total + eps))),
        ("the epsilon is missing: torch scales by max_norm / (total_norm + 1e-6), not "
         "max_norm / total_norm.", scaled(min(max_norm / total, 1.0) if total > 0 else 1.0)),
    ]


def clip_grad_norm_total_mistakes(grads, max_norm):
    """(hint, total_norm) for the usual mistakes in the returned total norm."""
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    factor = min(max_norm / (total + 1e-6), 1.0)
    return [
        ("total_norm should be the L2 norm, the square root of the sum of squares, not the sum "
         "of squares.", total ** 2),
        ("total_norm should be the norm BEFORE clipping (what clip_grad_norm_ returns), not after.",
         total * factor),
        ("total_norm is the sum of the per-array norms; it is the square root of the sum of ALL "
         "squares.", float(sum(np.sqrt(np.sum(g ** 2)) for g in grads))),
    ]


def clip_grad_value_mistakes(grads, clip_value):
    """(hint, clipped list) for the usual mistakes of value clipping."""
    c = clip_value
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    return [
        ("only the positive side is clipped: clip every entry into [-clip_value, clip_value].",
         [np.minimum(g, c) for g in grads]),
        ("only the negative side is clipped: clip every entry into [-clip_value, clip_value].",
         [np.maximum(g, -c) for g in grads]),
        ("the signs are lost: clip into [-clip_value, clip_value], not the absolute values into "
         "[0, clip_value].", [np.minimum(np.abs(g), c) for g in grads]),
        ("entries beyond the range become 0 or are dropped; they should become +-clip_value.",
         [np.where(np.abs(g) > c, 0.0, g) for g in grads]),
        ("this is norm clipping; value clipping clips each entry on its own into "
         "[-clip_value, clip_value].", [g * min(c / (total + 1e-6), 1.0) for g in grads]),
    ]


def _snapshot(grads):
    return [np.array(g, copy=True) for g in grads]


def _check_list(name, fn_name, got, grads, expected, mistakes):
    """got: a list (or tuple) of arrays shaped like grads, equal to expected."""
    check(isinstance(got, (list, tuple)),
          f"{fn_name} should return a list of arrays, one per gradient; it returned "
          f"{type(got).__name__}.")
    check(len(got) == len(grads),
          f"{fn_name} returned {len(got)} arrays for {len(grads)} gradients: return one clipped "
          f"array for each input array, in the same order.")
    for i in range(len(expected)):
        hints = []
        for hint, value in mistakes:
            hints.append((hint, value[i]))
        # "{}[{}]", not an f-string: its one-character constants "[" and "]" change how
        # marshal writes this function, which the grader's integrity guard fingerprints.
        label = "{}[{}]".format(name, i)
        check_close(label, got[i], expected[i], rtol=1e-9, atol=1e-12,
                    dtype=np.float64, dims=str(tuple(np.shape(expected[i]))), mistakes=hints)


def _check_unchanged(fn_name, grads, before):
    check(len(grads) == len(before),
          f"{fn_name} changed the length of its argument grads; leave the list as it is.")
    for i, (g, b) in enumerate(zip(grads, before)):
        if not np.array_equal(g, b):
            fail(f"{fn_name} changed grads[{i}] in place; compute new arrays and return them "
                 f"(e.g. `g * factor` or `np.clip(...)`, not `g *= factor` or `g[...] = ...`), "
                 f"so that the caller's gradients stay as they were.")


def _without_epsilon(grads, clipped, max_norm):
    """[(hint, clipped)] when the student's arrays are grads scaled by max_norm / total_norm, the
    factor without torch's 1e-6, however it was written (its rounding differs from ours)."""
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads) or not all(
            isinstance(c, np.ndarray) and c.shape == np.shape(g) for c, g in zip(clipped, grads)):
        return []
    flat_g = np.concatenate([np.ravel(g) for g in grads])
    flat_c = np.concatenate([np.ravel(c) for c in clipped]).astype(np.float64)
    total = float(np.sqrt(flat_g @ flat_g))
    if total == 0 or total <= max_norm:
        return []
    factor = float(flat_c @ flat_g) / total ** 2
    if not np.isclose(factor, max_norm / total, rtol=1e-12, atol=0):
        return []
    return [(f"the epsilon is missing: your arrays are scaled by max_norm / total_norm = {factor:.9g}; torch "
             f"scales by max_norm / (total_norm + 1e-6) = {max_norm / (total + 1e-6):.9g} (the 1e-6 "
             f"epsilon guards against dividing by a zero norm).", list(clipped))]


def check_clip_grad_norm(fn, grads, max_norm, label=""):
    """fn(grads, max_norm) returns what torch.nn.utils.clip_grad_norm_ computes, as new arrays."""
    before = _snapshot(grads)
    result = call(fn, grads, max_norm, name="clip_grad_norm", returns=2)
    _check_unchanged("clip_grad_norm", grads, before)
    clipped, total_norm = result
    check_new_arrays("clip_grad_norm", clipped, grads)
    expected_clipped, expected_total = reference_clip_grad_norm(before, max_norm)
    check_close(f"total_norm{label}", total_norm, expected_total, rtol=1e-9, atol=1e-12,
                mistakes=clip_grad_norm_total_mistakes(before, max_norm))
    check(isinstance(total_norm, float),
          f"total_norm{label} should be a Python float (float(...)); got {type(total_norm).__name__}.")
    _check_list(f"clipped{label}", "clip_grad_norm", clipped, before, expected_clipped,
                _without_epsilon(before, clipped, max_norm) + clip_grad_norm_mistakes(before, max_norm))


def check_clip_grad_value(fn, grads, clip_value, label=""):
    """fn(grads, clip_value) returns what torch.nn.utils.clip_grad_value_ computes, as new arrays."""
    before = _snapshot(grads)
    clipped = call(fn, grads, clip_value, name="clip_grad_value")
    _check_unchanged("clip_grad_value", grads, before)
    check_new_arrays("clip_grad_value", clipped, grads)
    _check_list(f"clipped{label}", "clip_grad_value", clipped, before,
                reference_clip_grad_value(before, clip_value), clip_grad_value_mistakes(before, clip_value))

