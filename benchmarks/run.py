"""Timing figures for the course (a benchmark, not a test): prints, in one run,

1. the full book build (fresh execution cache) and a cached rebuild;
2. each chapter's execution time in that build, and each solution notebook's bare execution
   time (`jupyter nbconvert --execute`);
3. plain `nbgrader autograde` of each assignment's solution notebooks against their bare
   execution, as a ratio measured in the same run (benchmarks/grading.py measures the sandboxed,
   parallel grading command).

Usage: .venv/bin/python benchmarks/run.py   (takes a few minutes on 2 CPU cores)
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "autograder"))
os.environ["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")

import course  # noqa: E402


def timed(command, **kwargs):
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start


def chapter_times(build):
    """Execution seconds of each executed page, from the build's jupyter-cache."""
    from jupyter_cache import get_cache

    cache = get_cache(build / "_build" / ".jupyter_cache")
    times = {}
    for record in cache.list_cache_records():
        times[Path(record.uri).relative_to(ROOT).as_posix()] = record.data.get("execution_seconds")
    return times


def main():
    work = Path(tempfile.mkdtemp(prefix="rnn-bench-"))
    build = work / "book"
    command = [str(BIN / "jupyter-book"), "build", str(ROOT), "--path-output", str(build), "-W", "--keep-going"]
    full = timed(command)
    cached = timed(command)
    print(f"book build: full {full:.1f} s, cached {cached:.1f} s")
    for page, seconds in sorted(chapter_times(build).items()):
        print(f"  executed {page}: {seconds:.1f} s")

    print("\nsolution notebooks: bare execution (nbconvert --execute) against plain nbgrader autograde")
    out = work / "grading"
    out.mkdir()
    course.write_course_config(out)
    bare = {}
    for notebook in sorted(ROOT.glob("solutions/*/*.ipynb")):
        assignment = notebook.parent.name
        bare[notebook] = timed([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                                "--output-dir", str(work / "bare"), str(notebook)])
        print(f"  {assignment}/{notebook.name}: bare {bare[notebook]:.1f} s")
        submitted = out / "submitted" / "student" / assignment  # nbgrader's own layout
        submitted.mkdir(parents=True, exist_ok=True)
        (submitted / notebook.name).write_bytes(notebook.read_bytes())
    for assignment in course.assignments_available():
        course.run_nbgrader(out, "generate_assignment", assignment, "--force")
        start = time.perf_counter()
        ok, log = course.run_nbgrader(out, "autograde", assignment, "--student", "student", "--force")
        seconds = time.perf_counter() - start
        assert ok, log
        total_bare = sum(t for nb, t in bare.items() if nb.parent.name == assignment)
        count = sum(nb.parent.name == assignment for nb in bare)
        print(f"  {assignment}: autograde {seconds:.1f} s for {count} notebooks, bare {total_bare:.1f} s, "
              f"ratio {seconds / total_bare:.2f}")


if __name__ == "__main__":
    main()
