"""The book builds with warnings as errors, is self-contained offline, and leaks no solutions."""
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

import browser
from conftest import ROOT
from test_grading import html_text, secret_lines

JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")


def toc_entries():
    """(page, [exercise sections]) for every chapter-level entry of _toc.yml."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [(toc["root"], [])]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            sections = [s["file"] for s in chapter.get("sections", [])]
            entries.append((chapter["file"], sections))
    return entries


PAGES = [page for page, _ in toc_entries()] + [s for _, sections in toc_entries() for s in sections]
CHAPTERS = [(page, [s for s in sections if s.startswith("exercises/")])
            for page, sections in toc_entries() if page.startswith("book/") and page.endswith("/index")]


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


def test_every_toc_page_is_built(site):
    assert CHAPTERS and all(exercises for _, exercises in CHAPTERS), "every chapter has exercises"
    missing = [page for page in ["index"] + PAGES if not (site / f"{page}.html").is_file()]
    assert not missing
    for notebook in ROOT.glob("exercises/*/*.ipynb"):
        assert notebook.relative_to(ROOT).with_suffix("").as_posix() in PAGES, f"{notebook} is not in _toc.yml"


def test_no_solution_or_hidden_test_anywhere_in_the_site(site):
    secret = secret_lines("SOLUTION") | secret_lines("HIDDEN TESTS")
    for path in text_files(site):
        text = path.read_text(errors="replace").replace("&quot;", '"').replace("&#39;", "'") \
            .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path.relative_to(site)} contains {leaked[:2]}"
    assert not list(site.rglob("solutions")), "solutions/ must not be published"


@pytest.mark.parametrize("chapter", [c for c, _ in CHAPTERS])
def test_math_is_typeset_from_the_build_not_a_cdn(site, chapter):
    page = (site / f"{chapter}.html").read_text()
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, flags=re.I)
    assert scripts, "the chapter page loads no MathJax"
    for src in scripts:
        assert not src.startswith(("http:", "https:", "//")), f"MathJax from the network: {src}"
        assert (site / chapter).parent.joinpath(src.split("?")[0]).resolve().is_file(), src
    for path in site.rglob("*.html"):
        assert "cdn.jsdelivr.net/npm/mathjax" not in path.read_text(), path


def test_every_local_link_and_image_resolves(site):
    for path in site.rglob("*.html"):
        if "_static" in path.parts:  # theme templates, not pages
            continue
        for target in re.findall(r'(?:href|src)="([^"#]+)', path.read_text()):
            parsed = urlparse(target)
            if parsed.scheme or target.startswith(("//", "mailto:", "data:")):
                continue
            resolved = (path.parent / unquote(parsed.path)).resolve()
            assert resolved.exists(), f"{path.relative_to(site)} links to missing {target}"


@pytest.mark.parametrize("chapter,exercises", CHAPTERS, ids=[c for c, _ in CHAPTERS])
def test_chapter_is_executed_and_its_exercises_are_not(site, chapter, exercises):
    page = (site / f"{chapter}.html").read_text()
    assert page.count('class="cell_output') >= 3 and "<img" in page, "the chapter's demos did not run"
    for exercise in exercises:
        html = (site / f"{exercise}.html").read_text()
        assert 'class="cell_output' not in html, f"{exercise} was executed by the build"
        assert "raise NotImplementedError()" in html_text(site / f"{exercise}.html")


@pytest.mark.parametrize("chapter,exercises", CHAPTERS, ids=[c for c, _ in CHAPTERS])
def test_chapter_offers_its_exercise_notebooks_for_download(site, chapter, exercises):
    page = (site / f"{chapter}.html").read_text()
    for exercise in exercises:
        name = Path(exercise).name
        links = re.findall(rf'href="([^"]*_downloads/[^"]*/{name}\.ipynb)"', page)
        assert links, f"{chapter} has no download link for {name}.ipynb"
        downloaded = (site / chapter).parent.joinpath(links[0]).resolve()
        assert downloaded.read_bytes() == (ROOT / f"{exercise}.ipynb").read_bytes()


def test_chapter_8s_table_shows_every_sample_and_never_scrolls_sideways(site):
    page = site / "book" / "08-language-models" / "index.html"
    found = json.loads(browser.measure(page, """
        const table = [...document.querySelectorAll('table')]
          .find(t => t.innerText.includes('validation (nats/char)'));
        const overflowing = [];
        for (let box = table; box && box.tagName !== 'BODY'; box = box.parentElement) {
          if (box.scrollWidth > box.clientWidth + 1) overflowing.push(box.tagName + '.' + box.className);
        }
        window.RESULT = JSON.stringify({
          found: !!table,
          samples: table ? [...table.querySelectorAll('pre')].map(p => p.innerText) : [],
          overflowing,
          page: document.documentElement.scrollWidth - document.documentElement.clientWidth});
    """, width=1280))
    assert found["found"], "chapter 8's results table is not on the page"
    assert len(found["samples"]) == 6 and all(s.startswith("ROMEO:") and len(s) >= 150 for s in found["samples"]), \
        found["samples"]
    assert not found["overflowing"] and found["page"] <= 0, found
