"""Grading benchmark (not a test): plain nbgrader against autograder/grade.py, in one run.

Builds N submissions of one assignment (default: 60 of 03-rnn; a mix of correct, partly wrong
(a known mutant in one answer) and broken (the untouched exercise, a syntax error)), then times
1. plain sequential `nbgrader autograde` of all of them (one process, as nbgrader does it);
2. this course's command with 1 worker and with 2 workers (sandboxed, fresh gradebook each);
3. bare execution of the same notebooks (nbclient in one process, as `nbconvert --execute`
   runs them but without its start-up; no grading), for the per-notebook overhead;
and prints the times, the ratios and whether every total equals plain nbgrader's.

Usage: .venv/bin/python benchmarks/grading.py [--count 60] [--assignment 03-rnn] [--notebook NAME]
"""
import argparse
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "autograder"))
os.environ["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import course  # noqa: E402
import orchestrate  # noqa: E402
from course import nbgrader_meta  # noqa: E402


def load(path):
    return json.loads(Path(path).read_text())


def mutate(nb, mutants):
    """Replace the first answer cell that has a mutant by that mutant."""
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        chosen = [m for m in mutants if m["grade_id"] == gid]
        if nbgrader_meta(cell).get("solution") and chosen:
            cell["source"] = chosen[0]["source"]
            return nb
    return nb


def build(folder, assignment, notebooks, count):
    kinds = ["correct", "partly-wrong", "broken-untouched", "correct", "partly-wrong", "broken-syntax"]
    for i in range(count):
        kind = kinds[i % len(kinds)]
        target = folder / f"student{i:03d}" / assignment
        target.mkdir(parents=True)
        for name in notebooks:
            if kind == "broken-untouched":
                nb = load(ROOT / "exercises" / assignment / name)
            else:
                nb = load(ROOT / "solutions" / assignment / name)
            if kind == "partly-wrong":
                path = ROOT / "tests" / "mutants" / assignment / (Path(name).stem + ".py")
                nb = mutate(nb, runpy.run_path(str(path))["MUTANTS"] if path.exists() else [])
            if kind == "broken-syntax":
                for cell in nb["cells"]:
                    if nbgrader_meta(cell).get("solution"):
                        cell["source"] = "def broken(:\n"
                        break
            (target / name).write_text(json.dumps(nb))


def plain_nbgrader(subs, work, assignment):
    folder = work / "plain"
    folder.mkdir()
    course.write_course_config(folder)
    ok, log = course.run_nbgrader(folder, "generate_assignment", assignment, "--force")
    assert ok, log
    shutil.copytree(subs, folder / "submitted")
    start = time.perf_counter()
    ok, log = course.run_nbgrader(folder, "autograde", assignment, "--force")
    seconds = time.perf_counter() - start
    from nbgrader.api import Gradebook
    with Gradebook(course.sqlite_url(folder)) as gradebook:
        totals = {s.student.id: s.score for s in gradebook.assignment_submissions(assignment)}
    return seconds, totals


def ours(subs, work, assignment, workers):
    out = work / f"ours-{workers}"
    start = time.perf_counter()
    rows = orchestrate.grade(subs, out, [assignment], workers=workers, quiet=True)
    return time.perf_counter() - start, {r["student"]: r["total"] for r in rows}


def bare(subs, notebooks):
    """Seconds to execute every notebook once, in this process with nbclient (what
    nbconvert --execute does, without its start-up): no grading, no sandbox."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    start = time.perf_counter()
    n = 0
    for path in sorted(subs.glob("*/*/*.ipynb")):
        if path.name not in notebooks:
            continue
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # a broken submission: nothing to execute
            continue
        # Unix sockets, as the grader's kernels use (and no "running over TCP" warning)
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(path.parent / ".k"))
        try:
            NotebookClient(nb, km=km, timeout=120, allow_errors=True,
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:  # nbclient leaves a kernel it was given running
            km.shutdown_kernel(now=True)
        n += 1
    return time.perf_counter() - start, n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--assignment", default="03-rnn")
    parser.add_argument("--notebook", action="append", help="only these notebooks (default: all)")
    args = parser.parse_args()
    notebooks = args.notebook or course.notebooks_of(args.assignment)
    work = Path(tempfile.mkdtemp(prefix="rnn-grading-bench-"))
    subs = work / "submissions"
    build(subs, args.assignment, notebooks, args.count)
    print(f"{args.count} submissions of {args.assignment} ({', '.join(notebooks)}), "
          f"{os.cpu_count()} CPUs; work folder {work}", flush=True)
    t_plain, s_plain = plain_nbgrader(subs, work, args.assignment)
    print(f"plain sequential nbgrader autograde: {t_plain:.1f} s", flush=True)
    t1, s1 = ours(subs, work, args.assignment, 1)
    print(f"autograder/grade.py, 1 worker:  {t1:.1f} s", flush=True)
    t2, s2 = ours(subs, work, args.assignment, 2)
    print(f"autograder/grade.py, 2 workers: {t2:.1f} s", flush=True)
    print(f"speed-up against plain nbgrader: 1 worker {t_plain / t1:.2f}x, 2 workers {t_plain / t2:.2f}x; "
          f"2 workers against 1: {t1 / t2:.2f}x", flush=True)
    same = set(s_plain) == set(s1) == set(s2) and all(s_plain[k] == s1[k] == s2[k] for k in s_plain)
    print(f"identical totals to plain nbgrader ({len(s_plain)} submissions): {same}", flush=True)
    if not same:
        diff = {k: (s_plain.get(k), s1.get(k), s2.get(k)) for k in set(s_plain) | set(s1) | set(s2)
                if not (s_plain.get(k) == s1.get(k) == s2.get(k))}
        print("differences (plain, 1 worker, 2 workers):", diff)
    t_bare, n = bare(subs, notebooks)
    print(f"bare execution (nbclient, one process) of {n} notebooks: {t_bare:.1f} s", flush=True)
    print(f"per notebook: bare {t_bare / n:.2f} s, plain nbgrader {t_plain / n:.2f} s, "
          f"ours with 1 worker {t1 / n:.2f} s (overhead against bare {(t1 - t_bare) / n:+.2f} s, "
          f"plain nbgrader's {(t_plain - t_bare) / n:+.2f} s), with 2 workers {t2 / n:.2f} s of wall time")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
