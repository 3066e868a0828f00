"""The course's drawn diagrams: recurrent cells and their graphs, drawn with matplotlib at build.

One function per diagram, each returning a matplotlib Figure. They share one look: a colour per
role (inputs red, hidden states green, the LSTM's cell state yellow, gates purple, outputs blue),
rounded boxes for vectors, circles for elementwise operations, and the symbols of the chapters'
equations (column-vector notation: $h_t = \\tanh(W_{hh} h_{t-1} + W_{xh} x_t + b)$).
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

# role -> (fill of its boxes, colour of its lines)
ROLES = {
    "input": ("#f4c7c3", "#b03a2e"),
    "hidden": ("#b7e1cd", "#1e8449"),
    "cell": ("#fce8b2", "#b9770e"),
    "gate": ("#ddd3ee", "#6c3483"),
    "output": ("#c9daf8", "#1f4e9c"),
    "loss": ("#eeeeee", "#555555"),
    "plain": ("white", "black"),
}
FONT = 11


def _canvas(width, height, xlim, ylim):
    """A figure with one equal-aspect axes in data units, no frame."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, xy, text, role, w=0.9, h=0.5, fs=FONT, lw=1.0):
    fill, edge = ROLES[role]
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                fc=fill, ec=edge, lw=lw, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fs, zorder=4)


def _node(ax, xy, symbol, role="plain", r=0.2, fs=FONT):
    """A circle for an elementwise operation: ⊙, +, 1−."""
    fill, edge = ROLES[role]
    ax.add_patch(Circle(xy, r, fc=fill, ec=edge, lw=1.0, zorder=3))
    ax.text(*xy, symbol, ha="center", va="center", fontsize=fs, zorder=4)


def _arrow(ax, start, end, role="plain", lw=1.2, head=True, label=None, at=(0, 0), fs=FONT - 1,
           rad=0.0, zorder=2):
    color = ROLES[role][1]
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>" if head else "-", mutation_scale=11,
                                 lw=lw, color=color, shrinkA=0, shrinkB=0, zorder=zorder,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label:
        mx, my = (start[0] + end[0]) / 2 + at[0], (start[1] + end[1]) / 2 + at[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=fs, color=color)


def _path(ax, points, role="plain", lw=1.2):
    """A polyline with an arrow head on its last segment."""
    for a, b in zip(points[:-2], points[1:-1]):
        _arrow(ax, a, b, role, lw=lw, head=False)
    _arrow(ax, points[-2], points[-1], role, lw=lw)


def _cell_frame(ax, x0, y0, x1, y1):
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0.1",
                                fc="#f7f7f7", ec="#999999", lw=1.0, zorder=0))


def rnn_cell():
    """One step of the Elman RNN, $h_t = \\tanh(W_{hh} h_{t-1} + W_{xh} x_t + b)$, $y_t = W_{hy} h_t + b_y$."""
    fig, ax = _canvas(5.2, 2.95, (-1.2, 8.6), (-1.0, 4.6))
    _cell_frame(ax, 0.95, 0.5, 6.0, 2.5)
    _box(ax, (-0.4, 1.5), r"$h_{t-1}$", "hidden")
    _box(ax, (2.5, -0.45), r"$x_t$", "input")
    _node(ax, (2.5, 1.5), "+")
    _box(ax, (4.3, 1.5), r"$\tanh$", "hidden", w=0.9, h=0.55, fs=FONT - 1)
    _box(ax, (7.5, 1.5), r"$h_t$", "hidden")
    _box(ax, (5.4, 3.9), r"$y_t$", "output")
    _arrow(ax, (0.05, 1.5), (2.3, 1.5), "hidden", label=r"$W_{hh}\,h_{t-1}$", at=(0.45, 0.3))
    _arrow(ax, (2.5, -0.2), (2.5, 1.3), "input", label=r"$W_{xh}\,x_t$", at=(0.6, -0.5))
    _arrow(ax, (2.7, 1.5), (3.85, 1.5), label=r"$+\,b$", at=(0.0, 0.3))
    _arrow(ax, (4.75, 1.5), (7.05, 1.5), "hidden")
    _path(ax, [(5.4, 1.5), (5.4, 3.65)], "output")
    ax.text(5.55, 3.05, r"$W_{hy}h_t + b_y$", fontsize=FONT - 1, color=ROLES["output"][1], va="center")
    ax.text(7.5, 0.95, "to step $t+1$", fontsize=FONT - 2, ha="center", va="center", color="dimgray")
    ax.text(-0.4, 0.95, "from step $t-1$", fontsize=FONT - 2, ha="center", va="center", color="dimgray")
    fig.tight_layout()
    return fig


def rnn_unrolled():
    """The RNN folded (one cell with a loop) and unrolled over $T$ steps, shared weights."""
    fig, ax = _canvas(6.4, 2.45, (-0.7, 10.6), (-0.55, 3.0))
    # folded
    _box(ax, (0, 0), r"$x_t$", "input", w=0.7)
    _box(ax, (0, 1.2), r"$h_t$", "hidden", w=0.7)
    _box(ax, (0, 2.4), r"$y_t$", "output", w=0.7)
    _arrow(ax, (0, 0.25), (0, 0.95), "input", label=r"$W_{xh}$", at=(0.38, 0))
    _arrow(ax, (0, 1.45), (0, 2.15), "output", label=r"$W_{hy}$", at=(0.38, 0))
    ax.add_patch(FancyArrowPatch((0.38, 1.32), (0.38, 1.08), arrowstyle="-|>", mutation_scale=11,
                                 lw=1.2, color=ROLES["hidden"][1],
                                 connectionstyle="arc,angleA=0,angleB=0,armA=24,armB=24,rad=6"))
    ax.text(0.92, 1.2, r"$W_{hh}$", fontsize=FONT - 1, color=ROLES["hidden"][1], va="center")
    ax.text(1.72, 1.2, "=", fontsize=18, ha="center", va="center")
    # unrolled: one copy of the step per element, the same three matrices in every copy
    xs = [3.9 + 1.75 * i for i in range(4)]
    _box(ax, (2.4, 1.2), r"$h_0$", "hidden", w=0.6)
    for i, (xc, t) in enumerate(zip(xs, ["1", "2", "3", "T"])):
        _box(ax, (xc, 0), rf"$x_{t}$", "input", w=0.7)
        _box(ax, (xc, 1.2), rf"$h_{t}$", "hidden", w=0.7)
        _box(ax, (xc, 2.4), rf"$y_{t}$", "output", w=0.7)
        _arrow(ax, (xc, 0.25), (xc, 0.95), "input", label=r"$W_{xh}$", at=(0.38, 0))
        _arrow(ax, (xc, 1.45), (xc, 2.15), "output", label=r"$W_{hy}$", at=(0.38, 0))
        start = 2.7 if i == 0 else xs[i - 1] + 0.35
        _arrow(ax, (start, 1.2), (xc - 0.35, 1.2), "hidden",
               label=r"$W_{hh}$" if i < 3 else r"$\cdots$", at=(0, 0.2))
    fig.tight_layout()
    return fig



def io_patterns(patterns):
    """Karpathy's input/output patterns side by side, one small unrolled RNN each.

    patterns: [(steps, steps with an input, steps with an output, title, example tasks)]."""
    fig, axes = plt.subplots(1, len(patterns), figsize=(6.6, 2.0),
                             gridspec_kw={"width_ratios": [max(n, 2) for n, *_ in patterns]})
    for ax, (n, inputs, outputs, title, example) in zip(axes, patterns):
        for i in range(n):
            if i in inputs:
                _box(ax, (i, 0), "", "input", w=0.5, h=0.4)
                _arrow(ax, (i, 0.2), (i, 0.6), "input")
            _box(ax, (i, 0.8), "", "hidden", w=0.5, h=0.4)
            if i in outputs:
                _box(ax, (i, 1.6), "", "output", w=0.5, h=0.4)
                _arrow(ax, (i, 1.0), (i, 1.4), "output")
            if i > 0:
                _arrow(ax, (i - 0.75, 0.8), (i - 0.25, 0.8), "hidden")
        pad = max(0, (2 - n) / 2)
        ax.set_xlim(-0.55 - pad, n - 0.45 + pad)
        ax.set_ylim(-1.25, 1.95)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=FONT - 2)
        ax.text((n - 1) / 2, -0.75, example, ha="center", va="center", fontsize=FONT - 3.5,
                color="dimgray")
    fig.tight_layout(w_pad=0.5)
    return fig

def bptt_graph():
    """The unrolled graph with its losses: values flow forward, gradients every arrow backward."""
    fig, ax = _canvas(6.0, 2.85, (-0.5, 7.2), (-1.0, 3.4))
    xs = [1.3 + 1.6 * i for i in range(4)]
    _box(ax, (0.0, 1.0), r"$h_0$", "hidden", w=0.6, h=0.42)
    for i, (xc, t) in enumerate(zip(xs, ["1", "2", "3", "T"])):
        for y, text, role in ((0, rf"$x_{t}$", "input"), (1, rf"$h_{t}$", "hidden"),
                              (2, rf"$y_{t}$", "output"), (3, rf"$L_{t}$", "loss")):
            _box(ax, (xc, y), text, role, w=0.66, h=0.42)
        for y0, role in ((0.21, "input"), (1.21, "output"), (2.21, "output")):
            _arrow(ax, (xc - 0.1, y0), (xc - 0.1, y0 + 0.58), role)  # forward
            ax.add_patch(FancyArrowPatch((xc + 0.14, y0 + 0.58), (xc + 0.14, y0), arrowstyle="-|>",
                                         mutation_scale=10, lw=1.0, ls="--", color="#c0392b"))
        start = 0.3 if i == 0 else xs[i - 1] + 0.33
        _arrow(ax, (start, 1.08), (xc - 0.33, 1.08), "hidden")
        ax.add_patch(FancyArrowPatch((xc - 0.33, 0.92), (start, 0.92), arrowstyle="-|>",
                                     mutation_scale=10, lw=1.0, ls="--", color="#c0392b"))
    ax.text(xs[2] + 0.8, 1.3, r"$\cdots$", ha="center", fontsize=FONT)
    ax.plot([], [], color="black", label="forward: values")
    ax.plot([], [], color="#c0392b", ls="--", label="backward: gradients")
    ax.legend(loc="lower center", fontsize=FONT - 2, frameon=False, ncol=2, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout()
    return fig



def truncated_bptt(k=4, n_chunks=3):
    """Truncated BPTT: the state crosses chunk boundaries, the gradient stays inside a chunk of k."""
    step, gap, w = 0.95, 0.9, 0.5
    width = (n_chunks - 1) * (k * step + gap) + (k - 1) * step
    fig, ax = _canvas(6.6, 1.75, (-0.6, width + 0.6), (-1.0, 0.8))
    red = dict(arrowstyle="-|>", mutation_scale=9, lw=1.0, ls="--", color="#c0392b")
    for c in range(n_chunks):
        x0 = c * (k * step + gap)
        ax.add_patch(plt.Rectangle((x0 - 0.4, -0.42), (k - 1) * step + 0.8, 0.84, fc="#f7f7f7",
                                   ec="#999999", lw=0.6, ls=":"))
        ax.text(x0 + (k - 1) * step / 2, 0.6, f"chunk {c + 1}: forward and backward",
                ha="center", fontsize=FONT - 3)
        for i in range(k):
            xc = x0 + i * step
            _box(ax, (xc, 0.0), rf"$h_{{{c * k + i + 1}}}$", "hidden", w=w, h=0.36, fs=FONT - 3)
            if i > 0:  # inside a chunk: forward and backward
                _arrow(ax, (xc - step + w / 2, 0.08), (xc - w / 2, 0.08), "hidden")
                ax.add_patch(FancyArrowPatch((xc - w / 2, -0.08), (xc - step + w / 2, -0.08), **red))
        if c > 0:  # across a boundary: the state is carried, the gradient is not
            prev = (c - 1) * (k * step + gap) + (k - 1) * step
            _arrow(ax, (prev + w / 2 + 0.03, 0.08), (x0 - w / 2 - 0.03, 0.08), "hidden", lw=1.8)
            mid = (prev + x0) / 2
            ax.text(mid, -0.3, "detach", ha="center", va="top", fontsize=FONT - 3, color="#c0392b")
            ax.plot([mid - 0.08, mid + 0.08], [-0.2, -0.0], color="#c0392b", lw=1.4)
    ax.plot([], [], color=ROLES["hidden"][1], label="state carried forward (values)")
    ax.plot([], [], color="#c0392b", ls="--", label="gradient, inside a chunk only")
    ax.legend(loc="lower center", fontsize=FONT - 3, frameon=False, ncol=2, bbox_to_anchor=(0.5, -0.05))
    fig.tight_layout()
    return fig

def _gate(ax, x, y, fn, name, role="gate"):
    """A gate's layer: a box with its nonlinearity, its output's name beside the arrow above it."""
    _box(ax, (x, y), fn, role, w=0.8, h=0.55, fs=FONT - 1)
    ax.text(x - 0.12, y + 0.6, name, fontsize=FONT, color=ROLES[role][1], ha="right", va="center")


def _state_line(ax, y, start, end, multiply_at, add_at, role):
    """A cell's long line from `start` (left) to `end` (right), touched by one ⊙ at x=multiply_at
    and one + at x=add_at: the LSTM's cell state, the GRU's hidden state."""
    _box(ax, (-0.9, y), start, role)
    _box(ax, (11.3, y), end, role)
    _arrow(ax, (-0.45, y), (multiply_at - 0.2, y), role, lw=2.4)
    _node(ax, (multiply_at, y), r"$\odot$", role)
    _arrow(ax, (multiply_at + 0.2, y), (add_at - 0.2, y), role, lw=2.4)
    _node(ax, (add_at, y), "+", role)
    _arrow(ax, (add_at + 0.2, y), (10.85, y), role, lw=2.4)


def lstm_cell():
    """The LSTM cell, gate by gate, in PyTorch's order i, f, g, o (chapter 6's equations)."""
    fig, ax = _canvas(6.4, 3.7, (-1.6, 12.2), (-1.3, 6.6))
    _cell_frame(ax, 0.0, 0.3, 10.2, 5.6)
    c_line, bus = 5.0, 1.0
    # the cell state: a straight line, touched by one ⊙ and one +
    _state_line(ax, c_line, r"$c_{t-1}$", r"$c_t$", multiply_at=2.5, add_at=5.5, role="cell")
    # the inputs: h_{t-1} and x_t feed every gate
    _box(ax, (-0.9, bus), r"$h_{t-1}$", "hidden")
    _box(ax, (0.9, -0.75), r"$x_t$", "input")
    _arrow(ax, (-0.45, bus), (8.0, bus), "hidden", head=False)
    _arrow(ax, (0.9, -0.5), (0.9, bus), "input", head=False)
    gates = [(2.5, r"$\sigma$", r"$f_t$"), (4.1, r"$\sigma$", r"$i_t$"),
             (5.5, r"$\tanh$", r"$g_t$"), (8.0, r"$\sigma$", r"$o_t$")]
    for x, fn, name in gates:
        _arrow(ax, (x, bus), (x, 1.9), "hidden")
        _gate(ax, x, 2.2, fn, name)
    # f_t erases, i_t ⊙ g_t writes
    _arrow(ax, (2.5, 2.5), (2.5, c_line - 0.2), "gate")
    _node(ax, (5.5, 3.7), r"$\odot$", "gate")
    _path(ax, [(4.1, 2.5), (4.1, 3.7), (5.3, 3.7)], "gate")
    _arrow(ax, (5.5, 2.5), (5.5, 3.5), "gate")
    _arrow(ax, (5.5, 3.9), (5.5, c_line - 0.2), "gate")
    # h_t = o_t ⊙ tanh(c_t)
    _arrow(ax, (9.0, c_line), (9.0, 4.35), "cell")
    _box(ax, (9.0, 4.05), r"$\tanh$", "cell", w=0.8, h=0.5, fs=FONT - 1)
    _node(ax, (9.0, 2.9), r"$\odot$", "hidden")
    _arrow(ax, (9.0, 3.8), (9.1 - 0.1, 3.1), "cell")
    _path(ax, [(8.0, 2.5), (8.0, 2.9), (8.8, 2.9)], "gate")
    _path(ax, [(9.2, 2.9), (9.6, 2.9), (9.6, bus), (10.85, bus)], "hidden")
    _box(ax, (11.3, bus), r"$h_t$", "hidden")
    ax.text(9.75, 2.2, r"$h_t$", fontsize=FONT, color=ROLES["hidden"][1])
    # the two equations of the paths, where they happen
    ax.text(5.0, 6.05, r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$", ha="center", fontsize=FONT,
            color=ROLES["cell"][1])
    ax.text(8.0, -0.75, r"$h_t = o_t \odot \tanh(c_t)$", ha="center", fontsize=FONT,
            color=ROLES["hidden"][1])
    fig.tight_layout()
    return fig


def gru_cell():
    """The GRU cell in PyTorch's formulation: reset gate $r_t$, update gate $z_t$, new content $n_t$."""
    fig, ax = _canvas(6.4, 3.7, (-1.6, 12.2), (-1.3, 6.6))
    _cell_frame(ax, 0.0, 0.3, 10.2, 5.6)
    top, bus = 5.0, 1.0
    # the state line: h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ n_t
    _state_line(ax, top, r"$h_{t-1}$", r"$h_t$", multiply_at=2.5, add_at=8.0, role="hidden")
    # inputs: x_t and h_{t-1} (taken off the state line) feed every gate
    _box(ax, (0.9, -0.75), r"$x_t$", "input")
    _arrow(ax, (0.4, top), (0.4, bus), "hidden", head=False)
    _arrow(ax, (0.4, bus), (8.0, bus), "hidden", head=False)
    _arrow(ax, (0.9, -0.5), (0.9, bus), "input", head=False)
    for x, fn, name in ((2.5, r"$\sigma$", r"$z_t$"), (6.4, r"$\sigma$", r"$r_t$")):
        _arrow(ax, (x, bus), (x, 1.9), "hidden")
        _gate(ax, x, 2.2, fn, name)
    # z_t keeps the old state, 1 - z_t lets the new content in
    _arrow(ax, (2.5, 2.5), (2.5, top - 0.2), "gate")
    _node(ax, (3.6, 4.1), r"$1-$", "gate", r=0.34, fs=FONT - 3)
    _path(ax, [(2.5, 4.1), (3.26, 4.1)], "gate")
    _node(ax, (8.0, 4.1), r"$\odot$", "gate")
    _arrow(ax, (3.94, 4.1), (7.8, 4.1), "gate")
    _arrow(ax, (8.0, 4.3), (8.0, top - 0.2), "gate")
    # n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
    _arrow(ax, (4.6, bus), (4.6, 1.9), "hidden")
    _box(ax, (4.6, 2.2), r"$W_{hn}h_{t-1}{+}b_{hn}$", "hidden", w=2.2, h=0.55, fs=FONT - 2)
    _node(ax, (4.6, 3.2), r"$\odot$", "gate")
    _arrow(ax, (4.6, 2.5), (4.6, 3.0), "hidden")
    _path(ax, [(6.4, 2.5), (6.4, 3.2), (4.8, 3.2)], "gate")
    _box(ax, (8.0, 3.2), r"$\tanh$", "gate", w=0.8, h=0.5, fs=FONT - 1)
    _path(ax, [(4.6, 3.4), (4.6, 3.55), (7.0, 3.55), (7.0, 3.2), (7.6, 3.2)], "gate")
    _arrow(ax, (8.0, bus), (8.0, 2.95), "input")
    ax.text(8.1, 2.0, r"$W_{in}x_t{+}b_{in}$", fontsize=FONT - 2, color=ROLES["input"][1])
    ax.text(8.25, 3.62, r"$n_t$", fontsize=FONT, color=ROLES["gate"][1])
    ax.text(5.8, 4.35, r"$1-z_t$", fontsize=FONT - 2, color=ROLES["gate"][1])
    _arrow(ax, (8.0, 3.45), (8.0, 3.9), "gate")
    ax.text(5.0, 6.05, r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$", ha="center",
            fontsize=FONT, color=ROLES["hidden"][1])
    fig.tight_layout()
    return fig


def _grid_rnn(ax, rows, T, x0=0.0, dx=1.5, dy=1.2):
    """Boxes for rows of states over T steps; rows = [(label(t), role, arrow direction or None)]."""
    for r, (label, role, direction) in enumerate(rows):
        y = r * dy
        for i in range(T):
            _box(ax, (x0 + i * dx, y), label(i + 1), role, w=0.8, h=0.5, fs=FONT - 1)
            if r:  # from the row below
                _arrow(ax, (x0 + i * dx, y - dy + 0.25), (x0 + i * dx, y - 0.25),
                       rows[r - 1][1] if rows[r - 1][1] != "output" else "hidden")
            if direction == 1 and i:
                _arrow(ax, (x0 + (i - 1) * dx + 0.4, y), (x0 + i * dx - 0.4, y), role)
            if direction == -1 and i:
                _arrow(ax, (x0 + i * dx - 0.4, y), (x0 + (i - 1) * dx + 0.4, y), role)


def stacked_and_bidirectional(T=4):
    """Left: two stacked layers, the states of layer 1 are the inputs of layer 2.
    Right: a bidirectional layer, a forward and a backward RNN read the same inputs and their
    states are concatenated at each step."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.0, 2.9))
    for ax in (left, right):
        ax.set_xlim(-0.7, 1.5 * T - 0.8)
        ax.set_ylim(-0.6, 4.3)
        ax.set_aspect("equal")
        ax.axis("off")
    _grid_rnn(left, [(lambda t: rf"$x_{t}$", "input", None),
                     (lambda t: rf"$h^{{(1)}}_{t}$", "hidden", 1),
                     (lambda t: rf"$h^{{(2)}}_{t}$", "hidden", 1),
                     (lambda t: rf"$y_{t}$", "output", None)], T)
    left.set_title("stacked: num_layers=2", fontsize=FONT)
    # bidirectional: both rows read x_t; y_t reads both rows
    dx, dy = 1.5, 1.2
    for i in range(T):
        x = i * dx
        _box(right, (x, 0), rf"$x_{i + 1}$", "input", w=0.8, h=0.5, fs=FONT - 1)
        _box(right, (x, dy), rf"$h^{{\rightarrow}}_{i + 1}$", "hidden", w=0.8, h=0.5, fs=FONT - 1)
        _box(right, (x, 2 * dy), rf"$h^{{\leftarrow}}_{i + 1}$", "cell", w=0.8, h=0.5, fs=FONT - 1)
        _box(right, (x, 3 * dy), rf"$y_{i + 1}$", "output", w=0.8, h=0.5, fs=FONT - 1)
        _arrow(right, (x - 0.15, 0.25), (x - 0.15, dy - 0.25), "input")
        # x_t also goes up to the backward row, and the forward state up to y_t: both around
        # the box in between, on opposite sides
        _path(right, [(x + 0.15, 0.25), (x + 0.15, 0.6), (x + 0.6, 0.6), (x + 0.6, 2 * dy - 0.6),
                      (x + 0.15, 2 * dy - 0.6), (x + 0.15, 2 * dy - 0.25)], "input")
        _path(right, [(x - 0.15, dy + 0.25), (x - 0.15, dy + 0.6), (x - 0.6, dy + 0.6),
                      (x - 0.6, 3 * dy - 0.6), (x - 0.15, 3 * dy - 0.6), (x - 0.15, 3 * dy - 0.25)],
              "hidden")
        _arrow(right, (x + 0.15, 2 * dy + 0.25), (x + 0.15, 3 * dy - 0.25), "cell")
        if i:
            _arrow(right, ((i - 1) * dx + 0.4, dy), (x - 0.4, dy), "hidden")
            _arrow(right, (x - 0.4, 2 * dy), ((i - 1) * dx + 0.4, 2 * dy), "cell")
    right.set_title(r"bidirectional: $y_t$ reads $[h^{\rightarrow}_t;\, h^{\leftarrow}_t]$",
                    fontsize=FONT)
    fig.tight_layout()
    return fig


def attention_lines(ax, weights, queries, keys, query_role="output", key_role="hidden",
                    highlight=None, y_keys=0.0, y_queries=2.4, dx=1.0, min_weight=0.02):
    """Draw who attends to whom: one line per (query t, key j), as wide as the weight.

    weights: (T_q, T_k), rows summing to 1. queries, keys: labels (mathtext) of the boxes.
    highlight: the query whose weights are drawn in colour and written as numbers."""
    weights = np.asarray(weights)
    width = max(len(queries), len(keys)) * dx
    xq = np.linspace(0, width - dx, len(queries)) if len(queries) > 1 else np.array([0.0])
    xk = np.linspace(0, width - dx, len(keys))
    for t, xt in enumerate(xq):
        for j, xj in enumerate(xk):
            w = weights[t, j]
            if w < min_weight:
                continue
            on = t == highlight
            color = ROLES["gate"][1] if on else "#9a9a9a"
            ax.plot([xj, xt], [y_keys + 0.27, y_queries - 0.27], color=color, lw=0.4 + 7 * w,
                    alpha=0.95 if on else 0.55, solid_capstyle="round", zorder=1 + on)
            if on and w >= 0.05:
                ax.text(xj + 0.25 * (xt - xj), y_keys + 0.27 + 0.25 * (y_queries - y_keys - 0.54),
                        f"{w:.2f}", fontsize=FONT - 3, ha="center", va="center", color=color,
                        bbox=dict(fc="white", ec="none", pad=0.5, alpha=0.85), zorder=5)
    for x, label in zip(xk, keys):
        _box(ax, (x, y_keys), label, key_role, w=0.8, h=0.5, fs=FONT - 1)
    for x, label in zip(xq, queries):
        _box(ax, (x, y_queries), label, query_role, w=0.8, h=0.5, fs=FONT - 1)
    return xq, xk


def encoder_decoder_attention(weights, source, output, highlight=None):
    """An encoder-decoder with attention on one computed example.

    weights: (T_out, T_in) attention weights $\\alpha_{t,j}$ of a decoding; source: the T_in input
    tokens, output: the T_out decoded tokens. Encoder states $h_j$ below, the decoder's queries
    $s_{t-1}$ above, a line from $h_j$ to $s_{t-1}$ as wide as $\\alpha_{t,j}$."""
    T_out, T_in = np.shape(weights)
    n = max(T_out, T_in)
    fig, ax = _canvas(min(0.75 * n + 1.2, 7.2), 3.8, (-1.5, n - 0.4), (-1.3, 3.6))
    highlight = T_out // 2 if highlight is None else highlight
    xq, xk = attention_lines(ax, weights, [rf"$s_{{{t}}}$" for t in range(T_out)],
                             [rf"$h_{{{j + 1}}}$" for j in range(T_in)], highlight=highlight)
    for x, token in zip(xk, source):
        _box(ax, (x, -0.95), str(token), "input", w=0.5, h=0.4, fs=FONT - 1)
        _arrow(ax, (x, -0.75), (x, -0.25), "input")
    for x, token in zip(xq, output):
        _box(ax, (x, 3.3), str(token), "output", w=0.5, h=0.4, fs=FONT - 1)
        _arrow(ax, (x, 2.65), (x, 3.1), "output")
    for i in range(1, T_in):
        _arrow(ax, (xk[i - 1] + 0.4, 0), (xk[i] - 0.4, 0), "hidden", lw=0.8)
    for i in range(1, T_out):
        _arrow(ax, (xq[i - 1] + 0.4, 2.4), (xq[i] - 0.4, 2.4), "output", lw=0.8)
    ax.text(-1.45, 0, "encoder\nstates", fontsize=FONT - 2, va="center", color=ROLES["hidden"][1])
    ax.text(-1.45, 2.4, "decoder\nqueries", fontsize=FONT - 2, va="center", color=ROLES["output"][1])
    ax.text(-1.45, -0.95, "input", fontsize=FONT - 2, va="center", color=ROLES["input"][1])
    ax.text(-1.45, 3.3, "output", fontsize=FONT - 2, va="center", color=ROLES["output"][1])
    fig.tight_layout()
    return fig


def self_attention(weights, tokens, highlight=None):
    """Self-attention: every position queries every position of the same sequence.

    weights: (T, T) softmax weights, row t for query t; tokens: the T tokens."""
    T = len(tokens)
    fig, ax = _canvas(min(0.75 * T + 1.2, 7.0), 2.7, (-1.4, T - 0.4), (-0.6, 3.0))
    highlight = T // 2 if highlight is None else highlight
    attention_lines(ax, weights, [rf"$q_{{{t + 1}}}$" for t in range(T)],
                    [rf"$k_{{{j + 1}}},v_{{{j + 1}}}$" for j in range(T)], query_role="output",
                    key_role="input", highlight=highlight, y_queries=2.2)
    for x, token in enumerate(tokens):
        ax.text(x, -0.5, repr(token), ha="center", fontsize=FONT - 1, family="monospace")
    ax.text(-1.35, 0, "keys and\nvalues", fontsize=FONT - 2, va="center", color=ROLES["input"][1])
    ax.text(-1.35, 2.2, "queries", fontsize=FONT - 2, va="center", color=ROLES["output"][1])
    fig.tight_layout()
    return fig
