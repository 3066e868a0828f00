"""Chapter 03 (the recurrence): references for the tests, and the known mistakes they recognise.

The correct values come from PyTorch's own modules (`torch.nn.RNN`) in float64, never from the
reference solutions. Each `*_mistakes` function returns `(hint, wrong_value)` pairs for
`checks.check_close`: values that a plausible wrong implementation produces, so that a failing
test can name the mistake. The `check_*` functions test the PyTorch exercises through their API.

numpy conventions: row vectors, x: (N, D), h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,).
"""
import numpy as np
import torch

from rnncourse.checks import (FLOAT32_TOLERANCE, blame_dependencies_first, call, check, check_accuracy, check_close, check_gradients_match_torch,
                              check_parameters_like, check_shape, check_uniform_init, load_state_like,
                              random_arrays, sizes, to_torch)


def torch_rnn_from_numpy(Wx, Wh, b, nonlinearity="tanh"):
    """A float64 torch.nn.RNN (batch_first) holding the course's row-convention weights.

    Wx: (D, H), Wh: (H, H), b: (H,). PyTorch stores weight_ih as (H, D) and adds two biases,
    so it gets the transposes and the bias goes into bias_ih (bias_hh is zero).
    """
    D, H = Wx.shape
    rnn = torch.nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(to_torch(Wx).T)
        rnn.weight_hh_l0.copy_(to_torch(Wh).T)
        rnn.bias_ih_l0.copy_(to_torch(b))
        rnn.bias_hh_l0.zero_()
    return rnn


def reference_rnn_forward(x, h0, Wx, Wh, b, nonlinearity="tanh"):
    """h: (N, T, H), all hidden states of a tanh RNN over x: (N, T, D) from h0: (N, H)."""
    rnn = torch_rnn_from_numpy(Wx, Wh, b, nonlinearity)
    with torch.no_grad():
        h, _ = rnn(to_torch(x), to_torch(h0)[None])
    return h.numpy()


def reference_rnn_step_forward(x, prev_h, Wx, Wh, b):
    """next_h: (N, H), one step of the tanh RNN for x: (N, D) and prev_h: (N, H)."""
    return reference_rnn_forward(x[:, None, :], prev_h, Wx, Wh, b)[:, 0, :]


def rnn_step_forward_mistakes(x, prev_h, Wx, Wh, b):
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
    zeros_start = reference_rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)
    correct = reference_rnn_forward(x, h0, Wx, Wh, b)
    shifted = np.concatenate([h0[:, None, :], correct[:, :-1]], axis=1)
    reversed_time = reference_rnn_forward(x[:, ::-1], h0, Wx, Wh, b)
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


def check_rnn_step_forward(fn, N, D, H, seed, scale=1.0):
    """fn(x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)) -> (next_h, cache) on seeded
    inputs (entries ~ N(0, scale^2)) equals torch.nn.RNN's step, float64."""
    x, prev_h, Wx, Wh, b = random_arrays(seed, (N, D), (N, H), (D, H), (H, H), (H,), scale=scale)
    next_h, _ = call(fn, x, prev_h, Wx, Wh, b, name="rnn_step_forward", returns=2)
    check_close("next_h" + sizes(N=N, D=D, H=H), next_h, reference_rnn_step_forward(x, prev_h, Wx, Wh, b),
                dtype=np.float64, dims="(N, H)", mistakes=rnn_step_forward_mistakes(x, prev_h, Wx, Wh, b))


def check_rnn_forward(fn, N, T, D, H, seed, scale=1.0, rnn_step_forward=None):
    """fn(x (N, T, D), h0 (N, H), Wx, Wh, b) -> (h (N, T, H), cache) on seeded inputs equals
    torch.nn.RNN's states, float64.

    rnn_step_forward: the student's step function, which fn calls; when fn fails, it is tested
    first (same sizes and seed) and named if it is the one that is wrong.
    """
    x, h0, Wx, Wh, b = random_arrays(seed, (N, T, D), (N, H), (D, H), (H, H), (H,), scale=scale)
    step = rnn_step_forward and (lambda: check_rnn_step_forward(rnn_step_forward, N, D, H, seed, scale))
    with blame_dependencies_first("rnn_forward", [("rnn_step_forward", "calls", step)]):
        h, _ = call(fn, x, h0, Wx, Wh, b, name="rnn_forward", returns=2)
        check_close("h" + sizes(N=N, T=T, D=D, H=H), h, reference_rnn_forward(x, h0, Wx, Wh, b),
                    dtype=np.float64, dims="(N, T, H)", mistakes=rnn_forward_mistakes(x, h0, Wx, Wh, b))


# ---------------------------------------------------------------------------------------------
# PyTorch exercises: tested through their API against torch.nn.RNN
# ---------------------------------------------------------------------------------------------

RNN_PARAMETERS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def check_MyRNN_parameters(cls, input_size, hidden_size):
    """cls(input_size, hidden_size) has torch.nn.RNN's parameters, initialised uniformly in ±1/sqrt(H)."""
    name = f"{cls.__name__}({input_size}, {hidden_size})"
    module = call(cls, input_size, hidden_size, name=name)
    check_parameters_like(name, module, torch.nn.RNN(input_size, hidden_size, batch_first=True))
    check_uniform_init(name, module, hidden_size)


def _rnn_reference_outputs(reference, x, h0, no_grad=True):
    """(output (N, T, H), h_T (N, H)) of the torch.nn.RNN reference on x (N, T, D), h0 (N, H) or None."""
    with torch.set_grad_enabled(not no_grad):
        output, h_n = reference(x, None if h0 is None else h0[None])
    return output, h_n[0]


def _rnn_mistakes(reference, x, h0, nonlinearity):
    """(hint, output) pairs for the usual mistakes of an RNN module, computed with nn.RNN."""
    D, H = reference.input_size, reference.hidden_size
    mistakes = []

    def variant(hint, change, other_nonlinearity=None, drop_h0=False):
        copy = torch.nn.RNN(D, H, batch_first=True, nonlinearity=other_nonlinearity or nonlinearity)
        copy.load_state_dict(reference.state_dict())
        with torch.no_grad():
            change(copy)
        mistakes.append((hint, _rnn_reference_outputs(copy, x, None if drop_h0 else h0)))

    variant("bias_hh_l0 is not added: PyTorch's RNN has two biases, add both.",
            lambda m: m.bias_hh_l0.zero_())
    variant("bias_ih_l0 is not added: PyTorch's RNN has two biases, add both.",
            lambda m: m.bias_ih_l0.zero_())
    variant("weight_hh_l0 is used transposed: with row vectors the recurrent term is h @ weight_hh_l0.T.",
            lambda m: m.weight_hh_l0.copy_(m.weight_hh_l0.T.clone()))
    if h0 is not None:
        variant("h0 is ignored: start from the given h0 (zeros only when h0 is None).",
                lambda m: None, drop_h0=True)
    other = "tanh" if nonlinearity == "relu" else "relu"
    variant(f"the nonlinearity is {other}, but this module was built with nonlinearity='{nonlinearity}'.",
            lambda m: None, other_nonlinearity=other)
    return mistakes


def check_MyRNN(cls, N, T, D, H, seed, nonlinearity="tanh", zero_h0=False,
                                   gradients=False):
    """cls(D, H[, nonlinearity]) loaded with a torch.nn.RNN's state dict computes what it computes.

    zero_h0: call forward(x) with no initial state (it must start from zeros).
    gradients: also compare the gradients of x, h0 and every parameter after a backward pass.
    """
    torch.manual_seed(seed)
    reference = torch.nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True)
    kwargs = {} if nonlinearity == "tanh" else {"nonlinearity": nonlinearity}
    name = f"{cls.__name__}({D}, {H}{', nonlinearity=' + repr(nonlinearity) if kwargs else ''})"
    module = call(cls, D, H, name=name, **kwargs)
    load_state_like(name, module, reference)
    x = torch.randn(N, T, D, requires_grad=gradients)
    h0 = None if zero_h0 else torch.randn(N, H, requires_grad=gradients)
    args = (x,) if zero_h0 else (x, h0)
    result = call(module, *args, name=f"{name}.forward", returns=2)
    output, h_T = result
    expected_output, expected_h_T = _rnn_reference_outputs(reference, x, h0)
    mistakes = _rnn_mistakes(reference, x, h0, nonlinearity)
    where = sizes(N=N, T=T, D=D, H=H) + (", h0=None" if zero_h0 else "")
    check_close("output" + where, output, expected_output, **FLOAT32_TOLERANCE, dims="(N, T, H)",
                mistakes=[(hint, value[0]) for hint, value in mistakes])
    check(tuple(h_T.shape) != (1, N, H),
          f"h_T has shape {(1, N, H)}: MyRNN returns h_T as (N, H), without torch.nn.RNN's layer axis.")
    check_close("h_T" + where, h_T, expected_h_T, **FLOAT32_TOLERANCE, dims="(N, H)",
                mistakes=[("h_T should be the state after the LAST step, output[:, -1].", expected_output[:, 0])]
                + [(hint, value[1]) for hint, value in mistakes])
    if not gradients:
        return
    check_gradients_match_torch(name, module, reference, {"x": x, "h0": h0}, (output, h_T),
                                lambda: _rnn_reference_outputs(reference, x, h0, no_grad=False))


def check_identity_init_(fn, rnn):
    """fn(rnn) sets weight_hh_l0 = I and both biases to 0 in place, and leaves weight_ih_l0 alone."""
    params = {n: getattr(rnn, n) for n in RNN_PARAMETERS}
    before = {n: p.detach().clone() for n, p in params.items()}
    call(fn, rnn, name="identity_init_")
    for n, p in params.items():
        now = getattr(rnn, n)
        check(now is p, f"identity_init_ replaced rnn.{n} with a new object; change the values of the "
                        f"existing parameter in place (under torch.no_grad(): .copy_(), .zero_()), so "
                        f"that an optimizer holding it still trains it.")
        check(isinstance(now, torch.nn.Parameter) and now.requires_grad,
              f"rnn.{n} is no longer a trainable nn.Parameter after identity_init_.")
    H = rnn.weight_hh_l0.shape[0]
    unchanged = "was left unchanged"
    check_close("weight_hh_l0", rnn.weight_hh_l0, torch.eye(H),
                mistakes=[(f"weight_hh_l0 {unchanged}; set it to the identity matrix.", before["weight_hh_l0"])])
    for n in ("bias_ih_l0", "bias_hh_l0"):
        check_close(n, rnn.__getattr__(n), torch.zeros(H),
                    mistakes=[(f"{n} {unchanged}; set both biases to zero.", before[n])])
    check_close("weight_ih_l0", rnn.weight_ih_l0, before["weight_ih_l0"],
                mistakes=[("weight_ih_l0 must keep its values: only the recurrent weight becomes the identity.",
                           torch.zeros_like(before["weight_ih_l0"]))])


def check_RowByRowClassifier(cls, input_size, hidden_size, num_classes, N=5, T=8, MyRNN=None):
    """cls(D, H, C) maps (N, T, D) to logits (N, C), for any T, using the whole sequence in order.

    MyRNN: the student's RNN class, which the classifier uses; when the classifier fails, MyRNN's
    own test runs first and is named if it fails.
    """
    rnn = MyRNN and (lambda: check_MyRNN(MyRNN, N, T, input_size, hidden_size, seed=0, zero_h0=True))
    with blame_dependencies_first(cls.__name__, [("MyRNN", "uses", rnn)]):
        _check_classifier(cls, input_size, hidden_size, num_classes, N, T, MyRNN)


def _earlier_outputs_scrambled(model, x, MyRNN):
    """The logits of model(x) when the MyRNN inside it returns random values for every step but
    the last (its h_T and output[:, -1] unchanged); None if the model holds no MyRNN."""
    rnns = [m for m in model.modules() if MyRNN is not None and isinstance(m, MyRNN)]
    if not rnns:
        return None

    def scramble(module, inputs, result):
        output, h_T = result
        output = output.clone()
        output[:, :-1] = torch.randn_like(output[:, :-1])
        return output, h_T

    handle = rnns[0].register_forward_hook(scramble)
    try:
        with torch.no_grad():
            return model(x)
    finally:
        handle.remove()


def _check_classifier(cls, input_size, hidden_size, num_classes, N, T, MyRNN=None):
    name = f"{cls.__name__}({input_size}, {hidden_size}, {num_classes})"
    torch.manual_seed(0)
    model = call(cls, input_size, hidden_size, num_classes, name=name)
    check(len(list(model.parameters())) > 0, f"{name} has no parameters to train.")
    x = torch.rand(N, T, input_size)
    logits = call(model, x, name=f"{name}.forward")
    check_shape("logits", logits, (N, num_classes), dims="(N, num_classes)")
    with torch.no_grad():
        probabilities_like = bool((logits >= 0).all()) and torch.allclose(logits.sum(1), torch.ones(N), atol=1e-4)
    check(not probabilities_like, f"{name} returns probabilities (rows sum to 1): return the raw scores "
                                  f"(logits); nn.CrossEntropyLoss applies the log-softmax itself.")
    short = call(model, x[:, :3], name=f"{name}.forward")
    check_shape("logits for T=3", short, (N, num_classes), dims="(N, num_classes)")
    changed_last = x.clone()
    changed_last[:, -1] = torch.rand(N, input_size) + 1
    with torch.no_grad():
        differ_last = not torch.allclose(model(changed_last), model(x))
        differ_order = not torch.allclose(model(x.flip(1)), model(x))
    check(differ_last, f"{name}'s logits do not change when the last row changes: classify from the "
                       f"hidden state after the LAST step (h_T, or output[:, -1]).")
    check(differ_order, f"{name}'s logits do not change when the rows are reversed: the model ignores "
                        f"their order. Feed the rows through MyRNN, one time step per row.")
    # The exercise says: classify from the last state. A mean or max over every step's output
    # would learn too, but is another design: the logits may depend on h_T (output[:, -1]) only.
    scrambled = _earlier_outputs_scrambled(model, x, MyRNN)
    if scrambled is not None:
        with torch.no_grad():
            same = torch.allclose(scrambled, model(x), atol=1e-6)
        check(same, f"{name}'s logits change when only the outputs of the steps before the last change: "
                    f"it pools over the steps (a mean or max of output?). The exercise classifies from "
                    f"the hidden state after the LAST step: h_T (or output[:, -1]) only.")



def check_RowByRowClassifier_trained(name, accuracy, threshold, MyRNN=None):
    """The trained classifier's test accuracy reaches threshold; when it does not, MyRNN's own
    test (the student's class the classifier uses) runs first and is named if it fails."""
    rnn = MyRNN and (lambda: check_MyRNN(MyRNN, N=3, T=5, D=8, H=6, seed=0, zero_h0=True))
    with blame_dependencies_first("RowByRowClassifier", [("MyRNN", "uses", rnn)]):
        check_accuracy(name, accuracy, threshold, hint=CLASSIFIER_HINT)


CLASSIFIER_HINT = ("Check that forward classifies from the last hidden state and returns logits "
                   "(no softmax), and that MyRNN's tests pass.")
