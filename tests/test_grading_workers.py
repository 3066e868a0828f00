"""The long-lived grading workers (autograder/worker.py): a submission that outlives its time
limit fails alone, a dead worker is replaced, and a regrade that fails replaces the earlier
scores with 0 (nothing earned stays from a grading that did not finish)."""
import dataclasses
import json
import os
import signal

from conftest import ROOT, harness
import course
import worker
from jobs import Job, Limits
from orchestrate import grade
from records import Records

A = "03-rnn"
NB = "rnn_numpy.ipynb"
FULL = 6.0
NUMPY_TESTS = ["rnn_numpy:test_rnn_step_forward", "rnn_numpy:test_rnn_step_forward_hidden",
               "rnn_numpy:test_rnn_forward", "rnn_numpy:test_rnn_forward_hidden"]


def submit(submissions, student, nb):
    folder = submissions / student / A
    folder.mkdir(parents=True, exist_ok=True)
    (folder / NB).write_text(json.dumps(nb))


def slow_solution(seconds):
    """The solution, with a sleep in the forward answer (under the per-cell limit)."""
    nb = harness.load(ROOT / "solutions" / A / NB)
    for cell in nb["cells"]:
        if harness.nbgrader_meta(cell).get("grade_id") == "rnn_forward":
            cell["source"] = f"import time\ntime.sleep({seconds})\n" + harness.source(cell)
    return nb


def points(row):
    return sum(row[k] for k in NUMPY_TESTS)


def test_submission_over_its_time_limit_fails_alone_and_replaces_earlier_scores(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    solution = harness.load(ROOT / "solutions" / A / NB)
    submit(submissions, "alice", solution)
    first = {r["student"]: r for r in grade(submissions, out, [A], workers=1, quiet=True)}
    assert points(first["alice"]) == FULL
    assert (out / "feedback" / "alice" / A / "rnn_numpy.html").exists()

    # alice resubmits a notebook that takes longer than the whole-submission limit; bob, graded
    # after her by the same (replaced) worker, is not affected
    submit(submissions, "alice", slow_solution(40))
    submit(submissions, "bob", solution)
    os.environ["RNN_GRADE_NOTEBOOK_TIMEOUT"] = "25"
    try:
        again = {r["student"]: r for r in grade(submissions, out, [A], workers=1,
                                                         regrade=True, quiet=True)}
    finally:
        del os.environ["RNN_GRADE_NOTEBOOK_TIMEOUT"]
    assert "failed to run: the notebooks took longer than 25 s in total" in again["alice"]["status"]
    assert again["alice"]["total"] == 0, "scores of the earlier grading survived a failed regrade"
    assert not (out / "feedback" / "alice" / A).exists(), "stale feedback of the earlier grading"
    assert points(again["bob"]) == FULL and again["bob"]["status"] == "missing rnn_torch.ipynb"


def test_a_dead_worker_is_replaced_and_errors_are_reported(tmp_path):
    handle = worker.WorkerProcess(tmp_path / "worker.log")
    handle.start()
    empty = Job("s", A, files={}, notebooks=[NB], work=str(tmp_path / "job"),
                scratch=str(tmp_path / "scratch"), limits=Limits(notebook_timeout=60))
    try:
        assert handle.grade(empty).scores == {}
        first = handle.process.pid
        os.kill(first, signal.SIGKILL)
        handle.process.wait()
        assert handle.grade(empty).scores == {}, "the dead worker was not replaced"
        assert handle.process.pid != first
        # a job the worker cannot do (no template gradebook) is an error, and the worker lives on
        broken = dataclasses.replace(empty, files={NB: str(ROOT / "solutions" / A / NB)},
                                     template_db=str(tmp_path / "missing.db"))
        result = handle.grade(broken)
        assert "FileNotFoundError" in result.status()
        assert handle.process.poll() is None and handle.process.pid != first
    finally:
        handle.stop()


def test_an_interrupted_run_leaves_no_claim_and_the_next_run_finishes(tmp_path):
    """Ctrl-C while grading: the command stops at once, keeps what it graded, gives up its claims
    on the rest, and running it again grades only the rest."""
    import subprocess
    import sys
    import time
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    solution = harness.load(ROOT / "solutions" / A / NB)
    for student in ["s1", "s2", "s3", "s4", "s5", "s6"]:
        submit(submissions, student, solution)
    command = [sys.executable, str(ROOT / "autograder" / "grade.py"), str(submissions),
               "--assignment", A, "--out", str(out), "--workers", "1"]
    # Ctrl-C must reach the command even when pytest runs with SIGINT ignored (a background job of
    # a non-interactive shell): the child starts with the default disposition, not its parent's
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = ""
    for line in run.stdout:
        log += line
        if "1/6" in line:
            break
    interrupted = time.monotonic()
    run.send_signal(signal.SIGINT)
    log += run.stdout.read()
    run.wait(timeout=60)
    assert time.monotonic() - interrupted < 30, "the command did not stop promptly"
    assert run.returncode == 130 and "interrupted" in log, log
    statuses = Records(course.sqlite_url(out)).all(A)
    assert "running" not in statuses.values(), statuses
    assert 1 <= len(statuses) < 6, statuses

    rows = grade(submissions, out, [A], workers=1, quiet=True)
    assert {r["student"]: points(r) for r in rows} == {s: FULL for s in ["s1", "s2", "s3", "s4", "s5", "s6"]}
