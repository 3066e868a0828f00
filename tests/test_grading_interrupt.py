"""Ctrl-C at any moment never loses a printed grade. Each round hands in two new submissions (a
solution, 6 points, and an untouched exercise, 0 points) and runs the command, interrupted a
random delay after it starts grading (every fourth run: after it starts); a submission is printed once, when it is graded. At the end, one run grades what
is left, and every score any run printed must be the score in the final table (a status recorded
before its scores were durable would show here as a 0 or a missing score). The child gets a
default SIGINT disposition whatever its parent's (a background job of a non-interactive shell
starts with SIGINT ignored)."""
import csv
import json
import random
import re
import signal
import subprocess
import sys
import threading
import time

from conftest import ROOT, harness, orchestrate

A, NB = "03-rnn", "rnn_numpy.ipynb"
ROUNDS = 12  # each round starts a grading run (~10-20 s); 12 keep the suite within its CI budget


def default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def hand_in(subs, student, source):
    (subs / student / A).mkdir(parents=True)
    (subs / student / A / NB).write_text(json.dumps(harness.load(ROOT / source / A / NB)))


def interrupted_run(subs, out, delay, after_start):
    """One run of grade.py sent SIGINT `delay` seconds after it starts grading (after it starts,
    if `after_start`): {student: points} it printed."""
    run = subprocess.Popen([sys.executable, str(ROOT / "autograder" / "grade.py"), str(subs),
                            "--assignment", A, "--out", str(out), "--workers", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           preexec_fn=default_sigint)
    lines, grading = [], threading.Event()

    def read():
        for line in run.stdout:
            lines.append(line)
            if " to grade with " in line:
                grading.set()
        grading.set()  # the command ended

    reader = threading.Thread(target=read)
    reader.start()
    if not after_start:
        grading.wait(timeout=300)
    time.sleep(delay)
    run.send_signal(signal.SIGINT)
    run.wait(timeout=180)
    reader.join()
    log = "".join(lines)
    # 130: stopped by the command's Ctrl-C handling; -SIGINT: interrupted while Python was still
    # importing, before the command could catch it (nothing was started yet)
    assert run.returncode in (0, 130, -signal.SIGINT), log
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"\] \d+/\d+ (\w+): ([\d.]+) points", log)}


def test_interrupting_at_random_moments_never_loses_a_printed_score(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    hand_in(subs, "first", "solutions")
    orchestrate.grade(subs, out, [A], workers=2, quiet=True)  # prepares the folder once
    rng = random.Random(15)
    printed, started = {}, time.monotonic()
    for k in range(ROUNDS):
        hand_in(subs, f"r{k}full", "solutions")
        hand_in(subs, f"r{k}zero", "exercises")
        # most interrupts land while submissions are graded; every fourth one during the start
        scores = interrupted_run(subs, out, rng.uniform(0.0, 12.0), after_start=k % 4 == 3)
        assert not set(scores) & set(printed), "a graded submission was graded again"
        printed.update(scores)
    final = {r["student"]: r["total"] for r in orchestrate.grade(subs, out, [A], workers=2, quiet=True)}
    lost = {s: (score, final.get(s)) for s, score in printed.items() if final.get(s) != score}
    assert not lost, f"printed scores not in the final table (printed, final): {lost}"
    assert len(printed) >= 5, f"too few scores printed to test anything: {printed}"
    assert final == {s: (0.0 if s.endswith("zero") else 6.0) for s in final} and len(final) == 2 * ROUNDS + 1
    table = {r["student"]: float(r["total"]) for r in csv.DictReader(open(out / "grades.csv"))}
    assert table == final
    print(f"{ROUNDS} interrupted runs in {time.monotonic() - started:.0f} s, "
          f"{len(printed)} scores printed before Ctrl-C")
