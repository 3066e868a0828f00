"""The drawn diagrams: each function returns a Figure whose labels neither overlap nor leave it."""
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rnncourse import diagrams  # noqa: E402

WEIGHTS = np.random.default_rng(0).dirichlet(np.full(6, 0.3), size=6)  # (6, 6), rows sum to 1
PATTERNS = [(1, [0], [0], "one-to-one\n", "image →\nclass"),
            (4, [0, 1, 2, 3], [3], "many-to-one\n", "review →\nsentiment"),
            (5, [0, 1, 2], [3, 4], "many-to-many\n(seq2seq)", "translation")]
DRAWINGS = {
    "rnn_cell": lambda: diagrams.rnn_cell(),
    "rnn_unrolled": lambda: diagrams.rnn_unrolled(),
    "bptt_graph": lambda: diagrams.bptt_graph(),
    "truncated_bptt": lambda: diagrams.truncated_bptt(),
    "io_patterns": lambda: diagrams.io_patterns(PATTERNS),
    "lstm_cell": lambda: diagrams.lstm_cell(),
    "gru_cell": lambda: diagrams.gru_cell(),
    "stacked_and_bidirectional": lambda: diagrams.stacked_and_bidirectional(),
    "encoder_decoder_attention": lambda: diagrams.encoder_decoder_attention(WEIGHTS, range(6), range(6)),
    "self_attention": lambda: diagrams.self_attention(WEIGHTS, list("abcdef")),
}


def label_boxes(fig):
    """The pixel boxes of every non-empty text in the figure (titles and legends included)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts)
    for ax in fig.axes:  # labels, titles and legends; the axes themselves are switched off
        texts += ax.texts + [ax.title] + (ax.get_legend().get_texts() if ax.get_legend() else [])
    texts = [t for t in texts if t.get_visible() and t.get_text().strip()]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts]


def shape_boxes(fig):
    """The pixel boxes of the boxes and circles drawn (arrows excluded)."""
    fig.canvas.draw()
    return [patch.get_window_extent() for ax in fig.axes for patch in ax.patches
            if not isinstance(patch, matplotlib.patches.FancyArrowPatch)]


def straddling(boxes, shapes, margin=1.0):
    """Labels that are neither inside a shape nor clear of it: they cross its edge."""
    def meets(a, b):
        return a.x0 + margin < b.x1 and b.x0 + margin < a.x1 and a.y0 + margin < b.y1 and b.y0 + margin < a.y1

    def inside(a, b):
        return a.x0 >= b.x0 - margin and a.x1 <= b.x1 + margin and a.y0 >= b.y0 - margin and a.y1 <= b.y1 + margin
    return sorted({text for text, box in boxes for shape in shapes if meets(box, shape) and not inside(box, shape)})


def overlapping(boxes, margin=1.0):
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
            if box_a.x0 + margin < box_b.x1 and box_b.x0 + margin < box_a.x1
            and box_a.y0 + margin < box_b.y1 and box_b.y0 + margin < box_a.y1]


@pytest.mark.parametrize("name", DRAWINGS)
def test_a_diagram_is_a_figure_with_labels_apart_and_inside(name):
    fig = DRAWINGS[name]()
    try:
        assert isinstance(fig, Figure)
        boxes = label_boxes(fig)
        assert boxes, "a diagram without a single label"
        assert not overlapping(boxes), f"labels overlap: {overlapping(boxes)[:3]}"
        crossing = straddling(boxes, shape_boxes(fig))
        assert not crossing, f"labels cross the edge of a box or circle: {crossing}"
        width, height = fig.canvas.get_width_height()
        outside = [text for text, box in boxes
                   if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1]
        assert not outside, f"labels cut off at the edge of the figure: {outside}"
    finally:
        plt.close(fig)


def test_the_checks_see_an_overlap_and_a_label_outside():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, "$h_t$")
    ax.text(0.52, 0.5, "$c_t$")
    ax.text(1.5, 0.5, "far right")
    ax.add_patch(matplotlib.patches.Circle((0.1, 0.1), 0.1))
    ax.text(0.15, 0.1, "$1 - z_t$")
    boxes = label_boxes(fig)
    assert overlapping(boxes) == [("$h_t$", "$c_t$")]
    assert straddling(boxes, shape_boxes(fig)) == ["$1 - z_t$"]
    width, _ = fig.canvas.get_width_height()
    assert [text for text, box in boxes if box.x1 > width + 1] == ["far right"]
    plt.close(fig)


def test_a_results_table_escapes_its_values_and_puts_a_note_under_its_row():
    from rnncourse import plots

    table = plots.html_table(["model", "loss"], [["a<b", 1.5], ["c", 2]], notes={"a<b": "x & y\nz"})
    rows = table.split("\n")
    assert "a&lt;b" in rows[2] and "a<b" not in table
    # the note is the row right under its model's, spanning every column, wrapping, its line break kept
    assert "colspan='2'" in rows[3] and "pre-wrap" in rows[3] and "x &amp; y" in rows[3]
    assert rows[4] == "z</pre></td></tr>" and "<td" in rows[5] and "colspan" not in rows[5]
