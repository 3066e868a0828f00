"""Autograde a folder of student submissions with nbgrader; write a grade table and feedback.

Usage (from the repository root, after the README's setup command):

    .venv/bin/python autograder/grade.py SUBMISSIONS [--assignment 03-rnn ...] [--out grading]

SUBMISSIONS holds one folder per student, each with one folder per assignment holding the
student's notebooks, as nbgrader collects them: SUBMISSIONS/<student>/<assignment>/<name>.ipynb.

Writes into the --out folder (default `grading/`, git-ignored), which is an nbgrader course
directory of its own whose source is this repository's `solutions/`:
- grades.csv: one row per student and assignment: each test cell's points, total, max, status;
- feedback/<student>/<assignment>/<name>.html: each test's result and message, without the
  hidden tests' source;
- gradebook.db, submitted/, autograded/: nbgrader's own records.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def assignments_available():
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())


def notebooks_of(assignment):
    return sorted(p.name for p in (SOLUTIONS / assignment).glob("*.ipynb"))


def write_course_config(out):
    """An nbgrader_config.py for the grading folder: the course's, re-rooted there."""
    (out / "nbgrader_config.py").write_text(
        f"load_subconfig({str(ROOT / 'autograder' / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(out)!r}\n"
        f"c.CourseDirectory.source_directory = {str(SOLUTIONS)!r}\n"
        f"c.CourseDirectory.release_directory = 'release'\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(out / 'gradebook.db')!r}\n"
    )


def nbgrader(out, *args):
    """Run one nbgrader command in the grading folder; return (ok, combined log)."""
    env = dict(os.environ)
    # nbgrader shells out to `jupyter` and `alembic`: the environment's bin must be on PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=out, env=env,
                          capture_output=True, text=True)
    return done.returncode == 0, done.stdout + done.stderr


def collect(submissions, out, assignment):
    """Copy each student's notebooks of `assignment` into out/submitted; return {student: problems}."""
    expected = notebooks_of(assignment)
    problems = {}
    for student_dir in sorted(p for p in Path(submissions).iterdir() if p.is_dir()):
        student = student_dir.name
        source = student_dir / assignment
        if not source.is_dir():
            continue
        target = out / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        issues = []
        for name in expected:
            if (source / name).is_file():
                shutil.copy2(source / name, target / name)
            else:
                issues.append(f"missing {name}")
        extra = sorted(p.name for p in source.glob("*.ipynb") if p.name not in expected)
        issues += [f"unexpected {name} (not graded)" for name in extra]
        problems[student] = issues
    return problems


def read_grades(out, assignment, problems, logs):
    """Rows of the grade table for one assignment, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook("sqlite:///" + str(out / "gradebook.db")) as gradebook:
        for student in sorted(problems):
            row = {"student": student, "assignment": assignment}
            status = list(problems[student])
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                submission = None
            total = maximum = 0.0
            for notebook in notebooks_of(assignment):
                name = notebook[:-len(".ipynb")]
                nb_submission = None
                if submission is not None:
                    try:
                        nb_submission = gradebook.find_submission_notebook(name, assignment, student)
                    except MissingEntry:
                        pass
                for cell in gradebook.find_notebook(name, assignment).grade_cells:
                    score = 0.0
                    if nb_submission is not None:
                        grade = gradebook.find_grade(cell.name, name, assignment, student)
                        score = grade.score
                    row[f"{name}:{cell.name}"] = score
                    total += score
                    maximum += cell.max_score
                if nb_submission is None and f"missing {notebook}" not in status:
                    status.append(f"{notebook} not graded")
            if student in logs:
                status.append(logs[student])
            row.update(total=total, max=maximum, status="; ".join(status) or "graded")
            rows.append(row)
    return rows


def grade(submissions, out, assignments):
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    write_course_config(out)
    rows = []
    for assignment in assignments:
        print(f"[{assignment}] preparing from solutions/{assignment}", flush=True)
        ok, log = nbgrader(out, "generate_assignment", assignment, "--force")
        if not ok:
            raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n{log}")
        problems = collect(submissions, out, assignment)
        logs = {}
        for i, student in enumerate(sorted(problems), start=1):
            print(f"[{assignment}] {i}/{len(problems)} autograding {student}", flush=True)
            ok, log = nbgrader(out, "autograde", assignment, "--student", student, "--force")
            if not ok:
                logs[student] = "autograde failed: " + log.strip().splitlines()[-1][:200]
        nbgrader(out, "generate_feedback", assignment, "--force")
        rows += read_grades(out, assignment, problems, logs)
    columns = ["student", "assignment"]
    for row in rows:
        columns += [k for k in row if k not in columns and k not in ("total", "max", "status")]
    columns += ["total", "max", "status"]
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    print(f"graded {len(rows)} submissions; table: {out / 'grades.csv'}; feedback: {out / 'feedback'}")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", help="folder with <student>/<assignment>/<name>.ipynb")
    parser.add_argument("--assignment", action="append", choices=assignments_available(),
                        help="assignment to grade (repeatable); default: all")
    parser.add_argument("--out", default=str(ROOT / "grading"), help="grading folder (default: grading/)")
    args = parser.parse_args(argv)
    grade(args.submissions, args.out, args.assignment or assignments_available())


if __name__ == "__main__":
    main()
