"""The claims table: our own table in the gradebook's database, one row per (student, assignment)
holding the grading status. A row is also the claim that lets several graders (machines) share
one course: a grader claims a submission before grading it and writes its status after.

Statuses: "running" (claimed, being graded), "graded" or the encoded reasons (reasons.encode),
and "retry:<reasons>" for a submission the grader's environment could not grade (reasons kind
`not_graded`): any later run claims it again.
"""
import os
import time

RUNNING, RETRY = "running", "retry:"


class Records:
    """A grader refreshes its running claims every minute (`touch`); a claim not refreshed for
    STALE seconds (its grader crashed or lost its machine) may be taken over."""

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

    def _run(self, sql, fetch=False, **values):
        """Run one statement in a transaction of its own; its rows if `fetch`, else its row count."""
        with self.engine.begin() as conn:
            done = conn.execute(self.sa.text(sql), values)
            return done.fetchall() if fetch else done.rowcount

    def claim(self, student, assignment, regrade):
        """True if this grader may grade the submission (nobody graded it or is grading it)."""
        key = {"s": student, "a": assignment, "h": self.me, "t": time.time()}
        if regrade:
            self._run("DELETE FROM rnn_grading_status WHERE student=:s AND assignment=:a", **key)
        try:
            self._run("INSERT INTO rnn_grading_status VALUES (:s, :a, 'running', :h, :t)", **key)
            return True
        except self.sa.exc.IntegrityError:
            pass
        # one UPDATE: of two graders, one takes it over
        taken = self._run(
            "UPDATE rnn_grading_status SET status='running', host=:h, updated=:t WHERE student=:s "
            "AND assignment=:a AND ((status='running' AND updated < :stale) OR status LIKE :retry)",
            stale=key["t"] - self.STALE, retry=RETRY + "%", **key)
        return taken == 1

    def touch(self):
        """Refresh this grader's running claims (they are alive)."""
        self._run("UPDATE rnn_grading_status SET updated=:t WHERE host=:h AND status='running'",
                  t=time.time(), h=self.me)

    def set(self, student, assignment, status, retry=False):
        """Write the status of a graded submission; `retry`: no grade was recorded, the next run
        takes the submission again."""
        self._run("UPDATE rnn_grading_status SET status=:st, updated=:t WHERE student=:s AND assignment=:a",
                  st=(RETRY if retry else "") + status, t=time.time(), s=student, a=assignment)

    def all(self, assignment):
        """{student: status} of `assignment` (a retry status without its marker)."""
        rows = self._run("SELECT student, status FROM rnn_grading_status WHERE assignment=:a",
                         fetch=True, a=assignment)
        return {student: status.removeprefix(RETRY) for student, status in rows}

    def waiting(self, assignment):
        """The students of `assignment` whose grading is to be tried again."""
        rows = self._run("SELECT student FROM rnn_grading_status WHERE assignment=:a AND status LIKE :r",
                         fetch=True, a=assignment, r=RETRY + "%")
        return {student for (student,) in rows}

    def release(self):
        """Give up this grader's claims on what it did not grade (it is stopping)."""
        self._run("DELETE FROM rnn_grading_status WHERE host=:h AND status='running'", h=self.me)


def read_all(db_url):
    """{(student, assignment): status} of every row (a retry status without its marker), or {}
    when the database has no claims table. Only reads: unlike `Records`, it creates nothing, so
    a report can be made from a gradebook that was never graded by this grader."""
    import sqlalchemy as sa
    engine = sa.create_engine(db_url)
    try:
        if not sa.inspect(engine).has_table("rnn_grading_status"):
            return {}
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT student, assignment, status FROM rnn_grading_status"))
            return {(s, a): status.removeprefix(RETRY) for s, a, status in rows}
    finally:
        engine.dispose()
