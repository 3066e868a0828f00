"""The LMS gradebook file (autograder/lms_export.py), from a gradebook made with nbgrader's API."""
import csv
import warnings

import pytest
import sqlalchemy as sa
from nbgrader.api import Gradebook

import lms_export
import reasons
from records import RETRY


def make_gradebook(db_url):
    """Two assignments (a1: 3 points in two tests, a2: 5 points); jane (with a name) graded in
    both, bob in a1 only, carl not graded in a1 (a failure not his own) and failed in a2."""
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader's add_submission
        for assignment, cells in [("a1", {"test_f": 1, "test_f_hidden": 2}), ("a2", {"test_g": 5})]:
            gradebook.add_assignment(assignment)
            gradebook.add_notebook("nb", assignment)
            for cell, points in cells.items():
                gradebook.add_grade_cell(cell, "nb", assignment, max_score=points, cell_type="code")
        gradebook.add_student("jane", first_name="Jane", last_name="Doe")
        for student in ("bob", "carl"):
            gradebook.add_student(student)
        scores = {("jane", "a1"): {"test_f": 1, "test_f_hidden": 2}, ("jane", "a2"): {"test_g": 2},
                  ("bob", "a1"): {"test_f": 1, "test_f_hidden": 0}, ("carl", "a1"): {},
                  ("carl", "a2"): {"test_g": 0}}
        for (student, assignment), cells in scores.items():
            gradebook.add_submission(assignment, student)
            for cell, score in cells.items():
                grade = gradebook.find_grade(cell, "nb", assignment, student)
                grade.auto_score = score
                grade.needs_manual_grade = False
        gradebook.db.commit()
    engine = sa.create_engine(db_url)  # grade.py's status table (student, assignment, status, ...)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE rnn_grading_status (student VARCHAR(255), assignment "
                             "VARCHAR(255), status TEXT, host VARCHAR(255), updated FLOAT)"))
        conn.execute(sa.text("INSERT INTO rnn_grading_status VALUES (:s, :a, :st, 'h', 0)"), [
            {"s": "jane", "a": "a1", "st": "graded"}, {"s": "jane", "a": "a2", "st": "graded"},
            {"s": "bob", "a": "a1", "st": "graded"},
            # stored as the grader stores them: reason codes, a retry marker on what is not graded
            {"s": "carl", "a": "a1", "st": RETRY + reasons.encode(
                [reasons.reason("not_graded", detail="the kernel could not start")])},
            {"s": "carl", "a": "a2", "st": reasons.encode([reasons.reason("failed_to_run", detail="NameError")])}])
    engine.dispose()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    url = "sqlite:///" + str(tmp_path_factory.mktemp("lms") / "gradebook.db")
    make_gradebook(url)
    return url


def test_lms_file_has_a_row_per_student_a_column_per_assignment_and_the_maximum(db_url, tmp_path):
    path = lms_export.write_lms_gradebook(db_url, tmp_path / "grades-lms.csv")
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1", "a2"],
        ["Points Possible", "", "", "", "", "3", "5"],
        ["bob", "", "bob", "", "", "1", ""],       # no a2 submission: nothing to upload
        ["carl", "", "carl", "", "", "", "0"],     # a1 not graded: empty, not 0
        ["Doe, Jane", "", "jane", "", "", "3", "2"],
    ]


def test_the_student_id_can_go_into_another_column(db_url):
    rows = lms_export.lms_rows(db_url, id_column="SIS Login ID")
    assert rows[2][:5] == ["bob", "", "", "bob", ""]
