"""autograder/guard.py: the integrity check's comparison, its in-kernel verdict and the imports
it follows, without a kernel."""
import json
import types

import guard
from conftest import ROOT, harness


def reply(payload):
    """A kernel's user_expressions entry holding the JSON text `payload` (as the kernel sends it)."""
    return {"status": "ok", "data": {"text/plain": repr(json.dumps(payload))}}


def test_a_clean_reply_has_no_problems_and_a_replaced_function_is_named():
    clean = {"numpy.allclose": ["code:aaa"], "builtins.all": ["builtin"]}
    assert guard.problems(reply({"fingerprint": {"numpy.allclose": "code:aaa"}, "swapped": []}), clean) == []
    found = guard.problems(reply({"fingerprint": {"numpy.allclose": "code:bbb"}, "swapped": ["checks"]}), clean)
    assert found == ["numpy.allclose was replaced", "checks (a module of the notebook) was replaced"]


def test_a_missing_or_garbled_reply_is_a_problem():
    assert guard.problems(None, {}) == ["the integrity check could not run in the kernel"]
    assert guard.problems({"status": "ok", "data": {"text/plain": "nonsense"}}, {}) == \
        ["the integrity check returned garbage"]


def test_the_verdict_sees_a_module_name_bound_to_something_else():
    namespace = {}
    exec(guard.SOURCE, namespace)
    import numpy
    fake = types.ModuleType("numpy")
    verdict = json.loads(namespace["verdict"]({"np": fake, "ok": numpy}, [("np", "numpy", None)]))
    assert verdict["swapped"] == ["np"]
    assert "numpy.allclose" in verdict["fingerprint"]


def test_imports_of_lists_the_names_the_locked_cells_import():
    nb = harness.load(ROOT / "solutions" / "03-rnn" / "rnn_numpy.ipynb")
    names = {alias for alias, module, attribute in guard.imports_of(nb)}
    assert "np" in names and "checks" in names
