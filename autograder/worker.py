"""A grading worker: a long-lived process that grades submissions one at a time.

orchestrate.py starts W of these (`python worker.py`, under a memory cap) and sends each one
`jobs.Job` at a time as a line of JSON on its stdin; the worker answers with one `jobs.Result`
as a line of JSON on the channel it was started with (its original stdout; everything nbgrader
prints goes to stderr, the worker's log). nbgrader is imported once per worker, not once per
submission: the import alone takes 2-3 s.

Nothing here runs student code itself. For each job, `nbgrader autograde` runs as the grader in a
private course folder (a copy of the clean template gradebook, this student's notebooks only) and
starts the student's kernel through sandbox.SandboxedExecute, inside bubblewrap, with a scratch
folder as the only writable path. The job's sandbox settings and limits are written into that
folder's nbgrader_config.py, where the sandbox reads them. If a job outlives its time limit or
kills the worker (an output flood that exhausts its memory), the grader records the failure and
starts a fresh worker for the next job.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import traceback
from pathlib import Path

import sandbox
from course import HERE, nbgrader_api, nbgrader_meta, sqlite_url, tools_environment, write_course_config
from jobs import Job, Result
from reasons import Code, reason, unique

# nbgrader's log lines that say the kernel could not start: the grader's environment (a process
# or thread budget used up, a broken sandbox), never the submission, whose code has not run yet.
KERNEL_START_FAILURES = ["Kernel died before replying to kernel_info", "Kernel didn't respond",
                         "Resource temporarily unavailable", "can't start new thread",
                         "bwrap:", "No such file or directory: 'bwrap'"]


def job_config(course, job):
    """The job's nbgrader_config.py: the course's, re-rooted in `course`, with the sandbox's
    settings for this job (its folders and limits) and the autograding preprocessors."""
    limits = job.limits
    write_course_config(course, sqlite_url(course), extra=[
        "c.Autograde.autograde_preprocessors = ['sandbox.SandboxedExecute',",
        "    'nbgrader.preprocessors.IgnorePattern',",
        "    'nbconvert.preprocessors.ClearMetadataPreprocessor',",
        "    'nbgrader.preprocessors.LimitOutput', 'nbgrader.preprocessors.SaveAutoGrades',",
        "    'nbgrader.preprocessors.AssignLatePenalties', 'nbgrader.preprocessors.CheckCellMetadata']",
        f"c.Execute.timeout = {limits.cell_timeout}",
        f"c.SandboxedKernelManager.scratch = {job.scratch!r}",
        f"c.SandboxedKernelManager.memory = {limits.memory}",
        f"c.SandboxedKernelManager.cpu = {limits.cpu}",
        f"c.SandboxedKernelManager.disk = {limits.disk}",
        f"c.SandboxedExecute.guard_file = {job.guard!r}",
        f"c.SandboxedExecute.imports_file = {job.imports!r}",
        f"c.SandboxedExecute.flags_file = {str(course / 'flags.jsonl')!r}",
        "c.LimitOutput.max_lines = 200",
        "c.LimitOutput.max_traceback = 40",
        "c.OverwriteCells.add_missing_cells = True",
    ])


def failure_detail(log):
    """The last error line of nbgrader's log that says what went wrong: never a traceback's
    frame, nor nbgrader's own "see the above traceback"."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if re.match(r"^[\w.]+(Error|Exception|Exit|Interrupt)\b", line) and "see the" not in line.lower():
            return line[:200]
    return "nbgrader could not run the notebooks (the worker's log has the details)"


def kernel_start_failure(log):
    """The log line saying the kernel could not start, or None."""
    for line in log.splitlines():
        if any(marker in line for marker in KERNEL_START_FAILURES):
            return line.strip()[:160]
    return None


def reasons_from_log(log):
    """What nbgrader noticed about the submission (changed or missing cells)."""
    found = []
    for line in log.splitlines():
        if "Missing grade cell" in line:
            found.append(reason(Code.TEST_DELETED, cell=line.split("Missing grade cell", 1)[1].split(",")[0].strip()))
        elif "does not exist in the database" in line:
            found.append(reason(Code.UNKNOWN_TEST_ID, detail=line.split("Cell", 1)[-1].strip()[:120]))
        elif "UnresponsiveKernelError" in line:
            found.append(reason(Code.KERNEL_UNRESPONSIVE))
    return unique(found)


def read_flags(flags):
    """The notes sandbox.py wrote while the notebooks ran, one JSON object a line."""
    return [json.loads(line) for line in (flags.read_text().splitlines() if flags.exists() else [])]


def reasons_from_flags(notes):
    """The sandbox's notes (a dead or stuck kernel, a full disk quota, tampering) as reasons."""
    found = []
    for entry in notes:
        if "kernel_died" in entry:
            found.append(reason(Code.KERNEL_DIED))
        elif "kernel_stuck" in entry:
            found.append(reason(Code.KERNEL_STUCK, cell=entry["kernel_stuck"]))
        elif "disk_full" in entry:
            found.append(reason(Code.DISK_QUOTA, cell=entry["disk_full"], limit_mb=entry["limit_mb"]))
        elif "tampering" in entry:
            found.append(reason(Code.TAMPERING, cell=entry["cell"], detail="; ".join(entry["tampering"][:2])))
    return found


def autograde(course, assignment, student):
    """nbgrader's autograde and generate_feedback for one student in `course`; returns
    (autograde succeeded, feedback succeeded, nbgrader's log)."""
    api = nbgrader_api(course)
    result = api.autograde(assignment, student, force=True, create=True)
    log = (result.get("log") or "") + "\n" + (result.get("error") or "")
    feedback_ok = True
    if (course / "autograded" / student / assignment).exists():
        feedback = api.generate_feedback(assignment, student, force=True)
        log += "\n" + (feedback.get("log") or "") + "\n" + (feedback.get("error") or "")
        feedback_ok = bool(feedback.get("success"))
    return bool(result.get("success")), feedback_ok, log


def prepare_scratch(job):
    """The sandbox's only writable folder: a copy of the student's own files, owned by the
    sandbox user."""
    scratch = Path(job.scratch)
    scratch.mkdir(mode=0o700, exist_ok=True)  # the grader makes it fresh and empty
    for name, path in job.files.items():
        shutil.copyfile(path, scratch / name)
    for extra in job.extra_files:
        shutil.copyfile(extra, scratch / Path(extra).name)
    user = sandbox.ensure_user()
    if user is not None:
        for path in [scratch, *scratch.iterdir()]:
            os.chown(path, user.pw_uid, user.pw_gid)
    return scratch


def grade_one(job):
    """Grade `job` (a jobs.Job) in its private course folder; returns a jobs.Result."""
    course = Path(job.work)
    result = Result(job.student, job.assignment, course=str(course))
    if course.exists():
        shutil.rmtree(course)
    submitted = course / "submitted" / job.student / job.assignment
    submitted.mkdir(parents=True)
    if not job.files:  # nothing to run: every test scores 0
        return result
    for name, path in job.files.items():
        shutil.copyfile(path, submitted / name)
    shutil.copyfile(job.template_db, course / "gradebook.db")
    job_config(course, job)
    prepare_scratch(job)
    succeeded, feedback_ok, log = autograde(course, job.assignment, job.student)
    result.log = log[-4000:]
    start_failure = kernel_start_failure(log)
    if start_failure is not None:
        return Result.failed(job, Code.NOT_GRADED, detail=f"the kernel could not start ({start_failure})")
    if not succeeded:
        result.reasons.append(reason(Code.FAILED_TO_RUN, detail=failure_detail(log)))
    result.reasons += reasons_from_log(log)
    result.reasons += reasons_from_flags(read_flags(course / "flags.jsonl"))
    result.scores, graded_notebooks = read_scores(course, job.assignment, job.student)
    result.reasons += limits_hit(course / "autograded" / job.student / job.assignment)
    for name in job.notebooks:
        if name in job.files and name[:-6] not in graded_notebooks:
            result.reasons.append(reason(Code.NOTEBOOK_FAILED, name=name))
    if not feedback_ok:
        result.reasons.append(reason(Code.FEEDBACK_FAILED))
    return result


def read_scores(course, assignment, student):
    """{notebook: {test cell: score}} from the private gradebook, and the graded notebooks."""
    from nbgrader.api import Gradebook, MissingEntry

    scores, graded = {}, set()
    with Gradebook(sqlite_url(course)) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return scores, graded
        for nb in submission.notebooks:
            scores[nb.name] = {g.name: float(g.score or 0.0) for g in nb.grades}
            if (course / "autograded" / student / assignment / f"{nb.name}.ipynb").exists():
                graded.add(nb.name)
    return scores, graded


LIMIT_ERRORS = {"CellTimeoutError": Code.CELL_TIMEOUT, "MemoryError": Code.OUT_OF_MEMORY,
                "SystemExit": Code.SYS_EXIT}


def limits_hit(folder):
    """Cells stopped by a limit, read from the executed notebooks."""
    found = []
    for path in sorted(folder.glob("*.ipynb")) if folder.exists() else []:
        try:  # written by nbgrader a moment ago: plain JSON is enough (and faster)
            nb = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for index, cell in enumerate(nb["cells"]):
            name = nbgrader_meta(cell).get("grade_id") or f"cell {index + 1}"
            for output in cell.get("outputs", []):
                ename = output.get("ename") if output.get("output_type") == "error" else None
                if ename in LIMIT_ERRORS:
                    found.append(reason(LIMIT_ERRORS[ename], notebook=path.stem, cell=name))
    return unique(found)


def a_cell_ran(job):
    """Whether the sandbox ran a cell of the job (its note in the flags file)."""
    return any("ran" in note for note in read_flags(Path(job.work) / "flags.jsonl"))


class WorkerProcess:
    """The grader's handle on one worker process (the grader keeps W of them, each grading one
    job at a time)."""

    MEMORY = 6 * 2**30  # nbgrader is trusted but holds the kernel's outputs: output floods

    def __init__(self, log_path):
        self.log_path = Path(log_path)
        self.process = None

    def start(self):
        env = tools_environment()
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the worker keeps its own copy of the file
            self.process = subprocess.Popen(
                ["prlimit", f"--as={self.MEMORY}", "--", sys.executable, str(HERE / "worker.py")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                env=env, cwd=str(HERE), text=True, start_new_session=True)
        if self._read_line(timeout=300) != "ready":
            self.stop()
            raise RuntimeError(f"a grading worker did not start (see {self.log_path})")

    def _read_line(self, timeout):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        return self.process.stdout.readline().strip() if ready else None

    def grade(self, job):
        """The worker's Result for `job`; a failed Result if the job took longer than its
        notebook time limit or the worker died (the worker is then replaced for the next job)."""
        if self.process is None or self.process.poll() is not None:
            try:
                self.start()
            except (OSError, RuntimeError) as error:
                return Result.failed(job, Code.NOT_GRADED, detail=f"a grading worker did not start ({error})")
        try:
            self.process.stdin.write(job.to_json() + "\n")
            self.process.stdin.flush()
        except OSError:
            self.stop()
            return Result.failed(job, Code.NOT_GRADED, detail="the grading process died before the job started")
        line = self._read_line(job.limits.notebook_timeout)
        if line is None:
            self.stop()
            return Result.failed(job, Code.NOTEBOOK_TIMEOUT, seconds=job.limits.notebook_timeout)
        if not line:
            self.stop()
            if not a_cell_ran(job):  # it died before the student's code ran: not the student's doing
                return Result.failed(job, Code.NOT_GRADED, detail="the grading process died before the kernel started")
            return Result.failed(job, Code.WORKER_DIED)
        return Result.from_json(line)

    def stop(self):
        if self.process is None:
            return
        try:  # the worker and everything it started (its kernels die with it: --die-with-parent)
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.process = None


def main():
    channel = os.fdopen(os.dup(1), "w")  # results only: whatever else prints goes to stderr
    os.dup2(2, 1)
    import nbgrader.apps  # noqa: F401  (once, before the first job: it takes seconds)
    channel.write("ready\n")
    channel.flush()
    for line in sys.stdin:
        job = Job.from_json(line)
        try:
            result = grade_one(job)
        except Exception as error:  # a bug or a disk problem, not the submission: log it, go on
            traceback.print_exc()  # into the worker's log; the status gets one line
            result = Result.failed(job, Code.NOT_GRADED, detail=f"{type(error).__name__}: {error}")
        channel.write(result.to_json() + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
