"""Run the student's Jupyter kernel in a sandbox, and check its integrity after every test cell.

nbgrader itself (the `nbgrader autograde` process, which reads and writes the gradebook and the
notebooks) runs as the grader, outside the sandbox. Only the kernel, the process that executes
the student's code, is started inside bubblewrap:

- a new mount namespace holding only read-only system folders (/usr, /etc), the Python
  installation, the virtual environment and the `rnncourse` package, a private /tmp, and one
  writable folder: this submission's scratch folder (a copy of the student's own files);
- no network (new network namespace), own PID/IPC/UTS namespaces, killed with its parent;
- a dedicated unprivileged user (`rnngrader`, created by `ensure_user`) when the grader is
  root, with no new privileges;
- resource limits (prlimit): address space, CPU seconds, processes, file size, open files.

The kernel talks to nbgrader over Unix sockets in the scratch folder (`transport = ipc`), so it
needs no network. Settings come from the job's nbgrader configuration, written by `worker.py`:
`SandboxedKernelManager.scratch/memory/cpu` and `SandboxedExecute.guard_file/imports_file/flags_file`.
"""
import asyncio
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Int, Unicode

import guard
from course import nbgrader_meta

USER = "rnngrader"
VENV = Path(sys.prefix)
PYTHON_HOME = Path(sys.base_prefix)
ROOT = Path(__file__).resolve().parents[1]


def ensure_user(name=USER):
    """The unprivileged user the kernels run as (created when the grader is root)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        if os.geteuid() != 0:
            return None
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        name], check=True, capture_output=True)
        return pwd.getpwnam(name)


def limits(memory, cpu):
    """memory: bytes of address space; cpu: CPU seconds per kernel (the job's limits)."""
    return {
        "memory": memory,
        "cpu": cpu,
        "nproc": int(os.environ.get("RNN_GRADE_NPROC", "256")),
        "fsize": int(os.environ.get("RNN_GRADE_FSIZE", str(64 * 2**20))),       # bytes per file written
    }


def sandbox_command(command, scratch, memory, cpu):
    """`command` (a kernel command line) wrapped in bubblewrap, prlimit and a user switch."""
    scratch = str(scratch)
    ro = ["/usr", "/etc", str(PYTHON_HOME), str(VENV), str(ROOT / "rnncourse")]
    dirs = set()
    for path in ro[2:] + [scratch]:
        for parent in Path(path).parents:
            if str(parent) not in ("/", "/usr", "/tmp"):
                dirs.add(str(parent))
    bw = ["bwrap", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("lib", "lib64", "bin", "sbin"):
        if os.path.islink("/" + link):
            bw += ["--symlink", os.readlink("/" + link), "/" + link]
    bw += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for d in sorted(dirs, key=len):
        bw += ["--perms", "0755", "--dir", d]
    for path in ro[2:]:
        bw += ["--ro-bind", path, path]
    bw += ["--bind", scratch, scratch, "--chdir", scratch,
           "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv"]
    env = {"PATH": f"{VENV}/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": "/tmp",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    for key, value in env.items():
        bw += ["--setenv", key, value]
    lim = limits(memory, cpu)
    inner = ["prlimit", f"--as={lim['memory']}", f"--cpu={lim['cpu']}", f"--nproc={lim['nproc']}",
             f"--fsize={lim['fsize']}", "--nofile=256", "--core=0", "--"] + list(command)
    user = pwd.getpwnam(USER) if os.geteuid() == 0 else None
    if user is not None:
        inner = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                 "--no-new-privs", "--"] + inner
    return bw + inner


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel inside the sandbox; talks to it over Unix sockets in the scratch folder."""

    scratch = Unicode(help="the sandbox's only writable folder").tag(config=True)
    memory = Int(3 * 2**30, help="bytes of address space of the kernel").tag(config=True)
    cpu = Int(900, help="CPU seconds of the kernel").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        scratch = Path(self.scratch)
        self.transport = "ipc"
        self.ip = str(scratch / ".k")
        self.connection_file = str(scratch / ".kernel.json")

    def format_kernel_cmd(self, extra_arguments=None):
        return sandbox_command(super().format_kernel_cmd(extra_arguments), self.scratch, self.memory, self.cpu)

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
        user = pwd.getpwnam(USER) if os.geteuid() == 0 else None
        if user is not None and os.path.exists(self.connection_file):
            os.chown(self.connection_file, user.pw_uid, user.pw_gid)


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
        return super().preprocess(nb, resources, km)

    _dead = None
    _ran = False

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
