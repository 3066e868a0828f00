"""Headless Chromium for the tests that check what a page looks like (report, feedback)."""
import html
import re
import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium(*args, width=900, height=1400):
    """Run headless Chromium with a throw-away profile; returns its stdout."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                               f"--window-size={width},{height}", *args],
                              capture_output=True, text=True, timeout=180)
    return done.stdout


def measure(page, script, width=900):
    """Open `page` (a Path) in Chromium and run `script` once it is loaded (images too); the
    script puts its answer (a string) into window.RESULT, read back from the rendered DOM."""
    probe = page.with_name(page.stem + ".probe.html")
    # run once the page and its images are loaded (--dump-dom waits for the load event)
    probe.write_text(page.read_text(encoding="utf-8") + "\n<script>\nwindow.addEventListener('load', () => {\n"
                     + script
                     + "\ndocument.body.insertAdjacentHTML('beforeend', '<pre id=\"probe-result\">' +"
                       " String(window.RESULT).replace(/&/g, '&amp;').replace(/</g, '&lt;') + '</pre>');\n"
                       "});\n</script>\n", encoding="utf-8")
    try:
        dom = chromium("--dump-dom", probe.as_uri(), width=width)
    finally:
        probe.unlink()
    # the page's own scripts may add attributes to the element (the book's theme gives every
    # <pre> a tabindex)
    found = list(re.finditer(r'<pre id="probe-result"[^>]*>(.*?)</pre>', dom, re.S))
    assert found, f"Chromium did not render {page}:\n{dom[:500]}"
    return html.unescape(found[-1].group(1))


def screenshot(page, png, width=1200, height=1600):
    chromium(f"--screenshot={png}", page.as_uri(), width=width, height=height)
    return png
