"""Preparing an assignment for grading, once per run: nbgrader's generate_assignment, the clean
template gradebook the workers copy (this assignment only, no submission), the names the course's
locked cells import (followed by the integrity check), and the clean interpreter's fingerprint.
"""
import hashlib
import importlib.metadata as md
import json
import shutil
from pathlib import Path

import guard
from course import HERE, ROOT, SOLUTIONS, nbgrader_api, notebooks_of, write_course_config


def generate_assignment(folder, assignment):
    """nbgrader's generate_assignment in the course folder `folder`, in this process."""
    result = nbgrader_api(folder).generate_assignment(assignment, force=True, create=True)
    if "KeyboardInterrupt" in (result.get("error") or ""):
        raise KeyboardInterrupt  # nbgrader caught Ctrl-C ("Canceled"): stop as Ctrl-C does
    if not result.get("success"):
        raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n"
                         f"{result.get('log', '')}\n{result.get('error', '')}")


def make_template(out, assignment):
    """The template course folder of `assignment` for the workers (its release, its clean
    gradebook, the names its locked cells import); returns the template gradebook's path.
    Writes nothing into the real gradebook."""
    import nbformat

    template = out / ".template" / assignment
    if template.exists():
        shutil.rmtree(template)
    template.mkdir(parents=True)
    write_course_config(template)
    generate_assignment(template, assignment)
    imports = {Path(name).stem: guard.imports_of(nbformat.read(SOLUTIONS / assignment / name, as_version=4))
               for name in notebooks_of(assignment)}
    (template / "imports.json").write_text(json.dumps(imports))
    return template / "gradebook.db"


def add_to_gradebook(out, assignment, db_url):
    """The assignment in the real gradebook (added once; a shared gradebook keeps the first)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
            present = True
        except MissingEntry:
            present = False
    if not present:
        generate_assignment(out, assignment)


def clean_fingerprint(out):
    """The clean interpreter's fingerprint (guard.py), computed once per version of the code it
    covers and kept in the grading folder."""
    key = hashlib.sha1()
    for name in ("numpy", "torch", "ipykernel", "ipython"):
        key.update(f"{name}={md.version(name)};".encode())
    for path in sorted((ROOT / "rnncourse").rglob("*.py")) + [HERE / "guard.py"]:
        key.update(path.read_bytes())
    path = out / ".template" / f"clean-fingerprint-{key.hexdigest()[:12]}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(guard.expected()))
    return path
