"""Data sets of the course: everything ships with the package, nothing is downloaded.

See data/README.md beside this file for sources and licences.
"""
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data"


def load_corpus(n_chars=None):
    """The tiny-Shakespeare corpus as one string (its first n_chars characters if given)."""
    text = (DATA_DIR / "tinyshakespeare.txt").read_text(encoding="utf-8")
    return text if n_chars is None else text[:n_chars]


def char_vocab(text):
    """(chars, char_to_ix): the sorted distinct characters of text and their indices."""
    chars = sorted(set(text))
    return chars, {ch: i for i, ch in enumerate(chars)}


def load_digit_sequences(test_fraction=0.2, seed=0):
    """The 8x8 digits as sequences read row by row: each image is T=8 steps of D=8 pixels.

    Returns (x_train, y_train, x_test, y_test): x float32 (N, 8, 8) scaled to [0, 1], row t of an
    image is time step t; y int64 (N,) digit labels. The split is fixed by `seed`.
    """
    from sklearn.datasets import load_digits  # ships inside the scikit-learn wheel

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]
