"""Checks that the notebook tests use to compare a student's answer with a reference.

Every failed check raises `CheckFailure`, an `AssertionError` whose message says what differs:
the name of the output, expected against actual shape or dtype, NaN/inf, where the largest
error is and how large it is, and, when the answer matches a known mistake, a hint at it.

The reference values come from independent oracles (PyTorch modules and autograd, finite
differences), kept with each chapter's known mistakes in `rnncourse.chNN`, never from the
reference solutions. This module holds what every chapter shares.
"""
import contextlib
import os
import traceback
import warnings

import numpy as np

try:  # torch is optional for the numpy-only checks
    import torch
except ImportError:  # pragma: no cover - torch is in requirements.txt
    torch = None


class CheckFailure(AssertionError):
    """A failed check: the message is all a student needs, so it is all that is shown."""

    def _render_traceback_(self):
        # IPython calls this instead of printing the traceback. The test cell's own lines are
        # noise for a student (and, for hidden tests, must not be shown), so show the message.
        return [f"CheckFailure: {line}" if i == 0 else line
                for i, line in enumerate(str(self).splitlines())]


def fail(message):
    raise CheckFailure(message)


def check(condition, message):
    """Raise CheckFailure(message) unless condition holds."""
    if not condition:
        fail(message)


# A float32 module compared with torch's float32 one: the same maths summed in another order
# differs by a few float32 ulps, so relative 1e-4 with an absolute floor for values near 0.
FLOAT32_TOLERANCE = dict(rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Test inputs
# ---------------------------------------------------------------------------------------------

def sizes(**named):
    """How a test names its sizes after an output's name: `dx, with N=3 D=4 H=5` (not in
    parentheses, where `dx (N=3, D=4, H=5)` would read like a shape)."""
    return ", with " + " ".join(f"{k}={v}" for k, v in named.items())


def softmax(z):
    """Softmax over the last axis in float64, shifted by each row's max (the checks' own; the
    exercises' softmax is the student's)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def random_arrays(seed, *shapes, scale=1.0):
    """Seeded float64 arrays of the given shapes, entries ~ N(0, scale^2)."""
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in shapes]



def to_torch(a, grad=False):
    """A float64 torch copy of the array a (any strides, any array-like); grad: requires_grad."""
    values = np.array(a, dtype=np.float64, order="C")
    return torch.tensor(values.tolist(), dtype=torch.float64).reshape(values.shape).requires_grad_(grad)


# ---------------------------------------------------------------------------------------------
# Calling the student's code
# ---------------------------------------------------------------------------------------------

def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if torch is not None and isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)}"
    if isinstance(value, (list, tuple)) and len(value) > 3:
        return f"{type(value).__name__} of {len(value)}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().clone()
    return None


def _same(a, b):
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return torch.equal(a.detach(), b) or bool(torch.isnan(b).all())


COURSE_DIR = os.path.dirname(os.path.abspath(__file__))


def _in_library(filename):
    return "site-packages" in filename or "/lib/python" in filename


def _in_course(filename):
    return os.path.dirname(os.path.abspath(filename)) == COURSE_DIR


def _student_frame(exc):
    """The innermost traceback line that is in neither the course's package nor a library."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not _in_course(frame.filename) and not _in_library(frame.filename):
            return frame
    return None


def _raised_in_course(exc):
    """True when the innermost frame outside the libraries is the course's own code (a model or a
    spy the test handed to the student's function): then the student passed it something it
    could not use, and that line is ours, not theirs."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not _in_library(frame.filename):
            return _in_course(frame.filename)
    return False


def _exception_hint(exc):
    text = str(exc)
    if isinstance(exc, ValueError) and ("matmul" in text or "shapes" in text or "broadcast" in text):
        return ("Hint: the shapes do not line up. Write the shape of every array next to each "
                "product, e.g. x (N, D) @ Wx (D, H) -> (N, H); a weight used the wrong way round "
                "(transposed) or the wrong weight is the usual cause.")
    if isinstance(exc, RuntimeError) and ("mat1 and mat2" in text or "size of tensor" in text):
        return ("Hint: the shapes do not line up. PyTorch stores weight_ih as (H, D) and "
                "weight_hh as (H, H): x (N, D) needs weight_ih.T (or F.linear).")
    if isinstance(exc, TypeError) and "positional argument" in text:
        return "Hint: check the function's signature against the one the exercise gives."
    return ""


def call(fn, *args, name=None, returns=None, **kwargs):
    """Call a student's function or method and turn every way it can fail into a clear message.

    returns: None to accept any result, or the number of values the function must return as a
        tuple (e.g. 2 for `next_h, cache`).
    Also fails when the call changed one of its array arguments in place. Warnings raised during
    the call are silenced: nbgrader scores 0 any test cell that writes to stderr, and a warning
    (an overflow in np.exp, a deprecation) must not cost a right answer its points.
    """
    name = name or getattr(fn, "__name__", "the function")
    described = ", ".join([_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()])
    copies = [(i, a, _copy(a)) for i, a in enumerate(args) if _copy(a) is not None]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn(*args, **kwargs)
    except NotImplementedError:
        fail(f"{name} is not implemented yet: replace `raise NotImplementedError()` in its cell "
             f"with your code, run that cell, then this one.")
    except CheckFailure:
        raise
    except Exception as exc:  # the student's error, reported with where it happened
        where = _student_frame(exc)
        place = f"\n  at line {where.lineno} of your code: {where.line}" if where and where.line else ""
        if _raised_in_course(exc):
            call_site = f" (called at line {where.lineno} of your code: {where.line})" if where and where.line else ""
            fail(f"{name}({described}) passed the course's code something it cannot use{call_site}: "
                 f"{type(exc).__name__}: {exc}\nHint: check the types and shapes of what your code "
                 f"passes on (a numpy array where a torch tensor is expected, a list for an array, "
                 f"a missing batch axis).")
        hint = _exception_hint(exc)
        fail(f"{name}({described}) raised {type(exc).__name__}: {exc}{place}"
             + (f"\n{hint}" if hint else ""))
    for i, original, before in copies:
        if not _same(before, original):
            fail(f"{name} changed its argument number {i + 1} ({_describe(original)}) in place; "
                 f"compute new arrays instead of writing into the inputs (e.g. `h = h + ...`, "
                 f"not `h += ...`).")
    if returns is not None and returns > 1:
        check(isinstance(result, tuple) and len(result) == returns,
              f"{name} should return a tuple of {returns} values; it returned "
              f"{_describe(result) if not isinstance(result, tuple) else f'a tuple of {len(result)}'}.")
    return result


def check_new_arrays(name, outputs, inputs):
    """Fail when an output is (or shares memory with) one of the input arrays: the exercise asks
    for new arrays, and a caller that changes the result would change its own inputs too.

    outputs, inputs: arrays or tensors, or lists/tuples of them (nested)."""
    def arrays(value):
        if isinstance(value, (list, tuple)):
            return [a for v in value for a in arrays(v)]
        return [value] if isinstance(value, np.ndarray) else []
    given = arrays(inputs)
    for k, out in enumerate(arrays(outputs)):
        for i, a in enumerate(given):
            if np.shares_memory(out, a):
                fail(f"{name} returns one of its inputs (output array {k} is input array {i}, or a view "
                     f"of it): return new arrays (e.g. `g * 1.0` or `g.copy()` when nothing changes), "
                     f"so that changing the result cannot change the caller's arrays.")


@contextlib.contextmanager
def blame_dependencies_first(tested, dependencies):
    """When a check inside the block fails, first run the tests of the functions `tested` relies on,
    and name the first that fails instead of blaming `tested`.

    tested: the name of the function under test, e.g. "lstm_backward".
    dependencies: (name, relation, run) triples in the order to try: name of the student's other
        function, how `tested` uses it ("calls", "reads the cache of"), and a function of no
        arguments that runs that function's own check (raising CheckFailure), or None to skip it
        (the test was not given that function).
    """
    try:
        yield
    except CheckFailure:
        for name, relation, run in dependencies:
            if run is None:
                continue
            try:
                run()
            except CheckFailure as own:
                raise CheckFailure(
                    f"`{name}`, which your `{tested}` {relation}, fails its own test: fix it first, then "
                    f"run this test again (`{tested}` may well be right).\nThe test of `{name}` says: {own}"
                ) from None
        raise


# ---------------------------------------------------------------------------------------------
# Comparing values
# ---------------------------------------------------------------------------------------------

def _as_numpy(value):
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _kind(value):
    if torch is not None and isinstance(value, torch.Tensor):
        return "tensor"
    if isinstance(value, np.ndarray):
        return "array"
    return "scalar" if np.ndim(value) == 0 and isinstance(value, (int, float, np.number)) else "other"


def _label(name):
    """`dx`, with N=3 D=4 H=5 for the name "dx, with N=3 D=4 H=5": the code in backticks only."""
    head, sep, rest = name.partition(", with ")
    return f"`{head}`{sep}{rest}" if sep else f"`{name}`"


def _close(got, expected, rtol, atol):
    return got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= atol + rtol * np.abs(expected)))


def relative_error(got, expected):
    """max |got - expected| / max(|got| + |expected|), the measure CS231n's gradient checks use."""
    got, expected = _as_numpy(got).astype(float), _as_numpy(expected).astype(float)
    denominator = np.maximum(np.abs(got) + np.abs(expected), 1e-12)
    return float(np.max(np.abs(got - expected) / denominator)) if got.size else 0.0


def _generic_hint(got, expected, rtol, atol):
    """Recognise mistakes that have the same shape whatever the exercise."""
    if not np.any(expected):
        return ""
    if _close(-got, expected, rtol, atol):
        return "Hint: every value has the wrong sign."
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got.T, expected, rtol, atol):
        return "Hint: your result is the transpose of the expected one."
    flat_e, flat_g = expected.ravel(), got.ravel()
    k = float(flat_g @ flat_e / (flat_e @ flat_e))
    if abs(k) > 1e-8 and not np.isclose(k, 1.0) and _close(got, k * expected, rtol, atol):
        return (f"Hint: your result is the expected one times {k:.4g}: a constant factor is off "
                f"(a mean against a sum, a missing 1/N or 1/T?).")
    return ""


def check_close(name, got, expected, *, rtol=1e-5, atol=1e-8, mistakes=(), dtype=None, dims=None):
    """Check that `got` equals `expected` to tolerance, or fail saying exactly how it differs.

    name: what the value is, as the student knows it (e.g. "next_h" or "dWx").
    got, expected: numpy arrays, torch tensors or numbers; `got` must be of the same kind.
    mistakes: (hint, wrong_value) pairs; when `got` matches a wrong_value, its hint is shown.
    dtype: the dtype `got` must have (e.g. np.float64), if it matters.
    dims: names of the axes, e.g. "(N, H)", used in the shape message.
    """
    kind_got, kind_expected = _kind(got), _kind(expected)
    if kind_expected in ("array", "tensor") and kind_got != kind_expected:
        want = "a numpy array" if kind_expected == "array" else "a torch tensor"
        fail(f"{_label(name)} should be {want}; got {type(got).__name__} ({_describe(got)}).")
    if kind_expected == "scalar" and kind_got not in ("scalar", "array", "tensor"):
        fail(f"{_label(name)} should be a number; got {type(got).__name__} ({_describe(got)}).")
    g, e = _as_numpy(got), _as_numpy(expected)
    if kind_expected == "scalar" and g.size == 1:
        g = g.reshape(())
    if g.shape != e.shape:
        label = f" {dims}" if dims else ""
        hint = ""
        if sorted(g.shape) == sorted(e.shape):
            hint = "\nHint: the same sizes in another order: an axis is swapped or a weight transposed."
        fail(f"{_label(name)} has shape {tuple(g.shape)} but should have shape {tuple(e.shape)}{label}.{hint}")
    if dtype is not None and g.dtype != np.dtype(dtype):
        fail(f"{_label(name)} has dtype {g.dtype} but should be {np.dtype(dtype)}; keep float64 "
             f"throughout (do not create arrays with dtype=np.float32 or convert).")
    if not np.issubdtype(g.dtype, np.number) and g.dtype != bool:
        fail(f"{_label(name)} should hold numbers; got dtype {g.dtype}.")
    if g.dtype == bool or e.dtype == bool:
        if not np.array_equal(g, e):
            wrong = np.argwhere(g != e)
            index = tuple(int(i) for i in wrong[0])
            fail(f"{_label(name)} differs at {len(wrong)} of {e.size} positions; first at index {index}: "
                 f"got {g[index]}, expected {e[index]}.")
        return
    g, e = g.astype(np.float64), e.astype(np.float64)
    bad = ~np.isfinite(g) & np.isfinite(e)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(f"{_label(name)} contains {int(bad.sum())} NaN or inf values (first at index {index}) where "
             f"the expected values are finite. Look for overflow (exp of a large number) or 0/0.")
    if _close(g, e, rtol, atol):
        return
    error = np.abs(g - e)
    error = np.where(np.isnan(error), np.inf, error)
    worst = np.unravel_index(int(np.argmax(error)), e.shape) if e.ndim else ()
    worst = tuple(int(i) for i in worst)
    mismatched = int(np.sum(~(error <= atol + rtol * np.abs(e))))
    at = f" at index {worst}" if e.ndim else ""
    message = (f"{_label(name)} is wrong: {mismatched} of {e.size} values differ. Largest error{at}: "
               f"got {g[worst]:.6g}, expected {e[worst]:.6g} (abs error {error[worst]:.3g}, "
               f"relative error {relative_error(g, e):.3g}).")
    for hint, wrong_value in mistakes:
        wrong_value = _as_numpy(wrong_value).astype(np.float64)
        if _close(g, wrong_value, rtol, atol):
            fail(f"{message}\nHint: {hint}")
    hint = _generic_hint(g, e, rtol, atol)
    fail(message + (f"\n{hint}" if hint else ""))


def check_shape(name, got, shape, dims=None):
    """Check an array's or tensor's shape only."""
    kind = _kind(got)
    check(kind in ("array", "tensor"), f"{_label(name)} should be an array or tensor; got {type(got).__name__}.")
    actual = tuple(got.shape)
    label = f" {dims}" if dims else ""
    check(actual == tuple(shape), f"{_label(name)} has shape {actual} but should have shape {tuple(shape)}{label}.")


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------

def numeric_gradient(f, x, dout=None, h=1e-6):
    """Central-difference gradient of sum(f() * dout) with respect to the array x.

    f: a function of no arguments that reads x (it is changed in place and restored).
    x: the float64 array to differentiate with respect to, any shape.
    dout: upstream gradient of f's output (same shape as f()); None if f returns a scalar.
    Returns an array shaped like x.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.asarray(f(), dtype=np.float64)
        x[i] = old - h
        minus = np.asarray(f(), dtype=np.float64)
        x[i] = old
        weights = 1.0 if dout is None else dout
        grad[i] = np.sum((plus - minus) * weights) / (2 * h)
        it.iternext()
    return grad


def check_gradient(name, got, numeric, *, max_relative_error=1e-6, mistakes=()):
    """Compare an analytic gradient with a numeric one by relative error (CS231n's measure)."""
    check_close(name, got, numeric, rtol=0, atol=np.inf, mistakes=())  # type and shape only
    error = relative_error(got, numeric)
    if error <= max_relative_error:
        return
    check_close(name, got, numeric, rtol=max_relative_error * 10, atol=1e-7, mistakes=mistakes)
    fail(f"`{name}` disagrees with the finite-difference gradient: relative error {error:.3g} "
         f"(must be below {max_relative_error:g}).")


# ---------------------------------------------------------------------------------------------
# PyTorch modules: compared with torch.nn's through their parameters and state dicts
# ---------------------------------------------------------------------------------------------

def check_uniform_init(name, module, hidden_size):
    """Every parameter of module is trainable and starts uniform in ±1/sqrt(hidden_size), as
    PyTorch initialises its recurrent layers: within the bounds, both signs, and spread over the
    whole interval (the standard deviation of U(-a, a) is a/sqrt(3))."""
    bound = 1 / hidden_size ** 0.5
    for n, p in module.named_parameters():
        check(p.requires_grad, f"{name}.{n} does not require grad: it could not be trained.")
        values = p.detach().double()
        check(bool(torch.isfinite(values).all()) and float(values.abs().max()) <= bound + 1e-6,
              f"{name}.{n} should start uniform in [-1/sqrt(H), 1/sqrt(H)] = ±{bound:.3f}, like "
              f"PyTorch's; its largest magnitude is {float(values.abs().max()):.3g}.")
        check(p.numel() < 2 or float(values.std()) > 0,
              f"{name}.{n} starts with all entries equal; initialise it randomly (uniform_).")
        if p.numel() < 16:  # too few draws to judge a distribution
            continue
        check(float(values.min()) < 0 < float(values.max()),
              f"{name}.{n} starts with entries of one sign only (from {float(values.min()):.3g} to "
              f"{float(values.max()):.3g}); draw from the whole interval [-1/sqrt(H), 1/sqrt(H)], "
              f"uniform_(-bound, bound).")
        spread = float(values.std()) / (bound / 3 ** 0.5)
        check(0.6 < spread < 1.4,
              f"{name}.{n} starts with standard deviation {float(values.std()):.3g}, but uniform values "
              f"in ±{bound:.3f} have about {bound / 3 ** 0.5:.3g}: draw uniformly from the whole "
              f"interval (uniform_(-1/sqrt(H), 1/sqrt(H))), not a normal or a narrower range.")


def check_parameters_like(name, module, reference):
    """Check that module has exactly reference's parameter names and shapes."""
    got = {n: tuple(p.shape) for n, p in module.named_parameters()}
    expected = {n: tuple(p.shape) for n, p in reference.named_parameters()}
    check(got, f"{name} has no parameters: wrap each weight in nn.Parameter and assign it as an "
               f"attribute (plain tensors are not registered). Expected: {expected}.")
    missing = [n for n in expected if n not in got]
    if missing:
        fail(f"{name} has no parameter named {missing[0]} (expected parameters and shapes: "
             f"{expected}; yours: {got}). Use torch.nn.{type(reference).__name__}'s names so that "
             f"its state dict loads.")
    for n, shape in expected.items():
        check(got[n] == shape, f"{name}.{n} has shape {got[n]} but torch.nn.{type(reference).__name__}'s has "
                               f"shape {shape}: PyTorch stores weights as (out_features, in_features).")
    extra = [n for n in got if n not in expected]
    check(not extra, f"{name} has parameters that torch.nn.{type(reference).__name__} does not have: {extra}; "
                     f"its state dict would not load strictly.")


def load_state_like(name, module, reference):
    """Load reference's state dict into module, or fail saying why it does not load."""
    try:
        module.load_state_dict(reference.state_dict())
    except Exception as exc:
        fail(f"a torch.nn.{type(reference).__name__} state dict does not load into {name}: {exc}")


def check_gradients_match_torch(name, module, reference, inputs, outputs, reference_outputs):
    """After one backward pass, the gradients of the inputs and of every parameter of module equal
    those of reference (a torch.nn module loaded with the same state dict).

    inputs: {label: leaf tensor with requires_grad}, the tensors both modules were called with.
    outputs: the tensors module returned (e.g. output (N, T, H) and h_T (N, H)).
    reference_outputs: a function of no arguments returning reference's matching tensors.
    The loss is sum(output * random weights) over all outputs, the same for both.
    """
    check(all(o.requires_grad for o in outputs),
          f"{name}'s output does not require grad: the computation was cut from autograd "
          f"(.detach(), .data, numpy or torch.no_grad()?).")
    weights = [torch.randn(o.shape) for o in outputs]
    sum((o * w).sum() for o, w in zip(outputs, weights)).backward()
    got = {}
    for label, tensor in inputs.items():
        check(tensor.grad is not None, f"no gradient reaches {label} from {name}'s outputs: is {label} "
                                       f"used in forward?")
        got[label] = tensor.grad.clone()
        tensor.grad = None
    sum((o * w).sum() for o, w in zip(reference_outputs(), weights)).backward()
    for label, tensor in inputs.items():
        check_close(f"the gradient of {label}", got[label], tensor.grad, **FLOAT32_TOLERANCE)
    own = dict(module.named_parameters())
    for n, p in reference.named_parameters():
        check(own[n].grad is not None, f"{name}.{n} got no gradient: is it used in forward?")
        check_close(f"the gradient of {n}", own[n].grad, p.grad, **FLOAT32_TOLERANCE)


def check_accuracy(name, accuracy, threshold, hint=""):
    """Fail unless accuracy >= threshold; hint: what to check first when it is not."""
    check(accuracy >= threshold,
          f"the test accuracy of {name} is {accuracy:.3f}, below {threshold}." + (f" {hint}" if hint else ""))
