"""Why a submission's status is not plain "graded": a code and its details, rendered to text once.

Every part of the grader (intake, worker, sandbox notes, orchestration) reports a `Reason`:
a `Code` of the table below and the values its text needs. The text is made only when the
status is written (`status`); the summary counts codes by their kind, never words of sentences.

Kinds: `failed` (the submission, or one of its notebooks, did not run or is missing: its tests
score 0), `flagged` (graded, and worth an instructor's look), `note` (graded, with a remark), and
`not_graded` (the grader's own environment failed, not the submission: no points are recorded,
the next run grades it again).
"""
import json
from dataclasses import dataclass, field
from enum import Enum


class Code(str, Enum):
    """code: (kind, text template)"""
    UNREADABLE = "unreadable"
    WRONG_NAME = "wrong_name"
    MISSING = "missing"
    UNEXPECTED = "unexpected"
    LINK = "link"
    UNSAFE_ENTRY = "unsafe_entry"
    CHANGED = "changed"
    FLAGGED = "flagged"
    NOT_PREPARED = "not_prepared"
    FAILED_TO_RUN = "failed_to_run"
    NOTEBOOK_TIMEOUT = "notebook_timeout"
    WORKER_DIED = "worker_died"
    NOTEBOOK_FAILED = "notebook_failed"
    TEST_DELETED = "test_deleted"
    UNKNOWN_TEST_ID = "unknown_test_id"
    KERNEL_UNRESPONSIVE = "kernel_unresponsive"
    KERNEL_DIED = "kernel_died"
    KERNEL_STUCK = "kernel_stuck"
    TAMPERING = "tampering"
    CELL_TIMEOUT = "cell_timeout"
    DISK_QUOTA = "disk_quota"
    OUT_OF_MEMORY = "out_of_memory"
    SYS_EXIT = "sys_exit"
    FEEDBACK_FAILED = "feedback_failed"
    NOT_GRADED = "not_graded"
    LEGACY = "legacy"


FAILED, FLAGGED, NOTE, NOT_GRADED = "failed", "flagged", "note", "not_graded"

TABLE = {
    Code.UNREADABLE: (FAILED, "{detail}"),
    Code.WRONG_NAME: (FLAGGED, "{file} graded as {name} (wrong file name)"),
    Code.MISSING: (FAILED, "missing {name}"),
    Code.UNEXPECTED: (NOTE, "unexpected {name} (not graded)"),
    Code.LINK: (FLAGGED, "flagged for review: {name} is a link to {target} (not graded through it)"),
    Code.UNSAFE_ENTRY: (FLAGGED, "flagged for review: the zip entry {entry} {why} (not unpacked)"),
    Code.CHANGED: (FLAGGED, "{name}: {change}"),
    Code.FLAGGED: (FLAGGED, "flagged for review: {name} {detail}"),
    Code.NOT_PREPARED: (FAILED, "{name} could not be prepared for grading ({error}): not graded"),
    Code.FAILED_TO_RUN: (FAILED, "failed to run: {detail}"),
    Code.NOTEBOOK_TIMEOUT: (FAILED, "failed to run: the notebooks took longer than {seconds} s in total"),
    Code.WORKER_DIED: (FAILED, "failed to run: the grading process died (an output flood or a crash of nbgrader)"),
    Code.NOTEBOOK_FAILED: (FAILED, "{name} failed to run (scored 0)"),
    Code.TEST_DELETED: (FLAGGED, "a test cell was deleted (put back and run): {cell}"),
    Code.UNKNOWN_TEST_ID: (FLAGGED, "a cell claims a test id the assignment does not have: {detail}"),
    Code.KERNEL_UNRESPONSIVE: (NOTE, "the kernel stopped responding"),
    Code.KERNEL_DIED: (NOTE, "the kernel died (a crash, os._exit, or a memory or CPU limit); "
                             "the cells after it were not run"),
    Code.KERNEL_STUCK: (NOTE, "the kernel stopped responding in {cell}; the cells after it were not run"),
    Code.TAMPERING: (FLAGGED, "tampering detected in {cell}: {detail}"),
    Code.CELL_TIMEOUT: (NOTE, "{notebook}:{cell} ran longer than the per-cell limit (stopped)"),
    Code.DISK_QUOTA: (FLAGGED, "{cell} wrote more than {limit_mb} MB of files (the limit; the writing "
                               "was stopped)"),
    Code.OUT_OF_MEMORY: (NOTE, "{notebook}:{cell} ran out of memory (limit)"),
    Code.SYS_EXIT: (NOTE, "{notebook}:{cell} called sys.exit()"),
    Code.FEEDBACK_FAILED: (NOTE, "feedback could not be generated"),
    Code.NOT_GRADED: (NOT_GRADED, "not graded: {detail} (the grader's environment, not the "
                                  "submission; run the command again)"),
    Code.LEGACY: (NOTE, "{detail}"),  # a status written by an older grader, kept as it was
}


@dataclass(frozen=True)
class Reason:
    code: Code
    args: dict = field(default_factory=dict)

    @property
    def kind(self):
        return TABLE[self.code][0]

    def text(self):
        return TABLE[self.code][1].format(**self.args)


def reason(code, **args):
    return Reason(Code(code), args)


def status(reasons):
    """The status column: "graded", or the reasons' texts (each once), in order."""
    return "; ".join(dict.fromkeys(r.text() for r in reasons)) or "graded"


def encode(reasons):
    """The reasons as stored in the claims table (records.py): "graded" when there are none."""
    if not reasons:
        return "graded"
    return json.dumps([[r.code.value, r.args] for r in reasons])


def decode(stored):
    """The reasons of a stored status ("graded" and a claim's "running" have none)."""
    if stored in ("graded", "running"):
        return []
    try:
        return [Reason(Code(code), args) for code, args in json.loads(stored)]
    except (ValueError, TypeError):
        return [reason(Code.LEGACY, detail=stored)]


def render(stored):
    """The status column for a stored status (a claim still running stays "running")."""
    return stored if stored == "running" else status(decode(stored))


def unique(reasons):
    """`reasons` without repeats, in order (a Reason's args are a dict: not hashable)."""
    seen, kept = set(), []
    for r in reasons:
        key = (r.code, json.dumps(r.args, sort_keys=True))
        if key not in seen:
            seen.add(key)
            kept.append(r)
    return kept


def kinds(reasons):
    return {r.kind for r in reasons}
