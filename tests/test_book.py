"""The book builds with warnings as errors, is self-contained offline, and leaks no solutions."""
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT
from test_grading import secret_lines

JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
PAGES = ["index.html", "book/intro.html", "book/03-rnn/index.html", "exercises/03-rnn/rnn_numpy.html",
         "exercises/03-rnn/rnn_torch.html", "book/instructor.html"]


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    done = subprocess.run([JUPYTER_BOOK, "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"book build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return out / "_build" / "html"


def text_files(site):
    return [p for p in site.rglob("*") if p.is_file() and p.suffix in {".html", ".js", ".txt", ".ipynb", ".md", ".json"}
            and "_static" not in p.parts]


def test_pages_exist(site):
    missing = [page for page in PAGES if not (site / page).is_file()]
    assert not missing


def test_no_solution_or_hidden_test_anywhere_in_the_site(site):
    secret = secret_lines("SOLUTION") | secret_lines("HIDDEN TESTS")
    for path in text_files(site):
        text = path.read_text(errors="replace").replace("&quot;", '"').replace("&#39;", "'") \
            .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path.relative_to(site)} contains {leaked[:2]}"
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, path
    assert not list(site.rglob("solutions")), "solutions/ must not be published"


def test_math_is_typeset_from_the_build_not_a_cdn(site):
    page = (site / "book/03-rnn/index.html").read_text()
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, flags=re.I)
    assert scripts, "the chapter page loads no MathJax"
    for src in scripts:
        assert not src.startswith(("http:", "https:", "//")), f"MathJax from the network: {src}"
        assert (site / "book/03-rnn" / src.split("?")[0]).resolve().is_file(), src
    for path in site.rglob("*.html"):
        assert "cdn.jsdelivr.net/npm/mathjax" not in path.read_text(), path


def test_every_local_link_and_image_resolves(site):
    for path in site.rglob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#]+)', path.read_text()):
            parsed = urlparse(target)
            if parsed.scheme or target.startswith(("//", "mailto:", "data:")):
                continue
            resolved = (path.parent / unquote(parsed.path)).resolve()
            assert resolved.exists(), f"{path.relative_to(site)} links to missing {target}"


def test_chapter_is_executed_and_exercises_are_not(site):
    chapter = (site / "book/03-rnn/index.html").read_text()
    assert chapter.count('class="cell_output') >= 3 and "<img" in chapter, "the chapter's demos did not run"
    for name in ("rnn_numpy", "rnn_torch"):
        page = (site / f"exercises/03-rnn/{name}.html").read_text()
        assert 'class="cell_output' not in page, f"{name} was executed by the build"
        assert "raise NotImplementedError()" in page


def test_chapter_offers_its_exercise_notebooks_for_download(site):
    chapter = (site / "book/03-rnn/index.html").read_text()
    for name in ("rnn_numpy", "rnn_torch"):
        links = re.findall(rf'href="([^"]*_downloads/[^"]*{name}\.ipynb)"', chapter)
        assert links, f"no download link for {name}.ipynb"
        downloaded = (site / "book/03-rnn" / links[0]).resolve()
        assert downloaded.read_bytes() == (ROOT / "exercises/03-rnn" / f"{name}.ipynb").read_bytes()
