"""An nbgrader feedback preprocessor: failures of hidden tests show their message, not their code.

nbgrader's ClearHiddenTests removes the hidden tests from a cell's source, but a failing cell's
traceback still quotes the lines around the failure. This preprocessor, placed before
ClearHiddenTests in GenerateFeedback.preprocessors, cuts the traceback of every cell that holds
hidden tests down to its last line (the error and its message).
"""
from nbconvert.preprocessors import Preprocessor

HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"


class ShortenHiddenTracebacks(Preprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN_MARKER in cell.source:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
                    if output.get("ename") != "CheckFailure":
                        message += "\n(raised while the hidden tests called your code; the visible tests above show where)"
                    output["traceback"] = [message]
        return cell, resources
