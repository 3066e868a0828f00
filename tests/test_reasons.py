"""autograder/reasons.py and the summary: statuses are codes rendered once; the summary counts codes."""
import reasons as R
import reports
from jobs import Job, Limits, Result


def test_a_status_renders_each_reason_once_in_order():
    found = [R.reason(R.Code.MISSING, name="a.ipynb"), R.reason(R.Code.KERNEL_DIED),
             R.reason(R.Code.MISSING, name="a.ipynb")]
    assert R.status(found) == ("missing a.ipynb; the kernel died (a crash, os._exit, or a memory or "
                               "CPU limit); the cells after it were not run")
    assert R.status([]) == "graded"


def test_stored_statuses_round_trip_and_old_texts_are_kept():
    found = [R.reason(R.Code.TAMPERING, cell="test_x", detail="numpy.all was replaced")]
    assert R.decode(R.encode(found)) == found
    assert R.encode([]) == "graded" and R.decode("graded") == []
    assert R.render("running") == "running"
    assert R.render("failed to run: something") == "failed to run: something"


def test_the_summary_counts_codes_by_kind():
    rows = [[], [R.reason(R.Code.MISSING, name="a.ipynb")],
            [R.reason(R.Code.FLAGGED, name="a.ipynb", detail="exits the kernel"),
             R.reason(R.Code.CELL_TIMEOUT, notebook="a", cell="t")],
            [R.reason(R.Code.NOT_GRADED, detail="the kernel could not start")],
            [R.reason(R.Code.KERNEL_DIED)]]
    text = reports.summarize(rows)
    assert text.startswith("5 submissions in the table: 1 graded without remarks, 1 with a notebook "
                           "that failed to run or is missing, 1 flagged for review, 1 not graded")


def test_jobs_and_results_cross_the_pipe_unchanged():
    job = Job("s", "03-rnn", files={"a.ipynb": "/x"}, notebooks=["a.ipynb"], work="/w",
              limits=Limits(memory=1, cpu=2, cell_timeout=3, notebook_timeout=4))
    assert Job.from_json(job.to_json()) == job
    result = Result("s", "03-rnn", scores={"a": {"t": 1.0}}, reasons=[R.reason(R.Code.KERNEL_DIED)])
    assert Result.from_json(result.to_json()) == result
    assert not result.not_graded and result.points() == 1.0
    assert Result.failed(job, R.Code.NOT_GRADED, detail="x").not_graded


def test_limits_come_from_the_options_then_the_environment(monkeypatch):
    monkeypatch.setenv("RNN_GRADE_MEMORY", "123")
    monkeypatch.delenv("RNN_GRADE_CPU", raising=False)
    limits = Limits.from_env(cpu=7, memory=None)
    assert (limits.memory, limits.cpu, limits.cell_timeout) == (123, 7, Limits().cell_timeout)
