"""Plausible wrong implementations lose points, with a message that names the mistake.

Each mutant (tests/mutants/<assignment>/<notebook>.py) replaces one answer cell of a solution
notebook; the notebook's cells then run in-process (tests/harness.py). test_grading.py checks
with real nbgrader that the first mutant of every exercise loses points there too.
"""
import pytest

from conftest import answer_cells, harness, mutants_of, solution_notebooks

CASES = [(notebook, mutant) for notebook in solution_notebooks() for mutant in mutants_of(notebook)]


@pytest.mark.parametrize("notebook", solution_notebooks(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_exercise_has_at_least_three_mutants(notebook):
    mutants = mutants_of(notebook)
    for cell in answer_cells(harness.load(notebook)):
        grade_id = harness.nbgrader_meta(cell)["grade_id"]
        count = sum(m["grade_id"] == grade_id for m in mutants)
        assert count >= 3, f"{notebook.name}: {grade_id} has {count} mutants; write at least 3"


@pytest.mark.parametrize("notebook", solution_notebooks(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_harness_gives_the_solution_full_marks(notebook):
    results = harness.run_cells(harness.load(notebook))
    failed = {k: v[2] for k, v in results.items() if v[0] < v[1]}
    assert results and not failed, failed


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
