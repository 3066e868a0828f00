"""Plots and result tables that several chapter pages show the same way (one home for the
boilerplate)."""
import html

import matplotlib.pyplot as plt

STYLES = ["o-", "s-", "^-", "d-"]
COLORS = ["tab:gray", "tab:blue", "tab:orange", "tab:green"]


def accuracy_by_length(runs, ylabel="sequences reversed exactly"):
    """One line per model: the fraction right against the input length.

    runs: {model name: {length: fraction right}}, in the order the lines are drawn."""
    fig, ax = plt.subplots(figsize=(5, 2.6))
    for (name, by_length), style, color in zip(runs.items(), STYLES, COLORS):
        lengths = list(by_length)
        ax.plot(lengths, [by_length[n] for n in lengths], style, color=color, label=name)
    ax.set_xlabel("input length (digits)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.03, 1.03)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def html_table(header, rows, notes=None):
    """A results table as HTML: header (the column titles), rows (lists of values, shown with
    str). notes: {first value of a row: text}, shown in a full-width row under that row, as
    preformatted text that wraps (a generated sample: its line breaks kept, no sideways scroll)."""
    notes = notes or {}
    cell = "<{0} style='padding: 2px 6px; text-align: left; overflow-wrap: anywhere{2}'>{1}</{0}>"
    # a fixed layout over the page's width: long titles and names wrap inside their column
    # instead of widening the table past the page (the first column, the names, gets a fifth)
    widths = ["; width: 20%"] + [""] * (len(header) - 1)
    lines = ["<table style='width: 100%; table-layout: fixed; font-size: 0.9em'>",
             "<tr>" + "".join(cell.format("th", html.escape(str(h)), w) for h, w in zip(header, widths)) + "</tr>"]
    for row in rows:
        lines.append("<tr>" + "".join(cell.format("td", html.escape(str(v)), "") for v in row) + "</tr>")
        if row[0] in notes:
            lines.append(f"<tr><td colspan='{len(header)}' style='padding: 2px 10px 12px'><pre style='"
                         "white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: 0.8em'>"
                         f"{html.escape(notes[row[0]])}</pre></td></tr>")
    return "\n".join(lines + ["</table>"])
