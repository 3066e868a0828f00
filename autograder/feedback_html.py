"""The feedback page's math, typeset when the page is written: it reads offline.

nbgrader's feedback template loads MathJax from a CDN, so a student who opens the page offline
(or where the CDN is blocked) sees raw LaTeX. Here the markdown filter of nbconvert's HTML
exporter is replaced by one that turns every formula into MathML (latex2mathml), which browsers
render natively: no script, nothing fetched. nbgrader_config.py selects it, with
`templates/feedback/mathjax.html.j2`, which replaces the MathJax script of nbgrader's feedback
template by the course's style (test messages wrapped instead of scrolled sideways).
"""
from html import escape

from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath


def mathml(latex, display):
    """MathML for one formula; the LaTeX as plain text if it is not understood."""
    try:
        return convert(latex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises various errors on what it does not know
        return f'<code class="latex">{escape(latex)}</code>'


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with MathML where it leaves `$...$` for MathJax."""

    def block_math(self, body):
        return mathml(body, display=True)

    def inline_math(self, body):
        return mathml(body, display=False)

    def latex_environment(self, name, body):
        return mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


@pass_context
def markdown2html(context, source):
    """The `markdown2html` filter of the feedback template (cell attachments are kept)."""
    cell = context.get("cell", {})
    path = context.get("resources", {}).get("metadata", {}).get("path", "")
    renderer = MathMLRenderer(escape=False, attachments=cell.get("attachments", {}), path=path)
    return MarkdownWithMath(renderer=renderer).render(source)
