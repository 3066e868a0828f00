"""The class report (autograder/class_report.py) after a real grading run of a small class with
known mistakes: its counts, its reasons, its links, and how it renders in headless Chromium."""
import csv
import json
import re

import pytest

import browser
import class_report
import orchestrate
from conftest import ROOT, harness, mutants_of

ASSIGNMENT, NOTEBOOK = "02-design-criteria", "padding_and_masks.ipynb"


def with_mutants(*names):
    """The solution notebook with the answer cells of the named mutants replaced."""
    nb = harness.load(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK)
    mutants = {m["name"]: m for m in mutants_of(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK)}
    for name in names:
        cell = next(c for c in nb["cells"] if harness.nbgrader_meta(c).get("solution")
                    and harness.nbgrader_meta(c)["grade_id"] == mutants[name]["grade_id"])
        cell["source"] = mutants[name]["source"]
    return nb


# student: (file name, notebook); three students average the padding, erin under a wrong file
# name (flagged), frank handed in nothing (missing).
CLASS = {
    "alice": (NOTEBOOK, lambda: harness.load(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK)),
    "bob": (NOTEBOOK, lambda: with_mutants("plain mean", "padding at the front")),
    "carol": (NOTEBOOK, lambda: with_mutants("plain mean", "inverted")),
    "dave": (NOTEBOOK, lambda: harness.load(ROOT / "exercises" / ASSIGNMENT / NOTEBOOK)),
    "erin": ("my_work.ipynb", lambda: with_mutants("plain mean")),
    "frank": (None, None),
}
# the chapter's second notebook, handed in by everyone but frank: right, but untouched by dave
SECOND = "packing.ipynb"
SECOND_OF = {"alice": "solutions", "bob": "solutions", "carol": "solutions", "dave": "exercises",
             "erin": "solutions"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    submissions = tmp_path_factory.mktemp("class")
    for student, (name, make) in CLASS.items():
        folder = submissions / student / ASSIGNMENT
        folder.mkdir(parents=True)
        if name:
            (folder / name).write_text(json.dumps(make()))
        if student in SECOND_OF:
            (folder / SECOND).write_text((ROOT / SECOND_OF[student] / ASSIGNMENT / SECOND).read_text())
    out = tmp_path_factory.mktemp("grading")
    orchestrate.grade(submissions, out, [ASSIGNMENT], workers=2, quiet=True)
    return out


def mistakes_table(page):
    """{(function, mistake): [students]} from the report's mistakes table."""
    rows = re.findall(r'<tr><td><code>([^<]*)</code></td><td class="[^"]*">([^<]*)</td>'
                      r'<td class="n"><details><summary>(\d+)</summary>([^<]*)</details>', page)
    table = {}
    for function, mistake, count, students in rows:
        table[(function, mistake)] = students.split(", ")
        assert int(count) == len(table[(function, mistake)])
    return table


def attention_table(page):
    """{student: (kind, reason)} from the report's "Students to look at" table."""
    return {s: (kind, reason) for s, kind, reason in re.findall(
        r'<tr class="\w+"><td>([^<]*)</td><td>(\w+)</td><td class="n">[^<]*</td>'
        r'<td class="hint">([^<]*)</td>', page)}


def test_report_counts_each_mistake_once_per_student(graded):
    table = mistakes_table((graded / "report.html").read_text())
    assert table[("masked_mean", "the padding is averaged too")] == ["bob", "carol", "erin"]
    assert table[("pad_sequences", "the padding is at the front")] == ["bob"]
    assert table[("sequence_mask", "the mask is inverted")] == ["carol"]
    for function in ("pad_sequences", "sequence_mask", "masked_mean"):
        assert table[(function, f"{function} is not implemented yet")] == ["dave"]
    assert not [key for key, students in table.items() if "alice" in students or "frank" in students]


def test_report_names_the_flagged_and_failed_students_with_their_reason(graded):
    attention = attention_table((graded / "report.html").read_text())
    assert set(attention) == {"erin", "frank"}
    assert attention["erin"] == ("flagged", "my_work.ipynb graded as padding_and_masks.ipynb (wrong file name)")
    assert attention["frank"] == ("failed", "missing packing.ipynb; missing padding_and_masks.ipynb")


def test_report_is_self_contained_and_links_every_feedback(graded):
    page = (graded / "report.html").read_text()
    assert "<script" not in page and not re.search(r'(?:src|href)="https?:', page)
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 3
    for image in images:
        assert (graded / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
    links = re.findall(r'<a href="(feedback/[^"]+)"', page)
    for student in ("alice", "bob", "carol", "dave", "erin"):
        assert f"feedback/{student}/{ASSIGNMENT}/padding_and_masks.html" in links
    assert all((graded / link).is_file() for link in links)


def test_report_renders_in_chromium(graded):
    page = graded / "report.html"
    found = json.loads(browser.measure(page, """
        const images = [...document.images];
        window.RESULT = JSON.stringify({
          images: images.length,
          drawn: images.filter(i => i.complete && i.naturalWidth > 0).length,
          text: document.body.innerText});
    """))
    assert found["images"] == 3 and found["drawn"] == 3, found
    assert "the padding is averaged too" in found["text"]
    browser.screenshot(page, graded / "report-screenshot.png", height=2600)
    assert (graded / "report-screenshot.png").stat().st_size > 10_000


def test_the_run_writes_the_lms_file_with_the_totals_of_grades_csv(graded):
    with open(graded / "grades.csv", newline="") as handle:
        totals = {r["student"]: r["total"] for r in csv.DictReader(handle)}
    with open(graded / "grades-lms.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    maximum = sum(harness.nbgrader_meta(c).get("points", 0) for name in (NOTEBOOK, SECOND)
                  for c in harness.load(ROOT / "solutions" / ASSIGNMENT / name)["cells"]
                  if harness.nbgrader_meta(c).get("grade"))
    assert rows[0][-1] == ASSIGNMENT and rows[1][0] == "Points Possible" and float(rows[1][-1]) == maximum
    assert {r[2]: float(r[-1]) for r in rows[2:]} == {s: float(t) for s, t in totals.items()}


def test_mistakes_are_read_by_function_and_named_by_their_hint():
    assert class_report.function_of("test_concept_check_q2", ["concept_check"]) == "concept_check"
    assert class_report.function_of("test_identity_init__hidden", ["identity_init_"]) == "identity_init_"
    assert class_report.function_of("test_rnn_forward_hidden", ["rnn_step_forward", "rnn_forward"]) == "rnn_forward"
    label, named, _ = class_report.mistake_of(
        "CheckFailure", "`dc (N=2)` is wrong: 3 of 4 values differ.\nHint: dnext_c is ignored: add it.")
    assert (label, named) == ("dnext_c is ignored", True)
    label, named, _ = class_report.mistake_of("CheckFailure", "`h (N=3, T=2)` is wrong: 6 of 6 values differ.")
    assert (label, named) == ("`h` is wrong", False)
    label, _, _ = class_report.mistake_of(
        "CheckFailure", "f(array(3, 4)) raised ValueError: matmul: mismatch\n  at line 2 of your code: x @ W")
    assert label == "raised ValueError"
    label, _, _ = class_report.mistake_of(
        "CheckFailure", "`h (N=3)` is wrong: 1 of 2 values differ.\nHint: in the step: the gates are "
                        "in the wrong order: PyTorch's order is i, f, g, o.")
    assert label == "in the step: the gates are in the wrong order"
    label, _, _ = class_report.mistake_of(
        "CheckFailure", "softmax(x (2, 6), axis=-1) returned NaN or inf for inputs as large as 955.")
    assert label == "softmax(…) returned NaN or inf for inputs as large as 955"


def test_the_feedback_the_run_wrote_reads_offline(graded):
    """The workers' feedback (nbgrader's API, not the command) has its math typeset, no MathJax."""
    pages = sorted((graded / "feedback").glob(f"*/{ASSIGNMENT}/{NOTEBOOK.replace('.ipynb', '.html')}"))
    assert len(pages) == 5
    for page in pages:
        text = page.read_text()
        assert "cdnjs" not in text and text.count("<math") >= 10, page


def test_figures_take_any_message(tmp_path):
    """A message is the student's output: matplotlib must draw `$` and `\\` as they are."""
    odd = r"the sum $\frac{1}{$ is {wrong} \ "  # an even number of $: matplotlib would parse it
    assignment = class_report.Assignment("a1", 3.0, {"nb:test_f": 3.0},
                                         [class_report.Submission("s", 1.0, {"nb:test_f": 1.0})])
    names = class_report._figures(assignment, [("f", odd, False, ["s"], odd)], tmp_path)
    assert sorted(names) == ["mistakes", "scores", "tests"]


def test_a_mistake_that_differs_only_by_numbers_is_one_mistake(tmp_path):
    def graded_notebook(student, hint):
        cells = [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "f", "solution": True}},
                  "source": "", "outputs": []},
                 {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "test_f_hidden", "grade": True}},
                  "source": "", "outputs": [{"output_type": "error", "ename": "CheckFailure",
                                             "evalue": f"`y` is wrong.\nHint: {hint}", "traceback": []}]}]
        path = tmp_path / "autograded" / student / "a1" / "nb.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"cells": cells}))

    graded_notebook("s1", "your result is the expected one times 2: a constant factor is off.")
    graded_notebook("s2", "your result is the expected one times 0.5: a constant factor is off.")
    graded_notebook("s3", "the bias b is missing.")
    rows = class_report.mistake_rows(class_report.read_mistakes(tmp_path, "a1"))
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("f", "your result is the expected one times …", ["s1", "s2"]),
        ("f", "the bias b is missing", ["s3"])]
