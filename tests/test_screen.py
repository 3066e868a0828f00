"""autograder/screen.py: the checks made on a submission's JSON before anything runs."""
import copy
import json

import screen
from conftest import ROOT, harness

A, NB = "03-rnn", "rnn_numpy.ipynb"


def release():
    return harness.load(ROOT / "exercises" / A / NB)


def cell(nb, grade_id):
    return next(c for c in nb["cells"] if harness.nbgrader_meta(c).get("grade_id") == grade_id)


def test_read_notebook_reports_bad_json_and_non_notebooks(tmp_path):
    good = tmp_path / "good.ipynb"
    good.write_text(json.dumps(release()))
    nb, why = screen.read_notebook(good)
    assert why is None and nb["cells"]
    (tmp_path / "cut.ipynb").write_text(json.dumps(release())[:500])
    assert "is not valid JSON" in screen.read_notebook(tmp_path / "cut.ipynb")[1]
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    assert "is not a Jupyter notebook" in screen.read_notebook(tmp_path / "list.ipynb")[1]


def test_a_renamed_notebook_is_matched_by_its_test_ids():
    ids = {NB: screen.grade_ids(release())}
    assert screen.match_names({"rnn_numpy (1).ipynb": release()}, ids) == {NB: "rnn_numpy (1).ipynb"}
    assert screen.match_names({"other.ipynb": {"cells": []}}, ids) == {}


def test_suspicious_code_in_student_cells_is_flagged_and_course_cells_are_not():
    nb = release()
    trusted = screen.trusted_sources(nb)
    assert screen.suspicious(nb, trusted) == []
    cell(nb, "rnn_step_forward")["source"] = "np.allclose = lambda *a, **k: True\nimport sys\nsys.exit()\n"
    found = screen.suspicious(nb, trusted)
    assert "assigns np.allclose" in found and "exits the kernel" in found


def test_changes_names_deleted_edited_and_reordered_test_cells():
    nb = release()
    assert screen.changes(nb, release()) == []
    nb["cells"].remove(cell(nb, "test_rnn_forward_hidden"))
    cell(nb, "test_rnn_step_forward")["source"] = "pass"
    found = screen.changes(nb, release())
    assert "cell test_rnn_forward_hidden was deleted (restored)" in found
    assert "cell test_rnn_step_forward was edited (restored)" in found
    nb = release()
    first, second = cell(nb, "test_rnn_step_forward"), cell(nb, "test_rnn_forward")
    i, j = nb["cells"].index(first), nb["cells"].index(second)
    nb["cells"][i], nb["cells"][j] = second, first
    assert "cells were reordered" in screen.changes(nb, release())


def test_sanitize_strips_claimed_metadata_and_restores_the_course_cells():
    nb = release()
    extra = copy.deepcopy(cell(nb, "test_rnn_forward"))
    extra["metadata"]["nbgrader"]["grade_id"] = "made_up"
    nb["cells"].append(extra)
    harness.nbgrader_meta(cell(nb, "test_rnn_forward"))["points"] = 100
    clean = screen.sanitize(nb, release())
    assert harness.nbgrader_meta(cell(clean, "test_rnn_forward"))["points"] == \
        harness.nbgrader_meta(cell(release(), "test_rnn_forward"))["points"]
    assert "nbgrader" not in clean["cells"][-1]["metadata"]
