"""Regenerate exercises/ from solutions/ with nbgrader (run after editing a solution notebook).

Usage: .venv/bin/python autograder/release.py [ASSIGNMENT ...]   (default: all)

This is `nbgrader generate_assignment A --force` in the course directory (the repository root,
whose nbgrader_config.py points nbgrader's source at solutions/ and its release at exercises/).
"""
import sys

from course import ROOT, assignments_available, run_nbgrader


def main(argv):
    for assignment in argv or assignments_available():
        ok, log = run_nbgrader(ROOT, "generate_assignment", assignment, "--force")
        if not ok:
            raise SystemExit(f"generate_assignment {assignment} failed:\n{log}")
        print(f"exercises/{assignment}/ regenerated from solutions/{assignment}/")


if __name__ == "__main__":
    main(sys.argv[1:])
