"""Plausible wrong answers for solutions/08-language-models/char_lm_numpy.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

EMBED = '''
def embedding_forward(ids, W):
    out = {out}
    return out, (ids, W.shape)
'''

EMBED_BACK = '''
def embedding_backward(dout, cache):
    ids, shape = cache
    dW = np.zeros(shape)
    {body}
    return dW
'''

AFFINE = '''
def temporal_affine_forward(h, W, b):
    return {out}, (h, W)
'''

AFFINE_BACK = '''
def temporal_affine_backward(dout, cache):
    h, W = cache
    N, T, H = h.shape
    V = W.shape[1]
    dh = dout @ W.T
    dW = {dW}
    db = {db}
    return dh, dW, db
'''

LOSS = '''
def temporal_softmax_loss(scores, targets, mask):
    z = {shift}
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    weights = {weights}
    loss = float((nll * weights).sum())
    onehot = np.eye(scores.shape[-1])[targets]
    dscores = (np.exp(log_probs) - onehot) * {grad_weights}[..., None]
    return loss, dscores
'''


def loss(shift="scores - scores.max(axis=-1, keepdims=True)", weights="mask / mask.sum()",
         grad_weights="weights"):
    return LOSS.format(shift=shift, weights=weights, grad_weights=grad_weights)


def affine_back(dW="h.reshape(N * T, H).T @ dout.reshape(N * T, V)", db="dout.sum(axis=(0, 1))"):
    return AFFINE_BACK.format(dW=dW, db=db)


MUTANTS = [
    dict(grade_id="embedding_forward", name="ids off by one", expect="ids + 1",
         source=EMBED.format(out="W[(ids + 1) % W.shape[0]]")),
    dict(grade_id="embedding_forward", name="time reversed", expect="reverse time order",
         source=EMBED.format(out="W[ids[:, ::-1]]")),
    dict(grade_id="embedding_forward", name="ids transposed", expect="an axis is swapped",
         source=EMBED.format(out="W[ids.T]")),
    dict(grade_id="embedding_forward", name="ids flattened", expect="the ids were flattened",
         source=EMBED.format(out="W[ids.reshape(-1)]")),
    dict(grade_id="embedding_forward", name="float32", expect="float64",
         source=EMBED.format(out="W[ids].astype(np.float32)")),
    dict(grade_id="embedding_backward", name="repeated ids overwritten", expect="repeated ids overwrite",
         source=EMBED_BACK.format(body="dW[ids] += dout")),
    dict(grade_id="embedding_backward", name="mean over occurrences", expect="averaged over the occurrences",
         source=EMBED_BACK.format(body="np.add.at(dW, ids, dout)\n    dW = dW / np.maximum(np.bincount(ids.ravel(), minlength=shape[0]), 1)[:, None]")),
    dict(grade_id="embedding_backward", name="divided by N*T", expect="divided by N*T",
         source=EMBED_BACK.format(body="np.add.at(dW, ids, dout / ids.size)")),
    dict(grade_id="embedding_backward", name="first sequence only", expect="only the first sequence",
         source=EMBED_BACK.format(body="np.add.at(dW, ids[0], dout[0])")),
    dict(grade_id="temporal_affine_forward", name="no bias", expect="bias b is not added",
         source=AFFINE.format(out="h @ W")),
    dict(grade_id="temporal_affine_forward", name="tanh", expect="a tanh is applied",
         source=AFFINE.format(out="np.tanh(h @ W + b)")),
    dict(grade_id="temporal_affine_forward", name="last step only", expect="only one time step is scored",
         source=AFFINE.format(out="h[:, -1] @ W + b")),
    dict(grade_id="temporal_affine_forward", name="bias subtracted", expect="the bias is subtracted",
         source=AFFINE.format(out="h @ W - b")),
    dict(grade_id="temporal_affine_backward", name="db summed over N only", expect="not summed over N and T",
         source=affine_back(db="dout.sum(axis=0)")),
    dict(grade_id="temporal_affine_backward", name="db averaged", expect="db is averaged",
         source=affine_back(db="dout.mean(axis=(0, 1))")),
    dict(grade_id="temporal_affine_backward", name="dW averaged", expect="dW is averaged",
         source=affine_back(dW="h.reshape(N * T, H).T @ dout.reshape(N * T, V) / (N * T)")),
    dict(grade_id="temporal_affine_backward", name="dW last step only", expect="dW uses the last time step only",
         source=affine_back(dW="h[:, -1].T @ dout[:, -1]")),
    dict(grade_id="temporal_affine_backward", name="dW per position", expect="one gradient per position",
         source=affine_back(dW="np.einsum('nth,ntv->nhv', h, dout)")),
    dict(grade_id="temporal_softmax_loss", name="mask ignored in the mean", expect="mask is ignored in the mean",
         source=loss(weights="mask / mask.size")),
    dict(grade_id="temporal_softmax_loss", name="divided by N", expect="divided by N (as CS231n",
         source=loss(weights="mask / mask.shape[0]")),
    dict(grade_id="temporal_softmax_loss", name="mask ignored", expect="the mask is ignored:",
         source=loss(weights="np.ones(mask.shape) / mask.size")),
    dict(grade_id="temporal_softmax_loss", name="gradient not masked", expect="dscores is not masked",
         source=loss(grad_weights="(np.ones(mask.shape) / mask.sum())")),
    dict(grade_id="temporal_softmax_loss", name="one global maximum", expect="each row's own maximum",
         source=loss(shift="scores - scores.max()")),
]
