"""What the grader sends a worker (`Job`) and what the worker answers (`Result`): one definition
for both sides of the pipe, sent as one line of JSON each way.

A job carries its own limits (`Limits`): the worker writes them into the job's nbgrader
configuration, where the sandbox reads them; nothing reaches the sandbox through the worker's
process environment. The environment variables below only give the defaults of grade.py's options.
"""
import json
import os
from dataclasses import asdict, dataclass, field

import reasons as R


@dataclass
class Limits:
    memory: int = 3 * 2**30       # bytes of address space of one kernel
    cpu: int = 900                # CPU seconds of one kernel
    cell_timeout: int = 120       # seconds one cell may run before it is stopped
    notebook_timeout: int = 900   # seconds one submission (all its notebooks) may take
    disk: int = 512 * 2**20       # bytes one kernel may write in all (its /tmp, a bounded tmpfs)

    ENV = {"memory": "RNN_GRADE_MEMORY", "cpu": "RNN_GRADE_CPU",
           "cell_timeout": "RNN_GRADE_CELL_TIMEOUT", "notebook_timeout": "RNN_GRADE_NOTEBOOK_TIMEOUT",
           "disk": "RNN_GRADE_DISK"}

    @classmethod
    def from_env(cls, **given):
        """The limits given (None: not given), else from the environment, else the defaults."""
        values = {}
        for name, variable in cls.ENV.items():
            if given.get(name) is not None:
                values[name] = int(given[name])
            elif os.environ.get(variable):
                values[name] = int(os.environ[variable])
        return cls(**values)


@dataclass
class Job:
    student: str
    assignment: str
    files: dict            # {expected notebook name: file to grade for it}
    notebooks: list        # the assignment's expected notebook names
    work: str              # the job's private course folder (made by the worker)
    scratch: str = ""      # the sandbox's only writable folder (made and removed by the grader)
    extra_files: list = field(default_factory=list)  # the student's other files, copied to scratch
    template_db: str = ""  # clean gradebook of the assignment (prepare.py)
    guard: str = ""        # clean interpreter's fingerprint file (guard.py)
    imports: str = ""      # names the course's locked cells import, per notebook (prepare.py)
    limits: Limits = field(default_factory=Limits)

    def to_json(self):
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        data["limits"] = Limits(**data.get("limits", {}))
        return cls(**data)


@dataclass
class Result:
    student: str
    assignment: str
    scores: dict = field(default_factory=dict)   # {notebook: {test cell: points}}
    reasons: list = field(default_factory=list)  # [reasons.Reason]
    course: str = ""       # folder holding autograded/ and feedback/ ("" when nothing ran)
    log: str = ""          # the end of nbgrader's log (for the worker's log file, never the status)

    @classmethod
    def failed(cls, job, code, **args):
        """A job that produced nothing: no scores, one reason."""
        return cls(job.student, job.assignment, reasons=[R.reason(code, **args)])

    @property
    def not_graded(self):
        """The grader's environment failed, not the submission: record no points."""
        return R.NOT_GRADED in R.kinds(self.reasons)

    def points(self):
        return sum(sum(cells.values()) for cells in self.scores.values())

    def status(self):
        return R.status(self.reasons)

    def to_json(self):
        data = asdict(self)
        data["reasons"] = [[r.code.value, r.args] for r in self.reasons]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        data["reasons"] = [R.Reason(R.Code(code), args) for code, args in data["reasons"]]
        return cls(**data)
