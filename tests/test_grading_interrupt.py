"""Ctrl-C at any moment never loses a printed grade: a small class is graded again and again
(--regrade), each run interrupted after a random delay; every score a run printed is the score
of the final table. The child gets a default SIGINT disposition whatever its parent's (a
background job of a non-interactive shell starts with SIGINT ignored)."""
import csv
import json
import random
import re
import signal
import subprocess
import sys
import time

from conftest import ROOT, harness, orchestrate

A, NB = "03-rnn", "rnn_numpy.ipynb"
STUDENTS = {"full": "solutions", "zero": "exercises", "other": "solutions"}
RUNS = 20


def default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted_run(subs, out, delay):
    """One run of grade.py --regrade, sent SIGINT after `delay` seconds; its printed scores."""
    run = subprocess.Popen([sys.executable, str(ROOT / "autograder" / "grade.py"), str(subs),
                            "--assignment", A, "--out", str(out), "--workers", "2", "--regrade"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           preexec_fn=default_sigint)
    time.sleep(delay)
    run.send_signal(signal.SIGINT)
    log = run.communicate(timeout=120)[0]
    assert run.returncode in (0, 130), log
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"\] \d+/\d+ (\w+): ([\d.]+) points", log)}, log


def test_interrupting_at_random_moments_never_loses_a_printed_score(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student, source in STUDENTS.items():
        (subs / student / A).mkdir(parents=True)
        (subs / student / A / NB).write_text(json.dumps(harness.load(ROOT / source / A / NB)))
    orchestrate.grade(subs, out, [A], workers=2, quiet=True)  # prepares the folder once
    rng = random.Random(15)
    printed, started = [], time.monotonic()
    for _ in range(RUNS):
        scores, log = interrupted_run(subs, out, rng.uniform(1.0, 9.0))
        printed.append(scores)
    final = {r["student"]: float(r["total"]) for r in
             (orchestrate.grade(subs, out, [A], workers=2, quiet=True))}
    lost = [(run, student, score, final.get(student)) for run, scores in enumerate(printed)
            for student, score in scores.items() if final.get(student) != score]
    assert not lost, f"printed scores not in the final table (run, student, printed, final): {lost}"
    assert sum(len(s) for s in printed) >= 5, f"too few scores printed to test anything: {printed}"
    assert final == {"full": 6.0, "zero": 0.0, "other": 6.0}
    table = {r["student"]: float(r["total"]) for r in csv.DictReader(open(out / "grades.csv"))}
    assert table == final
    print(f"{RUNS} interrupted runs in {time.monotonic() - started:.0f} s; printed: {printed}")
