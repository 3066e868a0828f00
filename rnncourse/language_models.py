"""Chapter 8's model zoo: every neural family of the course as a character language model, and
one training loop, one evaluation and one sampler for all of them. (The n-gram baseline is
chapter 1's `ch01.ngram_table`.)

Every model maps ids (B, T) long to next-character scores (B, T, V). Every model reads the same
number of characters per update; recurrent models read the training text as parallel streams
with their state carried (truncated BPTT, chapter 4), the Transformer reads random windows of its
context, since it has no state to carry.
"""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.data import char_vocab, load_corpus


# ---------------------------------------------------------------------------------------------
# The split
# ---------------------------------------------------------------------------------------------

def shakespeare_split(train_fraction=0.9):
    """(chars, train_ids, valid_ids): the whole corpus, its first train_fraction for training and
    the rest for validation, as 1-D long tensors of character ids (vocabulary of the whole text)."""
    text = load_corpus()
    chars, char_to_ix = char_vocab(text)
    ids = torch.tensor([char_to_ix[c] for c in text], dtype=torch.long)
    boundary = int(train_fraction * len(ids))
    return chars, ids[:boundary], ids[boundary:]


# ---------------------------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------------------------

class RecurrentLM(nn.Module):
    """Embedding -> nn.RNN / nn.LSTM / nn.GRU (num_layers) -> linear read-out to V scores."""

    def __init__(self, V, cell, hidden_size, num_layers=1, embed_size=64):
        super().__init__()
        layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.embed = nn.Embedding(V, embed_size)
        self.rnn = layer(embed_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden_size, V)

    def forward(self, ids, state=None):
        """ids: (B, T) long; state: the layer's state or None. Returns (scores (B, T, V), state)."""
        h, state = self.rnn(self.embed(ids), state)
        return self.out(h), state


def sinusoidal_positions(T, D):
    """(T, D) float32: PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(...)."""
    position = torch.arange(T, dtype=torch.float32)[:, None]
    frequency = torch.exp(-math.log(10000.0) * torch.arange(0, D, 2, dtype=torch.float32) / D)
    pe = torch.zeros(T, D)
    pe[:, 0::2] = torch.sin(position * frequency)
    pe[:, 1::2] = torch.cos(position * frequency)
    return pe


class SelfAttention(nn.Module):
    """Multi-head causal self-attention: one linear layer makes queries, keys and values, PyTorch's
    fused `F.scaled_dot_product_attention` (with is_causal=True) computes softmax(QK^T/sqrt(d_k))V
    per head, a second linear layer mixes the heads. Exercise 8.2 writes that attention out."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        """x: (B, T, d). Returns (B, T, d); position t sees positions <= t only."""
        B, T, d = x.shape
        # (B, T, 3 * d) -> three tensors (B, heads, T, d / heads)
        q, k, v = self.qkv(x).view(B, T, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(heads.transpose(1, 2).reshape(B, T, d))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attention = SelfAttention(d_model, num_heads)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        """x: (B, T, d). Returns (B, T, d)."""
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TransformerLM(nn.Module):
    """Embedding + sinusoidal positions -> causal Transformer blocks -> read-out; context `context`."""

    def __init__(self, V, d_model, num_heads, num_layers, context):
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(V, d_model)
        self.register_buffer("positions", sinusoidal_positions(context, d_model), persistent=False)
        self.blocks = nn.ModuleList(Block(d_model, num_heads) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, V)

    def forward(self, ids, state=None):
        """ids: (B, T) long with T <= context. Returns (scores (B, T, V), None): no state."""
        T = ids.shape[1]
        x = self.embed(ids) + self.positions[:T]
        for block in self.blocks:
            x = block(x)
        return self.out(self.norm(x)), None


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# Training and evaluation: one loop for every model, each family read the way it is trained
# ---------------------------------------------------------------------------------------------

def is_recurrent(model):
    return isinstance(model, RecurrentLM)


def _detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


@torch.no_grad()
def evaluate(model, valid_ids, streams=16, chunk=256):
    """Mean cross-entropy (nats/char) of the characters of valid_ids after the first, each given
    the ones before it.

    A recurrent model reads the text as `streams` equal streams, each carrying its state from
    chunk to chunk (as in training); the last (len(valid_ids) - 1) % streams characters, fewer
    than `streams`, do not fit in a stream and are left out. The Transformer reads windows of its
    context that overlap by half; each character is scored exactly once, with at least half a
    context before it (except in the first window), the last window ending at the last character."""
    model.eval()
    if is_recurrent(model):
        total, count, state = 0.0, 0, None
        length = (len(valid_ids) - 1) // streams
        inputs = valid_ids[:streams * length].reshape(streams, length)
        targets = valid_ids[1:streams * length + 1].reshape(streams, length)
        for start in range(0, length, chunk):
            scores, state = model(inputs[:, start:start + chunk], state)
            total += F.cross_entropy(scores.reshape(-1, scores.shape[-1]),
                                     targets[:, start:start + chunk].reshape(-1), reduction="sum").item()
            count += targets[:, start:start + chunk].numel()
    else:
        total, count = _evaluate_windows(model, valid_ids)
    model.train()
    return total / count


def _evaluate_windows(model, valid_ids, batch=256):
    """(summed loss, number of characters) of a context-limited model over valid_ids, scoring
    every target once: window k reads valid_ids[start:start + C] and scores its positions from
    `first` on (the ones no earlier window scored)."""
    C, half, n = model.context, model.context // 2, len(valid_ids) - 1  # n targets
    windows, scored = [(0, 0)], C  # (start, first position it scores); targets 0..scored-1 done
    while scored < n:
        start = min(scored - half, n - C)
        windows.append((start, scored - start))
        scored = start + C
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        starts, firsts = zip(*windows[i:i + batch])
        rows = torch.stack([valid_ids[s:s + C + 1] for s in starts])
        scores, _ = model(rows[:, :-1])
        losses = F.cross_entropy(scores.transpose(1, 2), rows[:, 1:], reduction="none")  # (B, C)
        keep = torch.arange(C)[None, :] >= torch.tensor(firsts)[:, None]
        total += losses[keep].sum().item()
        count += int(keep.sum())
    return total, count


def train(model, train_ids, valid_ids, updates, batch_size, seq_length, lr, seed=0, warmup=50,
          eval_every=100, eval_chars=20_000, clip=1.0):
    """Adam for `updates` updates of batch_size x seq_length characters each; the learning rate
    rises linearly over `warmup` updates, then decays linearly to 0 at the last update (ending
    the budget on small steps is worth a few hundredths of a nat); gradient norm clipped.

    A recurrent model reads the training text as batch_size streams by truncated BPTT (chapter 4):
    each update is the next chunk of seq_length characters of every stream, the state carried
    and detached. The Transformer reads batch_size random windows of seq_length characters (its
    context): it has no state to carry. Every eval_every updates the loss on the first eval_chars
    characters of the validation text is recorded.
    Returns dict(train=[loss per update], valid=[(update, loss)], seconds=wall-clock training
    time, cpu_seconds=the CPU time of those updates), evaluations excluded from both. On a busy
    machine the wall clock includes the time other programs held the core; the CPU time does not.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda u: min((u + 1) / warmup, 1 - u / updates))
    length = (len(train_ids) - 1) // batch_size
    inputs = train_ids[:batch_size * length].reshape(batch_size, length)
    targets = train_ids[1:batch_size * length + 1].reshape(batch_size, length)
    chunks = length // seq_length
    offsets = torch.arange(seq_length + 1)
    history, state = dict(train=[], valid=[], seconds=0.0, cpu_seconds=0.0), None
    for update in range(updates):
        start, cpu_start = time.perf_counter(), time.process_time()
        if is_recurrent(model):
            k = update % chunks
            if k == 0:
                state = None
            x = inputs[:, k * seq_length:(k + 1) * seq_length]
            y = targets[:, k * seq_length:(k + 1) * seq_length]
        else:
            starts = torch.randint(0, len(train_ids) - seq_length - 1, (batch_size,), generator=generator)
            window = train_ids[starts[:, None] + offsets]
            x, y = window[:, :-1], window[:, 1:]
        scores, state = model(x, state)
        loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        schedule.step()
        state = _detach(state)
        history["seconds"] += time.perf_counter() - start  # evaluation is not training time
        history["cpu_seconds"] += time.process_time() - cpu_start
        history["train"].append(loss.item())
        if (update + 1) % eval_every == 0 or update + 1 == updates:
            history["valid"].append((update + 1, evaluate(model, valid_ids[:eval_chars])))
    return history


# ---------------------------------------------------------------------------------------------
# The zoo: each model built and trained from a spec, two at a time on two cores
# ---------------------------------------------------------------------------------------------

def build(spec, V):
    """The model of a spec dict(kind="rnn"|"lstm"|"gru"|"transformer", **sizes)."""
    sizes = {k: v for k, v in spec.items() if k not in ("name", "kind", "lr")}
    if spec["kind"] == "transformer":
        return TransformerLM(V, **sizes)
    return RecurrentLM(V, spec["kind"], **sizes)


def _train_one(spec, budget):
    """Worker: train one spec from seed 0 on the split; returns (state dict, history, full loss)."""
    torch.set_num_threads(1)  # one core per model; two models train side by side
    chars, train_ids, valid_ids = shakespeare_split()
    torch.manual_seed(0)
    model = build(spec, len(chars))
    history = train(model, train_ids, valid_ids, lr=spec["lr"], **budget)
    start = time.perf_counter()
    history["valid_loss"] = evaluate(model, valid_ids)
    history["eval_seconds"] = time.perf_counter() - start
    return model.state_dict(), history


def train_zoo(specs, budget, processes=2):
    """Train every spec with the same budget dict(updates=, batch_size=, seq_length=), `processes`
    models at a time in separate processes (one thread each). Returns {name: (model, history)}."""
    import concurrent.futures
    import multiprocessing

    chars, _, _ = shakespeare_split()
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: safe with torch threads
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = {spec["name"]: pool.submit(_train_one, spec, budget) for spec in specs}
        results = {}
        for spec in specs:
            state, history = futures[spec["name"]].result()
            model = build(spec, len(chars))
            model.load_state_dict(state)
            results[spec["name"]] = (model, history)
    return results


@torch.no_grad()
def sample(model, prompt_ids, n, temperature, seed=0):
    """n ids drawn after prompt_ids at the given temperature; recurrent models carry their state,
    the Transformer re-reads its last `context` characters at every step."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    ids = list(prompt_ids)
    scores, state = model(torch.tensor([ids]))
    for _ in range(n):
        weights = torch.softmax(scores[0, -1] / temperature, dim=0)
        ids.append(int(torch.multinomial(weights, 1, generator=generator)))
        if is_recurrent(model):
            scores, state = model(torch.tensor([ids[-1:]]), state)
        else:
            scores, _ = model(torch.tensor([ids[-model.context:]]))
    model.train()
    return ids[len(prompt_ids):]


def ngram_sample(train_ids, n, V, alpha, prompt_ids, length, temperature, seed=0):
    """`length` ids drawn after prompt_ids (at least n - 1 of them) from the add-alpha n-gram
    counted on train_ids (chapter 1's model): each next id with probability proportional to
    (count after the last n - 1 ids + alpha) ** (1 / temperature)."""
    ids = np.asarray(train_ids, dtype=np.int64)
    weights = V ** np.arange(n - 2, -1, -1)  # a context of n - 1 ids as one integer
    codes = sum(ids[k:len(ids) - n + 1 + k] * weights[k] for k in range(n - 1))
    following = ids[n - 1:]
    rng = np.random.default_rng(seed)
    out = [int(i) for i in prompt_ids]
    for _ in range(length):
        context = int(np.dot(out[len(out) - (n - 1):], weights))
        counts = np.bincount(following[codes == context], minlength=V) + alpha
        p = counts ** (1.0 / temperature)
        out.append(int(rng.choice(V, p=p / p.sum())))
    return out[len(prompt_ids):]
