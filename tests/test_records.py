"""autograder/records.py: the claims table (claims taken once, given up, retried)."""
from records import Records


def test_a_claim_is_taken_once_and_a_not_graded_submission_is_taken_again(tmp_path):
    url = "sqlite:///" + str(tmp_path / "gradebook.db")
    first, second = Records(url), Records(url)
    second.me = "another-machine:1"
    assert first.claim("s1", "a", regrade=False)
    assert not second.claim("s1", "a", regrade=False)
    first.set("s1", "a", "graded")
    assert not second.claim("s1", "a", regrade=False), "a graded submission was claimed again"
    assert second.claim("s1", "a", regrade=True), "--regrade did not take it"
    second.set("s1", "a", "why", retry=True)
    assert first.all("a") == {"s1": "why"} and first.waiting("a") == {"s1"}
    assert first.claim("s1", "a", regrade=False), "a not-graded submission was not taken again"
    assert first.all("a") == {"s1": "running"}
    first.release()
    assert first.all("a") == {}


def test_reading_every_status_creates_nothing_and_drops_the_retry_marker(tmp_path):
    import sqlalchemy as sa
    from records import read_all

    url = "sqlite:///" + str(tmp_path / "gradebook.db")
    assert read_all(url) == {}
    assert not sa.inspect(sa.create_engine(url)).has_table("rnn_grading_status"), "a reader made the table"
    records = Records(url)
    for student, retry in (("s1", False), ("s2", True)):
        records.claim(student, "a", regrade=False)
        records.set(student, "a", "why", retry=retry)
    records.claim("s3", "b", regrade=False)
    assert read_all(url) == {("s1", "a"): "why", ("s2", "a"): "why", ("s3", "b"): "running"}
