"""autograder/intake.py: links are never followed, zip entries never leave the folder, files are
matched to the expected notebooks. No nbgrader run: the release is the committed exercise."""
import json
import os
import shutil
import stat
import zipfile

import pytest

import intake
from conftest import ROOT, harness
from reasons import Code

A, NB = "03-rnn", "rnn_numpy.ipynb"


@pytest.fixture
def out(tmp_path):
    """A grading folder whose template release is the committed exercises (prepare.py makes it
    with nbgrader; tests/test_exercises_in_sync.py checks they are the same)."""
    folder = tmp_path / "out"
    release = folder / ".template" / A / "release" / A
    release.mkdir(parents=True)
    for path in (ROOT / "exercises" / A).glob("*.ipynb"):
        shutil.copy(path, release / path.name)
    return folder


def hand_in(submissions, student, name=NB, text=None):
    folder = submissions / student / A
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text or json.dumps(harness.load(ROOT / "solutions" / A / NB)))
    return folder / name


def codes(problems):
    return [p.code for p in problems]


def test_a_notebook_that_is_a_link_is_flagged_and_not_graded(tmp_path, out):
    subs = tmp_path / "subs"
    honest = hand_in(subs, "honest")
    (subs / "copier" / A).mkdir(parents=True)
    os.symlink(honest, subs / "copier" / A / NB)
    collected = intake.collect(subs, out, A)
    files, extras, problems = collected["copier"]
    assert NB not in files, "a notebook was graded through a link"
    assert Code.LINK in codes(problems)
    assert not any(p.code == Code.MISSING and p.args["name"] == NB for p in problems)
    assert str(honest) in problems[0].text() and "is a link to" in problems[0].text()
    assert NB in collected["honest"][0] and collected["honest"][2] == [
        p for p in collected["honest"][2] if p.code == Code.MISSING]


def test_a_student_folder_that_is_a_link_is_flagged(tmp_path, out):
    subs = tmp_path / "subs"
    hand_in(subs, "honest")
    os.symlink(subs / "honest", subs / "copier")
    files, extras, problems = intake.collect(subs, out, A)["copier"]
    assert files == {} and problems[0].code == Code.LINK


def test_other_files_that_are_links_are_not_copied(tmp_path, out):
    subs = tmp_path / "subs"
    notebook = hand_in(subs, "s")
    (notebook.parent / "data.txt").write_text("mine")
    os.symlink("/etc/passwd", notebook.parent / "passwd.txt")
    files, extras, problems = intake.collect(subs, out, A)["s"]
    assert [os.path.basename(p) for p in extras] == ["data.txt"]


def test_wrong_names_missing_and_unreadable_notebooks(tmp_path, out):
    subs = tmp_path / "subs"
    hand_in(subs, "renamed", name="rnn_numpy (1).ipynb")
    hand_in(subs, "cut", text="{not json")
    collected = intake.collect(subs, out, A)
    assert Code.WRONG_NAME in codes(collected["renamed"][2]) and NB in collected["renamed"][0]
    cut = collected["cut"][2]
    assert Code.UNREADABLE in codes(cut) and "rnn_numpy.ipynb is not valid JSON" in cut[0].text()
    assert not any(p.code == Code.MISSING and p.args["name"] == NB for p in cut)


def link_entry(archive, name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)


def test_zip_entries_that_are_links_or_leave_the_folder_are_left_out(tmp_path):
    path = tmp_path / "download.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("alice_rnn_numpy.ipynb", "{}")
        link_entry(archive, "bob_rnn_numpy.ipynb", "../../alice/03-rnn/rnn_numpy.ipynb")
        archive.writestr("../evil_rnn_numpy.ipynb", "{}")
        archive.writestr("/tmp/abs_rnn_numpy.ipynb", "{}")
    assert intake.unsafe_entries(path) == {
        "bob_rnn_numpy.ipynb": "is a symbolic link",
        "../evil_rnn_numpy.ipynb": "has a name that leaves the folder",
        "/tmp/abs_rnn_numpy.ipynb": "has a name that leaves the folder"}
    intake.safe_copy(path, tmp_path / "safe.zip")
    assert zipfile.ZipFile(tmp_path / "safe.zip").namelist() == ["alice_rnn_numpy.ipynb"]
    by_student, unassigned = intake.zip_problems(path)
    assert sorted(by_student) == ["abs", "bob", "evil"] and unassigned == []
    assert "the zip entry bob_rnn_numpy.ipynb is a symbolic link" in by_student["bob"][0].text()


def test_a_student_known_only_from_the_zip_gets_a_row(tmp_path, out):
    subs = tmp_path / "subs"
    hand_in(subs, "alice")
    from reasons import reason  # the reasons come from the zip; bob has no folder
    collected = intake.collect(subs, out, A, {"bob": [reason(Code.UNSAFE_ENTRY, entry="x", why="y")]})
    assert codes(collected["bob"][2])[0] == Code.UNSAFE_ENTRY and collected["bob"][0] == {}
