"""A grading worker: a long-lived process that grades submissions one at a time.

grade.py starts W of these (`python worker.py`, under a memory cap) and sends each one job at a
time as a line of JSON on its stdin; the worker answers with one line of JSON on the channel it
was started with (its original stdout; everything nbgrader prints goes to stderr). nbgrader is
imported once per worker, not once per submission: the import alone takes 2-3 s.

Nothing here runs student code itself. For each job, `nbgrader autograde` runs as the grader in a
private course folder (a copy of the clean template gradebook, this student's notebooks only) and
starts the student's kernel through sandbox.SandboxedExecute, inside bubblewrap, with a scratch
folder as the only writable path. The result (scores per test cell, reasons) goes back to
grade.py, which merges it into the real gradebook. If a job outlives its time limit or kills the
worker (an output flood that exhausts its memory), grade.py records the failure and starts a
fresh worker for the next job.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import sandbox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOLUTIONS = ROOT / "solutions"


def worker_config(course, template_db):
    (course / "nbgrader_config.py").write_text(
        f"load_subconfig({str(HERE / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.source_directory = {str(SOLUTIONS)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(template_db)!r}\n"
        "c.Autograde.autograde_preprocessors = ['sandbox.SandboxedExecute',\n"
        "    'nbgrader.preprocessors.IgnorePattern',\n"
        "    'nbconvert.preprocessors.ClearMetadataPreprocessor',\n"
        "    'nbgrader.preprocessors.LimitOutput', 'nbgrader.preprocessors.SaveAutoGrades',\n"
        "    'nbgrader.preprocessors.AssignLatePenalties', 'nbgrader.preprocessors.CheckCellMetadata']\n"
        f"c.Execute.timeout = {int(os.environ.get('RNN_GRADE_CELL_TIMEOUT', '120'))}\n"
        "c.LimitOutput.max_lines = 200\n"
        "c.LimitOutput.max_traceback = 40\n"
        "c.OverwriteCells.add_missing_cells = True\n"
    )


def reasons_from_log(log):
    """What nbgrader noticed about the submission (changed or missing cells), in plain words."""
    found = []
    for line in log.splitlines():
        if "Missing grade cell" in line:
            found.append("a test cell was deleted (put back and run): " + line.split("Missing grade cell", 1)[1].split(",")[0].strip())
        elif "does not exist in the database" in line:
            found.append("a cell claims a test id the assignment does not have: " + line.split("Cell", 1)[-1].strip()[:120])
        elif "Kernel died before replying" in line:
            found.append("the kernel did not start")
        elif "UnresponsiveKernelError" in line:
            found.append("the kernel stopped responding")
    return list(dict.fromkeys(found))


def reasons_from_flags(flags):
    """The notes sandbox.py wrote while the notebooks ran (a dead or stuck kernel, a full disk
    quota, tampering), in plain words."""
    found = []
    for line in (flags.read_text().splitlines() if flags.exists() else []):
        entry = json.loads(line)
        if "kernel_died" in entry:
            found.append("the kernel died (a crash, os._exit, or a memory or CPU limit); "
                         "the cells after it were not run")
        elif "kernel_stuck" in entry:
            found.append(f"the kernel stopped responding in {entry['kernel_stuck']}; "
                         "the cells after it were not run")
        elif "disk_full" in entry:
            found.append(f"{entry['disk_full']} wrote more than {entry['limit_mb']} MB of files "
                         "(the limit; the writing was stopped)")
        else:
            found.append(f"tampering detected in {entry['cell']}: " + "; ".join(entry["tampering"][:2]))
    return found


def nbgrader_api(course):
    """nbgrader's Python API for the course folder `course` (configured by its
    nbgrader_config.py): the same code as the `nbgrader` command, without starting a process."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def autograde(course, assignment, student):
    """nbgrader's autograde and generate_feedback for one student in `course`; returns
    (autograde succeeded, nbgrader's log)."""
    api = nbgrader_api(course)
    result = api.autograde(assignment, student, force=True, create=True)
    log = (result.get("log") or "") + "\n" + (result.get("error") or "")
    if (course / "autograded" / student / assignment).exists():
        feedback = api.generate_feedback(assignment, student, force=True)
        log += "\n" + (feedback.get("log") or "")
        if not feedback.get("success"):
            log += "\nFEEDBACK FAILED " + (feedback.get("error") or "")
    return bool(result.get("success")), log


def prepare_scratch(job):
    """The sandbox's only writable folder: a copy of the student's own files, owned by the
    sandbox user."""
    scratch = Path(job["scratch"])
    scratch.mkdir(mode=0o700, exist_ok=True)  # grade.py makes it fresh and empty
    for name, path in job["files"].items():
        shutil.copyfile(path, scratch / name)
    for extra in job.get("extra_files", []):
        shutil.copyfile(extra, scratch / Path(extra).name)
    user = sandbox.ensure_user()
    if user is not None:
        for path in [scratch, *scratch.iterdir()]:
            os.chown(path, user.pw_uid, user.pw_gid)
    return scratch


def grade_one(job):
    """job: dict(student, assignment, files ({expected name: file}), extra_files, notebooks
    (expected names), template_db, work (folder for this job), scratch (the sandbox's folder,
    removed by the caller), guard (clean fingerprint file), imports (the names each notebook's
    locked cells import, a file made by grade.prepare)). Returns a JSON-able result."""
    student, assignment = job["student"], job["assignment"]
    course = Path(job["work"])
    result = {"student": student, "assignment": assignment, "scores": {}, "reasons": [],
              "course": str(course), "log": ""}
    if course.exists():
        shutil.rmtree(course)
    submitted = course / "submitted" / student / assignment
    submitted.mkdir(parents=True)
    if not job["files"]:  # nothing to run: every test scores 0
        return result
    for name, path in job["files"].items():
        shutil.copyfile(path, submitted / name)
    shutil.copyfile(job["template_db"], course / "gradebook.db")
    worker_config(course, course / "gradebook.db")
    scratch = prepare_scratch(job)
    flags = course / "flags.jsonl"
    # read by sandbox.py in this process (one job at a time per worker)
    os.environ.update(RNN_GRADE_SCRATCH=str(scratch), RNN_GRADE_GUARD=job["guard"],
                      RNN_GRADE_FLAGS=str(flags), RNN_GRADE_IMPORTS=job["imports"])
    succeeded, log = autograde(course, assignment, student)
    reasons = []
    if not succeeded:
        last = [l for l in log.strip().splitlines() if l.strip()][-1:] or ["?"]
        reasons.append("failed to run: " + last[0][:200])
    reasons += reasons_from_log(log)
    reasons += reasons_from_flags(flags)
    scores, graded_notebooks = read_scores(course, assignment, student)
    reasons += limits_hit(course / "autograded" / student / assignment)
    for name in job["notebooks"]:
        if name in job["files"] and name[:-6] not in graded_notebooks:
            reasons.append(f"{name} failed to run (scored 0)")
    if "FEEDBACK FAILED" in log:
        reasons.append("feedback could not be generated")
    result.update(scores=scores, reasons=reasons, log=log[-4000:])
    return result


def read_scores(course, assignment, student):
    """{notebook: {test cell: score}} from the private gradebook, and the graded notebooks."""
    from nbgrader.api import Gradebook, MissingEntry

    scores, graded = {}, set()
    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return scores, graded
        for nb in submission.notebooks:
            scores[nb.name] = {g.name: float(g.score or 0.0) for g in nb.grades}
            if (course / "autograded" / student / assignment / f"{nb.name}.ipynb").exists():
                graded.add(nb.name)
    return scores, graded


def limits_hit(folder):
    """Cells stopped by a limit, read from the executed notebooks."""
    found = []
    for path in sorted(folder.glob("*.ipynb")) if folder.exists() else []:
        try:  # written by nbgrader a moment ago: plain JSON is enough (and faster)
            nb = json.loads(path.read_text())
        except Exception:
            continue
        for index, cell in enumerate(nb["cells"]):
            name = cell["metadata"].get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
            for output in cell.get("outputs", []):
                ename = output.get("ename") if output.get("output_type") == "error" else None
                if ename == "CellTimeoutError":
                    found.append(f"{path.stem}:{name} ran longer than the per-cell limit (stopped)")
                elif ename == "MemoryError":
                    found.append(f"{path.stem}:{name} ran out of memory (limit)")
                elif ename == "SystemExit":
                    found.append(f"{path.stem}:{name} called sys.exit()")
    return list(dict.fromkeys(found))


class WorkerProcess:
    """The grader's handle on one worker process (grade.py keeps W of them, each grading one
    job at a time)."""

    def __init__(self, log_path):
        self.log_path = Path(log_path)
        self.process = None

    def start(self):
        env = dict(os.environ)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env["PYTHONPATH"] = str(HERE)
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # nbgrader is trusted but holds the kernel's outputs: cap its memory (output floods).
        with open(self.log_path, "ab") as log:  # the worker keeps its own copy of the file
            self.process = subprocess.Popen(
                ["prlimit", f"--as={6 * 2**30}", "--", sys.executable, str(HERE / "worker.py")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                env=env, cwd=str(HERE), text=True, start_new_session=True)
        if self._read_line(timeout=300) != "ready":
            self.stop()
            raise RuntimeError(f"a grading worker did not start (see {self.log_path})")

    def _read_line(self, timeout):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        return self.process.stdout.readline().strip() if ready else None

    def grade(self, job, timeout):
        """The worker's result for `job`, or {"error": reason} if it took longer than `timeout`
        seconds or the worker died (the worker is then replaced for the next job)."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except OSError:
            self.stop()
            return {"error": "the grading process died before the job started"}
        line = self._read_line(timeout)
        if line is None:
            self.stop()
            return {"error": f"the notebooks took longer than {timeout} s in total"}
        if not line:
            self.stop()
            return {"error": "the grading process died (an output flood or a crash of nbgrader)"}
        return json.loads(line)

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
        job = json.loads(line)
        try:
            result = grade_one(job)
        except Exception as error:  # a bug or a disk problem: report it, stay alive
            result = {"error": f"{type(error).__name__}: {error}"}
        channel.write(json.dumps(result) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
