"""Chapter 06 (LSTM and GRU): references for the tests, and the known mistakes they recognise.

The correct values come from PyTorch's own modules (`torch.nn.LSTM`, `torch.nn.LSTMCell`,
`torch.nn.GRUCell`) in float64 and from autograd, never from the reference solutions. Each
`*_mistakes` function returns `(hint, wrong_value)` pairs for `checks.check_close`: values that a
plausible wrong implementation produces, so that a failing test can name the mistake. The wrong
values are computed by small torch formulas written here for that purpose only.

numpy conventions: row vectors, x: (N, D), h and c: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,).
Gate order everywhere is PyTorch's: input i, forget f, cell g, output o (H columns each).
"""
import numpy as np
import torch

from rnncourse.checks import (FLOAT32_TOLERANCE, blame_dependencies_first, call, check, check_close, check_gradient,
                              check_gradients_match_torch, check_parameters_like, check_uniform_init,
                              load_state_like, numeric_gradient, random_arrays, sizes, to_torch)


def _numpy(t):
    return t.detach().numpy().copy()


# ---------------------------------------------------------------------------------------------
# numpy LSTM: references from torch.nn.LSTMCell / torch.nn.LSTM in float64
# ---------------------------------------------------------------------------------------------

def _load_lstm(module, Wx, Wh, b, suffix=""):
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(to_torch(Wx).T)
        getattr(module, "weight_hh" + suffix).copy_(to_torch(Wh).T)
        getattr(module, "bias_ih" + suffix).copy_(to_torch(b))
        getattr(module, "bias_hh" + suffix).zero_()
    return module


def torch_lstm_cell_from_numpy(Wx, Wh, b):
    """A float64 torch.nn.LSTMCell holding the course's weights (Wx = weight_ih.T, b = bias_ih)."""
    D, H4 = Wx.shape
    return _load_lstm(torch.nn.LSTMCell(D, H4 // 4).double(), Wx, Wh, b)


def torch_lstm_from_numpy(Wx, Wh, b):
    """A float64 torch.nn.LSTM (batch_first) holding the course's weights."""
    D, H4 = Wx.shape
    return _load_lstm(torch.nn.LSTM(D, H4 // 4, batch_first=True).double(), Wx, Wh, b, "_l0")


def reference_lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """(next_h, next_c), each (N, H): one LSTM step computed by torch.nn.LSTMCell."""
    cell = torch_lstm_cell_from_numpy(Wx, Wh, b)
    with torch.no_grad():
        h, c = cell(to_torch(x), (to_torch(prev_h), to_torch(prev_c)))
    return h.numpy(), c.numpy()


def reference_lstm_forward(x, h0, Wx, Wh, b):
    """h (N, T, H): all hidden states of an LSTM over x (N, T, D) from h0 and c0 = 0."""
    lstm = torch_lstm_from_numpy(Wx, Wh, b)
    with torch.no_grad():
        h, _ = lstm(to_torch(x), (to_torch(h0)[None], torch.zeros(1, *h0.shape, dtype=torch.float64)))
    return h.numpy()


def reference_lstm_step_backward(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c):
    """(dx, dprev_h, dprev_c, dWx, dWh, db) of sum(next_h * dnext_h + next_c * dnext_c), by autograd."""
    D, H4 = Wx.shape
    cell = torch.nn.LSTMCell(D, H4 // 4).double()
    Wx_t, Wh_t, b_t = to_torch(Wx, True), to_torch(Wh, True), to_torch(b, True)
    x_t, h_t, c_t = to_torch(x, True), to_torch(prev_h, True), to_torch(prev_c, True)
    h, c = torch.func.functional_call(cell, {"weight_ih": Wx_t.T, "weight_hh": Wh_t.T, "bias_ih": b_t,
                                             "bias_hh": torch.zeros_like(b_t)}, (x_t, (h_t, c_t)))
    ((h * to_torch(dnext_h)).sum() + (c * to_torch(dnext_c)).sum()).backward()
    return tuple(_numpy(t.grad) for t in (x_t, h_t, c_t, Wx_t, Wh_t, b_t))


def reference_lstm_backward(x, h0, Wx, Wh, b, dh):
    """(dx, dh0, dWx, dWh, db) of sum(h * dh) for h = lstm_forward(x, h0, ...), by autograd."""
    D, H4 = Wx.shape
    lstm = torch.nn.LSTM(D, H4 // 4, batch_first=True).double()
    Wx_t, Wh_t, b_t = to_torch(Wx, True), to_torch(Wh, True), to_torch(b, True)
    x_t, h0_t = to_torch(x, True), to_torch(h0, True)
    params = {"weight_ih_l0": Wx_t.T, "weight_hh_l0": Wh_t.T, "bias_ih_l0": b_t,
              "bias_hh_l0": torch.zeros_like(b_t)}
    c0 = torch.zeros(1, *h0.shape, dtype=torch.float64)
    h, _ = torch.func.functional_call(lstm, params, (x_t, (h0_t[None], c0)))
    (h * to_torch(dh)).sum().backward()
    return tuple(_numpy(t.grad) for t in (x_t, h0_t, Wx_t, Wh_t, b_t))


def numeric_lstm_step_backward(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c):
    """The same six gradients by central differences of the torch.nn.LSTMCell forward."""
    arrays = [a.copy() for a in (x, prev_h, prev_c, Wx, Wh, b)]

    def f():
        h, c = reference_lstm_step_forward(*arrays)
        return float(np.sum(h * dnext_h) + np.sum(c * dnext_c))
    return tuple(numeric_gradient(f, a) for a in arrays)


# wrong versions, written as small torch formulas (autograd gives their gradients) -------------

_SIG, _TANH = torch.sigmoid, torch.tanh


def _wrong_step(x, h, c, Wx, Wh, b, order="ifgo", g_act=_TANH, h_tanh=True, forget=True, bias=True,
                detach_tanh_c=False):
    a = x @ Wx + h @ Wh + (b if bias else 0)
    H = h.shape[1]
    gates = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, g, o = _SIG(gates["i"]), _SIG(gates["f"]), g_act(gates["g"]), _SIG(gates["o"])
    next_c = (f * c if forget else c) + i * g
    squashed = _TANH(next_c.detach() if detach_tanh_c else next_c) if h_tanh else next_c
    return o * squashed, next_c


STEP_MISTAKES = [
    ("the gates are in the wrong order: PyTorch's order is i, f, g, o (input, forget, cell, output), "
     "not i, f, o, g.", dict(order="ifog")),
    ("the gates are in the wrong order: PyTorch's order is i, f, g, o (input, forget, cell, output); "
     "the first H columns are the input gate, the next H the forget gate.", dict(order="figo")),
    ("the candidate g uses a sigmoid: i, f and o use the sigmoid, g uses tanh.", dict(g_act=_SIG)),
    ("tanh is missing in next_h: next_h = o * tanh(next_c), not o * next_c.", dict(h_tanh=False)),
    ("the forget gate is missing: next_c = f * prev_c + i * g, not prev_c + i * g.", dict(forget=False)),
    ("the bias b is missing.", dict(bias=False)),
]


def lstm_step_forward_mistakes(x, prev_h, prev_c, Wx, Wh, b):
    """(hint, (next_h, next_c)) for the usual mistakes in one LSTM step."""
    args = [to_torch(a) for a in (x, prev_h, prev_c, Wx, Wh, b)]
    out = []
    for hint, kw in STEP_MISTAKES:
        h, c = _wrong_step(*args, **kw)
        out.append((hint, (_numpy(h), _numpy(c))))
    return out


def check_lstm_step_forward(fn, N, D, H, seed, scale=1.0):
    """fn(x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)) ->
    (next_h, next_c, cache) on seeded inputs equals torch.nn.LSTMCell's step, float64."""
    x, prev_h, prev_c, Wx, Wh, b = random_arrays(seed, (N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H),
                                                 (4 * H,), scale=scale)
    next_h, next_c, _ = call(fn, x, prev_h, prev_c, Wx, Wh, b, name="lstm_step_forward", returns=3)
    expected_h, expected_c = reference_lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    mistakes = lstm_step_forward_mistakes(x, prev_h, prev_c, Wx, Wh, b)
    swapped = "next_h and next_c are swapped: return (next_h, next_c, cache) in that order."
    where = sizes(N=N, D=D, H=H)
    check_close("next_c" + where, next_c, expected_c, dtype=np.float64, dims="(N, H)",
                mistakes=[(hint, c) for hint, (_, c) in mistakes if "tanh is missing" not in hint]
                + [(swapped, expected_h)])
    check_close("next_h" + where, next_h, expected_h, dtype=np.float64, dims="(N, H)",
                mistakes=[(hint, h) for hint, (h, _) in mistakes] + [(swapped, expected_c)])


def _wrong_forward(x, h0, Wx, Wh, b, every_step_from_h0=False, reset_c=False, reverse=False,
                   c0_is_h0=False, **kw):
    N, T, _ = x.shape
    h, c = h0, (h0 if c0_is_h0 else torch.zeros_like(h0))
    states = []
    for t in range(T):
        xt = x[:, T - 1 - t] if reverse else x[:, t]
        h_in = h0 if every_step_from_h0 else h
        c_in = torch.zeros_like(c) if (reset_c or every_step_from_h0) else c
        h, c = _wrong_step(xt, h_in, c_in, Wx, Wh, b, **kw)
        states.append(h)
    return torch.stack(states, 1)


def lstm_forward_mistakes(x, h0, Wx, Wh, b):
    """(hint, h) for the usual mistakes in the forward pass over a sequence."""
    args = [to_torch(a) for a in (x, h0, Wx, Wh, b)]
    correct = reference_lstm_forward(x, h0, Wx, Wh, b)
    out = [
        ("every step starts from h0: feed each step the (h, c) of the step before.",
         _numpy(_wrong_forward(*args, every_step_from_h0=True))),
        ("the cell state is not carried: pass next_c of each step as prev_c of the next (c0 = 0 only "
         "at the start).", _numpy(_wrong_forward(*args, reset_c=True))),
        ("the cell state starts from h0 (c0 = h0): the first step starts from the given h0 and "
         "c0 = 0, zeros of the same shape (np.zeros_like(h0)).", _numpy(_wrong_forward(*args, c0_is_h0=True))),
        ("h0 is ignored: the first step must start from the given h0 (and c0 = 0).",
         reference_lstm_forward(x, np.zeros_like(h0), Wx, Wh, b)),
        ("time runs backwards: process x[:, 0] first.", _numpy(_wrong_forward(*args, reverse=True))),
        ("the states are shifted by one step: h[:, t] is the state after reading x[:, t] "
         "(h0 itself is not part of the output).",
         np.concatenate([h0[:, None, :], correct[:, :-1]], axis=1)),
    ]
    for hint, kw in STEP_MISTAKES:
        out.append(("in the step: " + hint, _numpy(_wrong_forward(*args, **kw))))
    return out


def check_lstm_forward(fn, N, T, D, H, seed, scale=1.0, lstm_step_forward=None):
    """fn(x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)) -> (h (N, T, H), cache) on seeded
    inputs equals torch.nn.LSTM's states from h0 and c0 = 0, float64.

    lstm_step_forward: the student's step, which fn calls; tested first when fn fails.
    """
    x, h0, Wx, Wh, b = random_arrays(seed, (N, T, D), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,), scale=scale)
    step = lstm_step_forward and (lambda: check_lstm_step_forward(lstm_step_forward, N, D, H, seed, scale))
    with blame_dependencies_first("lstm_forward", [("lstm_step_forward", "calls", step)]):
        h, _ = call(fn, x, h0, Wx, Wh, b, name="lstm_forward", returns=2)
        check_close("h" + sizes(N=N, T=T, D=D, H=H), h, reference_lstm_forward(x, h0, Wx, Wh, b),
                    dtype=np.float64, dims="(N, T, H)", mistakes=lstm_forward_mistakes(x, h0, Wx, Wh, b))


# backward mistakes ---------------------------------------------------------------------------

STEP_GRAD_NAMES = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")


def lstm_step_backward_mistakes(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c):
    """(hint, six gradients) for the usual mistakes of lstm_step_backward."""
    def grads(**kw):
        ts = [to_torch(a, True) for a in (x, prev_h, prev_c, Wx, Wh, b)]
        h, c = _wrong_step(*ts, **kw)
        ((h * to_torch(dnext_h)).sum() + (c * to_torch(dnext_c)).sum()).backward()
        return tuple(_numpy(t.grad) for t in ts)

    correct = reference_lstm_step_backward(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c)
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    sig = lambda z: 1 / (1 + np.exp(-z))
    i, f, g, o = sig(a[:, :H]), sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    tanh_c = np.tanh(f * prev_c + i * g)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    no_f = correct[:2] + (dc,) + correct[3:]
    only_h = reference_lstm_step_backward(x, prev_h, prev_c, Wx, Wh, b, dnext_h, np.zeros_like(dnext_c))
    do = dnext_h * tanh_c
    di, df, dg = dc * g, dc * prev_c, dc * i
    sigmoid_for_g = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * g * (1 - g), do * o * (1 - o)], axis=1)
    return [
        ("the derivative of the cell gate g is the sigmoid's, g * (1 - g); g = tanh(a_g), so its "
         "derivative is 1 - g**2 (i, f and o use the sigmoid's s * (1 - s)).",
         (sigmoid_for_g @ Wx.T, sigmoid_for_g @ Wh.T, dc * f, x.T @ sigmoid_for_g, prev_h.T @ sigmoid_for_g,
          sigmoid_for_g.sum(axis=0))),
        ("the path from dnext_h through tanh(next_c) into the cell state is missing: the gradient of "
         "next_c is dnext_c + dnext_h * o * (1 - tanh(next_c)**2).", grads(detach_tanh_c=True)),
        ("dprev_c is not multiplied by the forget gate: dprev_c = dc * f, where dc is the total "
         "gradient of next_c.", no_f),
        ("dnext_c is ignored: add it to the gradient that reaches next_c through next_h.", only_h),
    ]


def check_lstm_step_backward(backward, forward, N, D, H, seed, scale=1.0, numeric=False):
    """backward(dnext_h, dnext_c, cache) with the cache of forward(...) against autograd (or, with
    numeric, against finite differences of torch.nn.LSTMCell's forward). When a gradient is wrong,
    forward's own test runs first: its cache may be the culprit."""
    step_forward = lambda: check_lstm_step_forward(forward, N, D, H, seed, scale)
    with blame_dependencies_first("lstm_step_backward", [("lstm_step_forward", "reads the cache of", step_forward)]):
        _check_lstm_step_backward(backward, forward, N, D, H, seed, scale, numeric)


def check_lstm_step_backward_numeric(backward, forward, N=2, D=3, H=2, seed=0):
    """The visible gradient check: compare with finite differences of torch.nn.LSTMCell's forward."""
    check_lstm_step_backward(backward, forward, N, D, H, seed, numeric=True)


def _check_lstm_step_backward(backward, forward, N, D, H, seed, scale, numeric):
    x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c = random_arrays(
        seed, (N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,), (N, H), (N, H), scale=scale)
    result = call(forward, x, prev_h, prev_c, Wx, Wh, b, name="lstm_step_forward", returns=3)
    grads = call(backward, dnext_h, dnext_c, result[2], name="lstm_step_backward", returns=6)
    mistakes = lstm_step_backward_mistakes(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c)
    if numeric:
        expected = numeric_lstm_step_backward(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c)
        for k, name in enumerate(STEP_GRAD_NAMES):
            check_gradient(name, grads[k], expected[k], max_relative_error=1e-6,
                           mistakes=[(hint, value[k]) for hint, value in mistakes])
        return
    expected = reference_lstm_step_backward(x, prev_h, prev_c, Wx, Wh, b, dnext_h, dnext_c)
    shapes = ("(N, D)", "(N, H)", "(N, H)", "(D, 4H)", "(H, 4H)", "(4H,)")
    where = sizes(N=N, D=D, H=H)
    for k, name in enumerate(STEP_GRAD_NAMES):
        check_close(name + where, grads[k], expected[k], rtol=1e-6, atol=1e-9, dtype=np.float64,
                    dims=shapes[k], mistakes=[(hint, value[k]) for hint, value in mistakes])


def _wrong_backward_grads(x, h0, Wx, Wh, b, dh, cut_c=False, cut_h=False):
    ts = [to_torch(a, True) for a in (x, h0, Wx, Wh, b)]
    xt, h, Wx_t, Wh_t, b_t = ts
    c = torch.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        h, c = _wrong_step(xt[:, t], h, c, Wx_t, Wh_t, b_t)
        states.append(h)
        if cut_c:
            c = c.detach()
        if cut_h:
            h = h.detach()
    (torch.stack(states, 1) * to_torch(dh)).sum().backward()
    return tuple(_numpy(t.grad) if t.grad is not None else np.zeros(t.shape) for t in ts)


BACKWARD_GRAD_NAMES = ("dx", "dh0", "dWx", "dWh", "db")


def lstm_backward_mistakes(x, h0, Wx, Wh, b, dh):
    """(hint, five gradients) for the usual mistakes of lstm_backward."""
    return [
        ("the cell-state gradient is not carried back: pass dprev_c of step t as dnext_c of step t-1 "
         "(it starts at zero after the last step).", _wrong_backward_grads(x, h0, Wx, Wh, b, dh, cut_c=True)),
        ("the hidden-state gradient is not carried back: at step t use dh[:, t] + dprev_h of step t+1 "
         "as dnext_h.", _wrong_backward_grads(x, h0, Wx, Wh, b, dh, cut_h=True)),
    ]


def check_lstm_backward(backward, forward, N, T, D, H, seed, scale=1.0, lstm_step_forward=None,
                        lstm_step_backward=None):
    """backward(dh, cache) with the cache of forward(x, h0, ...) against autograd through nn.LSTM.

    lstm_step_forward, lstm_step_backward: the student's step functions. When a gradient is wrong,
    the tests of the functions it relies on run first, in order (the step forward, the forward
    whose cache backward reads, the step backward it calls), and the first that fails is named.
    """
    step_forward = lstm_step_forward and (lambda: check_lstm_step_forward(lstm_step_forward, N, D, H, seed, scale))
    whole_forward = lambda: check_lstm_forward(forward, N, T, D, H, seed, scale)
    step_backward = lstm_step_backward and lstm_step_forward and (
        lambda: check_lstm_step_backward(lstm_step_backward, lstm_step_forward, N, D, H, seed, scale))
    with blame_dependencies_first("lstm_backward", [("lstm_step_forward", "relies on (through lstm_forward)", step_forward),
                                                    ("lstm_forward", "reads the cache of", whole_forward),
                                                    ("lstm_step_backward", "calls", step_backward)]):
        _check_lstm_backward(backward, forward, N, T, D, H, seed, scale)


def _check_lstm_backward(backward, forward, N, T, D, H, seed, scale):
    x, h0, Wx, Wh, b, dh = random_arrays(seed, (N, T, D), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,),
                                         (N, T, H), scale=scale)
    result = call(forward, x, h0, Wx, Wh, b, name="lstm_forward", returns=2)
    grads = call(backward, dh, result[1], name="lstm_backward", returns=5)
    expected = reference_lstm_backward(x, h0, Wx, Wh, b, dh)
    mistakes = lstm_backward_mistakes(x, h0, Wx, Wh, b, dh)
    shapes = ("(N, T, D)", "(N, H)", "(D, 4H)", "(H, 4H)", "(4H,)")
    where = sizes(N=N, T=T, D=D, H=H)
    for k, name in enumerate(BACKWARD_GRAD_NAMES):
        check_close(name + where, grads[k], expected[k], rtol=1e-6, atol=1e-9, dtype=np.float64,
                    dims=shapes[k], mistakes=[(hint, value[k]) for hint, value in mistakes])


# ---------------------------------------------------------------------------------------------
# PyTorch exercises: MyLSTM against torch.nn.LSTM, MyGRUCell against torch.nn.GRUCell
# ---------------------------------------------------------------------------------------------

def check_MyLSTM_parameters(cls, input_size, hidden_size):
    """cls(D, H) has torch.nn.LSTM's parameter names and shapes, initialised like it."""
    name = f"{cls.__name__}({input_size}, {hidden_size})"
    module = call(cls, input_size, hidden_size, name=name)
    check_parameters_like(name, module, torch.nn.LSTM(input_size, hidden_size, batch_first=True))
    check_uniform_init(name, module, hidden_size)


def _lstm_formula(x, state, p, order="ifgo", g_act=_TANH, h_tanh=True, forget=True, bias_hh=True,
                  bias_ih=True):
    """What a module with the given mistake computes, from nn.LSTM's parameters p (a dict)."""
    H = p["weight_hh_l0"].shape[1]
    N, T, _ = x.shape
    h, c = (x.new_zeros(N, H), x.new_zeros(N, H)) if state is None else state
    states = []
    for t in range(T):
        a = x[:, t] @ p["weight_ih_l0"].T + h @ p["weight_hh_l0"].T
        a = a + (p["bias_ih_l0"] if bias_ih else 0) + (p["bias_hh_l0"] if bias_hh else 0)
        gates = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
        i, f, g, o = _SIG(gates["i"]), _SIG(gates["f"]), g_act(gates["g"]), _SIG(gates["o"])
        c = (f * c if forget else c) + i * g
        h = o * (_TANH(c) if h_tanh else c)
        states.append(h)
    return torch.stack(states, 1), h, c


def _lstm_module_mistakes(reference, x, state):
    p = {n: v.detach() for n, v in reference.named_parameters()}
    variants = [
        ("the gates are in the wrong order: PyTorch's order is i, f, g, o (input, forget, cell, "
         "output), not i, f, o, g.", dict(order="ifog")),
        ("the gates are in the wrong order: PyTorch's order is i, f, g, o; the first H rows of the "
         "weights belong to the input gate, the next H to the forget gate.", dict(order="figo")),
        ("the candidate g uses a sigmoid: i, f and o use the sigmoid, g uses tanh.", dict(g_act=_SIG)),
        ("tanh is missing in h: h_t = o * tanh(c_t), not o * c_t.", dict(h_tanh=False)),
        ("the forget gate is missing: c_t = f * c_{t-1} + i * g.", dict(forget=False)),
        ("bias_hh_l0 is not added: PyTorch's LSTM has two biases, add both.", dict(bias_hh=False)),
        ("bias_ih_l0 is not added: PyTorch's LSTM has two biases, add both.", dict(bias_ih=False)),
    ]
    with torch.no_grad():
        out = [(hint, _lstm_formula(x, state, p, **kw)) for hint, kw in variants]
        if state is not None:
            out.append(("the given state is ignored: start from state = (h0, c0) (zeros only when "
                        "state is None).", _lstm_formula(x, None, p)))
            out.append(("c0 is ignored: the cell state must start from the given c0.",
                        _lstm_formula(x, (state[0], torch.zeros_like(state[1])), p)))
    return out


def _lstm_reference_outputs(reference, x, state):
    """(output (N, T, H), h_T (N, H), c_T (N, H)) of torch.nn.LSTM on x (N, T, D), state (h0, c0) or None."""
    output, (h_n, c_n) = reference(x, None if state is None else (state[0][None], state[1][None]))
    return output, h_n[0], c_n[0]


def check_MyLSTM(cls, N, T, D, H, seed, zero_state=False, gradients=False):
    """cls(D, H) loaded with a torch.nn.LSTM's state dict computes what it computes.

    zero_state: call forward(x) with no state. gradients: also compare all gradients.
    """
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(D, H, batch_first=True)
    name = f"{cls.__name__}({D}, {H})"
    module = call(cls, D, H, name=name)
    load_state_like(name, module, reference)
    x = torch.randn(N, T, D, requires_grad=gradients)
    state = None if zero_state else (torch.randn(N, H, requires_grad=gradients),
                                     torch.randn(N, H, requires_grad=gradients))
    result = call(module, x, name=f"{name}.forward", returns=2) if zero_state else \
        call(module, x, state, name=f"{name}.forward", returns=2)
    output, last = result
    check(isinstance(last, tuple) and len(last) == 2,
          f"{name}.forward should return (output, (h_T, c_T)); its second value is not a pair "
          f"(h_T, c_T).")
    h_T, c_T = last
    with torch.no_grad():
        ref_out, ref_h, ref_c = _lstm_reference_outputs(reference, x, state)
    mistakes = _lstm_module_mistakes(reference, x, state)
    where = sizes(N=N, T=T, D=D, H=H) + (", state=None" if zero_state else "")
    check_close("output" + where, output, ref_out, **FLOAT32_TOLERANCE, dims="(N, T, H)",
                mistakes=[(hint, v[0]) for hint, v in mistakes])
    for label, got in (("h_T", h_T), ("c_T", c_T)):
        check(tuple(got.shape) != (1, N, H),
              f"{label} has shape {(1, N, H)}: MyLSTM returns h_T and c_T as (N, H), without "
              f"torch.nn.LSTM's layer axis.")
    check_close("h_T" + where, h_T, ref_h, **FLOAT32_TOLERANCE, dims="(N, H)",
                mistakes=[("h_T and c_T are swapped: return (output, (h_T, c_T)).", ref_c),
                          ("h_T should be the state after the LAST step, output[:, -1].", ref_out[:, 0])]
                + [(hint, v[1]) for hint, v in mistakes])
    check_close("c_T" + where, c_T, ref_c, **FLOAT32_TOLERANCE, dims="(N, H)",
                mistakes=[("h_T and c_T are swapped: return (output, (h_T, c_T)).", ref_h)]
                + [(hint, v[2]) for hint, v in mistakes])
    if not gradients:
        return
    check_gradients_match_torch(
        name, module, reference, {"x": x, "h0": state[0], "c0": state[1]}, (output, h_T, c_T),
        lambda: _lstm_reference_outputs(reference, x, state))


def check_MyGRUCell_parameters(cls, input_size, hidden_size):
    """cls(D, H) has torch.nn.GRUCell's parameter names and shapes, initialised like it."""
    name = f"{cls.__name__}({input_size}, {hidden_size})"
    module = call(cls, input_size, hidden_size, name=name)
    check_parameters_like(name, module, torch.nn.GRUCell(input_size, hidden_size))
    check_uniform_init(name, module, hidden_size)


def _gru_formula(x, h, p, order="rzn", r_outside=False, swap_z=False, bias_ih=True, bias_hh=True,
                 no_reset=False):
    H = p["weight_hh"].shape[1]
    gi = x @ p["weight_ih"].T + (p["bias_ih"] if bias_ih else 0)
    gh = h @ p["weight_hh"].T + (p["bias_hh"] if bias_hh else 0)
    pick = lambda g, name: g[:, order.index(name) * H:(order.index(name) + 1) * H]
    r = _SIG(pick(gi, "r") + pick(gh, "r"))
    z = _SIG(pick(gi, "z") + pick(gh, "z"))
    if no_reset:
        n = _TANH(pick(gi, "n") + pick(gh, "n"))
    elif r_outside:
        hn = h @ p["weight_hh"].T[:, order.index("n") * H:(order.index("n") + 1) * H]
        n = _TANH(pick(gi, "n") + r * hn + (pick(p["bias_hh"][None], "n") if bias_hh else 0))
    else:
        n = _TANH(pick(gi, "n") + r * pick(gh, "n"))
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def check_MyGRUCell(cls, N, D, H, seed, zero_h=False, gradients=False):
    """cls(D, H) loaded with a torch.nn.GRUCell's state dict computes what it computes."""
    torch.manual_seed(seed)
    reference = torch.nn.GRUCell(D, H)
    name = f"{cls.__name__}({D}, {H})"
    module = call(cls, D, H, name=name)
    load_state_like(name, module, reference)
    x = torch.randn(N, D, requires_grad=gradients)
    h = None if zero_h else torch.randn(N, H, requires_grad=gradients)
    got = call(module, x, name=f"{name}.forward") if zero_h else call(module, x, h, name=f"{name}.forward")
    with torch.no_grad():
        expected = reference(x, h)
        p = {n: v.detach() for n, v in reference.named_parameters()}
        h_used = torch.zeros(N, H) if h is None else h.detach()
        xd = x.detach()
        mistakes = [
            ("the reset gate is applied outside the bias: PyTorch computes n = tanh(W_in x + b_in + "
             "r * (W_hn h + b_hn)), with b_hn inside the product with r.", _gru_formula(xd, h_used, p, r_outside=True)),
            ("z is used the wrong way round: h' = (1 - z) * n + z * h (z = 1 keeps the old state).",
             _gru_formula(xd, h_used, p, swap_z=True)),
            ("the gates are in the wrong order: PyTorch's order is r, z, n (reset, update, new).",
             _gru_formula(xd, h_used, p, order="zrn")),
            ("the reset gate r is not used: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).",
             _gru_formula(xd, h_used, p, no_reset=True)),
            ("bias_hh is not added: PyTorch's GRUCell has two biases, add both.",
             _gru_formula(xd, h_used, p, bias_hh=False)),
            ("bias_ih is not added: PyTorch's GRUCell has two biases, add both.",
             _gru_formula(xd, h_used, p, bias_ih=False)),
        ]
        if h is not None:
            mistakes.append(("the given h is ignored: start from h (zeros only when h is None).",
                             reference(x, torch.zeros(N, H))))
    where = sizes(N=N, D=D, H=H) + (", h=None" if zero_h else "")
    check_close("h'" + where, got, expected, **FLOAT32_TOLERANCE, dims="(N, H)", mistakes=mistakes)
    if not gradients:
        return
    check_gradients_match_torch(name, module, reference, {"x": x, "h": h}, (got,), lambda: (reference(x, h),))


# ---------------------------------------------------------------------------------------------
# MyBiGRU against torch.nn.GRU(bidirectional=True, num_layers=L, batch_first=True)
# ---------------------------------------------------------------------------------------------

def _bigru_reference(D, H, num_layers):
    return torch.nn.GRU(D, H, num_layers, batch_first=True, bidirectional=True)


def check_MyBiGRU_parameters(cls, input_size, hidden_size, num_layers):
    """cls(D, H, L) has torch.nn.GRU(bidirectional=True)'s parameter names and shapes, initialised like it."""
    name = f"{cls.__name__}({input_size}, {hidden_size}, {num_layers})"
    module = call(cls, input_size, hidden_size, num_layers, name=name)
    check_parameters_like(name, module, _bigru_reference(input_size, hidden_size, num_layers))
    check_uniform_init(name, module, hidden_size)


def _bigru_formula(x, h0, p, num_layers, unreversed=False, one_direction=False, grouped_h_n=False):
    """What a bidirectional GRU with the given mistake computes from nn.GRU's parameters p (a dict);
    x (N, T, D), h0 (2L, N, H). Returns (output (N, T, 2H), h_n (2L, N, H))."""
    T = x.shape[1]
    inputs, h_n = x, []
    for layer in range(num_layers):
        outputs = []
        for direction, suffix in enumerate(("", "_reverse")):
            cell = {k: p[f"{k}_l{layer}{suffix}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            steps = list(range(T - 1, -1, -1)) if suffix else list(range(T))
            h, states = h0[2 * layer + direction], {}
            for t in steps:
                h = _gru_formula(inputs[:, t], h, cell)
                states[t] = h
            order = steps if unreversed else range(T)
            outputs.append(torch.stack([states[t] for t in order], dim=1))
            h_n.append(h)
        inputs = torch.cat([outputs[0], outputs[0]] if one_direction else outputs, dim=2)
    if grouped_h_n:
        h_n = h_n[0::2] + h_n[1::2]
    return inputs, torch.stack(h_n)


def _bigru_mistakes(reference, x, h0, num_layers):
    p = {n: v.detach() for n, v in reference.named_parameters()}
    N, H = x.shape[0], reference.hidden_size
    start = torch.zeros(2 * num_layers, N, H) if h0 is None else h0.detach()
    variants = [
        ("the reverse direction is not reversed back: its state at position t must be the one after "
         "reading x_t (it has read x_{T-1} ... x_t), not its t-th step. Put its outputs back in time "
         "order before concatenating.", dict(unreversed=True)),
        ("the second layer reads only one direction of the first: its input at step t is "
         "cat([forward output, backward output]) of the layer below (2H features).",
         dict(one_direction=True)),
        ("h_n is in the wrong order: nn.GRU's order is layer 0 forward, layer 0 reverse, layer 1 "
         "forward, layer 1 reverse, ...", dict(grouped_h_n=True)),
    ]
    with torch.no_grad():
        out = [(hint, _bigru_formula(x.detach(), start, p, num_layers, **kw)) for hint, kw in variants]
        if h0 is not None:
            out.append(("the given h0 is ignored: start each layer and direction from h0[2 * layer + "
                        "direction] (zeros only when h0 is None).",
                        _bigru_formula(x.detach(), torch.zeros_like(start), p, num_layers)))
    return out


def check_MyBiGRU(cls, N, T, D, H, num_layers=2, seed=0, zero_state=False, gradients=False):
    """cls(D, H, L) loaded with a torch.nn.GRU(D, H, L, batch_first=True, bidirectional=True)
    state dict returns its output (N, T, 2H) and h_n (2L, N, H); gradients: compare them all."""
    torch.manual_seed(seed)
    reference = _bigru_reference(D, H, num_layers)
    name = f"{cls.__name__}({D}, {H}, {num_layers})"
    module = call(cls, D, H, num_layers, name=name)
    load_state_like(name, module, reference)
    x = torch.randn(N, T, D, requires_grad=gradients)
    h0 = None if zero_state else torch.randn(2 * num_layers, N, H, requires_grad=gradients)
    args = (x,) if zero_state else (x, h0)
    output, h_n = call(module, *args, name=f"{name}.forward", returns=2)
    with torch.no_grad():
        ref_output, ref_h_n = reference(*args)
    mistakes = _bigru_mistakes(reference, x, h0, num_layers)
    where = f" (N={N}, T={T}, D={D}, H={H}, num_layers={num_layers}{', h0=None' if zero_state else ''})"
    check_close("output" + where, output, ref_output, **FLOAT32_TOLERANCE, dims="(N, T, 2H)",
                mistakes=[(hint, v[0]) for hint, v in mistakes])
    check_close("h_n" + where, h_n, ref_h_n, **FLOAT32_TOLERANCE, dims="(2 * num_layers, N, H)",
                mistakes=[(hint, v[1]) for hint, v in mistakes])
    if gradients:
        inputs = {"x": x} if zero_state else {"x": x, "h0": h0}
        check_gradients_match_torch(name, module, reference, inputs, (output, h_n), lambda: reference(*args))
