"""Plausible wrong answers for solutions/05-gradients/gradients.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

JACOBIAN = '''
def hidden_jacobian_norms(Wh, h):
    T, H = h.shape
    norms = np.ones(T)
    product = np.eye(H)
    for t in range(T - 2, -1, -1):
        step_jacobian = {factor}
        product = {product}
        norms[t] = {norm}
    {after}
    return norms
'''


def jacobian(factor="(1 - h[t + 1] ** 2)[:, None] * Wh.T", product="product @ step_jacobian",
             norm="np.linalg.norm(product, 2)", after="pass"):
    return JACOBIAN.format(factor=factor, product=product, norm=norm, after=after)


NORM = '''
def clip_grad_norm(grads, max_norm):
    total_norm = {total}
    {body}
    return clipped, total_norm
'''

TOTAL = "float(np.sqrt(sum(np.sum(g * g) for g in grads)))"

VALUE = '''
def clip_grad_value(grads, clip_value):
    {body}
    return clipped
'''

MUTANTS = [
    # hidden_jacobian_norms
    dict(grade_id="hidden_jacobian_norms", name="tanh' at the previous state",
         expect="derivative of tanh is taken at the wrong step",
         source=jacobian(factor="(1 - h[t] ** 2)[:, None] * Wh.T")),
    dict(grade_id="hidden_jacobian_norms", name="1 - h instead of 1 - h**2", expect="not 1 - h.",
         source=jacobian(factor="(1 - h[t + 1])[:, None] * Wh.T")),
    dict(grade_id="hidden_jacobian_norms", name="1 - tanh(h)**2", expect="tanh is applied twice",
         source=jacobian(factor="(1 - np.tanh(h[t + 1]) ** 2)[:, None] * Wh.T")),
    dict(grade_id="hidden_jacobian_norms", name="no tanh derivative", expect="derivative of tanh is missing",
         source=jacobian(factor="Wh.T")),
    dict(grade_id="hidden_jacobian_norms", name="Wh not transposed", expect="Wh is not transposed",
         source=jacobian(factor="(1 - h[t + 1] ** 2)[:, None] * Wh")),
    dict(grade_id="hidden_jacobian_norms", name="product in the wrong order", expect="wrong order",
         source=jacobian(product="step_jacobian @ product")),
    dict(grade_id="hidden_jacobian_norms", name="Frobenius norm", expect="Frobenius",
         source=jacobian(norm="np.linalg.norm(product)")),
    dict(grade_id="hidden_jacobian_norms", name="spectral radius", expect="spectral RADIUS",
         source=jacobian(norm="np.max(np.abs(np.linalg.eigvals(product)))")),
    dict(grade_id="hidden_jacobian_norms", name="norm stored before the factor (off by one)",
         expect="shifted by one step",
         source=jacobian(product="product", norm="np.linalg.norm(product, 2); product = product @ step_jacobian")),
    dict(grade_id="hidden_jacobian_norms", name="last entry 0", expect="entry T-1 must be 1",
         source=jacobian(after="norms[T - 1] = 0.0")),
    dict(grade_id="hidden_jacobian_norms", name="float32", expect="dtype float32",
         source=jacobian(after="norms = norms.astype(np.float32)")),
    # clip_grad_norm
    dict(grade_id="clip_grad_norm", name="the notes' snippet (squared norm)", expect="square root",
         source=NORM.format(total="float(sum(np.sum(g * g) for g in grads))",
                            body="clipped = [g * (max_norm / total_norm) if total_norm > max_norm else g.copy() for g in grads]")),
    dict(grade_id="clip_grad_norm", name="compares the squared norm", expect="squared norm is compared",
         source=NORM.format(total=TOTAL,
                            body="clipped = [g * (max_norm / (total_norm + 1e-6)) if total_norm ** 2 > max_norm else g.copy() for g in grads]")),
    dict(grade_id="clip_grad_norm", name="per-array norms", expect="its own norm",
         source=NORM.format(total=TOTAL,
                            body="clipped = [g * min(max_norm / (np.linalg.norm(g) + 1e-6), 1.0) for g in grads]")),
    dict(grade_id="clip_grad_norm", name="scales up below the threshold", expect="scaled up",
         source=NORM.format(total=TOTAL, body="clipped = [g * (max_norm / (total_norm + 1e-6)) for g in grads]")),
    dict(grade_id="clip_grad_norm", name="no epsilon", expect="epsilon is missing",
         source=NORM.format(total=TOTAL,
                            body="clipped = [g * (max_norm / total_norm) if total_norm > max_norm else g.copy() for g in grads]")),
    dict(grade_id="clip_grad_norm", name="returns the norm after clipping", expect="BEFORE clipping",
         source=NORM.format(total=TOTAL,
                            body="clipped = [g * min(max_norm / (total_norm + 1e-6), 1.0) for g in grads]\n"
                                 "    total_norm = float(np.sqrt(sum(np.sum(g * g) for g in clipped)))")),
    dict(grade_id="clip_grad_norm", name="clips in place", expect="in place",
         source=NORM.format(total=TOTAL,
                            body="for g in grads:\n        g *= min(max_norm / (total_norm + 1e-6), 1.0)\n    clipped = grads")),
    # clip_grad_value
    dict(grade_id="clip_grad_value", name="positive side only", expect="only the positive side",
         source=VALUE.format(body="clipped = [np.minimum(g, clip_value) for g in grads]")),
    dict(grade_id="clip_grad_value", name="negative side only", expect="only the negative side",
         source=VALUE.format(body="clipped = [np.maximum(g, -clip_value) for g in grads]")),
    dict(grade_id="clip_grad_value", name="clips the absolute values", expect="signs are lost",
         source=VALUE.format(body="clipped = [np.clip(np.abs(g), 0, clip_value) for g in grads]")),
    dict(grade_id="clip_grad_value", name="norm clipping instead", expect="this is norm clipping",
         source=VALUE.format(body="total = np.sqrt(sum(np.sum(g * g) for g in grads))\n"
                                  "    clipped = [g * min(clip_value / (total + 1e-6), 1.0) for g in grads]")),
    dict(grade_id="clip_grad_value", name="clips in place", expect="in place",
         source=VALUE.format(body="for g in grads:\n        np.clip(g, -clip_value, clip_value, out=g)\n    clipped = grads")),
    dict(grade_id="clip_grad_value", name="returns one array", expect="should return a list",
         source=VALUE.format(body="clipped = np.clip(np.concatenate([g.ravel() for g in grads]), -clip_value, clip_value)")),
    # "returns new arrays": an answer that hands back its inputs loses points
    dict(grade_id="clip_grad_norm", name="returns the inputs when not clipping", expect="returns one of its inputs",
         source=NORM.format(total=TOTAL,
                            body="clipped = [g * (max_norm / (total_norm + 1e-6)) for g in grads] if total_norm > max_norm else grads")),
    dict(grade_id="clip_grad_value", name="returns arrays with nothing to clip as they are", expect="returns one of its inputs",
         source=VALUE.format(body="clipped = [g if np.abs(g).max() <= clip_value else np.clip(g, -clip_value, clip_value) for g in grads]")),
]


