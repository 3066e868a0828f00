"""Plausible wrong implementations lose points, with a message that names the mistake.

Each mutant (tests/mutants/<assignment>/<notebook>.py) replaces one answer cell of a solution
notebook; the notebook's cells then run in-process (tests/harness.py). test_grading.py checks
with real nbgrader that the first mutant of every exercise loses points there too.
"""
import runpy

import pytest

from conftest import ROOT, answer_cells, harness, mutants_of, solution_notebooks

CASES = [(notebook, mutant) for notebook in solution_notebooks() for mutant in mutants_of(notebook)]


def attributions_of(notebook):
    """The ATTRIBUTIONS of tests/mutants/<a>/<n>.py: a wrong answer to one exercise (grade_id) and
    another exercise that uses it (tested), whose test must name the culprit."""
    path = ROOT / "tests" / "mutants" / notebook.parent.name / (notebook.stem + ".py")
    return runpy.run_path(str(path)).get("ATTRIBUTIONS", []) if path.exists() else []


ATTRIBUTIONS = [(notebook, case) for notebook in solution_notebooks() for case in attributions_of(notebook)]


@pytest.mark.parametrize("notebook", solution_notebooks(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_exercise_has_at_least_three_mutants(notebook):
    mutants = mutants_of(notebook)
    for cell in answer_cells(harness.load(notebook)):
        grade_id = harness.nbgrader_meta(cell)["grade_id"]
        count = sum(m["grade_id"] == grade_id for m in mutants)
        assert count >= 3, f"{notebook.name}: {grade_id} has {count} mutants; write at least 3"


@pytest.mark.parametrize("notebook", solution_notebooks(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_harness_gives_the_solution_full_marks(notebook):
    errors = []
    results = harness.run_cells(harness.load(notebook), errors=errors)
    failed = {k: v[2] for k, v in results.items() if v[0] < v[1]}
    assert results and not failed, failed
    assert not errors, f"cells that are not tests fail: {errors}"


@pytest.mark.parametrize("notebook,mutant", CASES,
                         ids=[f"{n.parent.name}/{n.stem}:{m['grade_id']}:{m['name']}" for n, m in CASES])
def test_mutant_loses_points_with_a_message_naming_the_mistake(notebook, mutant):
    results = harness.run_cells(harness.load(notebook), {mutant["grade_id"]: mutant["source"]},
                                stop_after_tests_of=mutant["grade_id"])
    own = {k: v for k, v in results.items() if k.startswith(f"test_{mutant['grade_id']}")}
    assert own, f"no test cell for {mutant['grade_id']}"
    lost = {k: message for k, (points, most, message) in own.items() if points < most}
    assert lost, f"mutant '{mutant['name']}' keeps full marks"
    messages = "\n".join(lost.values())
    assert mutant["expect"] in messages, f"message does not name the mistake:\n{messages}"
    assert "CheckFailure" in messages, f"a bare error reaches the student:\n{messages}"


@pytest.mark.parametrize("notebook,case", ATTRIBUTIONS,
                         ids=[f"{n.parent.name}/{n.stem}:{c['grade_id']}->{c['tested']}:{c['name']}"
                              for n, c in ATTRIBUTIONS])
def test_a_wrong_function_is_named_by_the_tests_of_the_functions_that_use_it(notebook, case):
    """Only the culprit's cell is replaced: the tested function is the solution's, and right. Its
    tests must lose points (it cannot work on a wrong dependency) with a message that names the
    culprit first and blames nothing else."""
    results = harness.run_cells(harness.load(notebook), {case["grade_id"]: case["source"]},
                                stop_after_tests_of=case["tested"])
    own = {k: v for k, v in results.items() if k.startswith(f"test_{case['tested']}")}
    assert own, f"no test cell for {case['tested']}"
    lost = {k: message for k, (points, most, message) in own.items() if points < most}
    assert lost, f"{case['tested']}'s tests keep full marks on top of a wrong {case['grade_id']}"
    culprit = f"CheckFailure: `{case['grade_id']}`, which your `{case['tested']}`"
    for cell, message in lost.items():
        assert message.startswith(culprit), f"{cell} does not name {case['grade_id']} first:\n{message}"
        blamed, _, theirs = message.partition(f"The test of `{case['grade_id']}` says:")
        assert theirs and "Hint" not in blamed, f"{cell} gives a hint of its own:\n{message}"
