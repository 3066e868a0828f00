"""Detect a submission that replaced the functions the tests rely on (monkeypatching).

The tests compare with `numpy`, `torch`, `math`, `rnncourse.*` and Python's builtins. A student
cell can replace any of them in its own interpreter (`np.allclose = lambda *a, **k: True`,
`builtins.isinstance = ...`, `checks.check_close = ...`, `checks = FakeModule()`) so that every
test "passes". After every test cell, the grading process (outside the sandbox) asks the kernel
for a fingerprint of those objects (GUARD_EXPRESSION, evaluated as a Jupyter `user_expression`,
so nothing of it appears in the notebook or in `In`), and compares it with the fingerprint of a
clean interpreter computed by `expected()` before grading starts. Any difference, or a guard
that does not answer, scores the test cell 0 with a "tampering" reason.

Limits (see book/instructor.md): this runs inside the student's interpreter, so a submission
written against this very guard (one that fakes the fingerprint) can defeat it; it stops the
ordinary ways of patching the checks, not a determined attacker.
"""
import ast
import json
import subprocess
import sys

from course import nbgrader_meta

PROTECTED = ["builtins", "math", "numpy", "numpy.testing", "torch", "torch.testing",
             "torch.nn.functional", "rnncourse", "rnncourse.checks", "rnncourse.training",
             "rnncourse.data", "rnncourse.text", "rnncourse.seq2seq"]
PROTECTED_PREFIXES = ["rnncourse.ch"]

# Runs in the kernel and in a clean interpreter: defines fingerprint() -> {key: text}.
SOURCE = r'''
def fingerprint(import_all=False):
    import sys, types, hashlib, marshal, json
    names = %(protected)r
    prefixes = %(prefixes)r
    if import_all:
        import importlib, pkgutil
        for n in names:
            importlib.import_module(n)
        import rnncourse
        for m in pkgutil.iter_modules(rnncourse.__path__):
            importlib.import_module("rnncourse." + m.name)
    mods = [n for n in list(sys.modules) if n in names or any(n.startswith(p) for p in prefixes)]
    def const_key(k):
        # marshal.dumps(code) depends on reference counts (it marks shared objects), so a
        # failed test that keeps a traceback alive would change it: describe the code instead.
        if type(k) is types.CodeType:
            return b"code(" + k.co_code + repr((k.co_names, k.co_varnames)).encode() + \
                b"".join(const_key(c) for c in k.co_consts) + b")"
        if type(k) in (tuple, frozenset):
            items = [const_key(c) for c in k]
            return b"(" + b",".join(sorted(items) if type(k) is frozenset else items) + b")"
        return repr(k).encode()
    def fp(obj, by_place=False):
        code = getattr(obj, "__code__", None)
        if code is not None and type(code) is types.CodeType:
            if by_place:
                # the course's own package changes while a course is written: its functions
                # are recognised by where their code comes from (a read-only file in the
                # sandbox), not by their bytes; a replacement defined in a cell comes from
                # the cell, and the original's __code__ swapped for a cell's code does too.
                return "code@" + code.co_filename + ":" + code.co_qualname
            return "code:" + hashlib.sha1(const_key(code)).hexdigest()[:16]
        t = type(obj)
        if t is types.ModuleType:
            return "module:" + obj.__name__
        if isinstance(obj, (int, float, str, bytes, bool, type(None))):
            return "value:" + repr(obj)[:40]
        return "%%s.%%s:%%s.%%s" %% (t.__module__, t.__qualname__, getattr(obj, "__module__", ""),
                               getattr(obj, "__qualname__", ""))
    out = {}
    for n in mods:
        m = sys.modules[n]
        if type(m) is not types.ModuleType:
            out[n] = "not a module"
            continue
        for k, v in list(vars(m).items()):
            if k.startswith("__") and n != "builtins":
                continue
            if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, type)) or callable(v):
                out[n + "." + k] = fp(v, n.startswith("rnncourse"))
                if isinstance(v, type) and (n.startswith("rnncourse") or v.__module__ == "builtins"):
                    for kk, vv in list(vars(v).items()):
                        if isinstance(vv, (types.FunctionType, classmethod, staticmethod)):
                            out[n + "." + k + "." + kk] = fp(getattr(vv, "__func__", vv), n.startswith("rnncourse"))
    if "torch" in sys.modules:
        T = sys.modules["torch"].Tensor
        for k in ["allclose", "equal", "__eq__", "isclose", "all", "any", "item", "tolist",
                  "shape", "size", "__bool__", "abs", "max", "sum"]:
            v = getattr(T, k, None)
            if v is not None:
                out["torch.Tensor." + k] = fp(v)
    return out


def verdict(user_ns, imports=()):
    """Inside the kernel: the fingerprint, and the names the course's own cells imported
    (imports: (name, module, attribute or None)) that no longer point at what was imported."""
    import sys, types, json, importlib
    swapped = []
    for k, v in list(user_ns.items()):
        if k.startswith("_"):
            continue
        name = getattr(v, "__name__", None) if type(v) is types.ModuleType else None
        if name is not None and sys.modules.get(name) is not v:
            swapped.append(k)
    for alias, module, attr in imports:
        if alias not in user_ns:
            continue
        try:
            real = importlib.import_module(module)
            if attr is not None:
                real = getattr(real, attr)
        except Exception:
            continue
        if user_ns[alias] is not real:
            swapped.append(alias)
    return json.dumps({"fingerprint": fingerprint(), "swapped": sorted(set(swapped))})
''' % {"protected": PROTECTED, "prefixes": PROTECTED_PREFIXES}

def expression(imports=()):
    """A user expression: builds the guard in a fresh namespace (no name a student cell defined
    is used) and returns its JSON verdict."""
    return "(lambda ns: (exec(%r, ns), ns['verdict'](globals(), %r))[1])({})" % (SOURCE, list(imports))


def imports_of(nb):
    """(name, module, attribute) bound by the import statements of the locked cells of an
    instructor notebook (the names the tests use: np, checks, ch03, torch...)."""
    import ast
    found = []
    for cell in nb.get("cells", []):
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") != "code" or not meta.get("locked") or meta.get("solution"):
            continue
        try:
            tree = ast.parse(cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"]))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    found.append((a.asname or a.name.split(".")[0], a.name if a.asname else a.name.split(".")[0], None))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    found.append((a.asname or a.name, node.module, a.name))
    return found


def expected():
    """{name: [allowed fingerprints]} of a clean interpreter of this environment (run in a
    subprocess)."""
    # torch wraps torch.manual_seed in place the first time it imports torch._dynamo (an
    # optimizer step does): both states are clean, so both fingerprints are allowed.
    code = SOURCE + ("\nimport json\nprint(json.dumps(fingerprint(import_all=True)))"
                     "\nimport torch._dynamo\nprint(json.dumps(fingerprint()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PATH": ""})
    allowed = {}
    for line in done.stdout.strip().splitlines()[-2:]:
        for key, value in json.loads(line).items():
            allowed.setdefault(key, []).append(value)
    return allowed


def problems(reply, clean):
    """Differences between a kernel's guard reply (a user_expressions entry) and the clean
    fingerprint; an empty list when nothing was tampered with."""
    if not reply or reply.get("status") != "ok":
        return ["the integrity check could not run in the kernel"]
    try:
        text = reply["data"]["text/plain"]
        got = json.loads(ast.literal_eval(text))  # the repr of a str, from the kernel
    except Exception:
        return ["the integrity check returned garbage"]
    found = [f"{k} was replaced" for k, v in got.get("fingerprint", {}).items()
             if k in clean and v not in clean[k]]
    found += [f"{k} (a module of the notebook) was replaced" for k in got.get("swapped", [])]
    return found
