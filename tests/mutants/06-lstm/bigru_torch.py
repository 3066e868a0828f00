"""Plausible wrong answers for solutions/06-lstm/bigru_torch.ipynb.

Each mutant replaces the answer cell; `expect` is text the failing test's message must contain.
"""
import json
from pathlib import Path

_NOTEBOOK = Path(__file__).resolve().parents[3] / "solutions" / "06-lstm" / "bigru_torch.ipynb"
_CELL = next("".join(c["source"]) for c in json.loads(_NOTEBOOK.read_text())["cells"]
             if c["metadata"].get("nbgrader", {}).get("grade_id") == "MyBiGRU")


def mutant(*replacements):
    """The solution's answer cell with (old, new) text replacements, each of which must apply."""
    source = _CELL
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


MUTANTS = [
    dict(grade_id="MyBiGRU", name="reverse direction not reversed back", expect="not reversed back",
         source=mutant(("states[t] = h                                          # stored at ITS position",
                        "states[T - 1 - t if suffix else t] = h"))),
    dict(grade_id="MyBiGRU", name="second layer reads one direction", expect="reads only one direction",
         source=mutant(("inputs = torch.cat(outputs, dim=2)", "inputs = torch.cat([outputs[0], outputs[0]], dim=2)"))),
    dict(grade_id="MyBiGRU", name="h_n grouped by direction", expect="h_n is in the wrong order",
         source=mutant(("return inputs, torch.stack(h_n)", "return inputs, torch.stack(h_n[0::2] + h_n[1::2])"))),
    dict(grade_id="MyBiGRU", name="h0 ignored", expect="h0 is ignored",
         source=mutant(("if h0 is None:\n", "if True:\n"))),
    dict(grade_id="MyBiGRU", name="parameters not registered", expect="no parameter named",
         source=mutant(("self.register_parameter(f\"{kind}_l{layer}{suffix}\", weight)",
                        "setattr(self, f\"{kind}{layer}{suffix}\", weight)"))),
]
