"""The course as nbgrader sees it: where things are, and how nbgrader is called on a folder.

One home for what every part of the grader needs: the repository's paths and assignments, the
nbgrader_config.py of a course folder (the course's own configuration re-rooted there), the
gradebook's sqlite URL, the environment nbgrader's subprocesses need to find their tools, a cell's
nbgrader metadata, and the lines between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`
markers. Imports nothing heavy: release.py and the tests use it without loading the grader.
"""
import os
import subprocess
import sys
from pathlib import Path

# One home for reading notebook cells, shared with the student check command and the tests.
from rnncourse.check import nbgrader_meta, source as cell_source  # noqa: F401

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOLUTIONS = ROOT / "solutions"


def assignments_available():
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebooks_of(assignment):
    return sorted(p.name for p in (SOLUTIONS / assignment).glob("*.ipynb"))


def sqlite_url(folder, name="gradebook.db"):
    return "sqlite:///" + str(Path(folder) / name)


def write_course_config(folder, db_url=None, extra=()):
    """An nbgrader_config.py for the course folder `folder`: the course's configuration
    (autograder/nbgrader_config.py) re-rooted there, then the lines of `extra`."""
    lines = [f"load_subconfig({str(HERE / 'nbgrader_config.py')!r})",
             f"c.CourseDirectory.root = {str(folder)!r}",
             f"c.CourseDirectory.source_directory = {str(SOLUTIONS)!r}",
             "c.CourseDirectory.release_directory = 'release'",
             f"c.CourseDirectory.db_url = {db_url or sqlite_url(folder)!r}",
             *extra]
    (Path(folder) / "nbgrader_config.py").write_text("\n".join(lines) + "\n")


def tools_environment(base=None):
    """The environment for nbgrader and what it starts: nbgrader shells out to `jupyter` and
    `alembic` by name, so this interpreter's bin folder comes first on PATH however the grader
    was started (the virtual environment need not be activated); the autograder's modules are
    importable (the course's configuration names its preprocessors)."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(HERE)
    return env


def use_tools_here():
    """Give this process the tools environment: nbgrader's API, used in this process, starts
    `alembic` and the kernels with the process's own PATH."""
    os.environ.update(tools_environment())


def run_nbgrader(folder, *args):
    """Run one nbgrader command in the course folder `folder`; return (ok, combined log)."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=folder,
                          env=tools_environment(), capture_output=True, text=True)
    return done.returncode == 0, done.stdout + done.stderr


def nbgrader_api(folder):
    """nbgrader's Python API for the course folder `folder` (configured by its
    nbgrader_config.py): the same code as the `nbgrader` command, without starting a process."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def marked_lines(nb, kind="HIDDEN TESTS", min_length=12):
    """The stripped lines, at least `min_length` long, between `### BEGIN <kind>` and
    `### END <kind>` in the cells of `nb` (kind: "HIDDEN TESTS" or "SOLUTION")."""
    begin, end = f"### BEGIN {kind}", f"### END {kind}"
    lines = set()
    for cell in nb.get("cells", []):
        inside = False
        for line in cell_source(cell).splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside and len(line.strip()) >= min_length:
                lines.add(line.strip())
    return lines
