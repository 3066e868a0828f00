"""Grade one student's submission of one assignment, in a course folder of its own.

Called by grade.py from a worker thread (W at a time). Nothing here runs student code itself:
`nbgrader autograde` runs as the grader in a private course folder (a copy of the clean
template gradebook, this student's notebooks only), and starts the student's kernel through
sandbox.SandboxedExecute inside bubblewrap with a scratch folder as the only writable path.
Returns a JSON-able result; grade.py merges it into the real gradebook.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sandbox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOLUTIONS = ROOT / "solutions"


def notebook_wall_time():
    return int(os.environ.get("RNN_GRADE_NOTEBOOK_TIMEOUT", "900"))


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
        "c.GenerateFeedback.preprocessors = ['nbgrader.preprocessors.GetGrades',\n"
        "    'rnncourse.feedback.ShortenHiddenTracebacks', 'feedback_filters.RedactHiddenTests',\n"
        "    'nbgrader.preprocessors.ClearHiddenTests',\n"
        "    'nbconvert.preprocessors.CSSHTMLHeaderPreprocessor']\n"
    )


def run(command, course, env, timeout=None):
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True,
                              timeout=timeout, errors="replace")
        return done.returncode, (done.stdout + done.stderr)[-20000:], time.monotonic() - start
    except subprocess.TimeoutExpired as expired:
        log = (expired.stdout or b"") + (expired.stderr or b"")
        log = log.decode("utf-8", "replace") if isinstance(log, bytes) else log
        return "timeout", log[-20000:], time.monotonic() - start


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


def grade_one(job):
    """job: dict(student, assignment, source (folder of the student's files), notebooks
    (expected names), template_db, work (folder for this job), guard (clean fingerprint file))."""
    student, assignment = job["student"], job["assignment"]
    course = Path(job["work"])
    if course.exists():
        shutil.rmtree(course)
    submitted = course / "submitted" / student / assignment
    submitted.mkdir(parents=True)
    for name, path in job["files"].items():
        shutil.copyfile(path, submitted / name)
    shutil.copyfile(job["template_db"], course / "gradebook.db")
    worker_config(course, course / "gradebook.db")

    scratch = Path(tempfile.mkdtemp(prefix="rnng-"))
    try:
        user = sandbox.ensure_user()
        for name, path in job["files"].items():
            shutil.copyfile(path, scratch / name)
        for extra in job.get("extra_files", []):
            shutil.copyfile(extra, scratch / Path(extra).name)
        if user is not None:
            for path in [scratch, *scratch.iterdir()]:
                os.chown(path, user.pw_uid, user.pw_gid)
        flags = course / "flags.jsonl"
        import guard
        import nbformat
        imports = {Path(n).stem: guard.imports_of(nbformat.read(SOLUTIONS / assignment / n, as_version=4))
                   for n in job["notebooks"]}
        (course / "imports.json").write_text(json.dumps(imports))
        env = dict(os.environ)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env["PYTHONPATH"] = str(HERE)
        env.update(RNN_GRADE_SCRATCH=str(scratch), RNN_GRADE_GUARD=job["guard"],
                   RNN_GRADE_FLAGS=str(flags), RNN_GRADE_IMPORTS=str(course / "imports.json"), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        # nbgrader itself is trusted but holds the outputs: cap its memory too (output floods).
        prefix = ["prlimit", f"--as={6 * 2**30}", "--"]
        if not job["files"]:  # nothing to run: every test scores 0
            return {"student": student, "assignment": assignment, "scores": {}, "reasons": [],
                    "seconds": 0.0, "course": str(course), "log": ""}
        code, log, seconds = run(prefix + [sys.executable, str(HERE / "run_one.py"), str(course),
                                           assignment, student],
                                 course, env, timeout=notebook_wall_time())
        reasons = []
        if code == "timeout":
            reasons.append(f"failed to run: the notebooks took longer than {notebook_wall_time()} s in total")
        elif code != 0:
            last = [l for l in log.strip().splitlines() if l.strip()][-1:] or ["?"]
            reasons.append("failed to run: " + last[0][:200])
        reasons += reasons_from_log(log)
        for line in (flags.read_text().splitlines() if flags.exists() else []):
            entry = json.loads(line)
            if "kernel_died" in entry:
                reasons.append("the kernel died (a crash, os._exit, or a memory or CPU limit); "
                               "the cells after it were not run")
                continue
            reasons.append(f"tampering detected in {entry['cell']}: " + "; ".join(entry["tampering"][:2]))
        scores, graded_notebooks = read_scores(course, assignment, student)
        reasons += limits_hit(course / "autograded" / student / assignment)
        for name in job["notebooks"]:
            if name in job["files"] and name[:-6] not in graded_notebooks:
                reasons.append(f"{name} failed to run (scored 0)")
        if "FEEDBACK FAILED" in log:
            reasons.append("feedback could not be generated")
        return {"student": student, "assignment": assignment, "scores": scores, "reasons": reasons,
                "seconds": seconds, "course": str(course), "log": log[-4000:]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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
    import nbformat

    found = []
    for path in sorted(folder.glob("*.ipynb")) if folder.exists() else []:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:
            continue
        for index, cell in enumerate(nb.cells):
            name = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
            for output in cell.get("outputs", []):
                ename = output.get("ename") if output.get("output_type") == "error" else None
                if ename == "CellTimeoutError":
                    found.append(f"{path.stem}:{name} ran longer than the per-cell limit (stopped)")
                elif ename == "MemoryError":
                    found.append(f"{path.stem}:{name} ran out of memory (limit)")
                elif ename == "SystemExit":
                    found.append(f"{path.stem}:{name} called sys.exit()")
    return list(dict.fromkeys(found))
