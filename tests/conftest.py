"""Shared fixtures: one real nbgrader grading run and one book build per test session."""
import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))
sys.path.insert(0, str(ROOT / "tests"))
# jupyter-book shells out to `jupyter` of this environment (the grader finds its tools itself).
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

import course  # noqa: E402  (autograder/course.py)
import harness  # noqa: E402
import orchestrate  # noqa: E402  (autograder/orchestrate.py: orchestrate.grade runs a grading)

ASSIGNMENTS = course.assignments_available()


def solution_notebooks():
    return sorted((ROOT / "solutions").glob("*/*.ipynb"))


def mutants_of(notebook):
    """The mutants of solutions/<a>/<n>.ipynb, from tests/mutants/<a>/<n>.py."""
    path = ROOT / "tests" / "mutants" / notebook.parent.name / (notebook.stem + ".py")
    return runpy.run_path(str(path))["MUTANTS"] if path.exists() else []


def answer_cells(nb):
    return [c for c in nb["cells"] if harness.nbgrader_meta(c).get("solution")]


def first_mutant_submission(notebook):
    """The solution notebook with every answer cell replaced by its first mutant."""
    nb = harness.load(notebook)
    mutants = mutants_of(notebook)
    for cell in answer_cells(nb):
        grade_id = harness.nbgrader_meta(cell)["grade_id"]
        chosen = [m for m in mutants if m["grade_id"] == grade_id]
        if chosen:
            cell["source"] = chosen[0]["source"]
    return nb


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade three students with real nbgrader: the solutions, the untouched exercises, and the
    solutions with every answer replaced by its first mutant. Returns (rows, grading folder)."""
    submissions = tmp_path_factory.mktemp("submissions")
    for notebook in solution_notebooks():
        assignment = notebook.parent.name
        for student, nb in [("solution", harness.load(notebook)),
                            ("untouched", harness.load(ROOT / "exercises" / assignment / notebook.name)),
                            ("mutant", first_mutant_submission(notebook))]:
            folder = submissions / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / notebook.name).write_text(json.dumps(nb))
    out = tmp_path_factory.mktemp("grading")
    rows = orchestrate.grade(submissions, out, ASSIGNMENTS, workers=2)
    return rows, out
