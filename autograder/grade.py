"""Grade student submissions with nbgrader: in parallel, each in a sandbox; write a grade table,
per-student feedback and a summary.

Usage (from the repository root, after the README's setup command):

    .venv/bin/python autograder/grade.py SUBMISSIONS [--assignment 03-rnn ...] [--out grading]
        [--workers 2] [--regrade] [--db postgresql://user:pw@host/db] [--zip-regexp REGEXP]

SUBMISSIONS is either a folder with one folder per student, each with one folder per assignment
(SUBMISSIONS/<student>/<assignment>/<name>.ipynb, as nbgrader collects them), or an LMS download:
a .zip of files named by student, unpacked by nbgrader's `zip_collect` (default file names
`<student>_<notebook>.ipynb`, or `--zip-regexp` with nbgrader's `student_id` and `file_id`
groups); a zip grades the one `--assignment` given.

Writes into the --out folder (default `grading/`, git-ignored), an nbgrader course directory
whose source is this repository's `solutions/`:
- grades.csv: student, assignment, each test cell's points (`notebook:test id`), total, max,
  status (`graded`, or the reasons: failed to run, flagged, tampering, missing notebook...);
- feedback/<student>/<assignment>/<name>.html: each test's result and message, without the
  hidden tests' source (and without any output quoting them);
- summary.txt: how many were graded, failed to run, flagged;
- the gradebook (gradebook.db, or the --db PostgreSQL URL shared by several machines),
  autograded/ (nbgrader's executed notebooks).

Re-running skips submissions the gradebook already holds; --regrade grades them again and
replaces their scores. Each submission is graded by one of W workers (--workers) in a course
folder of its own, its kernel sandboxed (see sandbox.py and book/instructor.md).
"""
import argparse
import csv
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "autograder"
SOLUTIONS = ROOT / "solutions"
sys.path.insert(0, str(HERE))

import worker  # noqa: E402  (autograder/worker.py)
from class_report import write_class_report  # noqa: E402
from lms_export import write_lms_gradebook  # noqa: E402


def assignments_available():
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebooks_of(assignment):
    return sorted(p.name for p in (SOLUTIONS / assignment).glob("*.ipynb"))


def notebook_wall_time():
    """Seconds one submission (all its notebooks) may take before its grading is stopped."""
    return int(os.environ.get("RNN_GRADE_NOTEBOOK_TIMEOUT", "900"))


def sqlite_url(out):
    return "sqlite:///" + str(Path(out) / "gradebook.db")


def write_course_config(out, db_url=None):
    """An nbgrader_config.py for the grading folder: the course's, re-rooted there."""
    (Path(out) / "nbgrader_config.py").write_text(
        f"load_subconfig({str(HERE / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(out)!r}\n"
        f"c.CourseDirectory.source_directory = {str(SOLUTIONS)!r}\n"
        f"c.CourseDirectory.release_directory = 'release'\n"
        f"c.CourseDirectory.db_url = {db_url or sqlite_url(out)!r}\n"
    )


def nbgrader(out, *args):
    """Run one nbgrader command in the grading folder; return (ok, combined log)."""
    env = dict(os.environ)
    # nbgrader shells out to `jupyter` and `alembic`: the environment's bin must be on PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(HERE)
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=out, env=env,
                          capture_output=True, text=True)
    return done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- the status table (our records)

class Records:
    """Our own table in the gradebook's database: one row per (student, assignment) with the
    grading status; a row is also the claim that lets several graders (machines) share one
    course. A grader refreshes its running claims every minute (`touch`); a claim not refreshed
    for STALE seconds (its grader crashed or lost its machine) may be taken over."""

    STALE = 600

    def __init__(self, db_url):
        import sqlalchemy as sa
        self.sa = sa
        self.engine = sa.create_engine(db_url)
        self.me = f"{os.uname().nodename}:{os.getpid()}"
        with self.engine.begin() as conn:
            conn.execute(sa.text(
                "CREATE TABLE IF NOT EXISTS rnn_grading_status (student VARCHAR(255) NOT NULL, "
                "assignment VARCHAR(255) NOT NULL, status TEXT NOT NULL, host VARCHAR(255), "
                "updated FLOAT, PRIMARY KEY (student, assignment))"))

    def claim(self, student, assignment, regrade):
        """True if this grader may grade the submission (nobody graded it or is grading it)."""
        sa = self.sa
        key = {"s": student, "a": assignment, "h": self.me, "t": time.time()}
        with self.engine.begin() as conn:
            if regrade:
                conn.execute(sa.text("DELETE FROM rnn_grading_status WHERE student=:s AND assignment=:a"), key)
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO rnn_grading_status VALUES (:s, :a, 'running', :h, :t)"), key)
            return True
        except sa.exc.IntegrityError:
            pass
        with self.engine.begin() as conn:  # one UPDATE: of two graders, one takes it over
            taken = conn.execute(sa.text(
                "UPDATE rnn_grading_status SET host=:h, updated=:t WHERE student=:s AND "
                "assignment=:a AND status='running' AND updated < :stale"),
                dict(key, stale=key["t"] - self.STALE))
        return taken.rowcount == 1

    def touch(self):
        """Refresh this grader's running claims (they are alive)."""
        with self.engine.begin() as conn:
            conn.execute(self.sa.text("UPDATE rnn_grading_status SET updated=:t WHERE host=:h AND "
                                      "status='running'"), {"t": time.time(), "h": self.me})

    def set(self, student, assignment, status):
        with self.engine.begin() as conn:
            conn.execute(self.sa.text("UPDATE rnn_grading_status SET status=:st, updated=:t "
                                      "WHERE student=:s AND assignment=:a"),
                         {"st": status, "t": time.time(), "s": student, "a": assignment})

    def all(self, assignment):
        with self.engine.begin() as conn:
            rows = conn.execute(self.sa.text("SELECT student, status FROM rnn_grading_status "
                                             "WHERE assignment=:a"), {"a": assignment})
            return dict(rows.fetchall())

    def release(self):
        """Give up this grader's claims on what it did not grade (it is stopping)."""
        with self.engine.begin() as conn:
            conn.execute(self.sa.text("DELETE FROM rnn_grading_status WHERE host=:h AND "
                                      "status='running'"), {"h": self.me})


# ---------------------------------------------------------------- preparing an assignment

def generate_assignment(course, assignment):
    """nbgrader's generate_assignment in the course folder `course`, in this process."""
    result = worker.nbgrader_api(course).generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n"
                         f"{result.get('log', '')}\n{result.get('error', '')}")


def prepare(out, assignment, db_url):
    """A clean template gradebook for the workers (this assignment only, no submission), and
    the assignment in the real gradebook (added once; a shared gradebook keeps the first)."""
    import guard
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    template = out / ".template" / assignment
    if template.exists():
        shutil.rmtree(template)
    template.mkdir(parents=True)
    write_course_config(template)
    generate_assignment(template, assignment)
    # the names the course's cells import, which the integrity check follows
    imports = {Path(name).stem: guard.imports_of(nbformat.read(SOLUTIONS / assignment / name, as_version=4))
               for name in notebooks_of(assignment)}
    (template / "imports.json").write_text(json.dumps(imports))
    with Gradebook(db_url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
            present = True
        except MissingEntry:
            present = False
    if not present:
        generate_assignment(out, assignment)
    return template / "gradebook.db"


def clean_fingerprint(out):
    """The clean interpreter's fingerprint (guard.py), computed once per version of the code it
    covers and kept in the grading folder."""
    import hashlib
    import importlib.metadata as md
    import guard
    key = hashlib.sha1()
    for name in ("numpy", "torch", "ipykernel", "ipython"):
        key.update(f"{name}={md.version(name)};".encode())
    for path in sorted((ROOT / "rnncourse").rglob("*.py")) + [HERE / "guard.py"]:
        key.update(path.read_bytes())
    path = out / ".template" / f"clean-fingerprint-{key.hexdigest()[:12]}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(guard.expected()))
    return path


# ---------------------------------------------------------------- collecting submissions

def collect(submissions, out, assignment):
    """Check each student's files for `assignment`; return {student: (files, problems)} where
    files maps each expected notebook name to the file to grade for it."""
    import screen
    import nbformat

    expected = notebooks_of(assignment)
    ids, releases, sources = {}, {}, {}
    trusted = set()
    for name in expected:
        source = nbformat.read(SOLUTIONS / assignment / name, as_version=4)
        ids[name] = screen.grade_ids(source)
        sources[name] = source
        trusted |= screen.trusted_sources(source)
        release = out / ".template" / assignment / "release" / assignment / name
        releases[name] = nbformat.read(release, as_version=4)
        trusted |= screen.trusted_sources(releases[name])
    result = {}
    for student_dir in sorted(p for p in Path(submissions).iterdir() if p.is_dir()):
        student = student_dir.name
        source = student_dir / assignment
        if not source.is_dir():
            continue
        problems, readable = [], {}
        for path in sorted(source.glob("*.ipynb")):
            nb, reason = screen.read_notebook(path)
            if reason:
                problems.append(reason)
            else:
                readable[path.name] = (path, nb)
        mapping = screen.match_names({k: v[1] for k, v in readable.items()}, ids)
        files, chosen = {}, {}
        for name in expected:
            if name in readable:
                chosen[name] = readable[name]
            elif name in mapping:
                chosen[name] = readable[mapping[name]]
                problems.append(f"{mapping[name]} graded as {name} (wrong file name)")
            elif not any(r.startswith(name + " ") for r in problems):
                problems.append(f"missing {name}")
        used = {path.name for path, _ in chosen.values()}
        problems += [f"unexpected {name} (not graded)" for name in readable if name not in used]
        for name, (path, nb) in chosen.items():
            problems += [f"{name}: {change}" for change in screen.changes(nb, releases[name], sources[name])]
            flags = screen.suspicious(nb, trusted)
            problems += [f"flagged for review: {name} {reason}" for reason in flags]
            clean = out / ".collected" / student / assignment / name
            clean.parent.mkdir(parents=True, exist_ok=True)
            try:
                nbformat.write(nbformat.from_dict(screen.sanitize(nb, releases[name])), clean)
                files[name] = clean
            except Exception as error:
                problems.append(f"{name} could not be prepared for grading ({type(error).__name__}): not graded")
        result[student] = (files, problems)
    return result


# nbgrader matches this against the whole path of each extracted file: <student>_<notebook>.ipynb
ZIP_REGEXP = r".*/(?P<student_id>[^_/]+)_(?P<file_id>[^/]+\.ipynb)$"


def from_zip(archive, out, assignment, regexp=ZIP_REGEXP):
    """Unpack an LMS download with nbgrader's zip_collect; return the submissions folder."""
    stage = out / ".zip" / assignment
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "downloaded" / assignment / "archive").mkdir(parents=True)
    shutil.copy(archive, stage / "downloaded" / assignment / "archive" / Path(archive).name)
    write_course_config(stage)
    with open(stage / "nbgrader_config.py", "a") as handle:
        handle.write(f"c.FileNameCollectorPlugin.named_regexp = {regexp!r}\n")
    ok, log = nbgrader(stage, "zip_collect", assignment, "--force")
    if not ok:
        raise SystemExit(f"nbgrader zip_collect failed:\n{log}")
    return stage / "submitted"


# ---------------------------------------------------------------- merging and reporting

def merge(result, db_url, out):
    """Put a worker's scores into the real gradebook (replacing any earlier grading), and its
    executed notebooks and feedback into the grading folder."""
    from nbgrader.api import Gradebook, MissingEntry

    student, assignment = result["student"], result["assignment"]
    for kind in ("autograded", "feedback"):
        target = out / kind / student / assignment
        if target.exists():
            shutil.rmtree(target)
        produced = Path(result["course"]) / kind / student / assignment if result["course"] else None
        if produced is not None and produced.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(produced, target)
    import warnings
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
        for notebook, cells in result["scores"].items():
            for cell, score in cells.items():
                grade = gradebook.find_grade(cell, notebook, assignment, student)
                grade.auto_score = score
                grade.needs_manual_grade = False
        gradebook.db.commit()


def grade_rows(db_url, assignment, statuses):
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(db_url) as gradebook:
        for student in sorted(statuses):
            row = {"student": student, "assignment": assignment}
            total = maximum = 0.0
            for notebook in notebooks_of(assignment):
                name = notebook[:-len(".ipynb")]
                for cell in gradebook.find_notebook(name, assignment).grade_cells:
                    try:
                        score = gradebook.find_grade(cell.name, name, assignment, student).score
                    except MissingEntry:
                        score = 0.0
                    row[f"{name}:{cell.name}"] = float(score or 0.0)
                    total += float(score or 0.0)
                    maximum += cell.max_score
            row.update(total=total, max=maximum, status=statuses[student])
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


def summarize(rows):
    failed = sum("failed to run" in r["status"] or "not graded" in r["status"] or "missing" in r["status"]
                 for r in rows)
    flagged = sum("flagged" in r["status"] or "tampering" in r["status"] or "edited" in r["status"]
                  or "deleted" in r["status"] or "wrong file name" in r["status"] for r in rows)
    clean = sum(r["status"] == "graded" for r in rows)
    return (f"{len(rows)} submissions in the table: {clean} graded without remarks, "
            f"{failed} with a notebook that failed to run or is missing, {flagged} flagged for review")


def in_shard(student, shard):
    index, count = shard
    return zlib.crc32(student.encode()) % count == index


class Grading:
    """One run of the command: the worker processes, the status records, the progress lines."""

    def __init__(self, out, db_url, workers, regrade, shard, zip_regexp, quiet):
        self.out, self.db_url, self.workers = out, db_url, max(1, workers)
        self.regrade, self.shard, self.zip_regexp, self.quiet = regrade, shard, zip_regexp, quiet
        self.records = Records(db_url)
        self.idle = queue.Queue()  # started workers waiting for a job
        self.stopping = threading.Event()
        self.started = time.monotonic()
        self.pool = self.fingerprint = None

    def say(self, text):
        if not self.quiet:
            print(text, flush=True)

    def start_worker(self, index):
        handle = worker.WorkerProcess(self.out / ".work" / f"worker-{index}.log")
        try:
            handle.start()
        except Exception:  # handle.grade tries again for its first job, and reports the error
            pass
        self.idle.put(handle)
        return handle

    def heartbeat(self):
        while not self.stopping.wait(60):
            self.records.touch()

    def run(self, job):
        """Grade one job with the next free worker; returns (job, result or {"error": ...})."""
        handle = self.idle.get()
        job["scratch"] = tempfile.mkdtemp(prefix="rnng-")
        try:
            result = handle.grade(job, timeout=notebook_wall_time())
        except Exception as error:  # a worker that cannot start: record it, go on
            result = {"error": f"{type(error).__name__}: {error}"}
        finally:
            shutil.rmtree(job["scratch"], ignore_errors=True)
            self.idle.put(handle)
        return job, result

    def jobs(self, source, assignment, template_db):
        """The submissions of `assignment` this grader claims, as jobs for the workers."""
        jobs, skipped = [], 0
        for student, (files, problems) in collect(source, self.out, assignment).items():
            if not in_shard(student, self.shard):
                continue
            if not self.records.claim(student, assignment, self.regrade):
                skipped += 1
                continue
            extra = [str(p) for p in (Path(source) / student / assignment).iterdir()
                     if p.is_file() and p.suffix != ".ipynb" and p.stat().st_size < 20 * 2**20]
            jobs.append({"student": student, "assignment": assignment, "problems": problems,
                         "files": {k: str(v) for k, v in files.items()}, "extra_files": extra,
                         "notebooks": notebooks_of(assignment), "template_db": str(template_db),
                         "work": str(self.out / ".work" / f"{student}--{assignment}"),
                         "guard": str(self.fingerprint.result()),
                         "imports": str(Path(template_db).parent / "imports.json")})
        return jobs, skipped

    def grade_assignment(self, submissions, assignment):
        """Grade the submissions of one assignment; return its rows of the grade table."""
        source = submissions
        if str(submissions).endswith(".zip"):
            source = from_zip(submissions, self.out, assignment, self.zip_regexp or ZIP_REGEXP)
        self.say(f"[{assignment}] preparing from solutions/{assignment}")
        template_db = prepare(self.out, assignment, self.db_url)
        jobs, skipped = self.jobs(source, assignment, template_db)
        self.say(f"[{assignment}] {len(jobs)} to grade with {self.workers} workers"
                 + (f", {skipped} already graded or being graded elsewhere (--regrade to redo)"
                    if skipped else ""))
        futures = [self.pool.submit(self.run, job) for job in jobs]
        for done, future in enumerate(as_completed(futures), 1):
            job, result = future.result()
            student = job["student"]
            reasons = list(job["problems"])
            if "error" in result:  # nothing is earned; an earlier grading's scores become 0
                reasons.append("failed to run: " + result["error"][:200])
                result = {"student": student, "assignment": assignment, "scores": {}, "course": None}
            else:
                reasons += result["reasons"]
            merge(result, self.db_url, self.out)
            self.records.set(student, assignment, "; ".join(dict.fromkeys(reasons)) or "graded")
            shutil.rmtree(job["work"], ignore_errors=True)
            points = sum(sum(cells.values()) for cells in result["scores"].values())
            self.say(f"[{assignment}] {done}/{len(jobs)} {student}: {points:g} points"
                     f"{' (' + '; '.join(reasons)[:120] + ')' if reasons else ''}"
                     f"  [{time.monotonic() - self.started:.0f} s]")
        return grade_rows(self.db_url, assignment, self.records.all(assignment))


def grade(submissions, out, assignments, workers=2, regrade=False, db_url=None, zip_regexp=None,
          shard=(0, 1), quiet=False):
    """Grade every submission of `assignments`; return the rows of the grade table."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db_url = db_url or sqlite_url(out)
    write_course_config(out, db_url)
    grading = Grading(out, db_url, workers, regrade, shard, zip_regexp, quiet)
    rows = []
    with ThreadPoolExecutor(max_workers=grading.workers + 2) as pool:
        grading.pool = pool
        # the workers import nbgrader and the clean fingerprint is computed while we prepare
        handles = [pool.submit(grading.start_worker, i) for i in range(grading.workers)]
        grading.fingerprint = pool.submit(clean_fingerprint, out)
        pool.submit(grading.heartbeat)
        try:
            for assignment in assignments:
                rows += grading.grade_assignment(submissions, assignment)
        finally:  # also on Ctrl-C: what was not graded is left for the next run
            grading.stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            grading.records.release()
            for handle in handles:
                handle.result().stop()
    write_table(rows, out / "grades.csv")
    summary = summarize(rows)
    (out / "summary.txt").write_text(summary + "\n")
    grading.say(summary)
    write_class_report(db_url, out)
    write_lms_gradebook(db_url, out / "grades-lms.csv")
    grading.say(f"table: {out / 'grades.csv'}; feedback: {out / 'feedback'}; "
                f"{time.monotonic() - grading.started:.0f} s")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("submissions", help="folder with <student>/<assignment>/<name>.ipynb, or an LMS .zip")
    parser.add_argument("--assignment", action="append", choices=assignments_available(),
                        help="assignment to grade (repeatable); default: all")
    parser.add_argument("--out", default=str(ROOT / "grading"), help="grading folder (default: grading/)")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="submissions graded at once (default: CPU count, at most 4)")
    parser.add_argument("--regrade", action="store_true", help="grade again what is already graded")
    parser.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite in --out); a "
                        "postgresql:// URL lets several machines grade one course together")
    parser.add_argument("--shard", default="0/1", help="K/N: grade only the students of shard K of N")
    parser.add_argument("--zip-regexp", help="nbgrader FileNameCollectorPlugin.named_regexp for a .zip, "
                        "matched against each extracted file's whole path (default: %(default)s)",
                        default=ZIP_REGEXP)
    args = parser.parse_args(argv)
    if str(args.submissions).endswith(".zip") and len(args.assignment or []) != 1:
        parser.error("a .zip holds one assignment: give exactly one --assignment")
    k, n = (int(x) for x in args.shard.split("/"))
    try:
        grade(args.submissions, args.out, args.assignment or assignments_available(),
              workers=args.workers, regrade=args.regrade, db_url=args.db,
              zip_regexp=args.zip_regexp, shard=(k, n))
    except KeyboardInterrupt:
        print("interrupted: what was graded is in the gradebook; run the same command again to "
              "grade the rest", flush=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
