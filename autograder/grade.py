"""Grade student submissions with nbgrader: in parallel, each in a sandbox; write a grade table,
per-student feedback and a summary.

Usage (from the repository root, after the README's setup command):

    .venv/bin/python autograder/grade.py SUBMISSIONS [--assignment 03-rnn ...] [--out grading]
        [--workers 2] [--regrade] [--db postgresql://user:pw@host/db] [--zip-regexp REGEXP]
        [--memory BYTES] [--cpu SECONDS] [--cell-timeout SECONDS] [--notebook-timeout SECONDS]
        [--disk BYTES]

SUBMISSIONS is either a folder with one folder per student, each with one folder per assignment
(SUBMISSIONS/<student>/<assignment>/<name>.ipynb, as nbgrader collects them), or an LMS download:
a .zip of files named by student, unpacked by nbgrader's `zip_collect` (default file names
`<student>_<notebook>.ipynb`, or `--zip-regexp` with nbgrader's `student_id` and `file_id`
groups); a zip grades the one `--assignment` given.

Writes into the --out folder (default `grading/`, git-ignored), an nbgrader course directory
whose source is this repository's `solutions/`:
- grades.csv: student, assignment, each test cell's points (`notebook:test id`), total, max,
  status (`graded`, or the reasons: failed to run, flagged, tampering, missing notebook, not
  graded (the grader's environment failed: no points, the next run grades it again)...);
- feedback/<student>/<assignment>/<name>.html: each test's result and message, without the
  hidden tests' source (and without any output quoting them);
- summary.txt: how many were graded, failed to run, flagged, not graded;
- report.html (with its PNG figures): the class report, per assignment the score distribution,
  each test's pass rate, the named mistakes the class made most often, the students to look at;
- grades-lms.csv: one row per student, one column per assignment total, with the maximum, for an
  LMS gradebook import (Canvas's format; see book/instructor.md);
- the gradebook (gradebook.db, or the --db PostgreSQL URL shared by several machines),
  autograded/ (nbgrader's executed notebooks).

Before the first submission the command checks that grading works here (bubblewrap, the sandbox
user, the reference solution of one notebook gets full marks in the sandbox); if not, it stops
with one line saying what is missing (exit status 2) and writes nothing. Re-running skips
submissions the gradebook already holds; --regrade grades them again and replaces their scores.
Each submission is graded by one of W workers (--workers) in a course folder of its own, its
kernel sandboxed (see sandbox.py and book/instructor.md). The modules: see book/instructor.md.
"""
import argparse
import os
import sys

from course import ROOT, assignments_available
from intake import ZIP_REGEXP
from jobs import Limits
from orchestrate import grade, parse_shard
from preflight import NotReady

__all__ = ["grade", "main"]


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("submissions", help="folder with <student>/<assignment>/<name>.ipynb, or an LMS .zip")
    p.add_argument("--assignment", action="append", choices=assignments_available(),
                   help="assignment to grade (repeatable); default: all")
    p.add_argument("--out", default=str(ROOT / "grading"), help="grading folder (default: grading/)")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                   help="submissions graded at once (default: CPU count, at most 4)")
    p.add_argument("--regrade", action="store_true", help="grade again what is already graded")
    p.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite in --out); a "
                   "postgresql:// URL lets several machines grade one course together")
    p.add_argument("--shard", default="0/1", help="K/N: grade only the students of shard K of N")
    p.add_argument("--zip-regexp", default=ZIP_REGEXP,
                   help="nbgrader FileNameCollectorPlugin.named_regexp for a .zip, matched against "
                   "each extracted file's whole path (default: %(default)s)")
    defaults = Limits.from_env()
    limits = p.add_argument_group("limits of one submission (defaults from the environment "
                                  "variables named, else the values shown)")
    limits.add_argument("--memory", type=int, default=defaults.memory,
                        help="bytes of address space of a kernel (RNN_GRADE_MEMORY; %(default)s)")
    limits.add_argument("--cpu", type=int, default=defaults.cpu,
                        help="CPU seconds of a kernel (RNN_GRADE_CPU; %(default)s)")
    limits.add_argument("--cell-timeout", type=int, default=defaults.cell_timeout,
                        help="seconds one cell may run (RNN_GRADE_CELL_TIMEOUT; %(default)s)")
    limits.add_argument("--notebook-timeout", type=int, default=defaults.notebook_timeout,
                        help="seconds all notebooks of a submission may take "
                        "(RNN_GRADE_NOTEBOOK_TIMEOUT; %(default)s)")
    limits.add_argument("--disk", type=int, default=defaults.disk,
                        help="bytes a kernel may write in all, its files included "
                        "(RNN_GRADE_DISK; %(default)s)")
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if str(args.submissions).endswith(".zip") and len(args.assignment or []) != 1:
        p.error("a .zip holds one assignment: give exactly one --assignment")
    try:
        shard = parse_shard(args.shard)
    except ValueError as error:
        p.error(str(error))
    limits = Limits(memory=args.memory, cpu=args.cpu, cell_timeout=args.cell_timeout,
                    notebook_timeout=args.notebook_timeout, disk=args.disk)
    try:
        grade(args.submissions, args.out, args.assignment or assignments_available(),
              workers=args.workers, regrade=args.regrade, db_url=args.db,
              zip_regexp=args.zip_regexp, shard=shard, limits=limits)
    except NotReady as error:
        print(f"grading cannot start: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: what was graded is in the gradebook; run the same command again to "
              "grade the rest", flush=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
