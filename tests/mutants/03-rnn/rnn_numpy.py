"""Plausible wrong answers for solutions/03-rnn/rnn_numpy.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

STEP = '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = {expr}
    return next_h, (x, prev_h, Wx, Wh, next_h)
'''

FORWARD = '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h = h0
    for t in {steps}:
        {body}
    return h, None
'''

MUTANTS = [
    dict(grade_id="rnn_step_forward", name="no tanh", expect="tanh is missing",
         source=STEP.format(expr="x @ Wx + prev_h @ Wh + b")),
    dict(grade_id="rnn_step_forward", name="Wh transposed", expect="Wh is used transposed",
         source=STEP.format(expr="np.tanh(x @ Wx + prev_h @ Wh.T + b)")),
    dict(grade_id="rnn_step_forward", name="no bias", expect="bias b is missing",
         source=STEP.format(expr="np.tanh(x @ Wx + prev_h @ Wh)")),
    dict(grade_id="rnn_step_forward", name="Wx transposed", expect="shapes do not line up",
         source=STEP.format(expr="np.tanh(x @ Wx.T + prev_h @ Wh + b)")),
    dict(grade_id="rnn_step_forward", name="sigmoid", expect="sigmoid",
         source=STEP.format(expr="1 / (1 + np.exp(-(x @ Wx + prev_h @ Wh + b)))")),
    dict(grade_id="rnn_step_forward", name="float32", expect="dtype float32",
         source=STEP.format(expr="np.tanh(x @ Wx + prev_h @ Wh + b).astype(np.float32)")),
    dict(grade_id="rnn_step_forward", name="returns only next_h", expect="should return a tuple of 2",
         source="def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    return np.tanh(x @ Wx + prev_h @ Wh + b)\n"),
    dict(grade_id="rnn_forward", name="every step from h0", expect="every step starts from h0",
         source=FORWARD.format(steps="range(T)",
                               body="h[:, t], _ = rnn_step_forward(x[:, t], h0, Wx, Wh, b)")),
    dict(grade_id="rnn_forward", name="h0 ignored", expect="h0 is ignored",
         source=FORWARD.format(steps="range(T)",
                               body="prev_h, _ = rnn_step_forward(x[:, t], prev_h if t else 0 * h0, Wx, Wh, b); h[:, t] = prev_h")),
    dict(grade_id="rnn_forward", name="stores state before the step", expect="shifted by one step",
         source=FORWARD.format(steps="range(T)",
                               body="h[:, t] = prev_h; prev_h, _ = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)")),
    dict(grade_id="rnn_forward", name="time reversed", expect="time runs backwards",
         source=FORWARD.format(steps="range(T)",
                               body="prev_h, _ = rnn_step_forward(x[:, T - 1 - t], prev_h, Wx, Wh, b); h[:, t] = prev_h")),
    dict(grade_id="rnn_forward", name="last step only", expect="wrong",
         source=FORWARD.format(steps="range(T - 1)",
                               body="prev_h, _ = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b); h[:, t] = prev_h")),
]

# A wrong answer to one exercise that another exercise uses: the test of `tested` must name the
# function at fault (`culprit`), not blame `tested` (tests/test_mutants.py).
ATTRIBUTIONS = [
    dict(grade_id="rnn_step_forward", name="no bias", tested="rnn_forward",
         source=STEP.format(expr="np.tanh(x @ Wx + prev_h @ Wh)")),
    dict(grade_id="rnn_step_forward", name="Wh transposed", tested="rnn_forward",
         source=STEP.format(expr="np.tanh(x @ Wx + prev_h @ Wh.T + b)")),
]
