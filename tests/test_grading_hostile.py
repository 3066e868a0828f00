"""Bad and hostile submissions: each is graded or flagged with a clear reason, never stops the
run, and never changes anyone else's grade. One fixture submission per case, all made from
03-rnn's rnn_numpy notebook (cheap: numpy only) and graded in one run with 2 workers."""
import csv
import json
import os
from pathlib import Path

import pytest

from conftest import ROOT, harness
import course
import intake
from orchestrate import grade

A = "03-rnn"
NB = "rnn_numpy.ipynb"
HIDDEN_LINE = "for seed, (N, D, H, scale) in enumerate(cases, start=31):"
# the tests of rnn_numpy: visible and hidden test of rnn_step_forward and of rnn_forward
STEP = ["rnn_numpy:test_rnn_step_forward", "rnn_numpy:test_rnn_step_forward_hidden"]
FORWARD = ["rnn_numpy:test_rnn_forward", "rnn_numpy:test_rnn_forward_hidden"]
FULL = 6.0

WRONG_STEP = '''def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = x @ Wx + prev_h @ Wh + b   # tanh missing
    return next_h, (x, prev_h, Wx, Wh, next_h)
'''


def solution():
    return harness.load(ROOT / "solutions" / A / NB)


def exercise():
    return harness.load(ROOT / "exercises" / A / NB)


def cell(nb, grade_id):
    return next(c for c in nb["cells"] if harness.nbgrader_meta(c).get("grade_id") == grade_id)


def with_answer(source, gid="rnn_step_forward"):
    """The solution notebook with one answer cell replaced by `source`."""
    nb = solution()
    cell(nb, gid)["source"] = source
    return nb


def victim_path(submissions):
    return submissions / "victim" / A / NB


def cases(submissions):
    """{student: (notebook JSON text or None for no file, file name)}"""
    out = {}
    sol = solution()
    out["victim"] = (json.dumps(sol), NB)
    out["corrupt_json"] = (json.dumps(sol)[:5000], NB)
    out["wrong_name"] = (json.dumps(sol), "rnn_numpy (1).ipynb")
    out["missing"] = (None, NB)
    nb = solution()
    nb["cells"] = [c for c in nb["cells"] if harness.nbgrader_meta(c).get("grade_id") != "test_rnn_step_forward_hidden"]
    out["deleted_test"] = (json.dumps(nb), NB)
    nb = solution()
    i = nb["cells"].index(cell(nb, "test_rnn_forward"))
    nb["cells"].insert(i, json.loads(json.dumps(nb["cells"][i])))
    out["duplicated_test"] = (json.dumps(nb), NB)
    nb = solution()
    t = cell(nb, "test_rnn_forward")
    nb["cells"].remove(t)
    nb["cells"].insert(nb["cells"].index(cell(nb, "rnn_forward")), t)  # test before the answer
    out["reordered_test"] = (json.dumps(nb), NB)
    nb = exercise()
    for gid in ["test_rnn_step_forward", "test_rnn_step_forward_hidden", "test_rnn_forward", "test_rnn_forward_hidden"]:
        cell(nb, gid)["source"] = "pass  # all tests pass, trust me"
    out["edited_tests"] = (json.dumps(nb), NB)
    nb = exercise()
    meta = harness.nbgrader_meta(cell(nb, "test_rnn_forward"))
    meta["points"] = 100
    harness.nbgrader_meta(cell(nb, "rnn_step_forward")).update(grade=True, points=50, locked=True)
    out["changed_metadata"] = (json.dumps(nb), NB)
    out["infinite_loop"] = (json.dumps(with_answer("while True:\n    pass\n", "rnn_forward")), NB)
    out["memory_bomb"] = (json.dumps(with_answer("hog = []\nwhile True:\n    hog.append(bytearray(2**28))\n", "rnn_forward")), NB)
    out["sys_exit"] = (json.dumps(with_answer("import sys\nsys.exit()\n", "rnn_forward")), NB)
    out["os_exit"] = (json.dumps(with_answer("import os\nos._exit(0)\n", "rnn_forward")), NB)
    out["kernel_crash"] = (json.dumps(with_answer("import ctypes\nctypes.string_at(0)\n", "rnn_forward")), NB)
    out["output_flood"] = (json.dumps(with_answer(
        "import sys\nfor i in range(30000):\n    print('flood ' * 20)\n" + harness.source(cell(solution(), "rnn_step_forward")))), NB)
    out["patch_checks"] = (json.dumps(with_answer(WRONG_STEP + "checks.check_close = lambda *a, **k: None\n")), NB)
    out["patch_numpy"] = (json.dumps(with_answer(
        WRONG_STEP + "np.allclose = lambda *a, **k: True\nnp.all = lambda *a, **k: True\n")), NB)
    out["patch_torch"] = (json.dumps(with_answer(
        WRONG_STEP + "import torch\ntorch.allclose = lambda *a, **k: True\nnp.abs = lambda x: x * 0\n")), NB)
    out["patch_builtins"] = (json.dumps(with_answer(WRONG_STEP + "import builtins\nbuiltins.all = lambda *a: True\n")), NB)
    # replacing bool breaks ipykernel itself: the kernel stops answering
    out["stuck_kernel"] = (json.dumps(with_answer(WRONG_STEP + "import builtins\nbuiltins.bool = lambda *a: True\n")), NB)
    out["swap_module"] = (json.dumps(with_answer(
        WRONG_STEP + "import types\nchecks = types.SimpleNamespace(random_arrays=checks.random_arrays, "
        "call=checks.call, check_close=lambda *a, **k: None)\n")), NB)
    spy = f'''import os
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    # print the running cell (the hidden tests) from IPython's input history
    print(get_ipython().user_ns["_ih"][-1])
    raise ValueError("no answer")
for path in ["{ROOT}/solutions/{A}/{NB}", "{ROOT}/grading/gradebook.db", "/work", "{submissions}"]:
    try:
        print(path, os.listdir(path) if os.path.isdir(path) else open(path).read()[:100])
    except OSError as error:
        print("blocked:", type(error).__name__)
'''
    out["read_hidden"] = (json.dumps(with_answer(spy)), NB)
    vandal = f'''import os, json
for path in ["{victim_path(submissions)}", "../victim/{A}/{NB}", "/tmp/evil.txt"]:
    try:
        with open(path, "w") as handle:
            handle.write("{{}}")
        print("wrote", path)
    except OSError as error:
        print("blocked:", type(error).__name__)
''' + harness.source(cell(solution(), "rnn_step_forward"))
    out["write_others"] = (json.dumps(with_answer(vandal)), NB)
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    submissions = tmp_path_factory.mktemp("hostile")
    for student, (text, name) in cases(submissions).items():
        folder = submissions / student / A
        folder.mkdir(parents=True)
        if text is not None:
            (folder / name).write_text(text)
    victim_before = victim_path(submissions).read_bytes()
    out = tmp_path_factory.mktemp("hostile-grading")
    os.environ["RNN_GRADE_CELL_TIMEOUT"] = "45"
    os.environ["RNN_GRADE_MEMORY"] = str(2 * 2**30)
    try:
        rows = grade(submissions, out, [A], workers=2)
    finally:
        del os.environ["RNN_GRADE_CELL_TIMEOUT"], os.environ["RNN_GRADE_MEMORY"]
    return {r["student"]: r for r in rows}, out, submissions, victim_before


def numpy_points(row):
    return sum(row[k] for k in STEP + FORWARD)


def test_every_case_has_a_row_and_the_victim_keeps_full_marks(hostile):
    rows, out, submissions, before = hostile
    assert set(rows) == set(cases(submissions))
    assert numpy_points(rows["victim"]) == FULL
    assert victim_path(submissions).read_bytes() == before, "a submission wrote into another's folder"
    assert not Path("/tmp/evil.txt").exists()
    table = list(csv.DictReader(open(out / "grades.csv")))
    assert len(table) == len(rows)


EXPECTED = {
    # student: (rnn_numpy points, words that must be in the status)
    "corrupt_json": (0, "is not valid JSON"),
    "wrong_name": (FULL, "graded as rnn_numpy.ipynb (wrong file name)"),
    "missing": (0, "missing rnn_numpy.ipynb"),
    "deleted_test": (FULL, "test_rnn_step_forward_hidden was deleted"),
    "duplicated_test": (FULL, "test_rnn_forward was duplicated"),
    "reordered_test": (5.0, "reordered"),  # the visible forward test ran before the answer
    "edited_tests": (0, "test_rnn_forward was edited"),
    "changed_metadata": (0, "metadata changed"),
    "infinite_loop": (3.0, "ran longer than the per-cell limit"),
    "memory_bomb": (3.0, "ran out of memory"),
    "sys_exit": (3.0, "exits the kernel"),
    "os_exit": (3.0, "the kernel died"),
    "kernel_crash": (3.0, "the kernel died"),
    "output_flood": (FULL, "missing rnn_torch.ipynb"),
    "patch_checks": (0, "tampering detected"),
    "patch_numpy": (0, "tampering detected"),
    "patch_torch": (0, "tampering detected"),
    "patch_builtins": (0, "tampering detected"),
    "stuck_kernel": (0, "the kernel stopped responding in test_rnn_step_forward"),
    "swap_module": (0, "tampering detected"),
    "read_hidden": (0, "flagged for review"),
    "write_others": (FULL, "flagged for review"),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_case_outcome(hostile, student):
    rows, *_ = hostile
    row = rows[student]
    points, words = EXPECTED[student]
    assert numpy_points(row) == points, (row, row["status"])
    assert words in row["status"], row["status"]
    assert row["max"] == rows["victim"]["max"]
    if student == "output_flood":
        assert row["status"] == "missing rnn_torch.ipynb"


def test_tampering_names_what_was_replaced(hostile):
    rows, *_ = hostile
    assert "numpy.allclose" in rows["patch_numpy"]["status"] or "numpy.all " in rows["patch_numpy"]["status"]
    assert "builtins.all was replaced" in rows["patch_builtins"]["status"]
    assert "rnncourse.checks.check_close" in rows["patch_checks"]["status"]
    assert "checks" in rows["swap_module"]["status"]


def test_no_feedback_shows_hidden_tests_or_grader_files(hostile):
    rows, out, submissions, _ = hostile
    pages = sorted((out / "feedback").glob(f"*/{A}/*.html"))
    assert pages
    for page in pages:
        text = page.read_text(errors="replace")
        assert HIDDEN_LINE not in text, f"{page} shows a hidden test"
    spy = (out / "feedback" / "read_hidden" / A / "rnn_numpy.html").read_text()
    assert "blocked: FileNotFoundError" in spy and "output removed by the grader" in spy


def test_rerun_skips_and_regrade_replaces(hostile):
    rows, out, submissions, _ = hostile
    again = grade(submissions, out, [A], workers=2, quiet=True)
    assert {r["student"]: r["total"] for r in again} == {s: r["total"] for s, r in rows.items()}
    from nbgrader.api import Gradebook
    with Gradebook(course.sqlite_url(out)) as gradebook:
        assert len(gradebook.assignment_submissions(A)) == len(rows)


def test_lms_zip_is_unpacked_by_student(tmp_path):
    """An LMS download (files named <student>_<notebook>.ipynb in a zip) becomes one folder per
    student, by nbgrader's zip_collect."""
    import zipfile
    with zipfile.ZipFile(tmp_path / "download.zip", "w") as archive:
        archive.writestr("alice_rnn_numpy.ipynb", json.dumps(solution()))
        archive.writestr("bob_rnn_numpy.ipynb", json.dumps(exercise()))
    out = tmp_path / "out"
    out.mkdir()
    folder = intake.from_zip(tmp_path / "download.zip", out, A)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.glob("*/*/*.ipynb")) == \
        [f"alice/{A}/{NB}", f"bob/{A}/{NB}"]
