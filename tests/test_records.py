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
