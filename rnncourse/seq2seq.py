"""The toy sequence-to-sequence task of chapter 07 and the parts its students are given: the data
(reverse a sequence of digits), the encoder, a decoder without attention, training, greedy
decoding and scoring (helpers to use, not references: the tests of chapter 07 live in
`rnncourse.ch07`).

Shapes: src, targets, targets_in (N, S) long; src_mask (N, S) bool, True on real digits;
encoder_outputs (N, S, H); h0 (N, H); logits (N, T, V); attention (N, T, S).
"""
import time

import numpy as np
import torch
from torch import nn



PAD, BOS = 10, 11
VOCAB = 12  # digits 0-9, padding, begin-of-sequence


def reversal_data(n, min_len, max_len, seed):
    """n examples of the reversal task, with lengths uniform in [min_len, max_len].

    Returns a dict of tensors: src (n, S) long, the digits padded with PAD; src_mask (n, S) bool,
    True on real digits; targets (n, S) long, each sequence reversed (PAD after its end);
    targets_in (n, S) long, the decoder's input under teacher forcing: BOS then targets[:, :-1];
    lengths (n,) long. S = max_len.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    src = np.full((n, max_len), PAD)
    targets = np.full((n, max_len), PAD)
    for i, length in enumerate(lengths):
        digits = rng.integers(0, 10, size=length)
        src[i, :length] = digits
        targets[i, :length] = digits[::-1]
    targets_in = np.concatenate([np.full((n, 1), BOS), targets[:, :-1]], axis=1)
    as_long = lambda a: torch.from_numpy(a).long()
    return dict(src=as_long(src), src_mask=torch.from_numpy(src != PAD), targets=as_long(targets),
                targets_in=as_long(targets_in), lengths=torch.from_numpy(lengths).long())


class Encoder(nn.Module):
    """Embedding and a one-layer bidirectional GRU (as in Bahdanau et al. 2015), hidden_size // 2
    units per direction. forward(src (N, S) long, src_mask (N, S) bool) returns
    (encoder_outputs (N, S, H), h (N, H)): at each position the forward and backward states side
    by side (zeros at padded positions), and the two directions' final states side by side (the
    forward one after the last real digit, the backward one after the first). Padding is never
    read (packed sequences)."""

    def __init__(self, vocab_size, hidden_size):
        super().__init__()
        assert hidden_size % 2 == 0, "hidden_size must be even (two directions)"
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size // 2, batch_first=True, bidirectional=True)

    def forward(self, src, src_mask):
        lengths = src_mask.long().sum(1)
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths, batch_first=True,
                                                   enforce_sorted=False)
        outputs, h_n = self.gru(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, total_length=src.shape[1])
        return outputs, torch.cat([h_n[0], h_n[1]], dim=1)


class PlainDecoder(nn.Module):
    """The decoder WITHOUT attention: a GRU started from the encoder's last state, which is all
    it knows about the input. Same contract as the exercise's AttentionDecoder; its `attention`
    output is None."""

    def __init__(self, vocab_size, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, encoder_outputs, h0, targets_in, src_mask=None):
        states, _ = self.gru(self.embedding(targets_in), h0[None])
        return self.out(states), None


def train_seq2seq(encoder, decoder, steps=400, batch_size=64, lr=1e-2, min_len=2, max_len=12, seed=0,
                  time_limit=None):
    """Adam with cross-entropy on the reversal task, teacher forcing, a fresh batch every step
    (padding positions are not counted in the loss). Returns the list of losses.
    time_limit: stop early after this many seconds (None: run all steps)."""
    torch.manual_seed(seed)
    parameters = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(parameters, lr=lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    losses, start = [], time.perf_counter()
    encoder.train(), decoder.train()
    for step in range(steps):
        batch = reversal_data(batch_size, min_len, max_len, seed=seed * 100_003 + step)
        encoder_outputs, h = encoder(batch["src"], batch["src_mask"])
        logits, _ = decoder(encoder_outputs, h, batch["targets_in"], batch["src_mask"])
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), batch["targets"].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        losses.append(loss.item())
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
    return losses


@torch.no_grad()
def greedy_decode(encoder, decoder, src, src_mask):
    """Greedy decoding: feed the decoder its own previous prediction, one step at a time (by
    calling its teacher-forced forward on the growing prefix). Returns (predictions (N, S) long,
    attention (N, S, S) or None) for the S = src.shape[1] output steps."""
    encoder.eval(), decoder.eval()
    encoder_outputs, h = encoder(src, src_mask)
    N, S = src.shape
    prefix = torch.full((N, 1), BOS, dtype=torch.long)
    for t in range(S):
        logits, attention = decoder(encoder_outputs, h, prefix, src_mask)
        prefix = torch.cat([prefix, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return prefix[:, 1:], attention


def accuracy_by_length(encoder, decoder, min_len=2, max_len=12, per_length=200, seed=12345):
    """{length: fraction of held-out sequences of that length reversed exactly (greedy decoding)}
    and the token accuracy over all of them."""
    result, right, total = {}, 0, 0
    for length in range(min_len, max_len + 1):
        batch = reversal_data(per_length, length, length, seed=seed + length)
        batch = {k: (v[:, :max(length, 1)] if v.ndim == 2 else v) for k, v in batch.items()}
        predictions, _ = greedy_decode(encoder, decoder, batch["src"], batch["src_mask"])
        correct = predictions == batch["targets"]
        result[length] = float(correct.all(1).float().mean())
        right, total = right + int(correct.sum()), total + correct.numel()
    return result, right / total


class TableModel:
    """A tiny random language model to decode (the decoding page, the beam-search exercise and its
    tests): log_probs depend on the step and the previous token (a seeded table), so exhaustive
    search over V^max_len sequences is cheap.
    step_fn(state, token) with state = the step number; bos = V (outside the vocabulary).
    tie_pairs: pairs of tokens (a, b) made interchangeable (equal log-probabilities everywhere,
    the same next distributions), so that sequences differing by swapping a and b tie exactly.
    Records every (state, token) step_fn was called with in `calls`."""

    def __init__(self, V, max_len, seed, tie_pairs=(), sharpness=2.0):
        rng = np.random.default_rng(seed)
        logits = rng.standard_normal((max_len + 1, V + 1, V)) * sharpness
        for a, b in tie_pairs:
            logits[:, :, b] = logits[:, :, a]
            logits[:, b, :] = logits[:, a, :]
        self.log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        self.V, self.bos, self.calls = V, V, []

    def step_fn(self, state, token):
        self.calls.append((state, token))
        return self.log_probs[state, token].copy(), state + 1

    def score(self, tokens):
        """Sum of the log-probabilities of tokens after bos, added in order."""
        total, state, previous = 0.0, 0, self.bos
        for token in tokens:
            total += float(self.log_probs[state, previous][token])
            state, previous = state + 1, token
        return total
