"""Renders kept across runs (``<data dir>/cache/renders/``): a PNG chart, a printable map or
the web map page is drawn again only when something it is drawn from changed.

Drawing is most of what writing a study folder costs (matplotlib lays out and rasterises
every tornado chart and printable map, folium renders a page of a few megabytes), and a
planner re-running a study after changing one parameter gets most figures unchanged. Each
render is stored under a key that hashes

* everything the drawing function is given (frames, geometries, titles, labels, the
  language: :func:`digest`, which hashes frames with :func:`pandas.util.hash_pandas_object`
  and geometries by their WKB), except the file it is written to;
* the source text of every module of the package, as this process imported it (any change
  to the code, a translation or a colour makes new keys), the versions of the drawing,
  classing and projection libraries (:data:`LIBRARIES`, PROJ) and of Python.

The matplotlib drawings are made with matplotlib's own default style
(:func:`territorial_geo.maps.default_style`), whatever style or ``matplotlibrc`` the
session has: the same inputs give the same PNG on any machine.

So a render is reused only when the same code would draw it from the same inputs: the
bytes written are the ones drawing again would give (the web map aside: folium names its
elements at random, so a reused page carries the names of the run that drew it).

The cache is bounded (:data:`MAX_ENTRIES` files and :data:`MAX_BYTES`, the least recently
used removed first), written atomically and best effort: a read-only or full data directory
simply draws again, and a damaged entry is drawn again, never trusted. It holds pickles,
which run code when loaded: it is trusted like the data directory itself.
``output.render_cache = false`` turns it off.
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

#: At most this many renders are kept (the reference study makes 9: 4 MB, 3.5 of them
#: the web map page) ...
MAX_ENTRIES = 400
#: ... and at most this many bytes; beyond either, the least recently used go first.
MAX_BYTES = 500 * 2**20
#: Libraries whose version is part of every key (they change the drawn bytes: drawing,
#: class breaks, reprojection).
LIBRARIES = ("matplotlib", "pillow", "folium", "branca", "jinja2", "geopandas", "shapely",
             "pandas", "numpy", "jenkspy", "pyproj")


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
    import pyproj

    h.update(f"PROJ={pyproj.proj_version_str}".encode())
    return h.hexdigest()


#: The fingerprint of the code this process runs, taken when it imported the package's
#: outputs (a source file edited later, e.g. while a notebook kernel runs, is not the code
#: that draws).
PROCESS_FINGERPRINT = code_fingerprint()


def digest(obj: Any) -> str:
    """A content hash of ``obj``: numbers, strings, bytes, None, tuples, lists, dicts,
    numpy arrays, pandas frames and series, GeoDataFrames and GeoSeries (their CRS and
    their geometries' WKB), nested; other objects by their pickle.

    Equal content gives equal hashes in any process. What a drawing could show is part of
    it: the order of a dict's items (layers are drawn in order), a frame's column and index
    names and dtypes (categories in order), numbers bit for bit (``-0.0`` is not ``0.0``)
    and the type of each cell of an object column (``1.0`` is not ``"1.0"``).

    Examples
    --------
    >>> digest({"a": [1.5, "x"], "b": 1}) == digest({"a": [1.5, "x"], "b": 1})
    True
    >>> digest({"b": 1, "a": 2}) == digest({"a": 2, "b": 1})
    False
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
    elif isinstance(obj, dict):  # in order: the drawings show layers, fields... in order
        h.update(f"dict{{{len(obj)}".encode())
        for k, v in obj.items():
            _feed(h, k)
            _feed(h, v)
        h.update(b"}")
    elif isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        h.update(f"{type(obj).__name__}:{obj.crs.srs if obj.crs else None};".encode())
        geo = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
        wkb = shapely.to_wkb(np.asarray(geo.to_numpy(), dtype=object))
        _feed(h, np.array([len(w) if w is not None else -1 for w in wkb], np.int64))
        h.update(b"".join(w for w in wkb if w is not None))
        if isinstance(obj, gpd.GeoDataFrame):
            h.update(f"geometry column {obj.geometry.name!r};".encode())
            _feed(h, pd.DataFrame(obj.drop(columns=obj.geometry.name)))
        else:
            _feed(h, (obj.name, pd.Series(obj.index, index=obj.index)))
    elif isinstance(obj, (pd.DataFrame, pd.Series)):
        frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
        h.update(f"{type(obj).__name__}:{list(map(repr, frame.columns))}:"
                 f"{list(frame.columns.names)}:{[repr(t) for t in frame.dtypes]}:"
                 f"{frame.index.dtype!r}:{list(frame.index.names)}:{frame.shape};".encode())
        _feed_values(h, frame.index)
        for j in range(frame.shape[1]):
            _feed_values(h, frame.iloc[:, j])
    elif isinstance(obj, np.ndarray):
        h.update(f"ndarray:{obj.dtype}:{obj.shape};".encode())
        h.update(pickle.dumps(obj.tolist(), protocol=5) if obj.dtype == object
                 else np.ascontiguousarray(obj).tobytes())
    else:
        h.update(f"{type(obj).__module__}.{type(obj).__qualname__}:".encode())
        h.update(pickle.dumps(obj, protocol=5))


def _feed_values(h, values) -> None:
    """One column or index: numbers by their bytes (``-0.0`` is not ``0.0``), text and other
    objects by :func:`pandas.util.hash_pandas_object` and, for object columns, each cell's
    type (``1.0`` is not ``"1.0"``)."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        h.update(np.ascontiguousarray(values.to_numpy()).tobytes())
        return
    try:
        h.update(pd.util.hash_pandas_object(pd.Series(values), index=False).to_numpy()
                 .tobytes())
    except TypeError:  # unhashable cells (lists, dicts): their pickle
        h.update(pickle.dumps(list(values), protocol=5))
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        h.update("|".join(type(v).__name__ for v in values).encode())


class RenderCache:
    """Renders stored in ``directory`` under the hash of their inputs and the code.

    Parameters
    ----------
    directory
        Folder of the cache (``<data dir>/cache/renders``); None: nothing is kept, every
        render is drawn.
    max_entries, max_bytes
        Renders and bytes kept; beyond either, the least recently used are removed.
    fingerprint
        The code's fingerprint (:data:`PROCESS_FINGERPRINT` when None).

    Examples
    --------
    >>> cache = RenderCache(None)
    >>> cache.get("chart", {"title": "x"}, lambda: b"png bytes")
    b'png bytes'
    """

    def __init__(self, directory: str | os.PathLike | None, *,
                 max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES,
                 fingerprint: str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.fingerprint = fingerprint or PROCESS_FINGERPRINT
        #: Renders found in the cache / drawn, since this object was made.
        self.hits = 0
        self.misses = 0

    def key(self, kind: str, inputs: Any) -> str:
        """The key of a render of ``kind`` drawn from ``inputs``."""
        return hashlib.sha256(
            f"{kind}|{self.fingerprint}|{digest(inputs)}".encode()).hexdigest()[:32]

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
            except FileNotFoundError:  # removed meanwhile by another run's pruning
                pass
            except Exception as exc:  # a damaged entry is drawn again, never trusted
                log.warning("render cache %s unreadable (%s): drawing again", path, exc)
            else:
                try:
                    os.utime(path)  # recently used: kept longest
                except OSError:  # read-only, or removed meanwhile: still a good render
                    pass
                self.hits += 1
                return value
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
                st = p.stat()
            except OSError:
                continue
            entries.append((st.st_mtime_ns, st.st_size, p))
        entries.sort(key=lambda e: e[0], reverse=True)
        total = 0
        for i, (_t, size, p) in enumerate(entries):
            total += size
            if i >= self.max_entries or (total > self.max_bytes and i > 0):
                p.unlink(missing_ok=True)


__all__ = ["LIBRARIES", "MAX_BYTES", "MAX_ENTRIES", "PROCESS_FINGERPRINT", "RenderCache",
           "code_fingerprint", "digest"]
