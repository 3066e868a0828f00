"""The character-level language model that chapter 04 gives its students, and the loops that
train it and draw text from it (helpers to use, not references: the tests of chapter 04 live in
`rnncourse.ch04`).

Shapes: ids (L,) long, one id per character; inputs (N, T) long; h (1, N, H); logits (N, T, V).
"""
import time

import torch
import torch.nn.functional as F
from torch import nn


class CharRNN(nn.Module):
    """A character-level language model: one-hot input, torch.nn.RNN, linear read-out.

    forward(inputs (N, T) long, h (1, N, H) or None) -> (logits (N, T, V), h (1, N, H)).
    """

    def __init__(self, vocab_size, hidden_size=128):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = nn.RNN(vocab_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, inputs, h=None):
        output, h = self.rnn(F.one_hot(inputs, self.vocab_size).float(), h)
        return self.head(output), h


def fit_char_model(model, ids, seq_length, batch_size, seconds, lr=3e-3, max_steps=None):
    """Train a CharRNN on ids (1-D long) by truncated BPTT over batch_size parallel streams.

    The text is cut into batch_size equal streams read side by side; each stream carries its own
    hidden state from chunk to chunk (detached), for at most `seconds` of wall time.
    Returns (losses per step, elapsed seconds).
    """
    streams = ids[: len(ids) // batch_size * batch_size].reshape(batch_size, -1)
    n_chunks = (streams.shape[1] - 1) // seq_length
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, state, start, step = [], None, time.perf_counter(), 0
    while time.perf_counter() - start < seconds and (max_steps is None or step < max_steps):
        k = step % n_chunks
        if k == 0:
            state = None
        window = streams[:, k * seq_length: (k + 1) * seq_length + 1]
        scores, state = model(window[:, :-1], state)
        loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), window[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state = state.detach()
        losses.append(loss.item())
        step += 1
    return losses, time.perf_counter() - start


@torch.no_grad()
def generate(model, prompt_ids, n, temperature, seed=0):
    """n ids drawn from a CharRNN after reading prompt_ids, at the given temperature."""
    generator = torch.Generator().manual_seed(seed)
    scores, state = model(torch.as_tensor(prompt_ids)[None], None)
    out = []
    for _ in range(n):
        weights = torch.softmax(scores[0, -1] / temperature, dim=0)
        token = int(torch.multinomial(weights, 1, generator=generator))
        out.append(token)
        scores, state = model(torch.tensor([[token]]), state)
    return out
