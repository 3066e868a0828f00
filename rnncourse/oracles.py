"""Independent references for the exercise tests, and the known mistakes they recognise.

The correct values come from PyTorch's own modules (`torch.nn.RNN`, ...) and autograd, in
float64, never from the reference solutions. Each `*_mistakes` function returns
`(hint, wrong_value)` pairs for `rnncourse.checks.check_close`: values that a plausible wrong
implementation produces, so that a failing test can name the mistake.

Conventions follow the numpy exercises: row vectors, x: (N, D), h: (N, H), Wx: (D, H),
Wh: (H, H), b: (H,).
"""
import numpy as np
import torch


def random_arrays(seed, *shapes, scale=1.0):
    """Seeded float64 arrays of the given shapes, entries ~ N(0, scale^2)."""
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in shapes]


def _torch(a):
    return torch.tensor(np.array(a, dtype=np.float64, order="C").tolist(), dtype=torch.float64)


# ---------------------------------------------------------------------------------------------
# 03-rnn: the vanilla RNN
# ---------------------------------------------------------------------------------------------

def torch_rnn_from_numpy(Wx, Wh, b, nonlinearity="tanh"):
    """A float64 torch.nn.RNN (batch_first) holding the course's row-convention weights.

    Wx: (D, H), Wh: (H, H), b: (H,). PyTorch stores weight_ih as (H, D) and adds two biases,
    so it gets the transposes and the bias goes into bias_ih (bias_hh is zero).
    """
    D, H = Wx.shape
    rnn = torch.nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(_torch(Wx).T)
        rnn.weight_hh_l0.copy_(_torch(Wh).T)
        rnn.bias_ih_l0.copy_(_torch(b))
        rnn.bias_hh_l0.zero_()
    return rnn


def rnn_forward(x, h0, Wx, Wh, b, nonlinearity="tanh"):
    """h: (N, T, H), all hidden states of a tanh RNN over x: (N, T, D) from h0: (N, H)."""
    rnn = torch_rnn_from_numpy(Wx, Wh, b, nonlinearity)
    with torch.no_grad():
        h, _ = rnn(_torch(x), _torch(h0)[None])
    return h.numpy()


def rnn_step(x, prev_h, Wx, Wh, b):
    """next_h: (N, H), one step of the tanh RNN for x: (N, D) and prev_h: (N, H)."""
    return rnn_forward(x[:, None, :], prev_h, Wx, Wh, b)[:, 0, :]


def rnn_step_mistakes(x, prev_h, Wx, Wh, b):
    """Values of one RNN step as plausible wrong implementations compute it."""
    pre = x @ Wx + prev_h @ Wh + b
    return [
        ("tanh is missing: next_h = tanh(x Wx + prev_h Wh + b), not the pre-activation.", pre),
        ("Wh is used transposed: the recurrent term is prev_h @ Wh (row vectors), not prev_h @ Wh.T.",
         np.tanh(x @ Wx + prev_h @ Wh.T + b)),
        ("the bias b is missing.", np.tanh(x @ Wx + prev_h @ Wh)),
        ("prev_h is ignored: the recurrent term prev_h @ Wh is missing.", np.tanh(x @ Wx + b)),
        ("the input term x @ Wx is missing.", np.tanh(prev_h @ Wh + b)),
        ("the nonlinearity is a sigmoid; this RNN uses tanh.", 1 / (1 + np.exp(-pre))),
        ("the nonlinearity is a ReLU; this RNN uses tanh.", np.maximum(pre, 0)),
        ("tanh is applied to each term separately; apply it once, to the sum.",
         np.tanh(x @ Wx) + np.tanh(prev_h @ Wh) + np.tanh(b)),
    ]


def rnn_forward_mistakes(x, h0, Wx, Wh, b):
    """Values of the whole forward pass as plausible wrong implementations compute them."""
    T = x.shape[1]
    from_h0 = np.stack([np.tanh(x[:, t] @ Wx + h0 @ Wh + b) for t in range(T)], axis=1)
    zeros_start = rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)
    correct = rnn_forward(x, h0, Wx, Wh, b)
    shifted = np.concatenate([h0[:, None, :], correct[:, :-1]], axis=1)
    reversed_time = rnn_forward(x[:, ::-1], h0, Wx, Wh, b)
    return [
        ("every step starts from h0: feed each step the hidden state of the step before.", from_h0),
        ("h0 is ignored: the first step must start from the given h0, not from zeros.", zeros_start),
        ("the states are shifted by one step: h[:, t] is the state after reading x[:, t] "
         "(h0 itself is not part of the output).", shifted),
        ("time runs backwards: process x[:, 0] first.", reversed_time),
        ("the last time step is never computed: loop over all T steps.",
         np.concatenate([correct[:, :-1], np.zeros_like(correct[:, -1:])], axis=1)),
        ("only the last state is repeated over time: store every step's state in h[:, t].",
         np.repeat(correct[:, -1:], T, axis=1)),
    ]


def copy_rnn_weights(source, target):
    """Copy the four parameters of a torch.nn.RNN-like module into another (same names)."""
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(target, name).copy_(getattr(source, name))
