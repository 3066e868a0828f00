"""A process budget of its own for each sandboxed kernel: one pids cgroup per kernel.

RLIMIT_NPROC counts every process of a user, so kernels that run as the same user share it. A
pids cgroup counts only the processes started inside it: the kernel is put into a fresh cgroup
before bubblewrap starts, everything it forks stays there (the sandbox has no /sys/fs/cgroup to
leave it by), and `pids.max` bounds that kernel alone. When the kernel ends, `remove` kills
whatever is left in the cgroup and deletes it.

Both layouts of /sys/fs/cgroup are handled:
- cgroup v1 (or "hybrid"): a pids hierarchy at /sys/fs/cgroup/pids; the kernels' cgroups go in
  rnngrade/ inside the grader's own pids cgroup (so a limit set on the grader still holds);
- cgroup v2 (unified): /sys/fs/cgroup/cgroup.controllers lists `pids`; the kernels' cgroups go
  in /sys/fs/cgroup/rnngrade/, with the pids controller enabled for it and its children (at
  the top: v2 lets a cgroup that holds processes, as the grader's own does, have no
  controllers for its children).
Creating cgroups needs root. Anything else raises `Unavailable` with the reason, for the caller
to report in one line.

Each cgroup is named `<pid of the grading worker>-<n>`: one left behind by a worker that was
killed is removed the next time any worker makes a cgroup (`sweep`).
"""
import itertools
import os
import signal
import time
from pathlib import Path

SYSFS = Path("/sys/fs/cgroup")
NAME = "rnngrade"
_numbers = itertools.count()


class Unavailable(Exception):
    """No pids cgroup can be made here (the message says why)."""


def own_v1_pids(table=Path("/proc/self/cgroup")):
    """This process's pids cgroup in the v1 hierarchy ("/" for the top), from lines such as
    `8:pids:/system.slice/x.service`."""
    for line in table.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            return path
    return "/"


def hierarchy(sysfs=SYSFS, own=None):
    """(cgroup version, folder that holds the kernels' cgroups) for the pids controller.
    own: the grader's v1 pids cgroup (read from /proc/self/cgroup when not given)."""
    if (sysfs / "pids" / "cgroup.procs").exists():
        own = own_v1_pids() if own is None else own
        return 1, sysfs / "pids" / own.strip("/") / NAME
    controllers = sysfs / "cgroup.controllers"
    if controllers.exists():
        if "pids" not in controllers.read_text().split():
            raise Unavailable(f"cgroup v2 at {sysfs} has no pids controller")
        return 2, sysfs / NAME
    raise Unavailable(f"no pids cgroup controller under {sysfs}")


def _enable_pids(subtree_control):
    """cgroup v2: let the children of this cgroup have a pids budget."""
    if "pids" not in subtree_control.read_text().split():
        subtree_control.write_text("+pids")


def parent(sysfs=SYSFS):
    """Make the folder of the kernels' cgroups (once); returns (version, folder)."""
    version, base = hierarchy(sysfs)
    try:
        base.mkdir(exist_ok=True)
        if version == 2:
            _enable_pids(sysfs / "cgroup.subtree_control")
            _enable_pids(base / "cgroup.subtree_control")
    except OSError as error:
        raise Unavailable(f"cannot make a pids cgroup in {base.parent}: "
                          f"{error.strerror or error}") from None
    return version, base


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(base):
    """Remove the cgroups of workers that no longer run (killed before they cleaned up)."""
    for path in base.iterdir() if base.exists() else []:
        owner = path.name.split("-")[0]
        if path.is_dir() and owner.isdigit() and not _alive(int(owner)):
            Cgroup(path).remove()


class Cgroup:
    """One kernel's pids cgroup: `wrap` a command to start it inside, `remove` when it ended."""

    def __init__(self, path):
        self.path = Path(path)

    @classmethod
    def create(cls, max_pids, sysfs=SYSFS):
        """A new cgroup allowing at most `max_pids` processes and threads; raises Unavailable."""
        _, base = parent(sysfs)
        sweep(base)
        path = base / f"{os.getpid()}-{next(_numbers)}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids))
        except OSError as error:
            raise Unavailable(f"cannot make a pids cgroup in {base}: {error.strerror or error}") from None
        return cls(path)

    def wrap(self, command):
        """`command`, started inside this cgroup: a shell joins it, then becomes the command."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"),
                *command]

    def pids(self):
        """The processes in the cgroup now."""
        try:
            return [int(line) for line in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill(self, timeout=10.0):
        """SIGKILL everything in the cgroup, until it is empty (a process forking while we kill
        shows up in the next round; pids.max bounds how many there can be)."""
        if (self.path / "cgroup.kill").exists():  # cgroup v2, Linux 5.14+: one write kills all
            try:
                (self.path / "cgroup.kill").write_text("1")
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        return not self.pids()

    def remove(self, timeout=10.0):
        """Kill what is left and delete the cgroup; False if it could not be deleted (a later
        `sweep` tries again)."""
        if not self.path.exists():
            return True
        self.kill(timeout)
        deadline = time.monotonic() + timeout
        while True:  # the killed processes leave the cgroup a moment after they die
            try:
                self.path.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
