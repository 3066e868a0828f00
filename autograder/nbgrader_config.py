"""nbgrader configuration of the course.

The course directory is the repository root: nbgrader's source notebooks are `solutions/`
(reference solutions and hidden tests) and its release is `exercises/`, generated from them by
`nbgrader generate_assignment` and committed. Instructor working folders (submitted/,
autograded/, feedback/, gradebook.db) are git-ignored; `autograder/grade.py` keeps them in a
separate grading folder instead.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook.db")

# Student cells start from this stub; "untouched" means it is still there.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.enforce_metadata = True

# Per-cell time limit when autograding. The slowest reference cells (training the digit
# classifier, a few seconds here) fit many times over; a student's infinite loop is stopped.
c.Execute.timeout = 120
c.Execute.startup_timeout = 120
# The kernel keeps no IPython history database (nothing is written outside the notebook).
c.Execute.extra_arguments = ["--HistoryManager.enabled=False"]

# Notebooks are committed without outputs.
c.ClearOutput.enabled = True

# Feedback shows each test's result and message, never the hidden tests' source
# (autograder/feedback_filters.py, importable from this folder).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "feedback_filters.ShortenHiddenTracebacks",
    "feedback_filters.RedactHiddenTests",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Feedback a student can read offline: math typeset as MathML when the page is written instead
# of MathJax from a CDN, and test messages wrapped instead of scrolled sideways
# (autograder/feedback_html.py). templates/feedback/ is searched before nbgrader's template of
# the same name (which nbgrader's API always selects) and holds only the file that differs.
import nbgrader  # noqa: E402

c.HTMLExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates"),
    os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates"),
]
c.HTMLExporter.filters = {"markdown2html": "feedback_html.markdown2html"}
