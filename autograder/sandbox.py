"""Run the student's Jupyter kernel in a sandbox, and check its integrity after every test cell.

nbgrader itself (the `nbgrader autograde` process, which reads and writes the gradebook and the
notebooks) runs as the grader, outside the sandbox. Only the kernel, the process that executes
the student's code, is started inside bubblewrap:

- a new mount namespace holding only read-only system folders (/usr, /etc), the Python
  installation, the virtual environment and the `rnncourse` package; the only place it can
  write is its /tmp, a tmpfs of bounded size (`SandboxedKernelManager.disk`), which holds its working
  folder WORK (a copy of the student's own files, made when the kernel starts);
- no network (new network namespace), own PID/IPC/UTS namespaces, killed with its parent;
- an unprivileged user per worker slot (`rnngrader0`, `rnngrader1`, ..., created by
  `ensure_user`) when the grader is root, with no new privileges: RLIMIT_NPROC counts a user's
  processes, so kernels of different workers do not share it;
- a pids cgroup per kernel (cgroups.py) when the machine has one: a process budget for this
  kernel alone; everything left in it is killed when the kernel ends;
- resource limits (prlimit): address space, CPU seconds, processes, file size, open files.

The kernel talks to nbgrader over Unix sockets in a control folder (`transport = ipc`), so it
needs no network. That folder is the one host folder the kernel may write to while it starts
(it makes its sockets there); once the kernel answers, it is handed back to the grader, so
nothing the student's code writes lands on the grader's disk. Settings come from the
job's nbgrader configuration, written by `worker.py`:
`SandboxedKernelManager.scratch/memory/cpu` and `SandboxedExecute.guard_file/imports_file/flags_file`.

A submission that fills its /tmp is reported through the flags file as {"disk_full": cell,
"limit_mb": N} and an error output `DiskQuotaExceeded: wrote more than N MB ...` on that cell.
"""
import asyncio
import fcntl
import itertools
import json
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Int, Unicode

import cgroups
import guard
from course import nbgrader_meta

USER = "rnngrader"
WORK = "/tmp/work"  # the kernel's working folder (and HOME) inside the sandbox
SUBMISSION = "/submission"  # the student's files, read-only, copied into WORK at start
VENV = Path(sys.prefix)
PYTHON_HOME = Path(sys.base_prefix)
ROOT = Path(__file__).resolve().parents[1]


_slot = None


def slot():
    """This process's worker slot: the lowest number no other live process on the machine holds.
    The lock is held until the process ends (even when it is killed), so two workers, of one
    run or of two runs at once, never share a slot."""
    global _slot
    if _slot is None:
        folder = Path(tempfile.gettempdir()) / "rnngrade-slots"
        folder.mkdir(mode=0o755, exist_ok=True)
        for number in itertools.count():
            handle = open(folder / f"{number}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            _slot = (number, handle)  # the open handle keeps the lock
            break
    return _slot[0]


def user_name():
    """The sandbox user of this worker slot: rnngrader0, rnngrader1..."""
    return f"{USER}{slot()}"


def ensure_user(name=None):
    """The unprivileged user this worker's kernels run as (created when the grader is root),
    or None when the grader is not root (the kernels then run as the grader)."""
    if os.geteuid() != 0:
        return None
    name = name or user_name()
    try:
        return pwd.getpwnam(name)
    except KeyError:
        done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                               "/usr/sbin/nologin", name], capture_output=True, text=True)
        try:  # another worker may have made it at the same moment
            return pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(f"cannot create the sandbox user {name}: {done.stderr.strip()}") from None


def process_budget():
    """(each kernel has a process budget of its own, one line saying what bounds processes)."""
    nproc = limits()["nproc"]
    try:  # make one, as a kernel would
        cgroups.Cgroup.create(nproc).remove()
        version, base = cgroups.parent()
        cgroup = f"a pids cgroup per kernel (cgroup v{version}, {base})"
    except cgroups.Unavailable as error:
        cgroup, reason = None, str(error)
    if cgroup and os.geteuid() == 0:
        return True, f"processes: {cgroup}, at most {nproc}; one sandbox user per worker"
    if cgroup:
        return True, f"processes: {cgroup}, at most {nproc}"
    if os.geteuid() == 0:
        return True, (f"processes: no pids cgroup ({reason}); each worker's kernels run as a user "
                      f"of their own, at most {nproc} processes (RLIMIT_NPROC)")
    return False, (f"warning: all kernels share one process budget: no pids cgroup ({reason}) "
                   f"and no sandbox users (not root); a submission that starts many processes "
                   f"can make other students' kernels fail")


def limits(memory=3 * 2**30, cpu=900, disk=512 * 2**20):
    """memory: bytes of address space; cpu: CPU seconds per kernel; disk: bytes written in all
    (the job's limits)."""
    return {
        "memory": memory,
        "cpu": cpu,
        "nproc": int(os.environ.get("RNN_GRADE_NPROC", "256")),
        "fsize": int(os.environ.get("RNN_GRADE_FSIZE", str(64 * 2**20))),       # bytes per file written
        "disk": disk,
    }


def check_bwrap():
    """Raise if bubblewrap cannot bound the kernel's /tmp (its --size option, bubblewrap 0.7+)."""
    help_text = subprocess.run(["bwrap", "--help"], capture_output=True, text=True).stdout
    if "--size" not in help_text:
        raise RuntimeError("bubblewrap has no --size option (version 0.7 or later is needed for "
                           "the disk quota): install a newer bubblewrap")


def sandbox_command(command, scratch, control, memory, cpu, disk):
    """`command` (a kernel command line) wrapped in bubblewrap, prlimit and a user switch.
    scratch: host folder with the student's files (read-only inside); control: host folder for
    the kernel's connection file and sockets (the same path inside); memory, cpu, disk: the job's
    limits (bytes of address space, CPU seconds, bytes written)."""
    scratch, control = str(scratch), str(control)
    ro = ["/usr", "/etc", str(PYTHON_HOME), str(VENV), str(ROOT / "rnncourse")]
    dirs = set()
    for path in ro[2:] + [control]:
        for parent in Path(path).parents:
            if str(parent) not in ("/", "/usr", "/tmp"):
                dirs.add(str(parent))
    bw = ["bwrap", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("lib", "lib64", "bin", "sbin"):
        if os.path.islink("/" + link):
            bw += ["--symlink", os.readlink("/" + link), "/" + link]
    lim = limits(memory, cpu, disk)
    # the only writable place (a control folder under /tmp is mounted over it, see below)
    bw += ["--proc", "/proc", "--dev", "/dev", "--size", str(lim["disk"]), "--perms", "1777",
           "--tmpfs", "/tmp"]
    for d in sorted(dirs, key=len):
        bw += ["--perms", "0755", "--dir", d]
    for path in ro[2:]:
        bw += ["--ro-bind", path, path]
    bw += ["--ro-bind", scratch, SUBMISSION, "--bind", control, control, "--chdir", "/tmp",
           "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv"]
    env = {"PATH": f"{VENV}/bin:/usr/bin:/bin", "HOME": WORK, "TMPDIR": "/tmp",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    for key, value in env.items():
        bw += ["--setenv", key, value]
    # as the sandbox user: the working folder gets a copy of the student's files (so writing
    # to them counts in the quota, as everything else the kernel writes)
    start = ["sh", "-c", f'mkdir -p {WORK} && cd {WORK} && {{ cp {SUBMISSION}/* . 2>/dev/null; '
             'exec "$@"; }', "sh"]
    inner = ["prlimit", f"--as={lim['memory']}", f"--cpu={lim['cpu']}", f"--nproc={lim['nproc']}",
             f"--fsize={lim['fsize']}", "--nofile=256", "--core=0", "--"] + start + list(command)
    user = ensure_user()
    if user is not None:
        inner = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                 "--no-new-privs", "--"] + inner
    return bw + inner


_told = False


def kernel_cgroup():
    """A new pids cgroup for one kernel, or None when none can be made (said once, in the
    worker's log)."""
    global _told
    try:
        return cgroups.Cgroup.create(limits()["nproc"])
    except cgroups.Unavailable:
        if not _told:
            _told = True
            print(process_budget()[1], file=sys.stderr, flush=True)
        return None


def _first_child(pid):
    """A child process of `pid`, or None."""
    try:
        return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])
    except (OSError, IndexError):  # a kernel without CONFIG_PROC_CHILDREN: look at every process
        pass
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:  # "pid (name) state ppid ...": the name may hold spaces and parentheses
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                return int(stat.parent.name)
        except (OSError, IndexError, ValueError):
            continue
    return None


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel inside the sandbox (and its own pids cgroup); talks to it over Unix
    sockets in a control folder; `lock` hands that folder back to the grader."""

    scratch = Unicode(help="the sandbox's only writable folder").tag(config=True)
    memory = Int(3 * 2**30, help="bytes of address space of the kernel").tag(config=True)
    cpu = Int(900, help="CPU seconds of the kernel").tag(config=True)
    disk = Int(512 * 2**20, help="bytes the kernel may write in all (its /tmp)").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.control = Path(self.scratch) / ".kernel"
        self.control.mkdir(mode=0o700, exist_ok=True)
        self.user = ensure_user()
        if self.user is not None:  # the kernel makes its sockets here while it starts
            os.chown(self.control, self.user.pw_uid, self.user.pw_gid)
        self.transport = "ipc"
        self.ip = str(self.control / "k")
        self.connection_file = str(self.control / "kernel.json")
        self.cgroup = None
        check_bwrap()

    def format_kernel_cmd(self, extra_arguments=None):
        command = sandbox_command(super().format_kernel_cmd(extra_arguments), self.scratch, self.control,
                                  self.memory, self.cpu, self.disk)
        self.cgroup = kernel_cgroup()
        return self.cgroup.wrap(command) if self.cgroup else command

    def lock(self):
        """Once the kernel has made its sockets: the control folder and the connection file
        belong to the grader again, so the student's code cannot write there (the sandbox's
        /tmp, of bounded size, is then the only place it can write to)."""
        os.chmod(self.control, 0o755)
        if os.path.exists(self.connection_file):
            os.chmod(self.connection_file, 0o644)
        if self.user is not None:
            os.chown(self.control, 0, 0)
            if os.path.exists(self.connection_file):
                os.chown(self.connection_file, 0, 0)

    def disk_left(self):
        """Bytes still free in the sandbox's /tmp (the quota), or None if the kernel is gone."""
        process = getattr(self.provisioner, "process", None)
        if process is None:
            return None
        try:  # bubblewrap's child holds the sandbox's mounts; bubblewrap itself does not
            stat = os.statvfs(f"/proc/{_first_child(process.pid)}/root/tmp")
        except (OSError, TypeError):
            return None
        return stat.f_bavail * stat.f_frsize

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self.cgroup is not None:  # whatever the kernel left running ends with it
            self.cgroup.remove()
            self.cgroup = None

    cleanup_resources = _async_cleanup_resources

    async def _async_interrupt_kernel(self):
        # The kernel runs in its own session inside the sandbox, out of reach of a signal to a
        # process group: interrupt it with a message on its control channel (ipykernel then
        # interrupts itself).
        if self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)

    interrupt_kernel = _async_interrupt_kernel

    def write_connection_file(self, **kwargs):
        # written by the grader (mode 0600); the sandboxed kernel's user must read it
        super().write_connection_file(**kwargs)
        if self.user is not None and os.path.exists(self.connection_file):
            os.chown(self.connection_file, self.user.pw_uid, self.user.pw_gid)


def _is_grade_cell(cell):
    return cell.cell_type == "code" and nbgrader_meta(cell).get("grade", False)


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel in the sandbox, and an integrity check after each
    test cell: a test cell run after the checks were tampered with scores 0."""

    guard_file = Unicode(help="the clean interpreter's fingerprint (guard.expected)").tag(config=True)
    imports_file = Unicode(help="the names each notebook's locked cells import").tag(config=True)
    flags_file = Unicode(help="where the notes for worker.py go, one JSON a line").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._clean = json.loads(Path(self.guard_file).read_text()) if self.guard_file else None
        self._imports = []

    def preprocess(self, nb, resources=None, km=None):
        # the names the course's own import cells bind, from the instructor notebook
        key = (resources or {}).get("unique_key")
        if self.imports_file and key:
            self._imports = json.loads(Path(self.imports_file).read_text()).get(key, [])
        self._dead, self._disk_full = None, False  # each notebook has a kernel of its own
        return super().preprocess(nb, resources, km)

    _dead = None
    _ran = False
    _disk_full = False

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        self.km.lock()  # the kernel answers: its sockets exist, no student code has run yet
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _check_disk(self, cell, name):
        """After each cell: a sandbox whose /tmp is full wrote more than the quota (the writes
        past it failed; the student's code may have caught the error, the report does not
        depend on it)."""
        left = self.km.disk_left() if isinstance(self.km, SandboxedKernelManager) else None
        if self._disk_full or left is None or left >= 2**20:
            return
        self._disk_full = True
        limit = self.km.disk // 2**20
        self._error(cell, "DiskQuotaExceeded", f"wrote more than {limit} MB (the files a notebook "
                    "writes are limited to that in total; the writing was stopped)")
        self._record({"disk_full": name, "limit_mb": limit})

    def _error(self, cell, ename, message):
        cell.outputs.append(NotebookNode(output_type="error", ename=ename, evalue=message,
                                         traceback=[f"{ename}: {message}"]))

    def _record(self, entry):
        """A note for worker.py (the flags file): a cell ran, a dead or stuck kernel, tampering."""
        if self.flags_file:
            with open(self.flags_file, "a") as handle:
                handle.write(json.dumps(entry) + "\n")

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if not self._ran:  # the student's code runs from here on: a later failure may be its own
            self._ran = True
            self._record({"ran": cell_index})
        if self._dead:
            # the kernel is gone or stuck: the remaining cells are not run, their tests score 0
            cell.outputs = []
            self._error(cell, "NotRun", f"not run: {self._dead}")
            return cell
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            self._dead = ("the kernel died in an earlier cell (a crash, os._exit, "
                          "or a memory or CPU limit)")
            self._error(cell, "KernelDied", "the kernel died while running this cell (a crash, "
                        "os._exit, or a memory or CPU limit)")
            self._record({"kernel_died": cell_index})
            return cell
        name = nbgrader_meta(cell).get("grade_id", f"cell {cell_index + 1}")
        self._check_disk(cell, name)
        timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.outputs)
        if timed_out and not await self._responds():
            # An interrupted loop answers at once; a kernel broken by the cell (builtins
            # replaced...) would make every later cell wait for the full time limit.
            self._dead = "the kernel stopped responding in an earlier cell"
            self._record({"kernel_stuck": name})
            return cell
        if self._clean is not None and _is_grade_cell(cell):
            found = await self._integrity()
            if found is None:  # the check cannot vouch for this cell, and the kernel is unusable
                self._dead = "the kernel stopped responding in an earlier cell"
                self._error(cell, "KernelStuck", "this test does not count: the kernel stopped "
                            "responding (the integrity check got no reply)")
                self._record({"kernel_stuck": name})
            elif found:
                detail = "; ".join(found[:5]) + (f" (and {len(found) - 5} more)" if len(found) > 5 else "")
                self._error(cell, "TamperingDetected", f"this test does not count: {detail}")
                self._record({"cell": nbgrader_meta(cell).get("grade_id"), "tampering": found[:5]})
        return cell

    async def _responds(self, seconds=15):
        """Whether the kernel runs an empty cell within `seconds`."""
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False)
            return await asyncio.wait_for(self.async_wait_for_reply(msg_id), timeout=seconds) is not None
        except Exception:
            return False

    execute_cell = run_sync(async_execute_cell)

    async def _integrity(self):
        """The integrity problems after a test cell ([] if none), or None if the kernel did not
        answer the check."""
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False,
                                     user_expressions={"guard": guard.expression(self._imports)})
            # the check itself takes milliseconds: a kernel silent for 30 s is stuck
            reply = await asyncio.wait_for(self.async_wait_for_reply(msg_id), timeout=30)
        except Exception:
            reply = None
        if reply is None:
            return None
        return guard.problems(reply["content"].get("user_expressions", {}).get("guard"), self._clean)
