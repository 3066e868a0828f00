"""Notebooks are stored clean and follow the invariants of DESIGN.md and SYLLABUS.md."""
import ast
import re

import nbformat
import pytest

from conftest import ROOT, answer_cells, harness, solution_notebooks
from syllabus import SIGNATURES

CHAPTERS = {"01-before-rnns", "02-design-criteria", "03-rnn", "04-bptt", "05-gradients", "06-lstm",
            "07-attention", "08-language-models"}

ALL_NOTEBOOKS = sorted(ROOT.glob("solutions/*/*.ipynb")) + sorted(ROOT.glob("exercises/*/*.ipynb"))
IDS = [str(p.relative_to(ROOT)) for p in ALL_NOTEBOOKS]
SOLUTION_IDS = [f"{p.parent.name}/{p.stem}" for p in solution_notebooks()]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=IDS)
def test_notebook_is_valid_and_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "store notebooks without outputs"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), \
        "the first cell must be a markdown '# Title' (the book needs it)"


def test_assignments_are_chapters_and_exercises_match_solutions():
    solutions = {p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()}
    assert solutions and solutions <= CHAPTERS, solutions - CHAPTERS
    assert {p.relative_to(ROOT / "exercises") for p in (ROOT / "exercises").glob("*/*.ipynb")} == \
           {p.relative_to(ROOT / "solutions") for p in (ROOT / "solutions").glob("*/*.ipynb")}


def definitions(source):
    tree = ast.parse(source)
    return [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def arg_names(function):
    return [a.arg for a in function.args.args]


@pytest.mark.parametrize("path", solution_notebooks(), ids=SOLUTION_IDS)
def test_answer_cells_define_one_syllabus_exercise_each(path):
    nb = harness.load(path)
    answers = answer_cells(nb)
    assert answers, "a solution notebook without answer cells"
    for cell in answers:
        meta = harness.nbgrader_meta(cell)
        grade_id = meta["grade_id"]
        assert grade_id in SIGNATURES, f"{grade_id} is not an exercise of SYLLABUS.md"
        assert "### BEGIN SOLUTION" in harness.source(cell)
        expected = SIGNATURES[grade_id]
        defined = definitions(harness.source(cell))
        if expected is None and grade_id == "concept_check":
            assert not defined, "a concept check assigns answers; it defines no function"
            continue
        assert [d.name for d in defined] == [grade_id], \
            f"cell {grade_id} must define exactly one function or class named {grade_id}"
        node = defined[0]
        if expected is None:
            continue
        if isinstance(node, ast.ClassDef):
            methods = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
            assert arg_names(methods["__init__"]) == expected[0]
            assert arg_names(methods["forward"]) == expected[1]
        else:
            assert arg_names(node) == expected


@pytest.mark.parametrize("path", solution_notebooks(), ids=SOLUTION_IDS)
def test_grade_ids_are_unique_and_tests_name_their_exercise(path):
    nb = harness.load(path)
    metas = [harness.nbgrader_meta(c) for c in nb["cells"] if harness.nbgrader_meta(c)]
    ids = [m["grade_id"] for m in metas]
    assert len(ids) == len(set(ids)), f"duplicate grade_ids: {ids}"
    answers = {harness.nbgrader_meta(c)["grade_id"] for c in answer_cells(nb)}
    tested = set()
    for meta in metas:
        if meta.get("grade"):
            assert not meta.get("solution"), "test cells are not answer cells"
            assert meta.get("points", 0) > 0
            match = [a for a in answers if re.fullmatch(rf"test_{re.escape(a)}(_\w+)?", meta["grade_id"])]
            assert match, f"test cell {meta['grade_id']} does not name an exercise of this notebook"
            tested.update(match)
    assert tested == answers, f"exercises without tests: {answers - tested}"


@pytest.mark.parametrize("path", solution_notebooks(), ids=SOLUTION_IDS)
def test_code_is_plain_python_and_hidden_tests_hold_no_solution(path):
    for cell in harness.load(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        text = harness.source(cell)
        ast.parse(text)  # no IPython magics: the mutant harness runs cells as plain Python
        if "### BEGIN HIDDEN TESTS" in text:
            assert "### BEGIN SOLUTION" not in text
            assert harness.nbgrader_meta(cell).get("grade"), "hidden tests belong in graded cells"


@pytest.mark.parametrize("path", sorted(ROOT.glob("exercises/*/*.ipynb")), ids=lambda p: p.stem)
def test_exercises_hold_no_solution_or_hidden_test(path):
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert "raise NotImplementedError()" in text
