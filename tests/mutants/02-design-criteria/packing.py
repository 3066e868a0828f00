"""Plausible wrong answers for solutions/02-design-criteria/packing.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

LAST = '''
def last_valid_state(outputs, lengths):
    last = np.asarray(lengths) - 1
    rows = np.arange(len(outputs))
    if isinstance(outputs, torch.Tensor):
        rows, last = torch.as_tensor(rows), torch.as_tensor(last)
    return {expression}
'''

PACK = '''
def pack_by_hand(x, lengths):
    lengths = [int(n) for n in lengths]
    order = {order}
    batch_sizes = torch.tensor([{size} for t in range(max(lengths))], dtype=torch.int64)
    {data}
    return data, batch_sizes
'''

TIME_MAJOR = "data = torch.cat([x[order[:size], t] for t, size in enumerate(batch_sizes.tolist())])"


def pack(order="sorted(range(len(lengths)), key=lambda n: -lengths[n])", size="sum(n > t for n in lengths)",
         data=TIME_MAJOR):
    return PACK.format(order=order, size=size, data=data)


MUTANTS = [
    dict(grade_id="last_valid_state", name="last padded step", expect="the last padded step",
         source=LAST.format(expression="outputs[:, -1]")),
    dict(grade_id="last_valid_state", name="off by one", expect="off by one",
         source=LAST.format(expression="outputs[rows, (last + 1).clip(max=outputs.shape[1] - 1)]")),
    dict(grade_id="last_valid_state", name="first step", expect="this is the first step",
         source=LAST.format(expression="outputs[:, 0]")),
    dict(grade_id="last_valid_state", name="always numpy", expect="should be a torch tensor",
         source=LAST.format(expression="np.asarray(outputs)[np.arange(len(outputs)), np.asarray(lengths) - 1]")),
    dict(grade_id="pack_by_hand", name="not sorted", expect="the sequences are not sorted",
         source=pack(order="list(range(len(lengths)))",
                     data="data = torch.cat([x[[n for n in order if lengths[n] > t], t] for t in range(max(lengths))])")),
    dict(grade_id="pack_by_hand", name="sequence by sequence", expect="a PackedSequence is time-major",
         source=pack(data="data = torch.cat([x[n, :lengths[n]] for n in order])")),
    dict(grade_id="pack_by_hand", name="padding packed", expect="the padding is packed too",
         source=pack(size="len(lengths)")),
    dict(grade_id="pack_by_hand", name="increasing length", expect="increasing length",
         source=pack(order="sorted(range(len(lengths)), key=lambda n: lengths[n])",
                     data="data = torch.cat([x[[n for n in order if lengths[n] > t], t] for t in range(max(lengths))])")),
    dict(grade_id="pack_by_hand", name="ties reversed", expect="equal lengths are not in their original order",
         source=pack(order="sorted(range(len(lengths)), key=lambda n: (-lengths[n], -n))")),
    dict(grade_id="pack_by_hand", name="batch_sizes as a list", expect="should be a torch tensor",
         source=pack().replace("return data, batch_sizes", "return data, batch_sizes.tolist()")),
]
