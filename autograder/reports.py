"""What a run writes for the instructor, from the gradebook and the claims table: grades.csv
(one row per submission: each test's points, total, max, status) and summary.txt (how many were
graded, failed, flagged, not graded: counted by reason code).

`write_reports` is the one place the end of a run writes its reports; further reports (the class
report, an LMS export) are called from it.
"""
import csv
from collections import Counter

import reasons as R
from course import notebooks_of


def grade_rows(db_url, assignment, statuses):
    """statuses: {student: stored status} (records.Records.all). One row per student: each test
    cell's points, total, max and the rendered status; a submission that was not graded (the
    grader's environment failed) has no points, only its maximum."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(db_url) as gradebook:
        for student in sorted(statuses):
            reasons = R.decode(statuses[student])
            not_graded = R.NOT_GRADED in R.kinds(reasons)
            row = {"student": student, "assignment": assignment}
            total = maximum = 0.0
            for notebook in notebooks_of(assignment):
                name = notebook[:-len(".ipynb")]
                for cell in gradebook.find_notebook(name, assignment).grade_cells:
                    try:
                        score = float(gradebook.find_grade(cell.name, name, assignment, student).score or 0.0)
                    except MissingEntry:
                        score = 0.0
                    row[f"{name}:{cell.name}"] = "" if not_graded else score
                    total += score
                    maximum += cell.max_score
            row.update(total="" if not_graded else total, max=maximum, status=R.render(statuses[student]))
            rows.append(row)
    return rows


def write_table(rows, path):
    columns = ["student", "assignment"]
    for row in rows:
        columns += [k for k in row if k not in columns and k not in ("total", "max", "status")]
    columns += ["total", "max", "status"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def summarize(reason_lists):
    """reason_lists: one list of reasons.Reason per submission. One line of counts by kind."""
    counts = Counter()
    for reasons in reason_lists:
        kinds = R.kinds(reasons)
        counts["clean"] += not reasons
        counts.update(kinds & {R.FAILED, R.FLAGGED, R.NOT_GRADED})
    text = (f"{len(reason_lists)} submissions in the table: {counts['clean']} graded without remarks, "
            f"{counts[R.FAILED]} with a notebook that failed to run or is missing, "
            f"{counts[R.FLAGGED]} flagged for review")
    if counts[R.NOT_GRADED]:
        text += (f", {counts[R.NOT_GRADED]} not graded (the grader's environment failed; "
                 "run the command again to grade them)")
    return text


def class_report(out, db_url):
    from class_report import write_class_report
    write_class_report(db_url, out)


def lms_gradebook(out, db_url):
    from lms_export import write_lms_gradebook
    write_lms_gradebook(db_url, out / "grades-lms.csv")


# The reports written after grades.csv and summary.txt, each called as report(out, db_url) with
# the grading folder and its gradebook: the class report (class_report.py, grading/report.html)
# and the LMS export (lms_export.py, grading/grades-lms.csv). They read the gradebook and the
# executed notebooks in `out`, never run student code.
FURTHER_REPORTS = [class_report, lms_gradebook]


def write_reports(out, db_url, rows, statuses, warnings=()):
    """The run's reports in `out`; returns the summary line. statuses: {assignment: {student:
    stored status}}; warnings: texts about the run itself (e.g. zip entries no student owns)."""
    write_table(rows, out / "grades.csv")
    summary = summarize([R.decode(status) for by_student in statuses.values()
                         for status in by_student.values()])
    problems = []
    for report in FURTHER_REPORTS:
        try:
            report(out, db_url)
        except Exception as error:  # an extra report never costs the grades already written
            problems.append(f"the {report.__name__.replace('_', ' ')} could not be written: "
                            f"{type(error).__name__}: {error}")
    (out / "summary.txt").write_text("\n".join([summary, *warnings, *problems]) + "\n")
    return "\n".join([summary, *problems])
