"""Intake: from what students handed in to the files the workers grade, with the reasons found
on the way. Nothing here runs student code.

- `from_zip`: an LMS download (a .zip of files named by student) unpacked by nbgrader's
  `zip_collect` into one folder per student; entries that are links or whose names leave the
  folder (`../`, absolute paths) are left out and reported (`unsafe_entries`).
- `collect`: each student's folder of an assignment: links are never followed (a notebook that is
  a link, to another student's work or anywhere, is flagged and not graded), unreadable files and
  wrong names are reported, and each notebook is screened (screen.py) and sanitized into
  `.collected/` for grading.
"""
import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

import nbformat

import screen
from course import SOLUTIONS, notebooks_of, run_nbgrader, write_course_config
from reasons import Code, reason

# nbgrader matches this against the whole path of each extracted file: <student>_<notebook>.ipynb
ZIP_REGEXP = r".*/(?P<student_id>[^_/]+)_(?P<file_id>[^/]+\.ipynb)$"


def entry_problem(info):
    """Why a zip entry must not be unpacked (None if it may)."""
    name = PurePosixPath(info.filename)
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if name.is_absolute() or re.match(r"^[A-Za-z]:", info.filename) or ".." in name.parts \
            or "\\" in info.filename:
        return "has a name that leaves the folder"
    return None


def unsafe_entries(archive):
    """{entry name: why it is left out} of the zip file `archive`."""
    with zipfile.ZipFile(archive) as handle:
        return {info.filename: why for info in handle.infolist() if (why := entry_problem(info))}


def safe_copy(archive, target):
    """A copy of the zip `archive` at `target` without its unsafe entries."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            if entry_problem(info) is None:
                copy.writestr(info, source.read(info))


def student_of_entry(entry, regexp):
    """The student an archive entry names (by `regexp`, matched as zip_collect does), or None."""
    found = re.match(regexp, "/archive/" + PurePosixPath(entry).name)
    return found.group("student_id") if found else None


def from_zip(archive, out, assignment, regexp=ZIP_REGEXP):
    """Unpack an LMS download with nbgrader's zip_collect (its unsafe entries left out); return
    the submissions folder."""
    stage = out / ".zip" / assignment
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "downloaded" / assignment / "archive").mkdir(parents=True)
    safe_copy(archive, stage / "downloaded" / assignment / "archive" / Path(archive).name)
    write_course_config(stage, extra=[f"c.FileNameCollectorPlugin.named_regexp = {regexp!r}"])
    ok, log = run_nbgrader(stage, "zip_collect", assignment, "--force")
    if not ok:
        raise SystemExit(f"nbgrader zip_collect failed:\n{log}")
    return stage / "submitted"


def zip_problems(archive, regexp=ZIP_REGEXP):
    """({student: [Reason]}, [Reason] of entries that name no student) for the unsafe entries."""
    by_student, unassigned = {}, []
    for entry, why in unsafe_entries(archive).items():
        problem = reason(Code.UNSAFE_ENTRY, entry=entry, why=why)
        student = student_of_entry(entry, regexp)
        if student is None:
            unassigned.append(problem)
        else:
            by_student.setdefault(student, []).append(problem)
    return by_student, unassigned


def link_target(path, inside):
    """Where the link `path` points (None if `path` is no link and stays inside `inside`)."""
    if path.is_symlink():
        return str(Path(path).readlink())
    resolved = path.resolve()
    return None if resolved.is_relative_to(inside.resolve()) else str(resolved)


class Course:
    """What the submissions of one assignment are compared with: the expected notebooks, their
    test ids, the instructor and released versions, and the course's own cell sources."""

    def __init__(self, out, assignment):
        self.assignment = assignment
        self.expected = notebooks_of(assignment)
        self.ids, self.sources, self.releases, self.trusted = {}, {}, {}, set()
        for name in self.expected:
            source = nbformat.read(SOLUTIONS / assignment / name, as_version=4)
            release = nbformat.read(out / ".template" / assignment / "release" / assignment / name,
                                    as_version=4)
            self.ids[name] = screen.grade_ids(source)
            self.sources[name], self.releases[name] = source, release
            self.trusted |= screen.trusted_sources(source) | screen.trusted_sources(release)


def read_folder(folder, student_dir):
    """({file name: (path, notebook)} readable, [Reason]) of the notebooks in `folder`; links
    are reported, never read."""
    problems, readable = [], {}
    for path in sorted(folder.glob("*.ipynb")):
        target = link_target(path, student_dir)
        if target is not None:
            problems.append(reason(Code.LINK, name=path.name, target=target))
            continue
        nb, why = screen.read_notebook(path)
        if why:
            problems.append(reason(Code.UNREADABLE, name=path.name, detail=why))
        else:
            readable[path.name] = (path, nb)
    return readable, problems


def choose(readable, course):
    """({expected name: (path, notebook)}, [Reason]): the file graded for each expected notebook."""
    mapping = screen.match_names({k: v[1] for k, v in readable.items()}, course.ids)
    chosen, problems = {}, []
    for name in course.expected:
        if name in readable:
            chosen[name] = readable[name]
        elif name in mapping:
            chosen[name] = readable[mapping[name]]
            problems.append(reason(Code.WRONG_NAME, file=mapping[name], name=name))
        else:
            problems.append(reason(Code.MISSING, name=name))
    used = {path.name for path, _ in chosen.values()}
    problems += [reason(Code.UNEXPECTED, name=name) for name in readable if name not in used]
    return chosen, problems


def screen_and_sanitize(chosen, course, target):
    """({expected name: sanitized file in `target`}, [Reason]) after screening each notebook."""
    files, problems = {}, []
    for name, (path, nb) in chosen.items():
        problems += [reason(Code.CHANGED, name=name, change=change)
                     for change in screen.changes(nb, course.releases[name], course.sources[name])]
        problems += [reason(Code.FLAGGED, name=name, detail=why)
                     for why in screen.suspicious(nb, course.trusted)]
        clean = target / name
        clean.parent.mkdir(parents=True, exist_ok=True)
        try:
            nbformat.write(nbformat.from_dict(screen.sanitize(nb, course.releases[name])), clean)
            files[name] = clean
        except Exception as error:  # a notebook nbformat cannot write back: reported, not graded
            problems.append(reason(Code.NOT_PREPARED, name=name, error=type(error).__name__))
    return files, problems


def extra_files(folder, student_dir, limit=20 * 2**20):
    """The student's other files (data a notebook reads), no links, each under `limit` bytes."""
    return [str(p) for p in sorted(folder.iterdir())
            if p.suffix != ".ipynb" and link_target(p, student_dir) is None and p.is_file()
            and p.stat().st_size < limit]


def collect(submissions, out, assignment, known_problems=None):
    """Check each student's files for `assignment`; return {student: (files, extras, problems)}:
    files maps each expected notebook name to the sanitized file to grade for it, extras are the
    student's other files, problems the Reasons found. known_problems: {student: [Reason]}
    found earlier (in the zip), for students with or without a folder."""
    course = Course(out, assignment)
    known_problems = known_problems or {}
    found = {p.name: p for p in Path(submissions).iterdir()
             if p.is_dir() and (p / assignment).is_dir()}
    result = {}
    for student in sorted(set(found) | set(known_problems)):
        problems = list(known_problems.get(student, []))
        student_dir = found.get(student)
        folder = student_dir / assignment if student_dir else None
        if folder is not None:
            # the student's folder itself must not be a link (to another student's folder)
            for path in (student_dir, folder):
                if path.is_symlink():
                    problems.append(reason(Code.LINK, name=path.name, target=str(path.readlink())))
                    folder = None
                    break
        readable, extras = {}, []
        if folder is not None:
            readable, unread = read_folder(folder, student_dir)
            problems += unread
            extras = extra_files(folder, student_dir)
        chosen, naming = choose(readable, course)
        # a notebook already reported (unreadable, a link) is not also "missing"
        reported = {p.args.get("name") for p in problems}
        problems += [p for p in naming if not (p.code == Code.MISSING and p.args["name"] in reported)]
        files, screened = screen_and_sanitize(chosen, course, out / ".collected" / student / assignment)
        result[student] = (files, extras, problems + screened)
    return result
