"""The feedback page a student opens: math typeset offline, test messages wrapped, not cut.

A graded notebook of 03-rnn (the handed-out rnn_numpy with a failing test whose hint is one long
line) gets its feedback from nbgrader's generate_feedback with the course's configuration, and
the page is opened in headless Chromium with no network.
"""
import json
import re

import pytest

import browser
import worker
from conftest import ROOT

ASSIGNMENT, NOTEBOOK, STUDENT = "03-rnn", "rnn_numpy", "student"
HINT = ("Hint: tanh is missing: next_h = tanh(x Wx + prev_h Wh + b), not the pre-activation; "
        + "this sentence goes on and on so that it is far wider than the page " * 4 + "END-OF-HINT")


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory):
    course = tmp_path_factory.mktemp("feedback-course")
    (course / "nbgrader_config.py").write_text(
        f"load_subconfig({str(ROOT / 'autograder' / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.source_directory = {str(ROOT / 'solutions')!r}\n"
        f"c.CourseDirectory.release_directory = 'release'\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(course / 'gradebook.db')!r}\n")
    api = worker.nbgrader_api(course)
    assert api.generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    from nbgrader.api import Gradebook
    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gradebook:
        gradebook.add_student(STUDENT)
        gradebook.add_submission(ASSIGNMENT, STUDENT)
    # the handed-out notebook as autograde leaves it: its first test failed with a long hint
    nb = json.loads((course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_rnn_step_forward":
            message = "`next_h` is wrong: 15 of 15 values differ.\n" + HINT
            cell["outputs"] = [{"output_type": "error", "ename": "CheckFailure", "evalue": message,
                                "traceback": ["CheckFailure: " + message.splitlines()[0], HINT]}]
    graded = course / "autograded" / STUDENT / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    graded.parent.mkdir(parents=True)
    graded.write_text(json.dumps(nb))
    result = api.generate_feedback(ASSIGNMENT, STUDENT, force=True)
    assert result["success"], result.get("error")
    return course / "feedback" / STUDENT / ASSIGNMENT / f"{NOTEBOOK}.html"


def test_feedback_loads_nothing_from_the_network(feedback_page):
    page = feedback_page.read_text()
    loaded = re.findall(r'<(?:script|link|img)[^>]*\b(?:src|href)="(https?:[^"]*)"', page)
    assert not loaded, f"the feedback loads from the network: {loaded}"


def test_feedback_math_is_typeset_offline(feedback_page):
    found = json.loads(browser.measure(feedback_page, """
        const maths = [...document.querySelectorAll('math')];
        window.RESULT = JSON.stringify({
          text: document.body.innerText,
          maths: maths.length,
          drawn: maths.filter(m => m.getBoundingClientRect().width > 0).length});
    """))
    text = found["text"]
    assert "$$" not in text and "\\tanh" not in text and "h_{t-1}" not in text, \
        "raw LaTeX is visible on the feedback page"
    assert found["maths"] >= 5 and found["drawn"] == found["maths"], found


def test_a_long_hint_wraps_and_is_shown_whole(feedback_page):
    found = json.loads(browser.measure(feedback_page, """
        const boxes = [...document.querySelectorAll('div.output_area pre')];
        const hint = boxes.find(b => b.innerText.includes('END-OF-HINT'));
        window.RESULT = JSON.stringify({
          found: !!hint,
          cut: boxes.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.innerText.slice(0, 80)),
          fits: hint ? hint.getBoundingClientRect().right <= document.documentElement.clientWidth : false});
    """, width=800))
    assert found["found"], "the hint is not on the feedback page"
    assert not found["cut"], f"message boxes scroll sideways (text cut at the edge): {found['cut']}"
    assert found["fits"], "the hint's box is wider than the page"
