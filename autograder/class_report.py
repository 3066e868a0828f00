"""The class report: what a class got right and wrong, for the instructor, after grading.

    .venv/bin/python autograder/class_report.py [--out grading] [--db URL]

writes `report.html` into the grading folder (one self-contained page: inline CSS, no script,
nothing fetched) with its PNG figures beside it (`report-<assignment>-*.png`). Per assignment:
the score distribution, each test's pass rate, the mistakes the class made most often per
function (the hints the checks printed, counted once per student), the students flagged, failed
or not graded with the reason, and a link to every student's feedback.

Everything comes from what grading left behind: the gradebook (scores, and the status table
grade.py keeps beside nbgrader's) and the executed notebooks in `autograded/` (the error
each failing test cell printed). No student code runs here. grade.py calls
`write_class_report` at the end of every run.
"""
import argparse
import html
import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import reasons  # autograder/reasons.py: the stored statuses are reason codes
import records  # autograder/records.py: the claims table
from course import sqlite_url
from records import RUNNING

@dataclass
class Submission:
    """One student's grading of one assignment, as the gradebook holds it."""
    student: str
    total: float = 0.0
    scores: dict = field(default_factory=dict)  # {"notebook:test id": points}
    stored: str = "graded"  # the status as the claims table stores it (reason codes)

    @property
    def status(self):
        """The status as the grade table shows it."""
        return reasons.render(self.stored)

    @property
    def kinds(self):
        """The kinds of its reasons (reasons.FAILED, FLAGGED, NOTE, NOT_GRADED)."""
        return {r.kind for r in reasons.decode(self.stored)}

    @property
    def counted(self):
        """False while its grade is pending (being graded, or not graded for a reason not the
        student's own): it is then left out of the distribution and the pass rates."""
        return self.stored != RUNNING and reasons.NOT_GRADED not in self.kinds


@dataclass
class Assignment:
    name: str
    maximum: float
    tests: dict  # {"notebook:test id": max points}, in the notebook's order
    submissions: list


def read_gradebook(db_url):
    """Every assignment with its submissions, from the gradebook (sorted by name)."""
    import warnings
    from nbgrader.api import Gradebook

    statuses = records.read_all(db_url)
    assignments = []
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy warnings from inside nbgrader
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            tests = {f"{nb.name}:{cell.name}": float(cell.max_score)
                     for nb in assignment.notebooks for cell in nb.grade_cells}
            submissions = {}
            for submission in assignment.submissions:
                student = submission.student.id
                scores = {f"{nb.name}:{g.name}": float(g.score or 0.0)
                          for nb in submission.notebooks for g in nb.grades}
                submissions[student] = Submission(student, sum(scores.values()), scores,
                                                  statuses.get((student, assignment.name), "graded"))
            for (student, name), status in statuses.items():  # claimed, never merged
                if name == assignment.name and student not in submissions:
                    submissions[student] = Submission(student, stored=status)
            assignments.append(Assignment(assignment.name, float(assignment.max_score), tests,
                                          [submissions[s] for s in sorted(submissions)]))
    return assignments


# ---------------------------------------------------------------- the mistakes, from the outputs

def function_of(test_id, functions):
    """The exercise a test cell tests: the longest answer cell id that `test_<id>` starts with
    (test_rnn_forward_hidden -> rnn_forward; test_concept_check_q2 -> concept_check)."""
    name = test_id[len("test_"):] if test_id.startswith("test_") else test_id
    matches = [f for f in functions if name == f or name.startswith(f + "_")]
    return max(matches, key=len) if matches else re.sub(r"_hidden$", "", name)


def mistake_of(ename, evalue):
    """(label, named, text) for a failed test's error: the hint of a recognised mistake
    (named=True: "the mask is inverted"), or else what failed, from the message's first line
    ("`mean` is wrong", "pad_sequences is not implemented yet", "NameError: ...")."""
    lines = (evalue or "").strip().splitlines()
    hints = [line.split("Hint:", 1)[1].strip() for line in lines if line.strip().startswith("Hint:")]
    if hints:
        return _short(hints[0]), True, hints[0]
    first = lines[0] if lines else ""
    if " raised " in first:  # checks.call: "f(array(3, 4), ...) raised ValueError: ..."
        return "raised " + first.split(" raised ", 1)[1].split(":")[0].strip(), False, first
    if ename != "CheckFailure":
        return _short(f"{ename}: {first}" if first else ename), False, first or ename
    first = re.sub(r"`([^`(]*?)\s*\([^`]*\)`", r"`\1`", first)  # `mean (N=3, T=5)` -> `mean`
    label = _short(first)
    while re.search(r"\([^()]*\)", label):  # the details of a call: f(x (2, 6)) -> f(…)
        label = re.sub(r"\([^()]*\)", "\0", label)
    label = label.replace("\0", "(…)")
    return label, False, first


def _short(text):
    """A hint's name: its text up to the first ': ', '; ' or '. ' (what follows explains), or
    up to the second when the first part only says where ("in the step: the gates are ...")."""
    parts = re.split(r"(?<=\S)(?:: |; |\. )", text, maxsplit=2)
    label = ": ".join(parts[:2]) if len(parts) > 1 and parts[0].lower().startswith("in ") else parts[0]
    return label.rstrip(".")[:160]


NUMBER = re.compile(r"(?<![\w.])-?\d+(\.\d+)?(e[+-]?\d+)?(?![\w])")


def read_mistakes(course_dir, assignment):
    """{function: {label: {"students": set, "named": bool, "texts": Counter}}} for one
    assignment, read from the executed notebooks' failing test cells (grade cells that are not
    answers). Labels that differ only by numbers ("... times 2", "... times 0.5") are one."""
    found = defaultdict(dict)
    for path in sorted(Path(course_dir, "autograded").glob(f"*/{assignment}/*.ipynb")):
        student = path.parts[-3]
        try:
            cells = json.loads(path.read_text())["cells"]
        except (ValueError, KeyError, OSError):
            continue
        meta = [c.get("metadata", {}).get("nbgrader", {}) for c in cells]
        functions = [m["grade_id"] for m in meta if m.get("solution") and m.get("grade_id")]
        for cell, m in zip(cells, meta):
            if not m.get("grade") or m.get("solution"):
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") != "error":
                    continue
                label, named, text = mistake_of(output.get("ename", ""), output.get("evalue", ""))
                key = NUMBER.sub("…", label)
                entry = found[function_of(m["grade_id"], functions)].setdefault(
                    key, {"students": set(), "named": named, "texts": Counter(), "labels": set()})
                if student not in entry["students"]:  # visible and hidden test: once
                    entry["texts"][text[:400]] += 1
                entry["students"].add(student)
                entry["labels"].add(label)
    return found


def mistake_rows(found):
    """[(function, label, named, students (sorted), most frequent full text)], most students
    first; a label keeps its numbers when every student's were the same."""
    rows = []
    for function, labels in found.items():
        for key, entry in labels.items():
            label = next(iter(entry["labels"])) if len(entry["labels"]) == 1 else key
            rows.append((function, label, entry["named"], sorted(entry["students"]),
                         entry["texts"].most_common(1)[0][0]))
    return sorted(rows, key=lambda r: (-len(r[3]), not r[2], r[0], r[1]))


# ---------------------------------------------------------------- figures

def _figures(assignment, rows, out_dir):
    """Three PNGs for one assignment; returns their file names (scores, pass rates, mistakes)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counted = [s for s in assignment.submissions if s.counted]
    names = {}
    stem = "report-" + re.sub(r"[^\w.-]", "_", assignment.name)

    fig, ax = plt.subplots(figsize=(6, 3))
    top = max(assignment.maximum, 1.0)
    bins = [x - 0.5 for x in range(int(top) + 2)] if top <= 60 else 20
    ax.hist([s.total for s in counted], bins=bins, range=None if top <= 60 else (0, top),
            color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"total points (of {assignment.maximum:g})")
    ax.set_ylabel("students")
    fig.suptitle(f"{assignment.name}: scores of {len(counted)} students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    names["scores"] = _save(fig, out_dir / f"{stem}-scores.png")

    tests = list(assignment.tests)
    rates = [100.0 * sum(s.scores.get(t, 0.0) >= assignment.tests[t] for s in counted) / len(counted)
             if counted else 0.0 for t in tests]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.28 * len(tests)))
    ax.barh(range(len(tests)), rates, color=["#55a868" if r >= 50 else "#c44e52" for r in rates])
    ax.set_yticks(range(len(tests)), [_clip(t, 60) for t in tests], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students with full points (%)")
    fig.suptitle(f"{assignment.name}: pass rate of each test")
    names["tests"] = _save(fig, out_dir / f"{stem}-tests.png")

    shown = rows[:15]
    if shown:
        fig, ax = plt.subplots(figsize=(8, 0.8 + 0.32 * len(shown)))
        ax.barh(range(len(shown)), [len(r[3]) for r in shown],
                color=["#dd8452" if r[2] else "#8c8c8c" for r in shown])
        ax.set_yticks(range(len(shown)), [_clip(f"{r[0]}: {r[1]}", 70) for r in shown], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("students")
        ax.xaxis.get_major_locator().set_params(integer=True)
        fig.suptitle(f"{assignment.name}: mistakes made most often")
        names["mistakes"] = _save(fig, out_dir / f"{stem}-mistakes.png")
    return names


def _clip(text, n):
    """A figure label: at most n characters, and `$` shown as itself, not as matplotlib's math."""
    text = text if len(text) <= n else text[:n - 1] + "…"
    return text.replace("$", r"\$")


def _save(fig, path):
    import matplotlib.pyplot as plt
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


# ---------------------------------------------------------------- the page

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.hint { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 38em; color: #444; font-size: .92em; }
.named { color: #b3541e; font-weight: 600; }
img { max-width: 100%; display: block; margin: .5em 0; }
.flagged { background: #fff6e0; } .failed { background: #fde8e8; }
details summary { cursor: pointer; color: #245; }
"""


def _e(text):
    return html.escape(str(text))


def _feedback_links(course_dir, out_dir, student, assignment):
    pages = sorted(Path(course_dir, "feedback", student, assignment).glob("*.html"))
    links = [f'<a href="{_e(os.path.relpath(p, out_dir))}">{_e(p.stem)}</a>' for p in pages]
    return " ".join(links) or "none"


def kind_of(submission):
    """'graded', 'failed' (nothing of the student's own was graded, a notebook did not run, or
    not graded yet) or 'flagged' (graded, with remarks to look at)."""
    if submission.stored == "graded":
        return "graded"
    if submission.stored == RUNNING or submission.kinds & {reasons.FAILED, reasons.NOT_GRADED}:
        return "failed"
    return "flagged"


def assignment_section(assignment, course_dir, out_dir):
    rows = mistake_rows(read_mistakes(course_dir, assignment.name))
    figures = _figures(assignment, rows, out_dir)
    counted = [s for s in assignment.submissions if s.counted]
    totals = sorted(s.total for s in counted)
    median = (totals[(len(totals) - 1) // 2] + totals[len(totals) // 2]) / 2 if totals else 0
    kinds = Counter(kind_of(s) for s in assignment.submissions)
    parts = [f'<h2 id="{_e(assignment.name)}">{_e(assignment.name)}</h2>',
             f"<p>{len(assignment.submissions)} students: {kinds['graded']} graded without remarks, "
             f"{kinds['flagged']} flagged, {kinds['failed']} failed or not graded. "
             f"Mean {sum(totals) / len(totals) if totals else 0:.1f}, median {median:g} of "
             f"{assignment.maximum:g} points (over the {len(counted)} with a grade).</p>"]
    parts.append(f'<img src="{_e(figures["scores"])}" alt="score distribution of {_e(assignment.name)}">')
    parts.append(f'<img src="{_e(figures["tests"])}" alt="pass rate of each test of {_e(assignment.name)}">')

    parts.append("<h3>Mistakes, per function</h3>")
    if rows:
        if "mistakes" in figures:
            parts.append(f'<img src="{_e(figures["mistakes"])}" alt="most frequent mistakes in '
                         f'{_e(assignment.name)}">')
        parts.append("<table><tr><th>function</th><th>mistake</th><th>students</th>"
                     "<th>the message (most frequent)</th></tr>")
        for function, label, named, students, text in sorted(rows, key=lambda r: (r[0], -len(r[3]))):
            who = ", ".join(students)
            parts.append(
                f'<tr><td><code>{_e(function)}</code></td>'
                f'<td class="{"named" if named else ""}">{_e(label)}</td>'
                f'<td class="n"><details><summary>{len(students)}</summary>{_e(who)}</details></td>'
                f'<td class="hint">{_e(text)}</td></tr>')
        parts.append("</table><p>In orange, a mistake the checks recognised and named (its hint); "
                     "the others are what failed when no known mistake matched. A student counts "
                     "once per function and mistake, however many tests showed it.</p>")
    else:
        parts.append("<p>No test failed.</p>")

    attention = [s for s in assignment.submissions if s.status != "graded"]
    parts.append("<h3>Students to look at</h3>")
    if attention:
        parts.append("<table><tr><th>student</th><th></th><th>points</th><th>reason</th><th>feedback</th></tr>")
        for s in attention:
            kind = kind_of(s)
            parts.append(f'<tr class="{kind}"><td>{_e(s.student)}</td><td>{kind}</td>'
                         f'<td class="n">{s.total:g}</td><td class="hint">{_e(s.status)}</td>'
                         f'<td>{_feedback_links(course_dir, out_dir, s.student, assignment.name)}</td></tr>')
        parts.append("</table>")
    else:
        parts.append("<p>None: every submission was graded without remarks.</p>")

    parts.append(f"<details><summary>All {len(assignment.submissions)} students, with their "
                 f"feedback</summary><table><tr><th>student</th><th>points</th><th>status</th>"
                 f"<th>feedback</th></tr>")
    for s in assignment.submissions:
        parts.append(f'<tr><td>{_e(s.student)}</td><td class="n">{s.total:g}</td>'
                     f'<td>{_e(kind_of(s))}</td>'
                     f'<td>{_feedback_links(course_dir, out_dir, s.student, assignment.name)}</td></tr>')
    parts.append("</table></details>")
    return "\n".join(parts)


def write_class_report(db_url, course_dir, out_dir=None):
    """Write out_dir/report.html (and its figures) for every assignment in the gradebook at
    db_url, graded in the grading folder course_dir (default out_dir = course_dir)."""
    course_dir = Path(course_dir).resolve()
    out_dir = Path(out_dir or course_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("report-*.png"):
        old.unlink()
    assignments = [a for a in read_gradebook(db_url) if a.submissions]
    contents = "".join(f'<li><a href="#{_e(a.name)}">{_e(a.name)}</a> '
                       f"({len(a.submissions)} students)</li>" for a in assignments)
    sections = [assignment_section(a, course_dir, out_dir) for a in assignments]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Class report</title>"
            f"<style>{CSS}</style></head><body>\n<h1>Class report</h1>\n"
            "<p>From the gradebook and the executed notebooks of the grading folder "
            f"<code>{_e(course_dir)}</code>.</p>"
            f"<ul>{contents or '<li>nothing graded yet</li>'}</ul>\n"
            + "\n".join(sections) + "\n</body></html>\n")
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def main(argv=None):
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(root / "grading"), help="grading folder (default: grading/)")
    parser.add_argument("--db", help="gradebook URL (default: the sqlite gradebook.db in --out)")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    print(write_class_report(args.db or sqlite_url(out), out))


if __name__ == "__main__":
    main()
