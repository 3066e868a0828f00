"""Execute the book's notebook pages in parallel before Sphinx reads them.

Jupyter Book 1 (myst-nb in `cache` mode) executes each page when Sphinx reads it, one page after
the other, and its command line has no option for parallel jobs. This extension runs first: it
gives every page that is not yet in myst-nb's execution cache to jupyter-cache's own parallel
executor (one page per CPU core), which stores the results in that same cache. When Sphinx then
reads the pages, myst-nb finds them executed. A page whose execution fails here is simply not
cached: myst-nb executes it again while reading, and reports the error as it always does.
"""
from pathlib import Path, PurePosixPath

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor
from myst_nb.core.read import create_nb_reader
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def _excluded(path, patterns):
    posix = PurePosixPath(Path(path).as_posix())
    return any(posix.match(pattern) for pattern in patterns)


def execute_missing_pages(app, env, docnames):
    config = env.mystnb_config
    if config.execution_mode != "cache":
        return
    cache = get_cache(config.execution_cache_path)
    pending = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        if not path.is_file() or _excluded(path, config.execution_excludepatterns):
            continue
        text = path.read_text(encoding="utf8")
        reader = create_nb_reader(str(path), env.myst_config, config, text)
        if reader is None or not reader.read(text).cells:
            continue
        try:
            cache.match_cache_notebook(reader.read(text))
            continue  # already executed with this code
        except KeyError:
            pass
        record = cache.add_nb_to_project(str(path), read_data=reader.read_fmt) if reader.read_fmt \
            else cache.add_nb_to_project(str(path))
        pending.append(record.pk)
    if len(pending) < 2:
        return  # nothing to gain: myst-nb executes a single page itself
    LOGGER.info(f"parallel_execution: executing {len(pending)} pages, one per core")
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(filter_pks=pending, timeout=config.execution_timeout,
                                    allow_errors=config.execution_allow_errors)
    for uri in result.errored + result.excepted:
        LOGGER.info(f"parallel_execution: {uri} failed; it is executed again while it is read")


def setup(app):
    # after myst-nb's own builder-inited handler, which sets the cache path inside _build
    app.connect("env-before-read-docs", execute_missing_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
