"""Autograde one student's submission and write its feedback, in one process (worker.py runs it
in the submission's private course folder; nbgrader is imported once for both steps).

Usage: python run_one.py COURSE_FOLDER ASSIGNMENT STUDENT   (exit status 0 if autograde succeeded)
"""
import sys
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader


def main(course, assignment, student):
    config = PyFileConfigLoader("nbgrader_config.py", path=course).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.autograde(assignment, student, force=True, create=True)
    print(result.get("log", ""))
    if result.get("error"):
        print(result["error"], file=sys.stderr)
    if (Path(course) / "autograded" / student / assignment).exists():
        feedback = api.generate_feedback(assignment, student, force=True)
        print(feedback.get("log", ""))
        if not feedback.get("success"):
            print("FEEDBACK FAILED", feedback.get("error", ""), file=sys.stderr)
    return 0 if result.get("success") else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
