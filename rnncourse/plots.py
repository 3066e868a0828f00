"""Plots that several chapter pages draw the same way (one home for the boilerplate)."""
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
