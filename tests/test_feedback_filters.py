"""autograder/feedback_filters.py: feedback never shows the hidden tests."""
import nbformat

import feedback_filters as ff

HIDDEN = "check_close(secret_answer(x), 42.0)  # hidden"


def notebook(output):
    test = nbformat.v4.new_code_cell(
        "visible_check()\n### BEGIN HIDDEN TESTS\n" + HIDDEN + "\n### END HIDDEN TESTS\n",
        outputs=[nbformat.v4.new_output("error", ename="AssertionError", evalue="wrong",
                                        traceback=["frame 1", HIDDEN, "AssertionError: wrong"])])
    student = nbformat.v4.new_code_cell("print(...)", outputs=[output])
    return nbformat.v4.new_notebook(cells=[student, test])


def test_outputs_quoting_a_hidden_test_are_removed_and_others_kept():
    nb = notebook(nbformat.v4.new_output("stream", name="stdout", text="spy: " + HIDDEN + "\n"))
    nb, _ = ff.RedactHiddenTests().preprocess(nb, {})
    assert nb.cells[0].outputs[0]["text"] == ff.NOTICE + "\n"
    assert nb.cells[1].outputs[0]["traceback"] == [f"AssertionError: {ff.NOTICE}"]
    honest = notebook(nbformat.v4.new_output("stream", name="stdout", text="loss 0.25\n"))
    honest, _ = ff.RedactHiddenTests().preprocess(honest, {})
    assert honest.cells[0].outputs[0]["text"] == "loss 0.25\n"


def test_the_traceback_of_a_cell_with_hidden_tests_is_cut_to_its_message():
    nb = notebook(nbformat.v4.new_output("stream", name="stdout", text="ok\n"))
    cell, _ = ff.ShortenHiddenTracebacks().preprocess_cell(nb.cells[1], {}, 1)
    assert len(cell.outputs[0]["traceback"]) == 1
    assert cell.outputs[0]["traceback"][0].startswith("AssertionError: wrong")
    assert HIDDEN not in cell.outputs[0]["traceback"][0]
