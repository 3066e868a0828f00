# nbgrader reads its configuration from the current folder: the course's lives in autograder/.
load_subconfig("autograder/nbgrader_config.py")  # noqa: F821 - provided by traitlets
