"""Execute the book's notebook pages in parallel before Sphinx reads them.

Jupyter Book 1 (myst-nb in `cache` mode) executes each page when Sphinx reads it, one page after
the other, and its command line has no option for parallel jobs. This extension runs first: it
gives every page that is not yet in myst-nb's execution cache to jupyter-cache's own parallel
executor (one page per CPU core), which stores the results in that same cache. When Sphinx then
reads the pages, myst-nb finds them executed. A page whose execution fails here is simply not
cached: myst-nb executes it again while reading, and reports the error as it always does.

Two choices make the parallel run fast on a laptop:
- the longest pages start first (`parallel_execution_first` in `_config.yml`), and each free core
  takes the next page (jupyter-cache's own executor hands pages out in fixed pairs, in no useful
  order, so the longest page could start last);
- every kernel runs its numerical libraries on one thread (OMP_NUM_THREADS=1): with one page per
  core, a second thread per kernel only makes the kernels spin against each other.
"""
import multiprocessing
import os
from pathlib import Path, PurePosixPath

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor
from jupyter_cache.executors.basic import ProcessData
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
    records = executor.get_records(filter_pks=pending)  # also clears earlier tracebacks
    first = [Path(app.srcdir, page).resolve() for page in app.config.parallel_execution_first]
    records.sort(key=lambda record: first.index(Path(record.uri).resolve())
                 if Path(record.uri).resolve() in first else len(first))
    jobs = [ProcessData(record.pk, record.uri, cache, config.execution_timeout,
                        config.execution_allow_errors) for record in records]
    with one_thread_per_kernel(), multiprocessing.Pool() as pool:
        # the worker is jupyter-cache's own (execute, then store in the cache); chunksize=1:
        # each core takes the next page when it is free
        results = list(pool.imap_unordered(executor._EXECUTION_WORKER(), jobs, chunksize=1))
    for status, uri in results:
        if status != 0:
            LOGGER.info(f"parallel_execution: {uri} failed; it is executed again while it is read")


class one_thread_per_kernel:
    """Sets OMP_NUM_THREADS and MKL_NUM_THREADS to 1 for the kernels started inside the block
    (they inherit the environment), and restores them after."""
    NAMES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

    def __enter__(self):
        self.saved = {name: os.environ.get(name) for name in self.NAMES}
        os.environ.update({name: "1" for name in self.NAMES})

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def setup(app):
    # the pages to start first, longest first, as paths from the book's root
    app.add_config_value("parallel_execution_first", [], "env")
    # after myst-nb's own builder-inited handler, which sets the cache path inside _build
    app.connect("env-before-read-docs", execute_missing_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
