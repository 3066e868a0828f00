"""autograder/reports.py: the grade table from a gradebook; a submission the environment could
not grade has no points in it (not a 0)."""
import csv

import reasons as R
import reports

A = "03-rnn"


def gradebook(tmp_path):
    from nbgrader.api import Gradebook
    url = "sqlite:///" + str(tmp_path / "gradebook.db")
    with Gradebook(url) as gb:
        gb.add_assignment(A)
        for notebook in ("rnn_numpy", "rnn_torch"):
            gb.add_notebook(notebook, A)
            gb.add_grade_cell(f"test_{notebook}", notebook, A, max_score=2.0, cell_type="code")
        for student in ("graded", "broken_env"):
            gb.add_student(student)
            gb.add_submission(A, student)
        grade = gb.find_grade("test_rnn_numpy", "rnn_numpy", A, "graded")
        grade.auto_score = 2.0
        gb.db.commit()
    return url


def test_a_not_graded_row_has_no_points_and_its_reason(tmp_path):
    statuses = {"graded": R.encode([]),
                "broken_env": R.encode([R.reason(R.Code.NOT_GRADED, detail="the kernel could not start")])}
    rows = {r["student"]: r for r in reports.grade_rows(gradebook(tmp_path), A, statuses)}
    assert rows["graded"]["total"] == 2.0 and rows["graded"]["max"] == 4.0
    assert rows["graded"]["status"] == "graded"
    assert rows["broken_env"]["total"] == "" and rows["broken_env"]["rnn_numpy:test_rnn_numpy"] == ""
    assert rows["broken_env"]["max"] == 4.0
    assert rows["broken_env"]["status"].startswith("not graded: the kernel could not start")
    reports.write_table(list(rows.values()), tmp_path / "grades.csv")
    table = list(csv.DictReader(open(tmp_path / "grades.csv")))
    assert {r["student"]: r["total"] for r in table} == {"graded": "2.0", "broken_env": ""}
