"""Before the first submission: check that grading can work here, and stop with one line saying
what is missing and how to install it, before anything is written to the gradebook or the table.

In order: bubblewrap is installed and can make a sandbox, the sandbox user exists (when the
grader is root), and the reference solution of one notebook, graded like a submission (a kernel
started in the sandbox, importing the course package), gets full marks.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import sandbox
from course import SOLUTIONS, nbgrader_meta, notebooks_of
from jobs import Job


class NotReady(Exception):
    """Grading cannot work here; the message is one line: what is missing, how to fix it."""


def check_bubblewrap():
    if shutil.which("bwrap") is None:
        raise NotReady("bubblewrap (bwrap) is not installed: install it (Debian/Ubuntu: "
                       "apt-get install bubblewrap) and run the command again")
    done = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net",
                           "--die-with-parent", "true"], capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1][:160]
        raise NotReady(f"bubblewrap cannot make a sandbox here ({detail}): run the grader as root, "
                       "or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)")


def check_user():
    if os.geteuid() != 0:
        return  # kernels run as the grader's own user, in the sandbox
    try:
        sandbox.ensure_user()  # this worker slot's user (rnngrader0, rnngrader1, ...)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        raise NotReady(f"the sandbox users ({sandbox.USER}0, {sandbox.USER}1, ...) do not exist and "
                       f"cannot be made ({error}): useradd --system --no-create-home --shell "
                       f"/usr/sbin/nologin {sandbox.USER}0 (and so on, one per worker)") from None


def check_disk_quota():
    try:
        sandbox.check_bwrap()
    except RuntimeError as error:
        raise NotReady(str(error)) from None


def points_of(path):
    """{test id: points} of the test cells of the notebook at `path`."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c).get("points", 0))
            for c in nb.cells if nbgrader_meta(c).get("grade")}


def smallest_notebook(assignment):
    return min(notebooks_of(assignment), key=lambda name: (SOLUTIONS / assignment / name).stat().st_size)


def check_reference(handle, assignment, template_db, guard, limits, work):
    """Grade the reference solution of `assignment`'s smallest notebook with the worker `handle`:
    it must get full marks. Done once per grading folder, version of the code (the clean
    fingerprint's file name says it) and limits: a later failure of the environment is caught
    per submission (reported "not graded", never a grade)."""
    name = smallest_notebook(assignment)
    key = hashlib.sha1(f"{Path(guard).name} {assignment}/{name} {limits}".encode()).hexdigest()[:12]
    passed = Path(template_db).parents[1] / f"preflight-passed-{key}"
    if passed.exists():
        return
    scratch = tempfile.mkdtemp(prefix="rnng-preflight-")
    job = Job("preflight-reference", assignment, files={name: str(SOLUTIONS / assignment / name)},
              notebooks=[name], work=str(work), scratch=scratch, template_db=str(template_db),
              guard=str(guard), imports=str(template_db.parent / "imports.json"), limits=limits)
    try:
        result = handle.grade(job)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    expected = points_of(SOLUTIONS / assignment / name)
    got = result.scores.get(name[:-len(".ipynb")], {})
    lost = sorted(test for test, points in expected.items() if got.get(test, 0.0) < points)
    if result.reasons or lost:
        why = result.status() if result.reasons else "it lost points in " + ", ".join(lost[:3])
        raise NotReady(f"the reference solution {assignment}/{name} does not get full marks in the "
                       f"sandbox ({why[:200]}): check that the course package imports "
                       "(.venv/bin/pip install -e .) and that bubblewrap works as the sandbox user")
    passed.touch()


def check_system():
    """The checks that need no worker (cheap); returns the line that says what bounds each
    kernel's processes (a warning when nothing does)."""
    check_bubblewrap()
    check_disk_quota()
    check_user()
    return sandbox.process_budget()[1]
