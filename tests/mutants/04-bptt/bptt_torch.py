"""Plausible wrong answers for solutions/04-bptt/bptt_torch.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

CHUNKS = '''
def tbptt_chunks(ids, seq_length):
    return [({inputs}, {targets}) for p in {starts}]
'''


def chunks(inputs="ids[p:p + seq_length]", targets="ids[p + 1:p + seq_length + 1]",
           starts="range(0, (len(ids) - 1) // seq_length * seq_length, seq_length)"):
    return CHUNKS.format(inputs=inputs, targets=targets, starts=starts)


TRAIN = '''
def train_tbptt(model, ids, seq_length, steps, lr):
    optimizer = torch.optim.{optimizer}(model.parameters(), lr=lr)
    pairs = tbptt_chunks(ids, seq_length)
    losses, h = [], None
    for step in range(steps):
        k = step % len(pairs)
        {reset}
        inputs, targets = pairs[k]
        logits, h = model(inputs[None], {state})
        loss = F.cross_entropy(logits[0], {targets}{reduction})
        {zero_grad}
        loss.backward({retain})
        optimizer.step()
        {detach}
        losses.append(loss.item())
    return losses
'''


def train(optimizer="Adam", reset="h = None if k == 0 else h", state="h", targets="targets", reduction="",
          zero_grad="optimizer.zero_grad()", retain="", detach="h = h.detach()"):
    return TRAIN.format(optimizer=optimizer, reset=reset, state=state, targets=targets, reduction=reduction,
                        zero_grad=zero_grad, retain=retain, detach=detach)


SAMPLE = '''
def sample(model, start_ids, n, temperature):
    with torch.no_grad():
        logits, h = model(torch.tensor([list(start_ids)]), None)
        out = []
        for _ in range(n):
            p = torch.softmax({scores}, dim=-1)
            {draw}
            out.append(i)
            logits, h = model(torch.tensor([[{feed}]]), {state})
    return out
'''


def sample(scores="logits[0, -1] / temperature", draw="i = int(torch.multinomial(p, 1))", feed="i", state="h"):
    return SAMPLE.format(scores=scores, draw=draw, feed=feed, state=state)


MUTANTS = [
    dict(grade_id="tbptt_chunks", name="targets not shifted", expect="targets are not shifted",
         source=chunks(targets="ids[p:p + seq_length]")),
    dict(grade_id="tbptt_chunks", name="overlapping chunks", expect="chunks overlap",
         source=chunks(starts="range(len(ids) - seq_length)")),
    dict(grade_id="tbptt_chunks", name="short last chunk kept", expect="short last chunk is kept",
         source=chunks(starts="range(0, len(ids) - 1, seq_length)")),
    dict(grade_id="tbptt_chunks", name="skips one character", expect="one character is skipped",
         source=chunks(starts="range(0, len(ids) - seq_length, seq_length + 1)")),
    dict(grade_id="tbptt_chunks", name="last full chunk lost", expect="last full chunk is missing",
         source=chunks(starts="range(0, len(ids) - seq_length - 1, seq_length)")),
    dict(grade_id="train_tbptt", name="forgets to carry the state", expect="the state is not carried",
         source=train(state="None")),
    dict(grade_id="train_tbptt", name="forgets to detach", expect="detach",
         source=train(detach="pass")),
    dict(grade_id="train_tbptt", name="no detach, retain_graph", expect="still carries autograd history",
         source=train(detach="pass", retain="retain_graph=True")),
    dict(grade_id="train_tbptt", name="targets are the inputs", expect="the targets are the inputs",
         source=train(targets="inputs")),
    dict(grade_id="train_tbptt", name="no zero_grad", expect="gradients are not reset",
         source=train(zero_grad="pass")),
    dict(grade_id="train_tbptt", name="summed loss", expect="the loss is summed",
         source=train(reduction=', reduction="sum"')),
    dict(grade_id="train_tbptt", name="state not reset after a pass", expect="fresh state",
         source=train(reset="pass")),
    dict(grade_id="sample", name="temperature ignored", expect="temperature is ignored",
         source=sample(scores="logits[0, -1]")),
    dict(grade_id="sample", name="multiplies by the temperature", expect="multiplied by the temperature",
         source=sample(scores="logits[0, -1] * temperature")),
    dict(grade_id="sample", name="argmax", expect="most likely id",
         source=sample(draw="i = int(p.argmax())")),
    dict(grade_id="sample", name="no feedback", expect="feed each sampled id back",
         source=sample(feed="start_ids[-1]")),
    dict(grade_id="sample", name="first position", expect="LAST position",
         source=sample(scores="logits[0, 0] / temperature")),
    dict(grade_id="sample", name="state not carried", expect="carry h",
         source=sample(state="None")),
    # the spec's return types and reproducibility under torch.manual_seed
    dict(grade_id="sample", name="numpy ints", expect="Python ints",
         source=sample(draw="i = np.int64(int(torch.multinomial(p, 1)))")),
    dict(grade_id="sample", name="tensor ids", expect="Python ints",
         source=sample(draw="i = torch.multinomial(p, 1)[0]", feed="int(i)")),
    dict(grade_id="sample", name="numpy sampling", expect="torch.manual_seed",
         source=sample(draw="i = int(np.random.choice(len(p), p=p.double().numpy() / float(p.double().sum())))")),
]

# A wrong answer to one exercise that another exercise uses: the test of `tested` must name the
# function at fault (`culprit`), not blame `tested` (tests/test_mutants.py).
ATTRIBUTIONS = [
    dict(grade_id="tbptt_chunks", name="targets not shifted", tested="train_tbptt",
         source=chunks(targets="ids[p:p + seq_length]")),
]
