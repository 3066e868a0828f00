"""The command as an instructor runs it: it finds nbgrader's tools without the virtual
environment on PATH, and a broken sandbox stops it before anything is graded or written."""
import csv
import json
import os
import subprocess
import sys

from conftest import ROOT, harness

A, NB = "03-rnn", "rnn_numpy.ipynb"


def submissions(folder):
    target = folder / "alice" / A
    target.mkdir(parents=True)
    (target / NB).write_text(json.dumps(harness.load(ROOT / "solutions" / A / NB)))
    return folder


def run(subs, out, path, *extra):
    """grade.py started as the README says, with PATH=`path` (no virtual environment on it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = path
    return subprocess.run([sys.executable, str(ROOT / "autograder" / "grade.py"), str(subs),
                           "--assignment", A, "--out", str(out), "--workers", "1", *extra],
                          env=env, capture_output=True, text=True, timeout=600)


def test_the_readme_command_works_without_the_virtual_environment_on_path(tmp_path):
    assert str(ROOT / ".venv") not in "/usr/bin:/bin"
    done = run(submissions(tmp_path / "subs"), tmp_path / "out", "/usr/bin:/bin")
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    assert float(row["total"]) == 6.0 and row["status"] == "missing rnn_torch.ipynb", row


def assert_stopped_before_writing(done, out, words):
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grading cannot start:") and words in lines[0], lines
    assert "Traceback" not in done.stdout + done.stderr and "see the" not in done.stderr
    assert not (out / "gradebook.db").exists() and not (out / "grades.csv").exists()


def test_missing_bubblewrap_stops_the_command_with_one_line(tmp_path):
    tools = tmp_path / "bin"  # the system's tools, bubblewrap left out
    tools.mkdir()
    for name in ("prlimit", "setpriv", "useradd"):
        for folder in ("/usr/bin", "/usr/sbin"):
            if os.path.exists(f"{folder}/{name}"):
                os.symlink(f"{folder}/{name}", tools / name)
    out = tmp_path / "out"
    done = run(submissions(tmp_path / "subs"), out, str(tools))
    assert_stopped_before_writing(done, out, "apt-get install bubblewrap")


def test_a_failing_bubblewrap_stops_the_command_with_one_line(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (tools / "bwrap").chmod(0o755)
    out = tmp_path / "out"
    done = run(submissions(tmp_path / "subs"), out, f"{tools}:/usr/bin:/bin")
    assert_stopped_before_writing(done, out, "No permissions to create new namespace")


def test_a_kernel_that_cannot_run_in_the_sandbox_stops_the_command(tmp_path):
    """The sandbox starts but the kernel cannot run in it (here: one CPU second)."""
    out = tmp_path / "out"
    done = run(submissions(tmp_path / "subs"), out, "/usr/bin:/bin", "--cpu", "1")
    assert_stopped_before_writing(done, out, "reference solution")
