"""Plausible wrong answers for solutions/06-lstm/lstm_numpy.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
The backward mutants read the cache of the reference lstm_step_forward / lstm_forward (the
mutant replaces only the backward cell).
"""

STEP = '''
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    sig = lambda z: 1 / (1 + np.exp(-z))
    a = {pre}
    i, f, g, o = {gates}
    next_c = {cell}
    tanh_c = np.tanh(next_c)
    next_h = {hidden}
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c)
'''
GATES = "sig(a[:, :H]), sig(a[:, H:2*H]), np.tanh(a[:, 2*H:3*H]), sig(a[:, 3*H:])"


def step(pre="x @ Wx + prev_h @ Wh + b", gates=GATES, cell="f * prev_c + i * g", hidden="o * tanh_c"):
    return STEP.format(pre=pre, gates=gates, cell=cell, hidden=hidden)


FORWARD = '''
def lstm_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h, prev_c = h0, np.zeros((N, H))
    caches = []
    for t in range(T):
        {body}
    return h, caches
'''

STEP_BACKWARD = '''
def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, g, o, tanh_c = cache
    do = dnext_h * tanh_c
    dc = {dc}
    di, df, dg = dc * g, dc * prev_c, dc * i
    dprev_c = {dprev_c}
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), {dg_act}, do * o * (1 - o)], axis=1)
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, {db}
'''


def step_backward(dc="dnext_c + dnext_h * o * (1 - tanh_c ** 2)", dprev_c="dc * f", dg_act="dg * (1 - g ** 2)",
                  db="da.sum(axis=0)"):
    return STEP_BACKWARD.format(dc=dc, dprev_c=dprev_c, dg_act=dg_act, db=db)


BACKWARD = '''
def lstm_backward(dh, cache):
    N, T, H = dh.shape
    dx = [None] * T
    dWx = dWh = db = 0
    dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))
    for t in {steps}:
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward({upstream}, dnext_c, cache[t])
        {carry}
        dx[t] = dx_t
        {accumulate}
    return np.stack(dx, axis=1), dnext_h, dWx, dWh, db
'''


def backward(steps="reversed(range(T))", upstream="dh[:, t] + dnext_h",
             carry="dnext_h, dnext_c = dprev_h, dprev_c",
             accumulate="dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t"):
    return BACKWARD.format(steps=steps, upstream=upstream, carry=carry, accumulate=accumulate)


MUTANTS = [
    # lstm_step_forward
    dict(grade_id="lstm_step_forward", name="gates i, f, o, g", expect="not i, f, o, g",
         source=step(gates="sig(a[:, :H]), sig(a[:, H:2*H]), np.tanh(a[:, 3*H:]), sig(a[:, 2*H:3*H])")),
    dict(grade_id="lstm_step_forward", name="gates f, i, g, o", expect="the first H columns are the input gate",
         source=step(gates="sig(a[:, H:2*H]), sig(a[:, :H]), np.tanh(a[:, 2*H:3*H]), sig(a[:, 3*H:])")),
    dict(grade_id="lstm_step_forward", name="sigmoid on g", expect="g uses tanh",
         source=step(gates=GATES.replace("np.tanh(", "sig("))),
    dict(grade_id="lstm_step_forward", name="h = o * c", expect="tanh is missing in next_h",
         source=step(hidden="o * next_c")),
    dict(grade_id="lstm_step_forward", name="no forget gate", expect="the forget gate is missing",
         source=step(cell="prev_c + i * g")),
    dict(grade_id="lstm_step_forward", name="no bias", expect="bias b is missing",
         source=step(pre="x @ Wx + prev_h @ Wh")),
    dict(grade_id="lstm_step_forward", name="returns (c, h)", expect="next_h and next_c are swapped",
         source=step().replace("return next_h, next_c,", "return next_c, next_h,")),
    # lstm_forward
    dict(grade_id="lstm_forward", name="every step from h0", expect="every step starts from h0",
         source=FORWARD.format(body="h[:, t], _, cache = lstm_step_forward(x[:, t], h0, np.zeros_like(h0), Wx, Wh, b); caches.append(cache)")),
    dict(grade_id="lstm_forward", name="cell state not carried", expect="the cell state is not carried",
         source=FORWARD.format(body="prev_h, _, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b); h[:, t] = prev_h; caches.append(cache)")),
    dict(grade_id="lstm_forward", name="h0 ignored", expect="h0 is ignored",
         source=FORWARD.format(body="prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h if t else 0 * h0, prev_c, Wx, Wh, b); h[:, t] = prev_h; caches.append(cache)")),
    dict(grade_id="lstm_forward", name="stores the state before the step", expect="shifted by one step",
         source=FORWARD.format(body="h[:, t] = prev_h; prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b); caches.append(cache)")),
    dict(grade_id="lstm_forward", name="time reversed", expect="time runs backwards",
         source=FORWARD.format(body="prev_h, prev_c, cache = lstm_step_forward(x[:, T - 1 - t], prev_h, prev_c, Wx, Wh, b); h[:, t] = prev_h; caches.append(cache)")),
    # lstm_step_backward
    dict(grade_id="lstm_step_backward", name="no path through tanh(next_c)", expect="through tanh(next_c)",
         source=step_backward(dc="dnext_c")),
    dict(grade_id="lstm_step_backward", name="dprev_c not times f", expect="not multiplied by the forget gate",
         source=step_backward(dprev_c="dc")),
    dict(grade_id="lstm_step_backward", name="dnext_c ignored", expect="dnext_c is ignored",
         source=step_backward(dc="dnext_h * o * (1 - tanh_c ** 2)")),
    dict(grade_id="lstm_step_backward", name="sigmoid derivative for g", expect="derivative of the cell gate g",
         source=step_backward(dg_act="dg * g * (1 - g)")),
    dict(grade_id="lstm_step_backward", name="db not summed over the batch", expect="should have shape (8,)",
         source=step_backward(db="da")),
    # lstm_backward
    dict(grade_id="lstm_backward", name="dc not carried", expect="cell-state gradient is not carried back",
         source=backward(carry="dnext_h, dnext_c = dprev_h, 0 * dprev_c")),
    dict(grade_id="lstm_backward", name="dh not carried", expect="hidden-state gradient is not carried back",
         source=backward(upstream="dh[:, t]")),
    dict(grade_id="lstm_backward", name="weights from the last step processed only", expect="is wrong",
         source=backward(accumulate="dWx, dWh, db = dWx_t, dWh_t, db_t")),
    dict(grade_id="lstm_backward", name="forward in time", expect="is wrong",
         source=backward(steps="range(T)")),
    dict(grade_id="lstm_forward", name="c0 = h0", expect="c0 = h0",
         source=FORWARD.format(body="prev_c = h0 if t == 0 else prev_c; prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b); h[:, t] = prev_h; caches.append(cache)")),
]

# A wrong answer to one exercise that another exercise uses: the test of `tested` must name the
# function at fault (`culprit`), not blame `tested` (tests/test_mutants.py).
ATTRIBUTIONS = [
    # the three cases seen by a student trying the notebook
    dict(grade_id="lstm_step_backward", name="dnext_c ignored", tested="lstm_backward",
         source=step_backward(dc="dnext_h * o * (1 - tanh_c ** 2)")),
    dict(grade_id="lstm_forward", name="cell state not carried", tested="lstm_backward",
         source=FORWARD.format(body="prev_h, _, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b); h[:, t] = prev_h; caches.append(cache)")),
    dict(grade_id="lstm_step_forward", name="no forget gate", tested="lstm_forward",
         source=step(cell="prev_c + i * g")),
    dict(grade_id="lstm_step_forward", name="no bias", tested="lstm_step_backward",
         source=step(pre="x @ Wx + prev_h @ Wh")),
    dict(grade_id="lstm_step_forward", name="h = o * c", tested="lstm_backward",
         source=step(hidden="o * next_c")),
]
