"""The students' check command, `python -m rnncourse.check NOTEBOOK`, run as a student runs it:
on a completed exercise, an untouched one and one with mistakes. Each run starts a kernel, so
the notebook is a small one (03-rnn/rnn_numpy)."""
import json
import re
import subprocess
import sys

from conftest import ROOT, answer_cells, harness, mutants_of

SOLUTION = ROOT / "solutions" / "03-rnn" / "rnn_numpy.ipynb"
EXERCISE = ROOT / "exercises" / "03-rnn" / "rnn_numpy.ipynb"


def completed_exercise(replace=None):
    """The exercise as a student hands it in: each answer cell holds the solution's code, or
    replace[grade_id]."""
    replace = replace or {}
    answers = {harness.nbgrader_meta(c)["grade_id"]: harness.source(c)
               for c in answer_cells(harness.load(SOLUTION))}
    nb = harness.load(EXERCISE)
    for cell in answer_cells(nb):
        grade_id = harness.nbgrader_meta(cell)["grade_id"]
        cell["source"] = replace.get(grade_id, answers[grade_id])
    return nb


def visible_tests(nb):
    """{grade_id: points} of the test cells that have code (the others' tests are hidden)."""
    return {harness.nbgrader_meta(c)["grade_id"]: harness.nbgrader_meta(c)["points"]
            for c in nb["cells"] if harness.nbgrader_meta(c).get("grade")
            and "".join(line for line in harness.source(c).splitlines() if not line.startswith("#")).strip()}


def run_check(*paths):
    """Run the command on the notebooks at paths; returns (exit status, stdout, stderr), after
    checking that neither the notebooks nor their folders changed."""
    def state():
        return [(sorted(p.name for p in path.parent.iterdir()), path.read_bytes()) for path in paths]

    before = state()
    done = subprocess.run([sys.executable, "-m", "rnncourse.check", *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert state() == before, "the check command changed a notebook or left files behind"
    return done.returncode, done.stdout, done.stderr


def section(stdout, path):
    """The part of the output about the notebook at path."""
    parts = stdout.split(f"== {path}\n")
    assert len(parts) == 2, f"no section for {path}:\n{stdout}"
    return parts[1].split("\n== ")[0]


def summary_line(stdout, name):
    """The points summary's line for `name` (a test's grade_id, or total), as its words."""
    lines = [line.split() for line in stdout.split("Points (visible tests):", 1)[1].splitlines()]
    found = [words for words in lines if words and words[0] == name]
    assert len(found) == 1, f"no single summary line for {name}:\n{stdout}"
    return found[0]


def test_a_completed_exercise_and_the_solution_pass_with_full_points_and_no_warnings(tmp_path):
    path = tmp_path / EXERCISE.name
    path.write_text(json.dumps(completed_exercise()))
    # the solution notebook too: its hidden tests are removed first, as the release does
    status, stdout, stderr = run_check(path, SOLUTION)
    assert status == 0, stdout + stderr
    assert stderr == "", f"the command printed to stderr (a kernel warning?):\n{stderr}"
    tests = visible_tests(harness.load(EXERCISE))
    assert tests
    total = sum(tests.values())
    for notebook in (path, SOLUTION):
        report = section(stdout, notebook)
        for name, points in tests.items():
            assert summary_line(report, name) == [name, f"{points:g}", "/", f"{points:g}", "passed"]
        assert summary_line(report, "total") == ["total", f"{total:g}", "/", f"{total:g}"]
        assert "FAILED" not in report and "ERROR" not in report, report


def test_an_untouched_exercise_fails_every_visible_test_with_zero_points():
    status, stdout, stderr = run_check(EXERCISE)  # the committed file itself: it must not change
    assert status == 1, stdout + stderr
    assert stderr == "", stderr
    tests = visible_tests(harness.load(EXERCISE))
    for name, points in tests.items():
        assert summary_line(stdout, name) == [name, "0", "/", f"{points:g}", "FAILED"]
        exercise = name[len("test_"):]
        # either its own message, or (for an exercise that calls another) the culprit's, named first
        assert f"{exercise} is not implemented yet: replace `raise NotImplementedError()` in its " \
               f"cell with your code, run that cell, then this one." in stdout \
            or f"which your `{exercise}` calls, fails its own test" in stdout, stdout
    assert "is not implemented yet: replace `raise NotImplementedError()`" in stdout, stdout
    total = sum(tests.values())
    assert summary_line(stdout, "total") == ["total", "0", "/", f"{total:g}"]


def long_mutant():
    """The first mutant of rnn_step_forward whose message has a line longer than 80 characters
    (nbgrader validate cuts there), with that message as the in-process harness gives it."""
    for mutant in mutants_of(SOLUTION):
        if mutant["grade_id"] != "rnn_step_forward":
            continue
        results = harness.run_cells(harness.load(SOLUTION), {"rnn_step_forward": mutant["source"]},
                                    stop_after_tests_of="rnn_step_forward")
        message = results["test_rnn_step_forward"][2]
        if message.startswith("CheckFailure: ") and "\nHint: " in message \
                and max(len(line) for line in message.splitlines()) > 80:
            return mutant, message
    raise AssertionError("no mutant of rnn_step_forward with a long hint")


def test_a_notebook_with_mistakes_gets_every_message_in_full_and_exits_1(tmp_path):
    mutant, message = long_mutant()
    # and a typical slip in the next answer cell: trying something out at the top level
    forward = [c for c in answer_cells(harness.load(SOLUTION))
               if harness.nbgrader_meta(c)["grade_id"] == "rnn_forward"]
    typo = "H = h0.shape[1]\n" + harness.source(forward[0])
    path = tmp_path / EXERCISE.name
    path.write_text(json.dumps(completed_exercise({"rnn_step_forward": mutant["source"],
                                                   "rnn_forward": typo})))
    status, stdout, stderr = run_check(path)
    assert status == 1, stdout + stderr
    assert stderr == "", stderr
    # the test's whole message, hint included, each line uncut
    for line in message.splitlines():
        assert line in stdout, f"missing or cut: {line!r}\n{stdout}"
    assert summary_line(stdout, "test_rnn_step_forward") == ["test_rnn_step_forward", "0", "/", "1", "FAILED"]
    # the answer cell's error, named as the student's, with the student's own line
    assert re.search(r"ERROR in your answer cell rnn_forward\n\s+NameError: name 'h0' is not defined\n"
                     r"\s+at line 1: H = h0.shape\[1\]", stdout), stdout
    assert summary_line(stdout, "total")[1] == "0", stdout


def test_the_kernels_own_stderr_stays_off_the_terminal_and_is_quoted_when_it_dies(tmp_path):
    # what the kernel process itself writes to file descriptor 2 (ipykernel's shutdown noise, a
    # crash's last words) is not a cell's output: it must not reach the student's terminal, and
    # when the kernel dies the report quotes it so the student sees why
    nb = completed_exercise()
    first = answer_cells(nb)[0]
    first["source"] += "\nimport os\nos.write(2, b'last words of the kernel\\n')\nos._exit(3)\n"
    path = tmp_path / EXERCISE.name
    path.write_text(json.dumps(nb))
    status, stdout, stderr = run_check(path)
    assert status == 1, stdout + stderr
    assert "last words of the kernel" not in stderr, stderr
    assert "the kernel died while running" in stdout and "last words of the kernel" in stdout, stdout
