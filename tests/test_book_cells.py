"""A page shows the computation, not the plotting.

Two rules, checked on every MyST page of the book (the code cells the build executes):

1. A code cell that draws (a statement using `plt`, `fig`, `ax`/`axes`, `diagrams` or `plots`),
   prints nothing, and either defines no name a later cell uses or is mostly drawing (at least
   twice as many plotting lines as computing ones: a small name such as a colour table does
   not make a figure a computation) is a picture: it carries the tag `hide-input`, so the
   reader sees the figure, not its code.
2. On each page, the visible plotting lines are no more than the visible computing lines.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "book").rglob("*.md") if "{code-cell}" in p.read_text())
# Names that only ever hold a figure, its axes or a drawing module.
PLOTTING = {"plt", "fig", "ax", "axes", "diagrams", "plots", "matplotlib"}
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def code_cells(text):
    """[(tags, source)] of a MyST notebook's code cells, in order."""
    cells = []
    for body in CELL.findall(text):
        tags, lines = [], body.splitlines()
        if lines and lines[0].strip() == "---":  # a YAML options block
            end = lines.index("---", 1)
            options, lines = lines[1:end], lines[end + 1:]
        else:
            options = []
            while lines and lines[0].startswith(":"):
                options.append(lines.pop(0))
        for option in options:
            match = re.match(r"\s*:?tags:\s*\[(.*)\]", option)
            if match:
                tags = [t.strip().strip("'\"") for t in match.group(1).split(",")]
        cells.append((tags, "\n".join(lines)))
    return cells


def names(node, ctx):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def defined(statement):
    """Names a top-level statement binds (assignments, loops, defs, imports)."""
    found = names(statement, ast.Store)
    if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
        found.add(statement.name)
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        found |= {(a.asname or a.name).split(".")[0] for a in statement.names}
    return found


def is_plotting(statement, plotting):
    """A simple statement that reads or binds a plotting name (`ax.plot(...)`, `fig, ax = ...`)."""
    return bool((names(statement, ast.Load) | defined(statement)) & plotting)


def simple_statements(statement):
    """The simple statements inside a (possibly compound) statement."""
    bodies = [getattr(statement, f, []) for f in ("body", "orelse", "finalbody")]
    inner = [s for body in bodies if isinstance(body, list) for s in body]
    if not inner or isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
        return [statement]
    return [s for child in inner for s in simple_statements(child)]


def classify(source):
    """(plotting lines, computing lines, prints, defined names, loaded names) of a cell.

    Names bound by a plotting statement (`im = ax.imshow(...)`) are plotting names too."""
    tree = ast.parse(source)
    plotting, plot_lines, compute_lines = set(PLOTTING), set(), set()
    for statement in tree.body:
        for simple in simple_statements(statement):
            lines = set(range(simple.lineno, simple.end_lineno + 1))
            if is_plotting(simple, plotting) and not isinstance(simple, (ast.Import, ast.ImportFrom)):
                plotting |= defined(simple)
                plot_lines |= lines
            else:
                compute_lines |= lines
    compute_lines -= plot_lines
    code = {i + 1 for i, line in enumerate(source.splitlines())
            if line.strip() and not line.strip().startswith("#")}
    prints = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in {"print", "display"}
                 for n in ast.walk(tree))
    # a bare expression at the end is shown as the cell's output
    prints |= bool(tree.body) and isinstance(tree.body[-1], ast.Expr) and not is_plotting(tree.body[-1], plotting)
    bound = set().union(*(defined(s) for s in tree.body)) - plotting
    return plot_lines & code, compute_lines & code, prints, bound, names(tree, ast.Load)


def picture_cells(text):
    """Indexes of the cells that only draw, and the (plotting, computing) visible line counts."""
    cells = code_cells(text)
    facts = [classify(source) for _, source in cells]
    pictures, visible_plot, visible_compute = [], 0, 0
    for i, ((tags, _), (plot, compute, prints, bound, _)) in enumerate(zip(cells, facts)):
        used_later = set().union(set(), *(f[4] for f in facts[i + 1:]))
        if plot and not prints and (not (bound & used_later) or len(plot) >= 2 * len(compute)):
            pictures.append(i)
        if "hide-input" not in tags and "remove-input" not in tags and "remove-cell" not in tags:
            visible_plot += len(plot)
            visible_compute += len(compute)
    return cells, pictures, visible_plot, visible_compute


def untagged_pictures(text):
    cells, pictures, _, _ = picture_cells(text)
    return [cells[i][1].strip().splitlines()[0] for i in pictures
            if not {"hide-input", "remove-input", "remove-cell"} & set(cells[i][0])]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_a_cell_that_only_draws_hides_its_code(page):
    untagged = untagged_pictures(page.read_text())
    assert not untagged, f"cells that only draw, without the tag hide-input (first lines): {untagged}"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_a_page_shows_less_plotting_than_computing(page):
    _, _, plotting, computing = picture_cells(page.read_text())
    assert plotting <= computing, f"{plotting} visible plotting lines against {computing} computing lines"


PICTURE = """```{code-cell} ipython3
xs = np.arange(5)
fig, ax = plt.subplots()
ax.plot(xs, xs ** 2)
plt.show()
```
"""


def test_the_rules_catch_an_untagged_picture_and_a_page_of_plotting():
    assert untagged_pictures(PICTURE) == ["xs = np.arange(5)"]
    tagged = PICTURE.replace("ipython3\n", "ipython3\n:tags: [hide-input]\n\n")
    assert untagged_pictures(tagged) == []
    # a cell that computes what a later cell uses is not a picture...
    computing = PICTURE.replace("xs = np.arange(5)\n", "xs = np.arange(5)\nys = xs ** 2\n")
    uses_ys = "```{code-cell} ipython3\nprint(ys)\n```\n"
    assert untagged_pictures(computing + uses_ys) == []
    # ...unless it is mostly drawing: a small name used later does not make it a computation
    drawing = computing.replace("plt.show()", "ax.set_xlabel('x')\nax.set_ylabel('x squared')\nplt.show()")
    assert untagged_pictures(drawing + uses_ys) == ["xs = np.arange(5)"]
    _, _, plotting, computing = picture_cells(PICTURE)
    assert (plotting, computing) == (3, 1)
