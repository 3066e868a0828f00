"""Run a notebook's code cells in-process and report each graded test cell's outcome.

Real grading goes through nbgrader (see test_grading.py); this fast path runs the many mutant
submissions of test_mutants.py without starting a kernel for each.
"""
import contextlib
import io
import json
import sys
import traceback
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # notebooks may plot; no display here

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))

from course import cell_source as source, nbgrader_meta  # noqa: E402,F401  (one home for both)


def load(path):
    return json.loads(Path(path).read_text())


def run_cells(nb, replace=None, stop_after_tests_of=None):
    """Execute nb's code cells in one fresh namespace.

    replace: {grade_id: new source} applied to the cells with that grade_id.
    stop_after_tests_of: an exercise's grade_id; the cells after its last test cell are skipped.
    Returns {grade_id: (points_awarded, max_points, message)} for graded cells, where message is
    the text of the exception the cell raised ("" when it passed).
    """
    replace = replace or {}
    namespace = {"__name__": "__main__"}
    results = {}
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if stop_after_tests_of:
        prefix = f"test_{stop_after_tests_of}"
        last = max(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id", "").startswith(prefix))
        cells = cells[:last + 1]
    for cell in cells:
        meta = nbgrader_meta(cell)
        text = replace.get(meta.get("grade_id"), source(cell))
        message = ""
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(text, f"<cell {meta.get('grade_id', '')}>", "exec"), namespace)
        except Exception as exc:  # a failing cell is an outcome, not a harness error
            message = f"{type(exc).__name__}: {exc}" or traceback.format_exc()
        if meta.get("grade"):
            points = float(meta.get("points", 0))
            results[meta["grade_id"]] = (0.0 if message else points, points, message)
    return results
