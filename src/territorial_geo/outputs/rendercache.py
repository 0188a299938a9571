"""Renders kept across runs (``<data dir>/cache/renders/``): a PNG chart, a printable map or
the web map page is drawn again only when something it is drawn from changed.

Drawing is most of what writing a study folder costs (matplotlib lays out and rasterises
every tornado chart and printable map, folium renders a page of a few megabytes), and a
planner re-running a study after changing one parameter gets most figures unchanged. Each
render is stored under a key that hashes

* everything the drawing function is given (frames, geometries, titles, labels, the
  language: :func:`digest`, which hashes frames with :func:`pandas.util.hash_pandas_object`
  and geometries by their WKB), except the file it is written to;
* the source text of every module of the package (any change to the code, a translation
  or a colour makes new keys) and the versions of the drawing libraries (matplotlib,
  Pillow, folium, branca, jinja2, geopandas, shapely, pandas, numpy) and of Python.

So a render is reused only when the same code would draw it from the same inputs: the
bytes written are the ones drawing again would give (the web map aside: folium names its
elements at random, so a reused page carries the names of the run that drew it).

The cache is bounded (:data:`MAX_ENTRIES` files, the least recently used removed first),
written atomically and best effort: a read-only or full data directory simply draws
again, and a damaged entry is drawn again, never trusted. It holds pickles, which run code
when loaded: it is trusted like the data directory itself. ``output.render_cache = false``
turns it off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

from territorial_geo.sources.fetching import atomic_write

log = logging.getLogger(__name__)

T = TypeVar("T")

#: At most this many renders are kept (about 40 MB at the reference study's sizes).
MAX_ENTRIES = 400
#: Libraries whose version is part of every key (their drawing changes the bytes).
LIBRARIES = ("matplotlib", "pillow", "folium", "branca", "jinja2", "geopandas", "shapely",
             "pandas", "numpy")


def code_fingerprint() -> str:
    """Hash of the package's source text (modules, templates, data files), the drawing
    libraries' versions and Python's."""
    h = hashlib.sha256(sys.version.encode())
    root = Path(import_module("territorial_geo").__file__).parent
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".j2", ".json", ".toml", ".js", ".css") and p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    for lib in LIBRARIES:
        try:
            h.update(f"{lib}={version(lib)}".encode())
        except PackageNotFoundError:
            h.update(f"{lib}=missing".encode())
    return h.hexdigest()


def digest(obj: Any) -> str:
    """A content hash of ``obj``: numbers, strings, bytes, None, tuples, lists, dicts,
    numpy arrays, pandas frames and series, GeoDataFrames and GeoSeries (their CRS and
    their geometries' WKB), nested; other objects by their pickle.

    Equal content gives equal hashes in any process (dict order aside: keys are sorted);
    a frame's column names, dtypes and index are part of it.

    Examples
    --------
    >>> digest({"b": 1, "a": [1.5, "x"]}) == digest({"a": [1.5, "x"], "b": 1})
    True
    >>> digest(1) == digest(1.0)
    False
    """
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()


def _feed(h, obj: Any) -> None:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, (tuple, list)):
        h.update(f"{type(obj).__name__}[{len(obj)}".encode())
        for x in obj:
            _feed(h, x)
        h.update(b"]")
    elif isinstance(obj, dict):
        h.update(f"dict{{{len(obj)}".encode())
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
        h.update(b"}")
    elif isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        h.update(f"{type(obj).__name__}:{obj.crs.srs if obj.crs else None};".encode())
        geo = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
        wkb = shapely.to_wkb(np.asarray(geo.to_numpy(), dtype=object))
        _feed(h, np.array([len(w) if w is not None else -1 for w in wkb], np.int64))
        h.update(b"".join(w for w in wkb if w is not None))
        if isinstance(obj, gpd.GeoDataFrame):
            _feed(h, pd.DataFrame(obj.drop(columns=obj.geometry.name)))
        else:
            _feed(h, (obj.name, pd.Series(obj.index, index=obj.index)))
    elif isinstance(obj, (pd.DataFrame, pd.Series)):
        frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
        h.update(f"{type(obj).__name__}:{list(map(repr, frame.columns))}:"
                 f"{list(map(str, frame.dtypes))}:{frame.index.dtype};".encode())
        try:
            _feed(h, pd.util.hash_pandas_object(frame, index=True).to_numpy())
        except TypeError:  # unhashable cells (lists, dicts): their pickle
            h.update(pickle.dumps((list(frame.index), frame.to_dict("list")), protocol=5))
    elif isinstance(obj, np.ndarray):
        h.update(f"ndarray:{obj.dtype}:{obj.shape};".encode())
        h.update(pickle.dumps(obj.tolist(), protocol=5) if obj.dtype == object
                 else np.ascontiguousarray(obj).tobytes())
    else:
        h.update(f"{type(obj).__module__}.{type(obj).__qualname__}:".encode())
        h.update(pickle.dumps(obj, protocol=5))


class RenderCache:
    """Renders stored in ``directory`` under the hash of their inputs and the code.

    Parameters
    ----------
    directory
        Folder of the cache (``<data dir>/cache/renders``); None: nothing is kept, every
        render is drawn.
    max_entries
        Renders kept; beyond, the least recently used are removed.

    Examples
    --------
    >>> cache = RenderCache(None)
    >>> cache.get("chart", {"title": "x"}, lambda: b"png bytes")
    b'png bytes'
    """

    def __init__(self, directory: str | os.PathLike | None, *,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.max_entries = max_entries
        self._fingerprint: str | None = None
        #: Renders found in the cache / drawn, since this object was made.
        self.hits = 0
        self.misses = 0

    def key(self, kind: str, inputs: Any) -> str:
        """The key of a render of ``kind`` drawn from ``inputs``."""
        if self._fingerprint is None:
            self._fingerprint = code_fingerprint()
        return hashlib.sha256(
            f"{kind}|{self._fingerprint}|{digest(inputs)}".encode()).hexdigest()[:32]

    def get(self, kind: str, inputs: Any, render: Callable[[], T]) -> T:
        """What ``render()`` returns for ``inputs``: from the cache when the same code drew
        it from equal inputs, else drawn and stored.

        Parameters
        ----------
        kind
            Name of the render (``"tornado"``, ``"static_maps"``, ``"web_map"``): part of
            the key and of the file name.
        inputs
            Everything ``render`` draws from (frames, arrays, strings, numbers, nested in
            tuples, lists and dicts), the output path excepted.
        render
            Draws it; its exceptions propagate and nothing is stored.
        """
        if self.directory is None:
            self.misses += 1
            return render()
        try:
            path = self.directory / f"{kind}-{self.key(kind, inputs)}.pkl"
        except Exception as exc:  # inputs that cannot be hashed: drawn, not cached
            log.debug("render cache: %s not hashable (%s): drawing it", kind, exc)
            self.misses += 1
            return render()
        if path.is_file():
            try:
                with open(path, "rb") as fh:
                    value = pickle.load(fh)
                os.utime(path)  # recently used: kept longest
                self.hits += 1
                return value
            except Exception as exc:  # a damaged entry is drawn again, never trusted
                log.warning("render cache %s unreadable (%s): drawing again", path, exc)
        self.misses += 1
        value = render()
        try:
            atomic_write(path, lambda tmp: tmp.write_bytes(pickle.dumps(value, protocol=5)))
            self._prune()
        except OSError as exc:
            log.debug("render cache not written to %s (%s)", self.directory, exc)
        return value

    def _prune(self) -> None:
        entries = []
        for p in self.directory.glob("*.pkl"):
            try:
                entries.append((p.stat().st_mtime_ns, p))
            except OSError:
                continue
        entries.sort(reverse=True)
        for _t, p in entries[self.max_entries:]:
            p.unlink(missing_ok=True)


__all__ = ["LIBRARIES", "MAX_ENTRIES", "RenderCache", "code_fingerprint", "digest"]
