"""Plausible wrong answers for solutions/07-attention/attention_numpy.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

SOFTMAX = '''
def softmax(x, axis=-1):
    {body}
'''

SDPA = '''
def scaled_dot_product_attention(q, k, v, mask=None):
    d = q.shape[-1]
    scores = q @ k.transpose(0, 2, 1) / {scale}
    if mask is not None:
        scores = {masking}
    weights = {weights}
    return {out}, weights
'''


def sdpa(scale="np.sqrt(d)", masking="np.where(mask, scores, -np.inf)", weights="softmax(scores, axis=-1)",
         out="weights @ v"):
    return SDPA.format(scale=scale, masking=masking, weights=weights, out=out)


ADDITIVE = '''
def additive_attention(query, keys, Wq, Wk, v, mask=None):
    scores = {scores}
    if mask is not None:
        scores = {masking}
    weights = {weights}
    context = np.einsum("nt,nth->nh", {context_weights}, keys)
    return context, weights
'''


def additive(scores="np.tanh((query @ Wq)[:, None, :] + keys @ Wk) @ v",
             masking="np.where(mask, scores, -np.inf)", weights="softmax(scores, axis=1)",
             context_weights="weights"):
    return ADDITIVE.format(scores=scores, masking=masking, weights=weights, context_weights=context_weights)


MUTANTS = [
    dict(grade_id="softmax", name="no max subtraction", expect="Subtract the maximum",
         source=SOFTMAX.format(body="e = np.exp(x)\n    return e / e.sum(axis=axis, keepdims=True)")),
    dict(grade_id="softmax", name="always the last axis", expect="the softmax is taken over axis",
         source=SOFTMAX.format(body="e = np.exp(x - x.max(axis=-1, keepdims=True))\n"
                                    "    return e / e.sum(axis=-1, keepdims=True)")),
    dict(grade_id="softmax", name="normalised over the whole array", expect="normalised over the whole array",
         source=SOFTMAX.format(body="e = np.exp(x - x.max())\n    return e / e.sum()")),
    dict(grade_id="softmax", name="not normalised", expect="not normalised",
         source=SOFTMAX.format(body="return np.exp(x - x.max(axis=axis, keepdims=True))")),
    dict(grade_id="softmax", name="float32", expect="dtype float32",
         source=SOFTMAX.format(body="x = x.astype(np.float32)\n    e = np.exp(x - x.max(axis=axis, keepdims=True))\n"
                                    "    return e / e.sum(axis=axis, keepdims=True)")),
    dict(grade_id="scaled_dot_product_attention", name="scaled by d", expect="divided by d, not by sqrt(d)",
         source=sdpa(scale="d")),
    dict(grade_id="scaled_dot_product_attention", name="not scaled", expect="are not scaled",
         source=sdpa(scale="1")),
    dict(grade_id="scaled_dot_product_attention", name="mask after the softmax", expect="after the softmax",
         source=sdpa(masking="scores", weights="softmax(scores, axis=-1) * (True if mask is None else mask)")),
    dict(grade_id="scaled_dot_product_attention", name="mask inverted", expect="the mask is inverted",
         source=sdpa(masking="np.where(mask, -1e9, scores)")),
    dict(grade_id="scaled_dot_product_attention", name="softmax over the queries", expect="over the queries",
         source=sdpa(weights="softmax(scores, axis=1)")),
    dict(grade_id="scaled_dot_product_attention", name="weights transposed", expect="transpose",
         source=sdpa(weights="softmax(scores, axis=-1).transpose(0, 2, 1)",
                     out="weights.transpose(0, 2, 1) @ v")),
    dict(grade_id="scaled_dot_product_attention", name="unstable softmax", expect="NaN or inf",
         source=sdpa(weights="np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)",
                     masking="np.where(mask, scores, -1e9)")),
    dict(grade_id="additive_attention", name="no tanh", expect="tanh is missing",
         source=additive(scores="((query @ Wq)[:, None, :] + keys @ Wk) @ v")),
    dict(grade_id="additive_attention", name="query times Wk", expect="the query is multiplied by Wk",
         source=additive(scores="np.tanh((query @ Wk)[:, None, :] + keys @ Wk) @ v")),
    dict(grade_id="additive_attention", name="Wq and Wk swapped", expect="Wq and Wk are swapped",
         source=additive(scores="np.tanh((query @ Wk)[:, None, :] + keys @ Wq) @ v")),
    dict(grade_id="additive_attention", name="context with raw scores", expect="raw scores",
         source=additive(masking="np.where(mask, scores, 0.0)", context_weights="scores")),
    dict(grade_id="additive_attention", name="mask ignored", expect="the mask is ignored",
         source=additive(masking="scores")),
    dict(grade_id="additive_attention", name="mask inverted", expect="the mask is inverted",
         source=additive(masking="np.where(mask, -np.inf, scores)")),
    dict(grade_id="additive_attention", name="softmax over the batch", expect="over the batch",
         source=additive(weights="softmax(scores, axis=0)")),
    # slices of very different scale: one maximum over the whole array underflows the low ones
    dict(grade_id="softmax", name="global max", expect="one maximum over the whole array",
         source=SOFTMAX.format(body="e = np.exp(x - np.max(x))\n    return e / e.sum(axis=axis, keepdims=True)")),
    # masks that are not prefixes
    dict(grade_id="additive_attention", name="mask read as a prefix length", expect="read as a prefix",
         source=additive(masking="np.where(np.arange(scores.shape[1])[None, :] < mask.sum(axis=1, keepdims=True), scores, -np.inf)")),
]

# A wrong answer to one exercise that another exercise uses: the test of `tested` must name the
# function at fault (`culprit`), not blame `tested` (tests/test_mutants.py).
ATTRIBUTIONS = [
    dict(grade_id="softmax", name="normalises over axis 0 whatever axis says", tested="scaled_dot_product_attention",
         source=SOFTMAX.format(body="e = np.exp(x - np.max(x, axis=0, keepdims=True))\n    return e / e.sum(axis=0, keepdims=True)")),
    dict(grade_id="softmax", name="normalises over axis 0 whatever axis says", tested="additive_attention",
         source=SOFTMAX.format(body="e = np.exp(x - np.max(x, axis=0, keepdims=True))\n    return e / e.sum(axis=0, keepdims=True)")),
]
