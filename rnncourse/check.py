"""Check an exercise notebook as the autograder runs it, with its visible tests.

Usage (from the repository root):

    .venv/bin/python -m rnncourse.check exercises/03-rnn/rnn_numpy.ipynb [OTHER.ipynb ...]

Each notebook runs from the top in a fresh kernel of this virtual environment, in its own folder,
with the autograder's per-cell time limit (autograder/nbgrader_config.py), the way nbgrader's
autograde runs it; the file itself is only read. Then, in the notebook's order, every failing
test cell's whole message and every error raised by one of your cells (with your line), and a
points summary. Hidden tests are not run here (the autograder runs them); a solution notebook's
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
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def nbgrader_meta(cell):
    """The cell's nbgrader metadata: grade_id, and `grade: true` with `points` for a test cell,
    `solution: true` for an answer cell; {} for a cell nbgrader does not track."""
    return cell.get("metadata", {}).get("nbgrader", {})


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
    like the autograder's: the TCP transport makes ipykernel warn that it is unencrypted."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    # no kernel folders: jupyter_client falls back on ipykernel's own spec for sys.executable
    specs = KernelSpecManager(kernel_dirs=[])
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs, transport="ipc",
                              ip=str(Path(private) / "kernel"),
                              connection_file=str(Path(private) / "kernel.json"))


def run(path, config=None):
    """Execute the notebook at `path` (never written) with its hidden tests removed; returns
    the executed nbformat notebook and the problem that stopped it early ("" if none)."""
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
        executor, km = Execute(config=config), kernel_manager(private)
        try:
            executor.preprocess(nb, {"metadata": {"path": folder}}, km=km)
        except DeadKernelError:
            stopped = ("the kernel died (a crash, or memory ran out); the cells after the last "
                       "one with an output did not run")
        except Exception as error:  # the kernel did not start or stopped answering
            stopped = f"the notebook could not be run: {type(error).__name__}: {error}"
        finally:  # the kernel manager is ours, not nbclient's: shut the kernel down here
            if executor.kc is not None:
                executor.kc.stop_channels()
            if run_sync(km.is_alive)():
                run_sync(km.shutdown_kernel)()
            run_sync(km.cleanup_resources)()
    return nb, stopped


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


def report(nb, stopped):
    """The lines to print for an executed notebook, and whether everything passed."""
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
            ran = cell.get("execution_count") is not None or cell.get("outputs")
            points, most = determine_grade(cell) if ran else (0.0, float(nbgrader_meta(cell)["points"]))
            scores.append((name, float(points or 0), most))
            if points == most:
                continue
            ok = False
            lines.append(f"FAILED {name} ({points or 0:g} of {most:g} points)")
            if error is not None:
                lines.append(indent(message(error)))
                undefined = re.search(r"name '(\w+)' is not defined", error.get("evalue", ""))
                if undefined and undefined.group(1) in broken:
                    lines.append(f"    ({undefined.group(1)} does not exist because your answer "
                                 f"cell {undefined.group(1)} failed above: fix that first.)")
            elif not ran:
                lines.append("    not run (the notebook stopped before this cell)")
            elif stderr_of(cell):
                lines.append("    the cell wrote to stderr, which the autograder scores 0:")
                lines.append(indent(stderr_of(cell).rstrip(), "      "))
            lines.append("")
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
        lines.append("Not run here, the autograder runs them: " + ", ".join(
            f"{n} ({p:g} points)" for n, p in hidden) + " (hidden tests).")
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
    nb, stopped = run(path, config)
    lines, ok = report(nb, stopped)
    if edited:
        ok = False
        lines.insert(0, f"EDITED: {', '.join(edited)} differ from the released notebook; the "
                        f"autograder puts the released cells back, so its result can differ "
                        f"from this one. Restore them (or start from a fresh copy).\n")
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
