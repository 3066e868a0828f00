"""Check an exercise notebook as the autograder runs it, with its visible tests.

Usage (from the repository root):

    .venv/bin/python -m rnncourse.check exercises/03-rnn/rnn_numpy.ipynb [OTHER.ipynb ...]

Each notebook runs from the top in a fresh kernel of this virtual environment, in its own folder,
with the autograder's per-cell time limit (autograder/nbgrader_config.py), the way nbgrader's
autograde runs it; the file itself is only read. It prints, in the notebook's order, every
failing test's whole message and every error raised by one of your cells (with your line), then
the points of each visible test and their total. Hidden tests are not run here (the autograder runs them); a solution notebook's
hidden tests are removed first, as the release does. Exits with 0 when every visible test
passes and no cell fails, 1 otherwise.

Why not `nbgrader validate`: it exits with 0 even when tests fail and cuts every message to
about one line, losing the values and the hint.

The notebook helpers at the top (load, source, nbgrader_meta) are also the test suite's.
"""
import argparse
import ast
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADER_CONFIG = ROOT / "autograder" / "nbgrader_config.py"


# ---------------------------------------------------------------------------------------------
# Notebook cells as nbgrader sees them (shared with tests/harness.py)
# ---------------------------------------------------------------------------------------------

def load(path):
    """A notebook as a plain dict (JSON), without nbformat's validation."""
    return json.loads(Path(path).read_text())


def source(cell):
    """The cell's text ("" when it has none)."""
    text = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(text) if isinstance(text, list) else str(text)


def nbgrader_meta(cell):
    """The cell's nbgrader metadata: grade_id, and `grade: true` with `points` for a test cell,
    `solution: true` for an answer cell; {} for a cell nbgrader does not track."""
    # a submitted notebook may be malformed on purpose: a cell or its metadata of the wrong type
    if not isinstance(cell, dict):
        return {}
    meta = cell.get("metadata", {})
    return meta.get("nbgrader", {}) if isinstance(meta, dict) else {}


def has_code(text):
    """True if text has a statement: a released test cell whose tests are all hidden holds only
    its comment."""
    try:
        return bool(ast.parse(text).body)
    except SyntaxError:
        return True


# ---------------------------------------------------------------------------------------------
# Running a notebook as the autograder does
# ---------------------------------------------------------------------------------------------

def grader_config():
    """The autograder's nbgrader configuration (its Execute settings: per-cell and kernel
    start-up time limits, kernel arguments)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(GRADER_CONFIG.name, path=str(GRADER_CONFIG.parent)).load_config()


def kernel_manager(private):
    """A manager for a python3 kernel of this very environment (sys.executable, not a kernel
    spec found elsewhere on the machine), talking over Unix sockets in the folder `private`
    like the autograder's: the TCP transport makes ipykernel warn that it is unencrypted.
    The kernel process writes its own stderr to `private/kernel.log`, not to ours: ipykernel
    can log a harmless traceback while it shuts down (a reply sent on a socket already closed),
    which is not the student's output and must not reach the terminal."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            with open(Path(private) / "kernel.log", "ab") as log:
                kw.setdefault("stderr", log)  # Popen duplicates it: closing ours is safe
                await super()._async_launch_kernel(kernel_cmd, **kw)

    # no kernel folders: jupyter_client falls back on ipykernel's own spec for sys.executable
    specs = KernelSpecManager(kernel_dirs=[])
    return QuietKernelManager(kernel_name="python3", kernel_spec_manager=specs, transport="ipc",
                              ip=str(Path(private) / "kernel"),
                              connection_file=str(Path(private) / "kernel.json"))


def kernel_log_tail(private, lines=12):
    """The last lines the kernel process wrote to its stderr (see `kernel_manager`)."""
    log = Path(private) / "kernel.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def run(path, config=None):
    """Execute the notebook at `path` (never written) with its hidden tests removed; returns
    the executed nbformat notebook, the indices of the cells sent to the kernel, and the problem
    that stopped it early ("" if none; then the last cell sent did not finish)."""
    import nbformat
    from jupyter_core.utils import run_sync
    from nbclient.exceptions import DeadKernelError
    from nbgrader.preprocessors import ClearHiddenTests, Execute

    config = config or grader_config()
    nb = nbformat.read(path, as_version=4)
    ClearHiddenTests(config=config).preprocess(nb, {})
    folder = str(Path(path).resolve().parent)
    stopped = ""
    with tempfile.TemporaryDirectory(prefix="rnncheck-") as private:
        started = []  # the index of each cell sent to the kernel
        executor = Execute(config=config,
                           on_cell_execute=lambda cell, cell_index: started.append(cell_index))
        km = kernel_manager(private)
        try:
            executor.preprocess(nb, {"metadata": {"path": folder}}, km=km)
        except DeadKernelError:
            culprit = cell_name(nb.cells[started[-1]], started[-1]) if started else "a cell"
            stopped = (f"the kernel died while running {culprit} (a crash, os._exit, or memory "
                       f"ran out); the cells after it did not run")
        except Exception as error:  # the kernel did not start or stopped answering
            stopped = f"the notebook could not be run: {type(error).__name__}: {error}"
        finally:  # the kernel manager is ours, not nbclient's: shut the kernel down here
            if executor.kc is not None:
                executor.kc.stop_channels()
            if run_sync(km.is_alive)():
                run_sync(km.shutdown_kernel)()
            run_sync(km.cleanup_resources)()
        if stopped and kernel_log_tail(private):
            stopped += "\n  the kernel's last words:\n" + indent(kernel_log_tail(private), "    ")
    return nb, started, stopped


# ---------------------------------------------------------------------------------------------
# Reading the results
# ---------------------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cell_name(cell, index):
    return nbgrader_meta(cell).get("grade_id") or f"cell {index + 1}"


def error_of(cell):
    """The error output of an executed code cell, or None."""
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


def stderr_of(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stderr")


def your_line(cell, error):
    """'line k: <text>' of the cell's own line where the error happened, from IPython's
    traceback ("Cell In[n], line k"), or ""."""
    text = ANSI.sub("", "\n".join(error.get("traceback", [])))
    found = re.findall(rf"Cell In\[{cell.get('execution_count')}\], line (\d+)", text)
    if not found:
        return ""
    number = int(found[-1])
    lines = source(cell).splitlines()
    return f"line {number}: {lines[number - 1].strip()}" if 0 < number <= len(lines) else ""


def message(error):
    """The whole message of an error output: a CheckFailure is its message, nothing cut."""
    return f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".rstrip()


def edited_locked_cells(nb):
    """grade_ids of the cells nbgrader locks (tests, setup) whose source is not the one
    released: the autograder puts the released one back before it runs the notebook."""
    from nbgrader.utils import compute_checksum, is_locked

    return [nbgrader_meta(c)["grade_id"] for c in nb.cells
            if is_locked(c) and "checksum" in nbgrader_meta(c)
            and nbgrader_meta(c)["checksum"] != compute_checksum(c)]


def indent(text, prefix="    "):
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def why_failed(cell, error, ran, broken):
    """What to print under a failed test cell; broken: the grade_ids of the cells above that
    raised an error."""
    if error is not None:
        text = indent(message(error))
        undefined = re.search(r"name '(\w+)' is not defined", error.get("evalue", ""))
        if undefined and undefined.group(1) in broken:  # an answer cell defines its grade_id
            text += (f"\n    ({undefined.group(1)} does not exist because your answer cell "
                     f"{undefined.group(1)} failed above: fix that first.)")
        return text
    if not ran:
        return "    did not run to the end (see STOPPED below)"
    if stderr_of(cell):  # no error, yet no points: nbgrader scores 0 a cell writing to stderr
        return ("    the cell wrote to stderr, which the autograder scores 0:\n"
                + indent(stderr_of(cell).rstrip(), "      "))
    return "    partial credit: the points are the number the cell's last line gives"


def report(nb, started, stopped):
    """The lines to print for an executed notebook (as `run` returns it), and whether
    everything passed."""
    from nbgrader.utils import determine_grade, is_grade, is_solution

    lines, ok = [], not stopped
    scores, hidden, broken = [], [], set()  # broken: cells that raised an error
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        name, error = cell_name(cell, index), error_of(cell)
        if is_grade(cell):
            if not has_code(cell.source):
                hidden.append((name, float(nbgrader_meta(cell)["points"])))
                continue
            # a cell that did not run, or did not finish, earns nothing
            ran = index in started and not (stopped and index == started[-1])
            points, most = determine_grade(cell) if ran else (0.0, float(nbgrader_meta(cell)["points"]))
            scores.append((name, float(points or 0), most))
            if points != most:
                ok = False
                lines += [f"FAILED {name} ({points or 0:g} of {most:g} points)",
                          why_failed(cell, error, ran, broken), ""]
        elif error is not None:
            ok = False
            kind = "your answer cell" if is_solution(cell) else "cell"
            broken.add(name)
            lines.append(f"ERROR in {kind} {name}")
            lines.append(indent(message(error)))
            where = your_line(cell, error)
            if where:
                lines.append(f"    at {where}")
            lines.append("")
    if stopped:
        lines += [f"STOPPED: {stopped}", ""]
    lines.append("Points (visible tests):")
    width = max([len(n) for n, _, _ in scores] + [5])
    for name, points, most in scores:
        lines.append(f"  {name:<{width}}  {points:g} / {most:g}  {'passed' if points == most else 'FAILED'}")
    earned, possible = sum(s[1] for s in scores), sum(s[2] for s in scores)
    lines.append(f"  {'total':<{width}}  {earned:g} / {possible:g}")
    if hidden:
        lines.append("Hidden tests, not run here (the autograder runs them): " + ", ".join(
            f"{n} ({p:g} points)" for n, p in hidden) + ".")
    return lines, ok


def check(path, config=None):
    """Run and report one notebook; returns True when everything passed."""
    import nbformat

    print(f"== {path}")
    try:
        edited = edited_locked_cells(nbformat.read(path, as_version=4))
    except Exception as error:
        print(f"cannot read {path}: {type(error).__name__}: {error}\n")
        return False
    lines, ok = report(*run(path, config))
    if edited:
        ok = False
        lines.insert(0, f"EDITED: {', '.join(edited)} {'is' if len(edited) == 1 else 'are'} not as "
                        f"released. The autograder puts the released cells back, so its result "
                        f"can differ from this one: undo the change (or start from a fresh "
                        f"copy).\n")
    print("\n".join(lines))
    print("Result: every visible test passed.\n" if ok else "Result: NOT all passed (see above).\n")
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m rnncourse.check", description=__doc__.split("\n\n")[0],
        epilog="Exit status: 0 when every visible test of every notebook passes, 1 otherwise.")
    parser.add_argument("notebooks", nargs="+", help="exercise notebooks (.ipynb)")
    args = parser.parse_args(argv)
    config = grader_config()
    results = [check(path, config) for path in args.notebooks]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
