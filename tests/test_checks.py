"""The checks module passes right answers and fails wrong ones with a message that says why."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnncourse import ch03, checks


def failure(fn, *args, **kwargs):
    with pytest.raises(checks.CheckFailure) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_check_close_passes_equal_values():
    a = np.arange(6.0).reshape(2, 3)
    checks.check_close("a", a, a.copy())
    checks.check_close("t", torch.ones(2), torch.ones(2))
    checks.check_close("s", 1.5, 1.5)


def test_check_close_names_shape_dtype_kind_nan_and_largest_error():
    a = np.zeros((2, 3))
    assert "has shape (3, 2) but should have shape (2, 3) (N, H)" in failure(
        checks.check_close, "h", a.T.copy(), a, dims="(N, H)")
    assert "dtype float32 but should be float64" in failure(
        checks.check_close, "h", a.astype(np.float32), a, dtype=np.float64)
    assert "should be a numpy array; got Tensor" in failure(checks.check_close, "h", torch.zeros(2, 3), a)
    bad = a.copy()
    bad[1, 2] = np.nan
    assert "NaN or inf values (first at index (1, 2))" in failure(checks.check_close, "h", bad, a)
    wrong = a.copy()
    wrong[0, 1] = 0.5
    message = failure(checks.check_close, "h", wrong, a)
    assert "1 of 6 values differ" in message and "index (0, 1)" in message and "got 0.5" in message


def test_check_close_recognises_known_and_generic_mistakes():
    expected = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert "Hint: forgot tanh" in failure(
        checks.check_close, "h", expected + 1, expected, mistakes=[("forgot tanh", expected + 1)])
    assert "wrong sign" in failure(checks.check_close, "h", -expected, expected)
    assert "transpose" in failure(checks.check_close, "h", expected.T.copy(), expected)
    assert "times 0.5" in failure(checks.check_close, "h", expected / 2, expected)


def test_bool_arrays_are_compared_exactly():
    mask = np.array([[True, False]])
    checks.check_close("mask", mask.copy(), mask)
    assert "first at index (0, 1)" in failure(checks.check_close, "mask", np.array([[True, True]]), mask)


def test_call_explains_not_implemented_exceptions_wrong_returns_and_in_place_changes():
    def todo(x):
        raise NotImplementedError()

    def crashes(x):
        return x @ np.ones((5, 2))

    def single(x):
        return x

    def in_place(x):
        x += 1
        return x, None

    x = np.ones((2, 3))
    assert "todo is not implemented yet" in failure(checks.call, todo, x)
    message = failure(checks.call, crashes, x)
    assert "raised ValueError" in message and "shapes do not line up" in message
    assert "at line" in message and "x @ np.ones((5, 2))" in message
    assert "should return a tuple of 2 values" in failure(checks.call, single, x, returns=2)
    assert "changed its argument number 1" in failure(checks.call, in_place, x)
    assert checks.call(single, 3) == 3


NOISY = """
import warnings, numpy as np
from rnncourse import checks
def noisy(x):
    warnings.warn("an old API", UserWarning)
    return np.exp(x)
{call}
"""


def test_call_keeps_warnings_off_stderr():
    def stderr_of(call):
        done = subprocess.run([sys.executable, "-c", NOISY.format(call=call)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stderr

    assert "an old API" in stderr_of("noisy(np.array([1000.0]))")  # the control: it does warn
    assert stderr_of("checks.call(noisy, np.array([1000.0]))") == ""


def test_numeric_gradient_matches_a_known_derivative():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    dout = np.array([[1.0, -2.0], [0.5, 3.0]])
    numeric = checks.numeric_gradient(lambda: np.sin(x), x, dout)
    np.testing.assert_allclose(numeric, np.cos(x) * dout, rtol=1e-7)
    checks.check_gradient("dx", np.cos(x) * dout, numeric)
    assert "relative error 1.5e-06" in failure(
        checks.check_gradient, "dx", np.cos(x) * dout * (1 + 3e-6), numeric)
    assert "is wrong" in failure(checks.check_gradient, "dx", np.sin(x) * dout, numeric)


def test_check_failure_renders_only_its_message_in_ipython():
    error = checks.CheckFailure("first line\nsecond line")
    assert error._render_traceback_() == ["CheckFailure: first line", "second line"]


def test_rnn_oracle_agrees_with_the_formula():
    x, h0, Wx, Wh, b = checks.random_arrays(3, (2, 4, 3), (2, 5), (3, 5), (5, 5), (5,))
    h, expected = h0, []
    for t in range(4):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        expected.append(h)
    np.testing.assert_allclose(ch03.reference_rnn_forward(x, h0, Wx, Wh, b), np.stack(expected, 1), rtol=1e-12)
    np.testing.assert_allclose(ch03.reference_rnn_step_forward(x[:, 0], h0, Wx, Wh, b), expected[0], rtol=1e-12)
