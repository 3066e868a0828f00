"""Chapter 01 (ideas before RNNs): references for the tests, known mistakes, and demo helpers.

The correct values come from plain counting (`collections.Counter`, dicts) and from
`torch.nn.functional.one_hot`, written independently of the numpy way a student writes them,
never from the reference solutions. Each `*_mistakes` function returns `(hint, wrong_value)`
pairs for `checks.check_close`: what a plausible wrong implementation returns, so that a failing
test can name the mistake. The `check_*` functions run one whole test of an exercise.

Conventions: a vocabulary is a dict token -> index with indices 0 .. V-1 (V = len(vocab));
token ids are (T,) integer arrays with entries in 0 .. V-1.
"""
import math
from collections import Counter

import numpy as np
import torch

from rnncourse.checks import CheckFailure, call, check, check_close, fail


# ---------------------------------------------------------------------------------------------
# Test inputs
# ---------------------------------------------------------------------------------------------

WORDS = ("the", "dog", "bit", "man", "not", "good", "bad", "was", "a", "and", "food", "very")


def random_tokens(seed, n_tokens, vocab_size, unknown=0):
    """(tokens, vocab): n_tokens words drawn from a vocabulary of vocab_size words, plus
    `unknown` extra tokens that are not in the vocabulary, shuffled in. Seeded."""
    rng = np.random.default_rng(seed)
    names = [WORDS[i] if i < len(WORDS) else f"w{i}" for i in range(vocab_size + unknown)]
    order = rng.permutation(vocab_size)  # indices not in alphabetical or insertion order
    vocab = {names[i]: int(order[i]) for i in range(vocab_size)}
    tokens = [names[i] for i in rng.integers(0, vocab_size, n_tokens)]
    tokens += [names[vocab_size + i % unknown] for i in range(unknown)] if unknown else []
    rng.shuffle(tokens)
    return tokens, vocab


def markov_ids(seed, length, V, concentration=0.3):
    """A (length,) int64 array of token ids from a random first-order Markov chain on V tokens:
    text-like data with structure for the n-gram tests (uniform ids would make n irrelevant)."""
    rng = np.random.default_rng(seed)
    transition = rng.dirichlet(np.full(V, concentration), size=V)
    ids = np.empty(length, dtype=np.int64)
    ids[0] = rng.integers(V)
    uniform = rng.random(length)
    for t in range(1, length):
        ids[t] = min(int(np.searchsorted(np.cumsum(transition[ids[t - 1]]), uniform[t])), V - 1)
    return ids


def markov_train_test(seed, n_train, n_test, V):
    """(train_ids, test_ids): consecutive pieces of one markov_ids sequence (same chain)."""
    ids = markov_ids(seed, n_train + n_test, V)
    return ids[:n_train], ids[n_train:]


# ---------------------------------------------------------------------------------------------
# bag_of_words
# ---------------------------------------------------------------------------------------------

def reference_bag_of_words(tokens, vocab):
    """counts (V,) float64: how often each vocabulary entry occurs in tokens (others ignored)."""
    counts = Counter(token for token in tokens if token in vocab)
    out = np.zeros(len(vocab))
    for token, count in counts.items():
        out[vocab[token]] = count
    return out


def bag_of_words_mistakes(tokens, vocab):
    V = len(vocab)
    correct = reference_bag_of_words(tokens, vocab)
    mistakes = [
        ("the counts are 0/1 (is the token present?); count every occurrence.", np.minimum(correct, 1)),
    ]
    if len(tokens):
        mistakes.append(("the counts are divided by the number of tokens (frequencies); return raw counts.",
                         correct / len(tokens)))
        known = sum(token in vocab for token in tokens)
        if known and known != len(tokens):
            mistakes.append(("the counts are divided by the number of known tokens (frequencies); return "
                             "raw counts.", correct / known))
    by_position = {token: i for i, token in enumerate(vocab)}
    if any(by_position[t] != vocab[t] for t in vocab):
        mistakes.append(("the counts are indexed by the position of the token in the dict's key order; "
                         "the index of a token is vocab[token].",
                         reference_bag_of_words(tokens, by_position)))
    unknown = [t for t in tokens if t not in vocab]
    if unknown:
        for index, where in ((0, "index 0"), (V - 1, "the last index (vocab.get(token, -1))")):
            wrong = correct.copy()
            wrong[index] += len(unknown)
            mistakes.append((f"tokens that are not in vocab are counted (at {where}); ignore them.", wrong))
    return mistakes


def check_bag_of_words(fn, tokens, vocab, label=""):
    """Run fn(tokens, vocab) and compare it with plain counting, naming the usual mistakes."""
    name = f"counts{label}"
    unknown = sorted({t for t in tokens if t not in vocab})
    given_tokens, given_vocab = list(tokens), dict(vocab)
    try:
        got = call(fn, given_tokens, given_vocab, name="bag_of_words")
    except CheckFailure as failure:
        if unknown and "KeyError" in str(failure):
            raise CheckFailure(f"{failure}\nHint: tokens that are not in vocab (here {unknown[:3]}) must be "
                               f"ignored, not looked up: skip them (`if token in vocab`).") from None
        raise
    # call() compares array arguments only: the list and the dict are compared here
    check(given_tokens == list(tokens),
          f"bag_of_words changed its argument `tokens` (the caller's list) in place; read it without "
          f"removing or replacing entries (loop with `for token in tokens`, no pop/remove).")
    check(given_vocab == dict(vocab),
          f"bag_of_words changed its argument `vocab` (the caller's dict) in place; unknown tokens are "
          f"ignored, never added to the vocabulary.")
    if isinstance(got, (list, tuple)):
        fail(f"`{name}` should be a numpy array of shape ({len(vocab)},), not a {type(got).__name__}: "
             f"wrap it with np.array or start from np.zeros(len(vocab)).")
    if isinstance(got, np.ndarray) and got.dtype == bool:
        fail(f"`{name}` has dtype bool: return how many times each token occurs (counts), not whether "
             f"it occurs.")
    if isinstance(got, np.ndarray) and got.shape == (len(tokens),) and len(tokens) != len(vocab):
        fail(f"`{name}` has shape {got.shape}, one entry per token, but should have shape "
             f"({len(vocab)},) (V,): one count per vocabulary entry, at index vocab[token].")
    if isinstance(got, np.ndarray) and got.shape == (len(vocab),) and got.dtype != np.float64:
        fail(f"`{name}` are {got.dtype}, the spec says float64: start from np.zeros(len(vocab)) (float64) "
             f"or convert with .astype(np.float64) (np.bincount and integer arrays give int64).")
    check_close(name, got, reference_bag_of_words(tokens, vocab), dims="(V,)", mistakes=bag_of_words_mistakes(tokens, vocab))


# ---------------------------------------------------------------------------------------------
# fixed_window_features
# ---------------------------------------------------------------------------------------------

def _windows(token_ids, k, start=0):
    ids = torch.as_tensor(np.asarray(token_ids, dtype=np.int64))
    T = ids.shape[0]
    return ids.unfold(0, k, 1)[start:start + T - k]  # (T-k, k): row t = ids[t+start : t+start+k]


def reference_fixed_window_features(token_ids, k, V):
    """(T-k, k*V) float64: row t is one_hot(ids[t]), ..., one_hot(ids[t+k-1]) concatenated."""
    windows = _windows(token_ids, k)
    T_k = windows.shape[0]
    return torch.nn.functional.one_hot(windows, V).reshape(T_k, k * V).double().numpy()


def fixed_window_features_mistakes(token_ids, k, V):
    windows = _windows(token_ids, k)
    T_k = windows.shape[0]
    one_hot = torch.nn.functional.one_hot(windows, V).double()  # (T-k, k, V)
    shifted = torch.nn.functional.one_hot(_windows(token_ids, k, start=1), V).double()
    return [
        ("the window is stored newest first; put the oldest token (t) first and token t+k-1 last.",
         one_hot.flip(1).reshape(T_k, k * V).numpy()),
        ("the window starts one token late: row t holds tokens t .. t+k-1, the context BEFORE token t+k "
         "(the token to predict is not part of it).", shifted.reshape(T_k, k * V).numpy()),
        ("the one-hot vectors are interleaved: entry j*V + v of a row must be 1 when token t+j is v, "
         "i.e. whole one-hot vectors side by side (reshape a (T-k, k, V) array, not a (T-k, V, k) one).",
         one_hot.transpose(1, 2).reshape(T_k, k * V).numpy()),
    ]


def check_fixed_window_features(fn, token_ids, k, V, label=""):
    T = len(token_ids)
    name = f"features{label}"
    got = call(fn, np.array(token_ids), k, V, name="fixed_window_features")
    shape = getattr(got, "shape", None)
    wrong_shapes = {
        (T - k + 1, k * V): "one row too many: T-k+1 windows fit in the sequence, but the last one has no "
                            "next token to predict; return the T-k windows t = 0 .. T-k-1.",
        (T - k - 1, k * V): "one row too few: there are T-k windows, t = 0 .. T-k-1.",
        (T - k, V): "each row is the sum of the window's one-hot vectors (a bag of the window); "
                    "concatenate them instead, giving k*V columns.",
        (T - k, k): "each row holds the token ids; encode each one as a one-hot vector of length V "
                    "and concatenate them (k*V columns).",
        (T - k, k, V): "the one-hot vectors are not concatenated: reshape to (T-k, k*V).",
    }
    used = int(np.max(token_ids)) + 1  # ids V-1 and above may not occur in token_ids
    if used != V:
        wrong_shapes[(T - k, k * used)] = (f"the one-hot vectors have length max(token_ids)+1 = {used}, not V = "
                                           f"{V}: ids that do not occur still have a column (np.eye(V)).")
    if isinstance(got, np.ndarray) and shape != (T - k, k * V) and shape in wrong_shapes:
        fail(f"`{name}` has shape {shape} but should have shape {(T - k, k * V)} (T-k, k*V) for T={T}, "
             f"k={k}, V={V}.\nHint: {wrong_shapes[shape]}")
    check_close(name, got, reference_fixed_window_features(token_ids, k, V), dtype=np.float64, dims="(T-k, k*V)",
                mistakes=fixed_window_features_mistakes(token_ids, k, V))


# ---------------------------------------------------------------------------------------------
# ngram_log_likelihood
# ---------------------------------------------------------------------------------------------

def _ngram(train_ids, test_ids, context, V, alpha, smoothing=None, log=math.log, first_predicted=None,
           mean=True, key=tuple):
    """Add-alpha n-gram log-likelihood by plain counting, with switches for the known mistakes.

    context: number of tokens of context (n-1 for an n-gram model).
    smoothing: what is added to the context count in the denominator (alpha*V when None).
    first_predicted: first test position predicted (context when None); earlier positions, when
        predicted, have no full context and get probability alpha / (0 + smoothing) = 1/V.
    key: how a list of ids is made a dict key (tuple; a mistake joins their decimal digits).
    """
    train = [int(i) for i in train_ids]
    test = [int(i) for i in test_ids]
    smoothing = alpha * V if smoothing is None else smoothing
    first = context if first_predicted is None else first_predicted
    joint, marginal = Counter(), Counter()
    for i in range(context, len(train)):
        joint[key(train[i - context:i + 1])] += 1
        marginal[key(train[i - context:i])] += 1
    total = 0.0
    for i in range(first, len(test)):
        if i >= context:
            gram, history = joint[key(test[i - context:i + 1])], marginal[key(test[i - context:i])]
        else:
            gram, history = 0, 0
        total += log((gram + alpha) / (history + smoothing))
    return total / (len(test) - first) if mean else total


def reference_ngram_log_likelihood(train_ids, test_ids, n, V, alpha):
    """Mean natural-log probability per predicted test token (positions n-1 .. len-1)."""
    return _ngram(train_ids, test_ids, n - 1, V, alpha)


def ngram_log_likelihood_mistakes(train_ids, test_ids, n, V, alpha):
    context = n - 1
    mistakes = [
        ("the denominator adds alpha instead of alpha*V: each of the V possible next tokens gets alpha, "
         "so the probabilities sum to one only with count(context) + alpha*V.",
         _ngram(train_ids, test_ids, context, V, alpha, smoothing=alpha)),
        ("the logarithm is log10; use the natural log (np.log / math.log).",
         _ngram(train_ids, test_ids, context, V, alpha, log=math.log10)),
        ("this is the sum of the log-probabilities; return their mean over the predicted test tokens.",
         _ngram(train_ids, test_ids, context, V, alpha, mean=False)),
    ]
    if context:
        mistakes += [
            ("the first n-1 test tokens are predicted too; they are context only, predict positions "
             "n-1 .. len(test_ids)-1.", _ngram(train_ids, test_ids, context, V, alpha, first_predicted=0)),
            ("the mean divides by len(test_ids); only len(test_ids) - (n-1) tokens are predicted (the "
             "first n-1 test tokens are context only).",
             _ngram(train_ids, test_ids, context, V, alpha, mean=False) / len(test_ids)),
            ("the context has n-2 tokens: an n-gram model predicts from the n-1 tokens before.",
             _ngram(train_ids, test_ids, context - 1, V, alpha, first_predicted=context)),
        ]
    if context and V > 10:
        mistakes.append(("the n-grams are keyed by their ids' decimal digits joined (a string or base-10 "
                         "code), so (1, 12) and (11, 2) are counted as one: key them by the tuple of ids "
                         "(or code them in base V).",
                         _ngram(train_ids, test_ids, context, V, alpha, key=lambda ids: "".join(map(str, ids)))))
    if len(test_ids) > n:
        mistakes.append(("the context has n tokens: an n-gram model predicts from the n-1 tokens before.",
                         _ngram(train_ids, test_ids, context + 1, V, alpha)))
    return mistakes


def check_ngram_log_likelihood(fn, train_ids, test_ids, n, V, alpha):
    where = f" (n={n}, V={V}, alpha={alpha}, {len(train_ids)} train / {len(test_ids)} test tokens)"
    got = call(fn, np.array(train_ids), np.array(test_ids), n, V, alpha, name="ngram_log_likelihood")
    check(not isinstance(got, (tuple, list)),
          f"ngram_log_likelihood should return one number (a float); it returned a {type(got).__name__}.")
    check(np.ndim(got) == 0 if isinstance(got, (np.ndarray, float, int, np.number)) else True,
          f"ngram_log_likelihood should return one number (a float); it returned an array of shape "
          f"{np.shape(got)}.")
    expected = reference_ngram_log_likelihood(train_ids, test_ids, n, V, alpha)
    if isinstance(got, (float, np.floating, np.ndarray)) and not np.isfinite(got):
        fail(f"the log-likelihood{where} is {float(got)}, expected {expected:.6g}.\nHint: the product of "
             f"{len(test_ids) - n + 1} probabilities underflows to 0 (or the log of a 0 count): add the "
             f"logs of the smoothed probabilities (log of a product = sum of the logs).")
    check(isinstance(got, float) and type(got) in (float, np.float64),
          f"ngram_log_likelihood returned a {type(got).__name__}"
          f"{' of dtype ' + str(got.dtype) if isinstance(got, (np.ndarray, np.generic)) else ''}; the spec "
          f"says a float: return float(...) of the mean (a Python float, float64).")
    check(not (isinstance(got, (float, np.floating)) and got > 0),
          f"the log-likelihood{where} is {float(got):.6g} > 0, but log-probabilities are <= 0 "
          f"(expected {expected:.6g}). Hint: log(count/total), not log(total/count).")
    check_close("log-likelihood" + where, got, expected, rtol=1e-7, atol=1e-10,
                mistakes=ngram_log_likelihood_mistakes(train_ids, test_ids, n, V, alpha))


# ---------------------------------------------------------------------------------------------
# Chapter demos: fast n-gram evaluation (numpy) for a real corpus
# ---------------------------------------------------------------------------------------------

def ngram_table(train_ids, test_ids, n_values, V, alpha):
    """For each n: (n, mean log-likelihood per held-out token, distinct contexts in train,
    fraction of held-out contexts never seen in train). Same model as ngram_log_likelihood,
    counted with numpy (n-grams encoded as integers), so it runs on a million tokens in seconds.
    Held-out tokens predicted: positions max(n_values)-1 .. len(test_ids)-1 for every n, so
    that all n are scored on the same tokens."""
    train = np.asarray(train_ids, dtype=np.int64)
    test = np.asarray(test_ids, dtype=np.int64)
    first = max(n_values) - 1
    rows = []
    for n in n_values:
        c = n - 1
        check(V ** n < 2 ** 62, "n-gram codes would overflow int64")

        def codes(ids, start, length):
            """Integer code of the c-token context and of the n-gram ending at each position."""
            ctx = np.zeros(length, dtype=np.int64)
            for j in range(c):
                ctx = ctx * V + ids[start - c + j:start - c + j + length]
            return ctx, ctx * V + ids[start:start + length]

        tr_ctx, tr_gram = codes(train, c, len(train) - c)
        te_ctx, te_gram = codes(test, first, len(test) - first)
        gram_keys, gram_counts = np.unique(tr_gram, return_counts=True)
        ctx_keys, ctx_counts = np.unique(tr_ctx, return_counts=True)

        def lookup(keys, counts, queries):
            pos = np.clip(np.searchsorted(keys, queries), 0, len(keys) - 1)
            return np.where(keys[pos] == queries, counts[pos], 0)

        joint = lookup(gram_keys, gram_counts, te_gram)
        marginal = lookup(ctx_keys, ctx_counts, te_ctx)
        ll = float(np.mean(np.log((joint + alpha) / (marginal + alpha * V))))
        rows.append((n, ll, len(ctx_keys), float(np.mean(marginal == 0))))
    return rows
