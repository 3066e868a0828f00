"""Limits that keep one submission from harming the others or the machine: a process budget per
kernel (a pids cgroup, and a sandbox user per worker) and a bound on what a notebook writes.

One grading run with 2 workers: a process hog (240 sleeping children, held for 20 s) and a disk
filler (60 MB files, to its folder and /tmp) beside honest submissions, made from 03-rnn's
rnn_numpy notebook as in test_grading_hostile.py. Then unit tests of autograder/cgroups.py, on
fake /sys/fs/cgroup trees (v1, v2, none) and on this machine's own cgroups."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import harness, orchestrate
from test_grading_hostile import A, FULL, NB, cell, numpy_points, solution, with_answer

import cgroups  # noqa: E402  (autograder/, on the path by conftest)

HOLD = 20  # seconds the hog keeps its children, while the other worker grades the honest ones
DISK_MB = 200  # the quota in this test (RNN_GRADE_DISK)
HONEST = [f"honest{i}" for i in range(1, 6)]

HOG = f'''import os, time
children = []
for i in range(240):
    try:
        pid = os.fork()
    except OSError as error:
        print("fork failed:", error)
        break
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    children.append(pid)
print("children:", len(children))
time.sleep({HOLD})
'''

FILL = '''import os, sys
block = b"x" * (60 * 2**20)
written = 0
for i in range(25):  # 1.5 GB, to the working folder and /tmp in turn
    try:
        with open(("." if i % 2 else "/tmp") + f"/fill{i}.bin", "wb") as handle:
            handle.write(block)
        written += 1
    except OSError as error:
        print("stopped:", error)
        break
print("written:", written)
# the kernel's connection file is in a folder on the grader's disk
control = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
try:
    with open(os.path.join(control, "fill.bin"), "wb") as handle:
        handle.write(block)
    print("control folder: wrote")
except OSError as error:
    print("control folder: blocked", type(error).__name__)
'''


def answered(prefix):
    """The solution notebook with `prefix` run before its rnn_step_forward answer."""
    return with_answer(prefix + harness.source(cell(solution(), "rnn_step_forward")))


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    submissions = tmp_path_factory.mktemp("limits")
    # collected in name order: the hog starts first, the honest ones are graded beside it
    notebooks = {"a_hog": answered(HOG), "b_disk_fill": answered(FILL)}
    notebooks.update({student: solution() for student in HONEST})
    for student, nb in notebooks.items():
        (submissions / student / A).mkdir(parents=True)
        (submissions / student / A / NB).write_text(json.dumps(nb))
    out = tmp_path_factory.mktemp("limits-grading")
    os.environ["RNN_GRADE_DISK"] = str(DISK_MB * 2**20)
    try:
        rows = orchestrate.grade(submissions, out, [A], workers=2)
    finally:
        del os.environ["RNN_GRADE_DISK"]
    return {r["student"]: r for r in rows}, out


def feedback(out, student):
    return (out / "feedback" / student / A / NB.replace(".ipynb", ".html")).read_text()


def test_a_process_hog_does_not_change_anyone_elses_grade(limited):
    rows, out = limited
    assert "children: 240" in feedback(out, "a_hog"), "the hog did not get its processes"
    for student in HONEST:
        assert numpy_points(rows[student]) == FULL, (student, rows[student]["status"])


def test_a_disk_filler_is_stopped_at_the_quota(limited):
    rows, out = limited
    row = rows["b_disk_fill"]
    assert f"wrote more than {DISK_MB} MB" in row["status"], row["status"]
    page = feedback(out, "b_disk_fill")
    written = int(re.search(r"written: (\d+)", page).group(1))
    assert 1 <= written <= DISK_MB // 60, f"{written} files of 60 MB written"
    assert "No space left on device" in page
    assert "control folder: blocked PermissionError" in page
    assert numpy_points(row) == FULL  # its answers still count


# --- autograder/cgroups.py --------------------------------------------------------------


def fake_sysfs(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_hierarchy_v1_v2_and_none(tmp_path):
    v1 = fake_sysfs(tmp_path / "v1", {"pids/cgroup.procs": "", "memory/cgroup.procs": ""})
    assert cgroups.hierarchy(v1, own="/") == (1, v1 / "pids" / "rnngrade")
    # inside the grader's own cgroup, whose limits then still hold
    assert cgroups.hierarchy(v1, own="/system.slice/grade.service") == \
        (1, v1 / "pids" / "system.slice" / "grade.service" / "rnngrade")
    table = fake_sysfs(tmp_path / "proc", {"cgroup": "9:name=systemd:/\n8:pids:/a/b\n4:memory:/c\n0::/\n"})
    assert cgroups.own_v1_pids(table / "cgroup") == "/a/b"
    v2 = fake_sysfs(tmp_path / "v2", {"cgroup.controllers": "cpu memory pids\n"})
    assert cgroups.hierarchy(v2) == (2, v2 / "rnngrade")
    for sysfs, words in [(fake_sysfs(tmp_path / "v2-no-pids", {"cgroup.controllers": "cpu memory\n"}),
                          "has no pids controller"),
                         (tmp_path / "none", "no pids cgroup controller")]:
        with pytest.raises(cgroups.Unavailable, match=words):
            cgroups.hierarchy(sysfs)


def test_v2_parent_enables_pids_for_the_kernels_cgroups(tmp_path):
    v2 = fake_sysfs(tmp_path, {"cgroup.controllers": "cpu pids\n", "cgroup.subtree_control": "cpu\n",
                               "rnngrade/cgroup.subtree_control": ""})
    assert cgroups.parent(v2) == (2, v2 / "rnngrade")
    assert (v2 / "cgroup.subtree_control").read_text() == "+pids"
    assert (v2 / "rnngrade" / "cgroup.subtree_control").read_text() == "+pids"


def test_v2_parent_that_cannot_be_made_is_unavailable(tmp_path):
    v2 = fake_sysfs(tmp_path, {"cgroup.controllers": "pids\n"})  # no subtree_control to write
    with pytest.raises(cgroups.Unavailable, match="cannot make a pids cgroup"):
        cgroups.parent(v2)


FORKER = '''import os, sys, time
n = 0
for i in range(int(sys.argv[1])):
    try:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        n += 1
    except OSError:
        break
print(n, flush=True)
time.sleep(600)
'''


def forker(group, children):
    """A process in `group` that forks up to `children` sleeping children; returns (process,
    how many it got)."""
    process = subprocess.Popen(group.wrap([sys.executable, "-c", FORKER, str(children)]),
                               stdout=subprocess.PIPE, text=True)
    return process, int(process.stdout.readline())


def running(pid):
    """Whether process `pid` exists and has not ended (a killed child of a killed parent stays
    a zombie until init reaps it)."""
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in "ZX"


def test_each_cgroup_has_its_own_budget_and_removal_kills_everything():
    hog_group, other_group = cgroups.Cgroup.create(20), cgroups.Cgroup.create(20)
    hog, got = forker(hog_group, 50)
    assert got == 19  # 20 processes in all, with the parent
    other, got_other = forker(other_group, 10)
    assert got_other == 10  # untouched by the hog's full budget
    pids = hog_group.pids()
    assert len(pids) == 20
    assert hog_group.remove() and not hog_group.path.exists()
    assert hog.wait(timeout=10) == -9
    assert not any(running(pid) for pid in pids)
    assert other.poll() is None  # the other cgroup is untouched
    other_group.remove()
    assert other.wait(timeout=10) == -9


def test_cgroups_of_a_killed_worker_are_swept():
    _, base = cgroups.parent()
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = cgroups.Cgroup(base / f"{dead.pid}-0")  # as a worker killed before its cleanup leaves it
    left.path.mkdir()
    process, _ = forker(left, 3)
    fresh = cgroups.Cgroup.create(20)
    try:
        assert not left.path.exists()
        assert process.wait(timeout=10) == -9
    finally:
        fresh.remove()
        left.remove()


def test_the_process_budget_is_said_in_one_line(monkeypatch):
    import sandbox

    ok, line = sandbox.process_budget()  # this machine: root, with a pids cgroup
    assert ok and "a pids cgroup per kernel" in line and "one sandbox user per worker" in line

    def unavailable(*args):
        raise cgroups.Unavailable("no pids cgroup controller under /sys/fs/cgroup")
    monkeypatch.setattr(cgroups.Cgroup, "create", unavailable)
    ok, line = sandbox.process_budget()
    assert ok and "each worker's kernels run as a user of their own" in line
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    ok, line = sandbox.process_budget()
    assert not ok and line.startswith("warning: all kernels share one process budget")
    assert "no pids cgroup controller" in line and "\n" not in line
