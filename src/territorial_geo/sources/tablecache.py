"""A cache of parsed tables in the data directory (``cache/tables/``).

Reading the published files is most of a warm study's input time: the COG 2026 list
(8.6 MB of JSON, parsed for the commune list, the code mapping and the official names), the
communes GeoPackage reprojected to Lambert-93, the census zip with its decimal commas, each
moved to the COG 2026 codes. :class:`~territorial_geo.sources.Datasets` keeps the frame
each loader returns here, as a pickle, and a later run loads it back in a fraction of the
time: the same frame, bit for bit, so the results do not change.

An entry is found again only when nothing it was made from changed: its key hashes

* the absolute path, size and modification time (nanoseconds) of every input file (or
  "missing"),
* the source text of the modules that parse them (:data:`CODE_MODULES`),
* the Python, pandas, geopandas, shapely, numpy and pyarrow versions (pickle format).

A changed input or parser therefore makes a new entry; older entries of the same table
are removed when the new one is written. Writing is atomic (a killed run leaves no half
file) and best effort: a read-only data directory simply goes uncached. The cache holds
pickles, which run code when loaded: it is trusted like the data directory itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from importlib import import_module
from pathlib import Path
from typing import Any

from territorial_geo.sources.fetching import atomic_write

log = logging.getLogger(__name__)

#: Modules whose code shapes a cached table: any change to their text is a new key.
CODE_MODULES = (
    "territorial_geo.codes",
    "territorial_geo.sources.census",
    "territorial_geo.sources.cog",
    "territorial_geo.sources.communes",
    "territorial_geo.sources.datasets",
    "territorial_geo.sources.tables",
    "territorial_geo.sources.third_places",
    "territorial_geo.sources.tablecache",
)
_LIBRARIES = ("pandas", "geopandas", "shapely", "numpy", "pyarrow")


def _file_stamp(path: Path | None) -> list:
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        st = None
    # the absolute path: ``data`` and ``/abs/data`` are the same entry, not two that evict
    # each other
    name = os.path.abspath(path) if path is not None else "None"
    return [name, st.st_size, st.st_mtime_ns] if st else [name, "missing"]


def code_fingerprint() -> str:
    """Hash of the parser modules' source text and the library versions."""
    h = hashlib.sha256(sys.version.encode())
    for name in CODE_MODULES:
        h.update(Path(import_module(name).__file__).read_bytes())
    for lib in _LIBRARIES:
        h.update(f"{lib}={getattr(import_module(lib), '__version__', '?')}".encode())
    return h.hexdigest()


def cache_key(name: str, inputs: Iterable[Path | None], fingerprint: str) -> str:
    """Key of a cached table: its name, its input files' stamps and the code fingerprint."""
    parts = [name, [_file_stamp(p) for p in inputs], fingerprint]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:20]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60]


def cached_table(
    cache_dir: Path, name: str, inputs: Iterable[Path | None], load: Callable[[], Any], *,
    fingerprint: str,
) -> Any:
    """The table ``load()`` returns, from ``cache_dir`` when it was stored there from the
    same inputs and code, else loaded and stored (best effort).

    Parameters
    ----------
    cache_dir
        Folder of the cache (``<data dir>/cache/tables``).
    name
        Name of the table (one entry per name is kept).
    inputs
        The files the table is read from (``None`` or a missing file counts as missing).
    load
        Reads the table; its exceptions propagate and nothing is stored.
    fingerprint
        :func:`code_fingerprint` (computed once by the caller).
    """
    slug = _slug(name)
    path = Path(cache_dir) / f"{slug}-{cache_key(name, inputs, fingerprint)}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception as exc:  # a damaged entry is rebuilt, never trusted
            log.warning("table cache %s unreadable (%s): reading the source again", path, exc)
    obj = load()
    try:
        atomic_write(path, lambda tmp: tmp.write_bytes(pickle.dumps(obj, protocol=5)))
        for old in Path(cache_dir).glob(f"{slug}-*.pkl"):
            if old != path and len(old.stem) == len(slug) + 21:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("table cache not written to %s (%s)", cache_dir, exc)
    return obj
