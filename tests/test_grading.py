"""Real nbgrader autograding of the solutions, the untouched exercises and a mutant submission."""
import html
import re

import pytest

from conftest import ASSIGNMENTS, ROOT, answer_cells, course, harness, solution_notebooks


def rows_of(graded, student):
    rows, _ = graded
    return {row["assignment"]: row for row in rows if row["student"] == student}


def graded_cells(row):
    return {k: v for k, v in row.items() if ":" in k}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_get_full_marks(graded, assignment):
    row = rows_of(graded, "solution")[assignment]
    assert row["status"] == "graded", row["status"]
    assert row["max"] > 0
    lost = {k: v for k, v in graded_cells(row).items() if v == 0}
    assert not lost, f"the reference solution loses points in {lost}"
    assert row["total"] == row["max"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_exercises_get_zero(graded, assignment):
    row = rows_of(graded, "untouched")[assignment]
    assert row["status"] == "graded", row["status"]
    earned = {k: v for k, v in graded_cells(row).items() if v != 0}
    assert not earned, f"an untouched exercise earns points in {earned}"
    assert row["total"] == 0 and row["max"] > 0


@pytest.mark.parametrize("notebook", solution_notebooks(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mutant_submission_loses_every_mutated_exercise(graded, notebook):
    row = rows_of(graded, "mutant")[notebook.parent.name]
    for cell in answer_cells(harness.load(notebook)):
        grade_id = harness.nbgrader_meta(cell)["grade_id"]
        scores = {k: v for k, v in graded_cells(row).items()
                  if k.startswith(f"{notebook.stem}:test_{grade_id}")}
        assert scores, f"no test cell for {grade_id}"
        assert 0 in scores.values(), f"a wrong {grade_id} kept full marks in nbgrader: {scores}"


def secret_lines(kind):
    """Distinctive lines (25 characters or more) of the reference solutions ("SOLUTION") or of
    the hidden tests ("HIDDEN TESTS") of every solution notebook that students do not see anyway
    (a line that also stands in an exercise notebook is public)."""
    public = "\n".join(harness.source(cell) for notebook in ROOT.glob("exercises/*/*.ipynb")
                       for cell in harness.load(notebook)["cells"])
    lines = set().union(*(course.marked_lines(harness.load(notebook), kind, min_length=25)
                          for notebook in solution_notebooks()))
    lines = {line for line in lines if line not in public}
    assert len(lines) >= 5, f"too few {kind} lines found to make this check meaningful"
    return lines


def html_text(path):
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(errors="replace")))


def test_feedback_shows_messages_and_no_hidden_tests(graded):
    _, out = graded
    hidden, solution = secret_lines("HIDDEN TESTS"), secret_lines("SOLUTION")
    feedback = sorted((out / "feedback").glob("*/*/*.html"))
    assert len(feedback) == 3 * len(solution_notebooks())
    for page in feedback:
        # the other students' feedback shows their own code, which may share lines with the solution
        secret = hidden | solution if page.parts[-3] == "untouched" else hidden
        text = html_text(page)
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{page} shows hidden test or solution code: {leaked[:3]}"
    untouched = html_text(next((out / "feedback" / "untouched").glob("*/*.html")))
    assert "is not implemented yet" in untouched


def test_grade_table_lists_every_student_and_assignment(graded):
    _, out = graded
    lines = (out / "grades.csv").read_text().splitlines()
    assert lines[0].startswith("student,assignment,") and lines[0].endswith(",total,max,status")
    assert len(lines) == 1 + 3 * len(ASSIGNMENTS)
