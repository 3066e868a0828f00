"""The course's feedback preprocessors: feedback shows each test's result and message, never the
hidden tests. Both run before nbgrader's ClearHiddenTests (see nbgrader_config.py).

ShortenHiddenTracebacks: ClearHiddenTests removes the hidden tests from a cell's source, but a
failing cell's traceback still quotes the lines around the failure; this cuts the traceback of
every cell that holds hidden tests down to its last line (the error and its message).

RedactHiddenTests: nbgrader puts the hidden tests back into the notebook it executes, so student code can read
them while it runs (IPython keeps every cell's source in `In`/`_ih` and in `linecache`) and print
them; nbgrader's ClearHiddenTests removes them from the cells' source but not from outputs.
This preprocessor (placed before ClearHiddenTests) replaces every output text that contains a
line of a hidden test with a notice. It cannot recognise a hidden test that was re-encoded
(base64, reversed...) before printing: see book/instructor.md.
"""
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from course import marked_lines

BEGIN = "### BEGIN HIDDEN TESTS"
NOTICE = "[output removed by the grader: it quoted the hidden tests]"


def _quotes(text, lines):
    return any(line in text for line in lines)


class ShortenHiddenTracebacks(Preprocessor):
    enabled = Bool(True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and BEGIN in cell.source:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
                    if output.get("ename") != "CheckFailure":
                        message += "\n(raised while the hidden tests called your code; the visible tests above show where)"
                    output["traceback"] = [message]
        return cell, resources


class RedactHiddenTests(Preprocessor):
    enabled = Bool(True)  # nbconvert preprocessors are off unless enabled

    def preprocess(self, nb, resources):
        lines = marked_lines(nb, "HIDDEN TESTS", min_length=12)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if "text" in output and _quotes(output["text"], lines):
                    output["text"] = NOTICE + "\n"
                for key, value in list(output.get("data", {}).items()):
                    text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else ""
                    if _quotes(text, lines):
                        output["data"] = {"text/plain": NOTICE}
                        break
                if output.get("output_type") == "error":
                    joined = "\n".join(output.get("traceback", [])) + output.get("evalue", "")
                    if _quotes(joined, lines):
                        output["evalue"] = NOTICE
                        output["traceback"] = [f"{output.get('ename', 'Error')}: {NOTICE}"]
        return nb, resources
