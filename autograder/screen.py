"""Checks made on a submission before any of it runs (in the grader's process, on the JSON).

- `read_notebook`: a notebook that is not valid JSON or not a notebook is reported, not graded.
- `match_names`: a notebook handed in under another name (`rnn_numpy (1).ipynb`) is matched to
  the expected one by the test ids it contains, and graded with a note.
- `suspicious`: the student's own cells are scanned for code that tampers with the tests or the
  grader (replacing functions of numpy/torch/the course's checks or builtins, reading IPython's
  input history, exiting the kernel, calling the course's reference implementations). These
  only flag a submission for review; what costs points is the integrity check after each test
  cell (guard.py) and nbgrader's own restoring of test cells.
"""
import ast
import json
import re

import nbformat

from course import cell_source as _source, nbgrader_meta as _meta

# The course's helper modules, which the exercises tell students to use (data, toy tasks, given
# models and training loops) and the checks they may run again; using these is fine.
HELPER_MODULES = ("checks", "data", "training", "text", "seq2seq")
# The reference modules, rnncourse.chNN: the oracles (reference_*), the values of known mistakes
# (*_mistakes) and the chapters' own models. Their check_* functions are the visible tests, which
# a student may run again, and their CONSTANTS are settings the exercises quote; anything else
# used from them is flagged for review.
REFERENCE_MODULE = r"ch\d\d"
_NOT_A_CHECK = r"(?!check_|[A-Z0-9_]+\b)"
CALLS_A_REFERENCE = (rf"\b{REFERENCE_MODULE}\.{_NOT_A_CHECK}\w"
                     rf"|from\s+rnncourse\.{REFERENCE_MODULE}\s+import\s+{_NOT_A_CHECK}"
                     rf"|rnncourse\.{REFERENCE_MODULE}\.{_NOT_A_CHECK}\w")

MODULES = {"np", "numpy", "torch", "nn", "F", "builtins", "math", "rnncourse", *HELPER_MODULES,
           *(f"ch{n:02d}" for n in range(1, 100))}


def read_notebook(path):
    """(notebook, None) or (None, reason)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, f"{path.name} cannot be read ({type(error).__name__})"
    try:
        json.loads(text)
        nb = nbformat.reads(text, as_version=4)
    except json.JSONDecodeError as error:
        return None, f"{path.name} is not valid JSON (line {error.lineno}): not graded"
    except Exception as error:  # nbformat's own errors: not a notebook
        return None, f"{path.name} is not a Jupyter notebook ({type(error).__name__}): not graded"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, f"{path.name} is not a Jupyter notebook: not graded"
    return nb, None


def grade_ids(nb):
    return {_meta(c).get("grade_id") for c in nb.get("cells", [])} - {None}


def match_names(found, expected_ids):
    """found: {file name: notebook}; expected_ids: {expected name: set of grade ids}.
    Returns {expected name: file name} for files handed in under another name."""
    mapping = {}
    missing = [n for n in expected_ids if n not in found]
    for name in missing:
        best, overlap = None, 0
        for file, nb in found.items():
            if file in expected_ids or file in mapping.values():
                continue
            common = len(grade_ids(nb) & expected_ids[name])
            if common > overlap:
                best, overlap = file, common
        if best is not None and overlap >= max(1, len(expected_ids[name]) // 2):
            mapping[name] = best
    return mapping


PATTERNS = [
    (r"\b(_ih|_oh|_i\d+|In\s*\[|Out\s*\[|history_manager|linecache|inspect\.(stack|currentframe|getsource)|sys\._getframe)",
     "reads IPython's input history or the source of running cells (hidden tests)"),
    (r"\bos\._exit\b|\bsys\.exit\b|\bquit\(|\bexit\(", "exits the kernel"),
    (CALLS_A_REFERENCE, "calls the course's reference implementations (rnncourse.chNN)"),
    (r"gradebook|/solutions|\.\./|autograded|submitted/", "refers to grader files or other folders"),
    (r"\bctypes\b|\bgc\.get_referrers|\bsys\.modules\b|__builtins__|\bimport builtins\b|\bsetattr\(",
     "manipulates the interpreter (modules, builtins)"),
]


def _assigns_module_attribute(tree):
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            while isinstance(target, ast.Attribute):
                root = target
                target = target.value
                if isinstance(target, ast.Name) and target.id in MODULES:
                    found.append(f"{target.id}.{root.attr}")
    return found


def trusted_sources(*notebooks):
    """The sources of the locked and test cells of the given (instructor) notebooks."""
    return {_source(c).strip() for nb in notebooks for c in nb.get("cells", [])
            if _meta(c).get("locked") or _meta(c).get("grade")}


def suspicious(nb, trusted=frozenset()):
    """Reasons to review a submission, from its code cells other than the course's own (a
    student cell re-labelled as locked is still scanned: cells are told apart by content)."""
    reasons = []
    for cell in nb.get("cells", []):
        source = _source(cell)
        if cell.get("cell_type") != "code" or source.strip() in trusted:
            continue
        for pattern, reason in PATTERNS:
            if re.search(pattern, source):
                reasons.append(reason)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # IPython magics, or an error the test will show
        for name in _assigns_module_attribute(tree):
            reasons.append(f"assigns {name}")
    return list(dict.fromkeys(reasons))


def sanitize(nb, release):
    """A copy of the submission that nbgrader can grade predictably: the course's cells carry the
    handed-out nbgrader metadata (first copy of a duplicated one kept, the others dropped), and a
    cell the student added loses any nbgrader metadata it claims (it is graded as plain code)."""
    import copy
    nb = copy.deepcopy(nb)
    course = {_meta(c).get("grade_id"): c for c in release.get("cells", []) if _meta(c).get("grade_id")}
    seen, cells, ids = set(), [], set()
    for cell in nb.get("cells", []):
        gid = _meta(cell).get("grade_id")
        if gid in course:
            if gid in seen:
                continue
            seen.add(gid)
            cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(course[gid]["metadata"]["nbgrader"])
            cell["cell_type"] = course[gid]["cell_type"]
            if cell["cell_type"] == "code":
                cell.setdefault("outputs", [])
                cell.setdefault("execution_count", None)
        elif "nbgrader" in cell.get("metadata", {}):
            del cell["metadata"]["nbgrader"]
        if cell.get("id") in ids or not cell.get("id"):
            cell["id"] = f"cell-{len(cells)}"
        ids.add(cell["id"])
        cells.append(cell)
    nb["cells"] = cells
    return nb


def changes(nb, release, source=None):
    """How a submission's course cells (locked and test cells) differ from the handed-out
    notebook: deleted, duplicated, reordered, edited, or with changed nbgrader metadata.
    nbgrader restores these cells from the gradebook before running; this names what it fixed."""
    keys = ("grade", "solution", "locked", "points", "task")
    ours = [c for c in release.get("cells", []) if _meta(c).get("locked") or _meta(c).get("grade")
            or _meta(c).get("solution")]
    theirs = {}
    order = []
    for cell in nb.get("cells", []):
        gid = _meta(cell).get("grade_id")
        if gid:
            theirs.setdefault(gid, []).append(cell)
            order.append(gid)
    found = []
    for cell in ours:
        gid = _meta(cell).get("grade_id")
        if gid not in theirs:
            found.append(f"cell {gid} was deleted (restored)")
            continue
        if len(theirs[gid]) > 1:
            found.append(f"cell {gid} was duplicated (one copy graded)")
        got = theirs[gid][0]
        if any(_meta(got).get(k) != _meta(cell).get(k) for k in keys):
            found.append(f"cell {gid}: nbgrader metadata changed (restored)")
        originals = {_source(cell).strip()}
        if source is not None:  # a test cell as in the instructor notebook (hidden tests in) is fine
            originals |= {_source(c).strip() for c in source.get("cells", []) if _meta(c).get("grade_id") == gid}
        if (_meta(cell).get("locked") or _meta(cell).get("grade")) and not _meta(cell).get("solution") \
                and _source(got).strip() not in originals:
            found.append(f"cell {gid} was edited (restored)")
    expected = [_meta(c).get("grade_id") for c in ours]
    present = [g for g in dict.fromkeys(order) if g in expected]
    if present != [g for g in expected if g in present]:
        found.append("cells were reordered")
    return found
