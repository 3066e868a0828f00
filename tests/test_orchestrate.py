"""autograder/orchestrate.py and worker.py without grading: shards, retries of what the
environment could not grade, and the reasons read from nbgrader's log."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import worker
from jobs import Job, Result
from orchestrate import in_turn, parse_shard
from reasons import Code


def test_shards_are_checked():
    assert parse_shard("1/3") == (1, 3)
    for bad in ["3/3", "0/0", "-1/2", "a/b", "1", "1/2/3"]:
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_a_job_the_environment_could_not_grade_is_tried_again_then_reported_not_graded():
    jobs = [Job(s, "a", files={}, notebooks=[], work="") for s in ("flaky", "broken", "fine")]
    calls = {}

    def run(job, pause):
        calls[job.student] = calls.get(job.student, 0) + 1
        if job.student == "broken" or (job.student == "flaky" and calls["flaky"] == 1):
            return Result.failed(job, Code.NOT_GRADED, detail="the kernel could not start")
        return Result(job.student, "a", scores={"nb": {"t": 1.0}})

    with ThreadPoolExecutor(2) as pool:
        results = {job.student: result for job, result in in_turn(pool, run, jobs, retries=2, pause=0)}
    assert calls == {"flaky": 2, "broken": 3, "fine": 1}
    assert results["flaky"].points() == 1.0 and not results["flaky"].not_graded
    assert results["broken"].not_graded and results["broken"].scores == {}


LOG = """[AutogradeApp | ERROR] There was an error processing assignment: /x
Traceback (most recent call last):
  File "/venv/nbgrader/apps/baseapp.py", line 1, in convert_notebooks
    raise NbGraderException(msg)
ValueError: the notebook is broken
nbgrader.utils.NbGraderException: Please see the the above traceback for details on the specific errors on the above failures."""


def test_a_failure_is_one_line_without_traceback_or_see_the_above():
    detail = worker.failure_detail(LOG)
    assert detail == "ValueError: the notebook is broken"
    assert "see the" not in worker.failure_detail("NbGraderException: Please see the the above traceback")


def test_a_kernel_that_cannot_start_is_the_environment():
    assert worker.kernel_start_failure("RuntimeError: Kernel died before replying to kernel_info")
    assert worker.kernel_start_failure("Resource temporarily unavailable (src/thread.cpp:241)")
    assert worker.kernel_start_failure(LOG) is None


def test_log_and_executed_notebooks_give_each_reason_once(tmp_path):
    log = "Missing grade cell test_a, x\nMissing grade cell test_a, x\nUnresponsiveKernelError\nUnresponsiveKernelError"
    assert [r.text() for r in worker.reasons_from_log(log)] == [
        "a test cell was deleted (put back and run): test_a", "the kernel stopped responding"]
    error = {"output_type": "error", "ename": "CellTimeoutError", "evalue": "", "traceback": []}
    cell = {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "t"}}, "outputs": [error, error]}
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": [cell, cell]}))
    assert [r.text() for r in worker.limits_hit(tmp_path)] == [
        "nb:t ran longer than the per-cell limit (stopped)"]


def test_the_sandbox_notes_become_reasons():
    notes = [{"ran": 0}, {"kernel_stuck": "test_x"}, {"cell": "test_y", "tampering": ["a was replaced"]}]
    found = worker.reasons_from_flags(notes)
    assert [r.code for r in found] == [Code.KERNEL_STUCK, Code.TAMPERING]
    assert found[1].text() == "tampering detected in test_y: a was replaced"
