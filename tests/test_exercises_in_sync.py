"""exercises/ is exactly what nbgrader generate_assignment makes from solutions/ now."""
import subprocess
import sys

import pytest

from conftest import ASSIGNMENTS, ROOT, course

REGENERATE = "regenerate with: .venv/bin/python autograder/release.py"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_are_generated_from_solutions(tmp_path, assignment):
    course.write_course_config(tmp_path)
    ok, log = course.run_nbgrader(tmp_path, "generate_assignment", assignment, "--force")
    assert ok, log
    generated = {p.name: p.read_bytes() for p in (tmp_path / "release" / assignment).glob("*.ipynb")}
    committed = {p.name: p.read_bytes() for p in (ROOT / "exercises" / assignment).glob("*.ipynb")}
    assert generated.keys() == committed.keys(), REGENERATE
    for name in generated:
        assert generated[name] == committed[name], f"exercises/{assignment}/{name} is stale; {REGENERATE}"
