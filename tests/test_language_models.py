"""Chapter 8's model zoo (rnncourse/language_models.py) against independent oracles: PyTorch's
own nn.MultiheadAttention, chapter 8's loop-by-loop positional encoding, a direct sum of the
losses, and the defining properties (causality, carried state) of each family."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse import ch08
from rnncourse import language_models as lm


def test_sinusoidal_positions_match_the_formula_entry_by_entry():
    assert torch.allclose(lm.sinusoidal_positions(11, 12), ch08.reference_sinusoidal_positions(11, 12),
                          atol=1e-6)


def test_self_attention_is_pytorchs_multi_head_attention_with_a_causal_mask():
    torch.manual_seed(0)
    d, heads, T = 12, 3, 7
    ours = lm.SelfAttention(d, heads)
    theirs = nn.MultiheadAttention(d, heads, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.proj.weight)
        theirs.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(2, T, d)
    may_attend = torch.ones(T, T, dtype=torch.bool).tril()
    expected, _ = theirs(x, x, x, attn_mask=~may_attend, need_weights=False)
    assert torch.allclose(ours(x), expected, atol=1e-5)


def test_the_transformer_never_reads_a_later_character():
    torch.manual_seed(0)
    model = lm.TransformerLM(V=20, d_model=16, num_heads=2, num_layers=2, context=10).eval()
    ids = torch.randint(0, 20, (3, 10))
    changed = ids.clone()
    changed[:, 6:] = (changed[:, 6:] + 1) % 20
    before, _ = model(ids)
    after, _ = model(changed)
    assert torch.allclose(before[:, :6], after[:, :6], atol=1e-6)
    assert not torch.allclose(before[:, 6:], after[:, 6:])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_recurrent_model_read_in_chunks_with_its_state_carried_reads_as_one_sequence(cell):
    torch.manual_seed(0)
    model = lm.RecurrentLM(V=20, cell=cell, hidden_size=8, num_layers=2, embed_size=5).eval()
    ids = torch.randint(0, 20, (3, 12))
    whole, _ = model(ids)
    first, state = model(ids[:, :5])
    second, _ = model(ids[:, 5:], state)
    assert torch.allclose(torch.cat([first, second], dim=1), whole, atol=1e-6)


class CopyModel(nn.Module):
    """Scores favour repeating the character just read: the loss of each position depends on
    its own input and target only, so a direct sum over the text is the oracle."""

    def __init__(self, V, context=None):
        super().__init__()
        self.V, self.context = V, context

    def forward(self, ids, state=None):
        return 3.0 * F.one_hot(ids, self.V).float(), None


def direct_loss(model, ids):
    scores, _ = model(ids[None, :-1])
    return F.cross_entropy(scores[0], ids[1:]).item()


@pytest.mark.parametrize("n", [100, 101, 117, 64 + 1, 64 + 33])
def test_a_context_limited_model_is_scored_on_every_character_once(n):
    ids = torch.randint(0, 7, (n,), generator=torch.Generator().manual_seed(n))
    model = CopyModel(7, context=64)
    assert not lm.is_recurrent(model)
    assert lm.evaluate(model, ids) == pytest.approx(direct_loss(model, ids), rel=1e-6)
    total, count = lm._evaluate_windows(model, ids)
    assert count == n - 1


def test_a_recurrent_model_is_scored_on_its_streams():
    torch.manual_seed(0)
    model = lm.RecurrentLM(V=7, cell="gru", hidden_size=6).eval()
    ids = torch.randint(0, 7, (16 * 40 + 1,), generator=torch.Generator().manual_seed(1))
    streams = ids[:-1].reshape(16, 40)
    scores, _ = model(streams)
    expected = F.cross_entropy(scores.reshape(-1, 7), ids[1:].reshape(16, 40).reshape(-1)).item()
    assert lm.evaluate(model, ids, streams=16, chunk=15) == pytest.approx(expected, rel=1e-5)


def test_training_lowers_the_loss_and_records_the_curves():
    torch.manual_seed(0)
    chars, train_ids, valid_ids = lm.shakespeare_split()
    model = lm.RecurrentLM(len(chars), "gru", hidden_size=32, embed_size=16)
    before = lm.evaluate(model, valid_ids[:2000])
    history = lm.train(model, train_ids, valid_ids, updates=40, batch_size=8, seq_length=32, lr=2e-2,
                       warmup=5, eval_every=20, eval_chars=2000)
    assert before == pytest.approx(math.log(len(chars)), abs=0.2)
    assert history["valid"][-1][1] < before - 0.5, history["valid"]
    assert [u for u, _ in history["valid"]] == [20, 40] and len(history["train"]) == 40


def test_an_ngram_sample_follows_the_counts():
    # in "abcabc...", after "ab" comes "c" only: with a tiny alpha every draw follows the text
    text = torch.tensor([0, 1, 2] * 50)
    drawn = lm.ngram_sample(text, 3, 4, 1e-9, [0, 1], 30, 1.0, seed=0)
    assert drawn == [2, 0, 1] * 10
    # after a context never seen, the draw is uniform over the vocabulary (alpha only)
    unseen = [lm.ngram_sample(text, 3, 4, 0.5, [3, 3], 1, 1.0, seed=s)[0] for s in range(400)]
    assert sorted(set(unseen)) == [0, 1, 2, 3]
    assert max(unseen.count(v) for v in range(4)) < 140
    # a bigram of "aab" repeated: after "a", "a" and "b" come equally often; temperature 0.5
    # squares the weights, which keeps them equal
    text = torch.tensor([0, 0, 1] * 100)
    after_a = [lm.ngram_sample(text, 2, 2, 1e-9, [0], 1, 0.5, seed=s)[0] for s in range(400)]
    assert 160 < after_a.count(1) < 240
