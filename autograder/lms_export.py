"""Grades for an LMS gradebook: one row per student, one column per assignment total.

grade.py writes `grading/grades-lms.csv` at the end of every run (grades.csv keeps the detail:
one row per student and assignment, every test's points). The file is a Canvas gradebook
import CSV, which Moodle's CSV grade import also reads:

    Student,ID,SIS User ID,SIS Login ID,Section,02-design-criteria,03-rnn
    Points Possible,,,,,15,30
    alice,,alice,,,15,27
    bob,,bob,,,9,

- the five identity columns of a Canvas gradebook export, the nbgrader student id in
  `SIS User ID` (another column with `id_column`) and the name, "Last, First" when the
  gradebook has one, in `Student`;
- one column per assignment, named by the assignment, holding the student's total points;
- a second row `Points Possible` with each assignment's maximum (Canvas reads it as the
  assignments' points; Moodle would take it for a student: delete it before a Moodle import);
- an empty cell where there is no grade to upload: no submission, or not graded (a failure not
  the student's own, or still being graded); a submission that ran and failed scores its points.

    .venv/bin/python autograder/lms_export.py [--out grading] [--db URL]
"""
import argparse
import csv
from pathlib import Path

from class_report import read_gradebook
from course import sqlite_url

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def lms_rows(db_url, id_column="SIS User ID"):
    """The rows of the LMS file (header, Points Possible, one per student) as lists."""
    from nbgrader.api import Gradebook

    assignments = read_gradebook(db_url)
    with Gradebook(db_url) as gradebook:
        names = {s.id: ", ".join(n for n in (s.last_name, s.first_name) if n) for s in gradebook.students}
    totals = {}  # {student: {assignment: total}}
    for assignment in assignments:
        for submission in assignment.submissions:
            names.setdefault(submission.student, "")
            if submission.counted:
                totals.setdefault(submission.student, {})[assignment.name] = submission.total
    header = IDENTITY + [a.name for a in assignments]
    rows = [header, ["Points Possible", "", "", "", ""] + [f"{a.maximum:g}" for a in assignments]]
    for student in sorted(names):
        identity = dict.fromkeys(IDENTITY, "")
        identity.update({"Student": names[student] or student, id_column: student})
        grades = totals.get(student, {})
        rows.append([identity[c] for c in IDENTITY]
                    + [f"{grades[a.name]:g}" if a.name in grades else "" for a in assignments])
    return rows


def write_lms_gradebook(db_url, path, id_column="SIS User ID"):
    """Write the LMS gradebook file for every student and assignment in the gradebook."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(lms_rows(db_url, id_column))
    return Path(path)


def main(argv=None):
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(root / "grading"), help="grading folder (default: grading/)")
    parser.add_argument("--db", help="gradebook URL (default: the sqlite gradebook.db in --out)")
    parser.add_argument("--id-column", default="SIS User ID", choices=IDENTITY[1:],
                        help="the column that gets the nbgrader student id (default: %(default)s)")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    print(write_lms_gradebook(args.db or sqlite_url(out),
                              out / "grades-lms.csv", args.id_column))


if __name__ == "__main__":
    main()
