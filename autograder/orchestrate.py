"""One grading run: W worker processes grade the claimed submissions of each assignment, each
result is merged into the gradebook and its status recorded, then the reports are written.

The order per result is what makes Ctrl-C safe: the scores are committed to the gradebook, then
the status row (the end of the claim), and only then is the result printed; on Ctrl-C the claims
not finished are given up, and the next run grades exactly those.

A job the grader's environment could not grade (the kernel could not start, the worker died
before the student's code ran) is tried again later in the run, up to RETRIES more times; if it
still fails it is recorded as "not graded" without points, and the next run takes it again.
"""
import queue
import shutil
import tempfile
import threading
import time
import zlib
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import intake
import preflight
import reasons as R
import reports
import worker
from course import notebooks_of, sqlite_url, use_tools_here, write_course_config
from jobs import Job, Limits, Result
from merge import merge
from prepare import add_to_gradebook, clean_fingerprint, make_template
from records import Records

RETRIES = 2          # more attempts for a job the environment could not grade
RETRY_PAUSE = 20     # seconds before such a job is tried again (a process hog may have ended)


def parse_shard(text):
    """"K/N" -> (K, N) with 0 <= K < N; ValueError otherwise."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes K/N (two whole numbers), not {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard K/N needs N >= 1 and 0 <= K < N, not {text!r}")
    return index, count


def in_shard(student, shard):
    index, count = shard
    return zlib.crc32(student.encode()) % count == index


def in_turn(pool, run, jobs, retries=RETRIES, pause=RETRY_PAUSE):
    """(job, result) for each job as it finishes (run(job, pause) -> Result in the pool); a job
    whose result is `not_graded` is run again after `pause` seconds, up to `retries` more times."""
    attempts = {}
    pending = {pool.submit(run, job, 0): job for job in jobs}
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            job = pending.pop(future)
            result = future.result()
            attempts[id(job)] = attempts.get(id(job), 0) + 1
            if result.not_graded and attempts[id(job)] <= retries:
                pending[pool.submit(run, job, pause)] = job
            else:
                yield job, result


class Grading:
    """One run of the command: the worker processes, the claims, the progress lines."""

    def __init__(self, out, db_url, workers, regrade, shard, zip_regexp, quiet, limits):
        self.out, self.db_url, self.workers = out, db_url, max(1, workers)
        self.regrade, self.shard, self.zip_regexp, self.quiet = regrade, shard, zip_regexp, quiet
        self.limits = limits
        self.idle = queue.Queue()  # started workers waiting for a job
        self.stopping = threading.Event()
        self.started = time.monotonic()
        self.records = self.pool = self.fingerprint = None
        self.warnings = []

    def say(self, text):
        if not self.quiet:
            print(text, flush=True)

    def start_worker(self, index):
        handle = worker.WorkerProcess(self.out / ".work" / f"worker-{index}.log")
        try:
            handle.start()
        except (OSError, RuntimeError) as error:  # its first job starts it again, or reports it
            self.say(f"a grading worker did not start ({error}); it is tried again for its first job")
        self.idle.put(handle)
        return handle

    def heartbeat(self):
        while not self.stopping.wait(60):
            self.records.touch()

    def run(self, job, pause=0):
        """Grade `job` with the next free worker (after `pause` seconds); returns its Result."""
        if pause and self.stopping.wait(pause):
            return Result.failed(job, R.Code.NOT_GRADED, detail="the run was interrupted")
        handle = self.idle.get()
        try:
            if self.stopping.is_set():  # Ctrl-C: start nothing more
                return Result.failed(job, R.Code.NOT_GRADED, detail="the run was interrupted")
            job.scratch = tempfile.mkdtemp(prefix="rnng-")
            return handle.grade(job)
        finally:
            if job.scratch:
                shutil.rmtree(job.scratch, ignore_errors=True)
            self.idle.put(handle)

    def jobs(self, source, assignment, template_db, known_problems):
        """The submissions of `assignment` this grader claims, as jobs for the workers, with the
        intake's reasons for each student ({student: [Reason]})."""
        jobs, problems_of, skipped = [], {}, 0
        collected = intake.collect(source, self.out, assignment, known_problems)
        for student, (files, extras, problems) in collected.items():
            if not in_shard(student, self.shard):
                continue
            if not self.records.claim(student, assignment, self.regrade):
                skipped += 1
                continue
            job = Job(student, assignment, files={k: str(v) for k, v in files.items()},
                      notebooks=notebooks_of(assignment),
                      work=str(self.out / ".work" / f"{student}--{assignment}"),
                      extra_files=extras, template_db=str(template_db),
                      guard=str(self.fingerprint.result()),
                      imports=str(Path(template_db).parent / "imports.json"), limits=self.limits)
            jobs.append(job)
            problems_of[student] = problems
        return jobs, problems_of, skipped

    def record(self, job, result, problems):
        """Make the result durable: scores into the gradebook, then the status row; returns
        the progress line's text. A not-graded result writes no scores. problems: the intake's
        reasons."""
        reasons = problems + result.reasons
        if result.not_graded:
            self.records.set(job.student, job.assignment, R.encode(reasons), retry=True)
            text = "not graded"
        else:
            merge(result, self.db_url, self.out)
            self.records.set(job.student, job.assignment, R.encode(reasons))
            text = f"{result.points():g} points"
        shutil.rmtree(job.work, ignore_errors=True)
        return text + (f" ({R.status(reasons)[:120]})" if reasons else "")

    def grade_assignment(self, submissions, assignment, template_db):
        """Grade the submissions of one assignment; return its rows of the grade table."""
        source, known = submissions, {}
        if str(submissions).endswith(".zip"):
            known, unassigned = intake.zip_problems(submissions, self.zip_regexp)
            self.warnings += [p.text() for p in unassigned]
            for text in self.warnings:
                self.say(f"[{assignment}] {text}")
            source = intake.from_zip(submissions, self.out, assignment, self.zip_regexp)
        add_to_gradebook(self.out, assignment, self.db_url)
        jobs, problems_of, skipped = self.jobs(source, assignment, template_db, known)
        self.say(f"[{assignment}] {len(jobs)} to grade with {self.workers} workers"
                 + (f", {skipped} already graded or being graded elsewhere (--regrade to redo)"
                    if skipped else ""))
        for done, (job, result) in enumerate(in_turn(self.pool, self.run, jobs), 1):
            line = self.record(job, result, problems_of[job.student])
            self.say(f"[{assignment}] {done}/{len(jobs)} {job.student}: {line}"
                     f"  [{time.monotonic() - self.started:.0f} s]")
        return reports.grade_rows(self.db_url, assignment, self.records.all(assignment))


def grade(submissions, out, assignments, workers=2, regrade=False, db_url=None, zip_regexp=None,
          shard=(0, 1), quiet=False, limits=None):
    """Grade every submission of `assignments`; return the rows of the grade table. Raises
    preflight.NotReady, with nothing written to the gradebook, if grading cannot work here."""
    use_tools_here()  # nbgrader's API in this process and the workers start `alembic`, `jupyter`
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db_url = db_url or sqlite_url(out)
    grading = Grading(out, db_url, workers, regrade, shard, zip_regexp or intake.ZIP_REGEXP, quiet,
                      limits or Limits.from_env())
    grading.say(preflight.check_system())
    rows, statuses = [], {}
    with ThreadPoolExecutor(max_workers=grading.workers + 4) as pool:
        grading.pool = pool
        # the workers import nbgrader and the clean fingerprint is computed while we prepare
        handles = [pool.submit(grading.start_worker, i) for i in range(grading.workers)]
        grading.fingerprint = pool.submit(clean_fingerprint, out)
        try:
            grading.say(f"preparing {', '.join(assignments)} from solutions/")
            templates = {a: make_template(out, a) for a in assignments}
            grading.say("checking the sandbox: the reference solution of one notebook")
            preflight.check_reference(handles[0].result(), assignments[0], templates[assignments[0]],
                                      grading.fingerprint.result(), grading.limits,
                                      out / ".work" / "preflight")
            write_course_config(out, db_url)
            grading.records = Records(db_url)
            pool.submit(grading.heartbeat)
            for assignment in assignments:
                rows += grading.grade_assignment(submissions, assignment, templates[assignment])
                statuses[assignment] = grading.records.all(assignment)
        finally:  # also on Ctrl-C: what was not graded is left for the next run
            grading.stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            if grading.records is not None:
                grading.records.release()
            for handle in handles:
                handle.result().stop()
    summary = reports.write_reports(out, db_url, rows, statuses, grading.warnings)
    grading.say(summary)
    grading.say(f"table: {out / 'grades.csv'}; feedback: {out / 'feedback'}; "
                f"{time.monotonic() - grading.started:.0f} s")
    return rows
