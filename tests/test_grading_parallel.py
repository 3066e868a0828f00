"""Several graders on one course: two grading processes (as two machines would) share one real
PostgreSQL gradebook, split the submissions between them without grading any twice, and write
the same grade table; and a regrade replaces scores instead of adding a submission.

Needs RNN_COURSE_TEST_PG_URL, a PostgreSQL URL of a database where the tests may create a schema (.ci/run
installs and starts PostgreSQL and sets it). Without it the test fails: it is never skipped.
The test works in a fresh schema of that database, dropped at the end."""
import csv
import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import ROOT, harness

A = "03-rnn"
NB = "rnn_numpy.ipynb"


def pg_url():
    url = os.environ.get("RNN_COURSE_TEST_PG_URL")
    if not url:
        pytest.fail("RNN_COURSE_TEST_PG_URL is not set: run .ci/run, or start PostgreSQL and set it "
                    "to postgresql://USER:PASSWORD@HOST/EMPTY_DATABASE")
    return url


@pytest.fixture
def pg_schema_url():
    """The test database, in a schema of its own (so that two test runs at once on one server
    do not meet), dropped afterwards."""
    import sqlalchemy as sa
    url = pg_url()
    schema = f"grading_test_{os.getpid()}_{int(time.time())}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def submissions_of(folder):
    """Six students of rnn_numpy: three with the solution, three with the untouched exercise."""
    for i in range(6):
        source = "solutions" if i % 2 == 0 else "exercises"
        target = folder / f"s{i}" / A
        target.mkdir(parents=True)
        (target / NB).write_text(json.dumps(harness.load(ROOT / source / A / NB)))
    return folder


def run_grader(subs, out, url, *extra):
    return subprocess.Popen([sys.executable, str(ROOT / "autograder" / "grade.py"), str(subs),
                             "--assignment", A, "--out", str(out), "--db", url, "--workers", "1", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def totals(out):
    return {r["student"]: float(r["total"]) for r in csv.DictReader(open(out / "grades.csv"))}


def test_two_graders_share_a_postgresql_gradebook(tmp_path, pg_schema_url):
    url = pg_schema_url
    subs = submissions_of(tmp_path / "subs")
    # the first run adds the assignment to the shared gradebook; then two graders run at once
    first = run_grader(subs, tmp_path / "m0", url, "--shard", "0/3")
    log0 = first.communicate()[0]
    assert first.returncode == 0, log0
    a = run_grader(subs, tmp_path / "m1", url)
    b = run_grader(subs, tmp_path / "m2", url)
    log1, log2 = a.communicate()[0], b.communicate()[0]
    assert a.returncode == 0 and b.returncode == 0, log1 + log2
    counts = [int(re.search(r"\[03-rnn\] (\d+) to grade", log).group(1)) for log in (log0, log1, log2)]
    assert sum(counts) == 6, (counts, log0, log1, log2)  # each submission graded exactly once
    expected = {f"s{i}": (6.0 if i % 2 == 0 else 0.0) for i in range(6)}
    # a third run finds everything graded: it grades nothing and writes the whole table
    report = run_grader(subs, tmp_path / "m3", url)
    log3 = report.communicate()[0]
    assert report.returncode == 0 and "[03-rnn] 0 to grade" in log3, log3
    assert totals(tmp_path / "m3") == expected

    from nbgrader.api import Gradebook
    with Gradebook(url) as gradebook:
        assert len(gradebook.assignment_submissions(A)) == 6

    # a regrade of one student replaces its scores: still six submissions, same totals
    again = run_grader(subs, tmp_path / "m1", url, "--regrade", "--shard", "0/6")
    log = again.communicate()[0]
    assert again.returncode == 0, log
    assert re.search(r"\[03-rnn\] [1-9]\d* to grade", log), log
    with Gradebook(url) as gradebook:
        assert len(gradebook.assignment_submissions(A)) == 6
    assert totals(tmp_path / "m1") == expected


def test_claims_expire_when_their_grader_stops(tmp_path):
    """A grader that crashed (its machine lost) leaves claims 'running': once nobody has refreshed
    them for Records.STALE seconds another grader takes them over; a graded row is never taken."""
    import sqlalchemy as sa
    from records import Records
    url = "sqlite:///" + str(tmp_path / "gradebook.db")
    first, second = Records(url), Records(url)
    second.me = "another-machine:1"

    def age(seconds):
        with first.engine.begin() as conn:
            conn.execute(sa.text("UPDATE rnn_grading_status SET updated = updated - :d"), {"d": seconds})

    assert first.claim("s1", A, regrade=False)
    assert not second.claim("s1", A, regrade=False), "two graders hold one claim"
    age(Records.STALE - 60)
    first.touch()  # the heartbeat of a grader at work keeps its claim
    age(120)
    assert not second.claim("s1", A, regrade=False), "a refreshed claim was taken over"
    age(Records.STALE + 1)  # the first grader stopped refreshing: its claim expires
    assert second.claim("s1", A, regrade=False)
    assert not first.claim("s1", A, regrade=False)
    second.set("s1", A, "graded")
    age(10 * Records.STALE)
    assert not first.claim("s1", A, regrade=False), "a graded submission was claimed again"
    # a grader that stops (Ctrl-C) gives up what it did not grade, at once
    assert first.claim("s2", A, regrade=False)
    first.release()
    assert second.claim("s2", A, regrade=False)
    assert second.all(A) == {"s1": "graded", "s2": "running"}
