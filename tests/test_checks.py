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


def test_an_error_in_the_course_code_names_what_the_student_passed_not_a_course_line():
    from rnncourse import text

    def feeds_numpy(model):
        return model(np.zeros((1, 3), dtype=np.int64))  # the model takes a long tensor

    message = failure(checks.call, feeds_numpy, text.CharRNN(5, 4), name="generate")
    assert "passed the course's code something it cannot use" in message
    assert "line" in message and "return model(np.zeros((1, 3), dtype=np.int64))" in message
    assert "a numpy array where a torch tensor is expected" in message
    assert "of your code: output, h = self.rnn" not in message and "text.py" not in message


def test_train_tbptt_with_numpy_chunks_is_told_the_model_takes_tensors():
    from rnncourse import ch04
    import torch.nn.functional as F

    def train_tbptt(model, ids, seq_length, steps, lr):
        ids = np.asarray(ids)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        h, losses = None, []
        for step in range(steps):
            k = step % ((len(ids) - 1) // seq_length)
            inputs = ids[k * seq_length:(k + 1) * seq_length]
            logits, h = model(inputs[None], None if k == 0 else h)
            loss = F.cross_entropy(logits[0], torch.as_tensor(ids[k * seq_length + 1:(k + 1) * seq_length + 1]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            h = h.detach()
            losses.append(loss.item())
        return losses

    message = failure(ch04.check_train_tbptt, train_tbptt, V=7, H=8, L=40, seq_length=6, steps=5, lr=0.01, seed=0)
    assert "got inputs of type ndarray" in message and "torch tensor" in message


def test_sizes_are_written_so_that_they_cannot_be_read_as_a_shape():
    from rnncourse import ch06
    ns = {"np": np}
    exec(SOLUTION_LSTM, ns)

    def lstm_backward(dh, cache):
        grads = ns["lstm_backward"](dh, cache)
        return (2 * grads[0],) + grads[1:]

    message = failure(ch06.check_lstm_backward, lstm_backward, ns["lstm_forward"], N=2, T=4, D=3, H=2, seed=0)
    assert message.startswith("`dx`, with N=2 T=4 D=3 H=2 is wrong"), message


def test_clip_grad_norm_without_the_epsilon_is_named_however_the_factor_is_written():
    from rnncourse import ch05

    def clip_grad_norm(grads, max_norm):
        total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))
        return ([g * max_norm / total for g in grads] if total > max_norm else [g.copy() for g in grads]), total

    grads = checks.random_arrays(1, (3, 4), (4, 4), (4,), scale=2.0)
    message = failure(ch05.check_clip_grad_norm, clip_grad_norm, grads, 1.0)
    assert "the epsilon is missing: your arrays are scaled by max_norm / total_norm" in message


def test_a_failing_dependency_is_named_instead_of_the_tested_function():
    def own_test_fails():
        checks.fail("`next_h` is wrong.\nHint: the bias b is missing.")

    with pytest.raises(checks.CheckFailure) as info:
        with checks.blame_dependencies_first("rnn_forward", [("unused", "calls", None),
                                                            ("rnn_step_forward", "calls", own_test_fails)]):
            checks.fail("`h` is wrong.\nHint: every step starts from h0.")
    message = str(info.value)
    assert message.startswith("`rnn_step_forward`, which your `rnn_forward` calls, fails its own test")
    assert "the bias b is missing" in message and "every step starts from h0" not in message
    with pytest.raises(checks.CheckFailure) as info:  # dependencies right: the tested function's own message
        with checks.blame_dependencies_first("rnn_forward", [("rnn_step_forward", "calls", lambda: None)]):
            checks.fail("`h` is wrong.")
    assert str(info.value) == "`h` is wrong."


SOLUTION_LSTM = '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = (1 / (1 + np.exp(-a[:, k * H:(k + 1) * H])) for k in (0, 1, 3))
    g = np.tanh(a[:, 2 * H:3 * H])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, g, o, np.tanh(next_c))


def lstm_forward(x, h0, Wx, Wh, b):
    h, c, states, caches = h0, np.zeros_like(h0), [], []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        states.append(h)
        caches.append(cache)
    return np.stack(states, axis=1), caches


def lstm_backward(dh, cache):
    N, T, H = dh.shape
    dx, dWx, dWh, db = [None] * T, 0, 0, 0
    dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c = cache[t]
        dnh = dh[:, t] + dnext_h
        dc = dnext_c + dnh * o * (1 - tanh_c ** 2)
        da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dc * i * (1 - g ** 2),
                             dnh * tanh_c * o * (1 - o)], axis=1)
        dx[t], dnext_h, dnext_c = da @ Wx.T, da @ Wh.T, dc * f
        dWx, dWh, db = dWx + x.T @ da, dWh + prev_h.T @ da, db + da.sum(axis=0)
    return np.stack(dx, axis=1), dnext_h, dWx, dWh, db
'''
