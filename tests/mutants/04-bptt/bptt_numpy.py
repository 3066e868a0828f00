"""Plausible wrong answers for solutions/04-bptt/bptt_numpy.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
The backward functions receive the dict caches of the notebook's provided forward pass.
"""

STEP = '''
def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = (cache[k] for k in ("x", "prev_h", "Wx", "Wh", "next_h"))
    da = {da}
    return {dx}, {dprev_h}, {dWx}, {dWh}, {db}
'''


def step(da="dnext_h * (1 - next_h ** 2)", dx="da @ Wx.T", dprev_h="da @ Wh.T", dWx="x.T @ da",
         dWh="prev_h.T @ da", db="da.sum(axis=0)"):
    return STEP.format(da=da, dx=dx, dprev_h=dprev_h, dWx=dWx, dWh=dWh, db=db)


BACKWARD = '''
def rnn_backward(dh, cache):
    steps = cache["steps"]
    N, T, H = dh.shape
    dWx, dWh, db = 0 * steps[0]["Wx"], 0 * steps[0]["Wh"], np.zeros(H)
    carried = np.zeros((N, H))
    dx = [None] * T
    for t in {order}:
        dx[t], carried, gx, gh, gb = rnn_step_backward({upstream}, steps[t])
        {accumulate}
    return np.stack(dx, axis=1), {dh0}, dWx, dWh, db
'''


def backward(order="reversed(range(T))", upstream="dh[:, t] + carried",
             accumulate="dWx, dWh, db = dWx + gx, dWh + gh, db + gb", dh0="carried"):
    return BACKWARD.format(order=order, upstream=upstream, accumulate=accumulate, dh0=dh0)


LOSS = '''
def softmax_cross_entropy(logits, targets):
    N, T, V = logits.shape
    {shift}
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    onehot = np.eye(V)[targets]
    loss = -np.sum(onehot * np.log(p)) / {loss_div}
    dlogits = (p - {sub}) / {grad_div}
    return loss, dlogits
'''


def loss(shift="z = logits - logits.max(axis=-1, keepdims=True)", loss_div="(N * T)", sub="onehot",
         grad_div="(N * T)"):
    return LOSS.format(shift=shift, loss_div=loss_div, sub=sub, grad_div=grad_div)


MUTANTS = [
    dict(grade_id="rnn_step_backward", name="no tanh derivative", expect="derivative of tanh is missing",
         source=step(da="dnext_h")),
    dict(grade_id="rnn_step_backward", name="1 - h not squared", expect="not squared",
         source=step(da="dnext_h * (1 - next_h)")),
    dict(grade_id="rnn_step_backward", name="tanh applied twice", expect="tanh is applied twice",
         source=step(da="dnext_h * (1 - np.tanh(next_h) ** 2)")),
    dict(grade_id="rnn_step_backward", name="Wh not transposed", expect="Wh is not transposed",
         source=step(dprev_h="da @ Wh")),
    dict(grade_id="rnn_step_backward", name="dWh transposed", expect="dWh is transposed",
         source=step(dWh="da.T @ prev_h")),
    dict(grade_id="rnn_step_backward", name="dWh from next_h", expect="dWh uses next_h",
         source=step(dWh="next_h.T @ da")),
    dict(grade_id="rnn_step_backward", name="db mean", expect="db is a mean over the batch",
         source=step(db="da.mean(axis=0)")),
    dict(grade_id="rnn_step_backward", name="dx with Wx not transposed", expect="shapes do not line up",
         source=step(dx="da @ Wx")),
    dict(grade_id="rnn_backward", name="no gradient from the future", expect="gradient from the future is not carried",
         source=backward(upstream="dh[:, t]")),
    dict(grade_id="rnn_backward", name="only the last dh", expect="only dh[:, T-1] is used",
         source=backward(upstream="(dh[:, t] if t == T - 1 else 0) + carried")),
    dict(grade_id="rnn_backward", name="weights not accumulated", expect="weight gradients are not accumulated",
         source=backward(accumulate="dWx, dWh, db = gx, gh, gb")),
    dict(grade_id="rnn_backward", name="forward in time", expect="time runs the wrong way",
         source=backward(order="range(T)")),
    dict(grade_id="rnn_backward", name="dh0 is dh[:, 0]", expect="dh0 is the gradient that flows out of the FIRST step",
         source=backward(dh0="dh[:, 0]")),
    dict(grade_id="softmax_cross_entropy", name="loss summed", expect="the loss is a sum",
         source=loss(loss_div="1")),
    dict(grade_id="softmax_cross_entropy", name="mean over N only", expect="averaged over N only",
         source=loss(loss_div="N", grad_div="N")),
    dict(grade_id="softmax_cross_entropy", name="one-hot not subtracted", expect="one-hot of the targets is not subtracted",
         source=loss(sub="0")),
    dict(grade_id="softmax_cross_entropy", name="gradient not divided", expect="dlogits is not divided by N*T",
         source=loss(grad_div="1")),
    dict(grade_id="softmax_cross_entropy", name="unstable softmax", expect="NaN or inf",
         source=loss(shift="z = logits")),
    # rows of very different scale: a global max is not a per-row max
    dict(grade_id="softmax_cross_entropy", name="global max", expect="each row's own maximum",
         source=loss(shift="z = logits - logits.max()")),
]

# A wrong answer to one exercise that another exercise uses: the test of `tested` must name the
# function at fault (`culprit`), not blame `tested` (tests/test_mutants.py).
ATTRIBUTIONS = [
    dict(grade_id="rnn_step_backward", name="db a mean", tested="rnn_backward",
         source=step(db="da.mean(axis=0)")),
    dict(grade_id="rnn_step_backward", name="no tanh derivative", tested="rnn_backward",
         source=step(da="dnext_h")),
]
