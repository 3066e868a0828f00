"""Plausible wrong answers for solutions/01-before-rnns/before_rnns.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

BAG = '''
def bag_of_words(tokens, vocab):
    counts = np.zeros(len(vocab))
    for token in tokens:
        {body}
    return counts{after}
'''

WINDOW = '''
def fixed_window_features(token_ids, k, V):
    T = len(token_ids)
    one_hot = np.eye(V)[np.asarray(token_ids)]
    rows = []
    for t in range({rows}):
        rows.append(np.concatenate([one_hot[t + j] for j in {order}]))
    return np.array(rows){after}
'''

NGRAM = '''
def ngram_log_likelihood(train_ids, test_ids, n, V, alpha):
    train, test = list(train_ids), list(test_ids)
    c = {context}
    grams = Counter(tuple(train[i - c:i + 1]) for i in range(c, len(train)))
    contexts = Counter(tuple(train[i - c:i]) for i in range(c, len(train)))
    total, count = 0.0, 0
    for i in range({first}, len(test)):
        p = (grams[tuple(test[max(i - c, 0):i + 1])] + alpha) / (contexts[tuple(test[max(i - c, 0):i])] + {smooth})
        total += {log}(p)
        count += 1
    return {result}
'''


def ngram(context="n - 1", first="n - 1", smooth="alpha * V", log="math.log", result="total / count"):
    return NGRAM.format(context=context, first=first, smooth=smooth, log=log, result=result)


MUTANTS = [
    dict(grade_id="bag_of_words", name="presence not counts", expect="counts are 0/1",
         source=BAG.format(body="if token in vocab:\n            counts[vocab[token]] = 1", after="")),
    dict(grade_id="bag_of_words", name="unknown tokens crash", expect="must be ignored",
         source=BAG.format(body="counts[vocab[token]] += 1", after="")),
    dict(grade_id="bag_of_words", name="unknown counted at -1", expect="not in vocab are counted",
         source=BAG.format(body="counts[vocab.get(token, -1)] += 1", after="")),
    dict(grade_id="bag_of_words", name="unknown counted at 0", expect="not in vocab are counted",
         source=BAG.format(body="counts[vocab.get(token, 0)] += 1", after="")),
    dict(grade_id="bag_of_words", name="frequencies", expect="frequencies",
         source=BAG.format(body="if token in vocab:\n            counts[vocab[token]] += 1",
                           after=" / max(len(tokens), 1)")),
    dict(grade_id="bag_of_words", name="returns a list", expect="should be a numpy array",
         source=BAG.format(body="if token in vocab:\n            counts[vocab[token]] += 1",
                           after=".tolist()")),
    dict(grade_id="bag_of_words", name="int counts from a Counter", expect="the spec says float64",
         source="def bag_of_words(tokens, vocab):\n    found = Counter(t for t in tokens if t in vocab)\n"
                "    return np.array([found[w] for w in sorted(vocab, key=vocab.get)])\n"),
    dict(grade_id="bag_of_words", name="pops the tokens", expect="changed its argument `tokens`",
         source="def bag_of_words(tokens, vocab):\n    counts = np.zeros(len(vocab))\n    while tokens:\n"
                "        token = tokens.pop()\n        if token in vocab:\n            counts[vocab[token]] += 1\n"
                "    return counts\n"),
    dict(grade_id="bag_of_words", name="indexed by key order", expect="key order",
         source=BAG.format(body="if token in vocab:\n            counts[list(vocab).index(token)] += 1", after="")),
    dict(grade_id="fixed_window_features", name="newest first", expect="newest first",
         source=WINDOW.format(rows="T - k", order="reversed(range(k))", after="")),
    dict(grade_id="fixed_window_features", name="T-k+1 rows", expect="one row too many",
         source=WINDOW.format(rows="T - k + 1", order="range(k)", after="")),
    dict(grade_id="fixed_window_features", name="window includes the target", expect="starts one token late",
         source=WINDOW.format(rows="T - k", order="range(1, k + 1)", after="")),
    dict(grade_id="fixed_window_features", name="bag of the window", expect="sum of the window",
         source=WINDOW.format(rows="T - k", order="range(k)", after=".reshape(T - k, k, V).sum(axis=1)")),
    dict(grade_id="fixed_window_features", name="interleaved", expect="interleaved",
         source=WINDOW.format(rows="T - k", order="range(k)",
                              after=".reshape(T - k, k, V).transpose(0, 2, 1).reshape(T - k, k * V)")),
    dict(grade_id="fixed_window_features", name="int dtype", expect="dtype int64",
         source=WINDOW.format(rows="T - k", order="range(k)", after=".astype(np.int64)")),
    dict(grade_id="fixed_window_features", name="float32", expect="should be float64",
         source=WINDOW.format(rows="T - k", order="range(k)", after=".astype(np.float32)")),
    dict(grade_id="fixed_window_features", name="one-hot of length max id + 1", expect="max(token_ids)+1",
         source=WINDOW.format(rows="T - k", order="range(k)", after="").replace("np.eye(V)", "np.eye(max(token_ids) + 1)")),
    dict(grade_id="ngram_log_likelihood", name="numpy float32", expect="the spec says a float",
         source=ngram(result="np.float32(total / count)")),
    dict(grade_id="ngram_log_likelihood", name="0-d array", expect="the spec says a float",
         source=ngram(result="np.array(total / count)")),
    dict(grade_id="ngram_log_likelihood", name="decimal-string keys", expect="decimal digits",
         source=ngram().replace("tuple(", "''.join(map(str, ").replace("i + 1])", "i + 1]))").replace("i])", "i]))")),
    dict(grade_id="ngram_log_likelihood", name="log of a product", expect="underflows",
         source=ngram(log="np.log", result="np.log(np.prod(probs)) / count").replace(
             "total += np.log(p)", "probs.append(p)").replace("total, count = 0.0, 0", "probs, count = [], 0")),
    dict(grade_id="ngram_log_likelihood", name="denominator alpha", expect="adds alpha instead of alpha*V",
         source=ngram(smooth="alpha")),
    dict(grade_id="ngram_log_likelihood", name="log10", expect="log10",
         source=ngram(log="math.log10")),
    dict(grade_id="ngram_log_likelihood", name="sum not mean", expect="sum of the log-probabilities",
         source=ngram(result="total")),
    dict(grade_id="ngram_log_likelihood", name="first n-1 tokens predicted", expect="first n-1 test tokens",
         source=ngram(first="0")),
    dict(grade_id="ngram_log_likelihood", name="divides by len(test)", expect="first n-1 test tokens",
         source=ngram(result="total / len(test)")),
    dict(grade_id="ngram_log_likelihood", name="context of n tokens", expect="context has n tokens",
         source=ngram(context="n", first="n")),
]
