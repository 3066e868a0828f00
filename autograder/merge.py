"""Merging a worker's result into the course: its scores into the real gradebook (replacing any
earlier grading of the submission, never adding a second one), its executed notebooks and
feedback into the grading folder.
"""
import shutil
import warnings
from pathlib import Path


def copy_outputs(result, out):
    """autograded/ and feedback/ of the result's private course folder into `out` (an earlier
    grading's are removed, also when this one produced none)."""
    for kind in ("autograded", "feedback"):
        target = out / kind / result.student / result.assignment
        if target.exists():
            shutil.rmtree(target)
        produced = Path(result.course) / kind / result.student / result.assignment if result.course else None
        if produced is not None and produced.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(produced, target)


def merge(result, db_url, out):
    """result: a jobs.Result that is a grade (not `not_graded`); its missing scores count 0."""
    from nbgrader.api import Gradebook, MissingEntry

    copy_outputs(result, out)
    student, assignment = result.student, result.assignment
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader's add_submission
        gradebook.update_or_create_student(student)
        try:  # a regrade replaces the scores of the existing submission: never a duplicate
            submission = gradebook.find_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = 0.0
        except MissingEntry:
            gradebook.add_submission(assignment, student)
        for notebook, cells in result.scores.items():
            for cell, score in cells.items():
                grade = gradebook.find_grade(cell, notebook, assignment, student)
                grade.auto_score = score
                grade.needs_manual_grade = False
        gradebook.db.commit()
