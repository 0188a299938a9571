"""The datasets of one run, each read at most once.

A study reads the communes layer, the density grid, the census and the COG list from several
stages (territory, approximate network, market towns, demand, supply). :class:`Datasets` is
the runner's handle on the data directory: each table is read on first use and handed out
again afterwards, so the runner does I/O once, at the edge, and the stages receive frames.
It holds no state beyond one run: build one per study (or per batch partition).

Across runs, each parsed table is kept in the data directory's table cache
(:mod:`~territorial_geo.sources.tablecache`, ``cache/tables/``), found again while its input
files and parsers are unchanged: a second study reads pickles instead of parsing the
GeoPackage, the JSON lists and the census again (``Datasets(..., cache=False)`` reads the
sources).

The frames it returns are shared between callers: treat them as read-only (copy before
changing them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from territorial_geo.sources.catalog import CATALOG
from territorial_geo.sources.census import load_census, load_csp_shares, load_density_grid
from territorial_geo.sources.cog import Harmonized, code_mapping, load_commune_list
from territorial_geo.sources.communes import load_chefs_lieux, load_communes, load_epci
from territorial_geo.sources.fetching import resolve_data_dir
from territorial_geo.sources.tablecache import cached_table, code_fingerprint
from territorial_geo.sources.third_places import load_third_places

#: The catalog datasets each table is read from (its table-cache inputs).
TABLE_INPUTS: dict[str, tuple[str, ...]] = {
    "communes": ("communes", "communes-list"),
    "chefs_lieux": ("communes", "communes-list"),
    "epci": ("epci",),
    "commune_list": ("communes-list",),
    "code_mapping": ("communes-list",),
    "density_grid": ("density-grid", "communes-list"),
    "census": ("census-rp2018", "communes-list"),
    "csp_shares": ("csp-shares", "communes-list"),
    "third_places": ("third-places", "communes", "communes-list"),
}


#: Tables a :class:`Datasets` may be given already read (``tables=``; a batch task gets
#: the national tables from another task): the methods without argument.
PRELOADABLE = ("communes", "chefs_lieux", "epci", "commune_list", "code_mapping",
               "density_grid", "census")


class Datasets:
    """Read-once access to the datasets of a data directory.

    Parameters
    ----------
    data_dir
        Data directory (``--data-dir``, ``$TERRITORIAL_GEO_DATA``, default ``data/``).
    cache
        Keep parsed tables in the data directory's table cache and read them from there
        (:mod:`~territorial_geo.sources.tablecache`).
    tables
        Tables already read, by method name (:data:`PRELOADABLE`): returned as they are,
        never read again.

    Examples
    --------
    >>> data = Datasets("data")                       # doctest: +SKIP
    >>> data.communes() is data.communes()            # doctest: +SKIP
    True
    """

    def __init__(self, data_dir: str | os.PathLike | None = None, *, cache: bool = True,
                 tables: dict[str, Any] | None = None) -> None:
        self.data_dir = data_dir
        self.cache = cache
        self._memo: dict[tuple, Any] = {}
        for name, frame in (tables or {}).items():
            if name not in PRELOADABLE:
                raise ValueError(f"Datasets(tables=...): {name!r} is not one of "
                                 f"{', '.join(PRELOADABLE)}")
            self._memo[(name,)] = frame
        self.reads: dict[str, int] = {}
        self._fingerprint: str | None = None

    def __repr__(self) -> str:
        return f"Datasets({str(resolve_data_dir(self.data_dir))!r}, read={sorted(self.reads)})"

    def _get(self, key: tuple, load: Callable[[], Any], *, path=None) -> Any:
        if key not in self._memo:
            self._memo[key] = self._cached(key, load, path) if self.cache else load()
            self.reads[key[0]] = self.reads.get(key[0], 0) + 1
        return self._memo[key]

    def _cached(self, key: tuple, load: Callable[[], Any], path) -> Any:
        """``load()`` through the table cache; its inputs are the catalog files of
        :data:`TABLE_INPUTS` (``path`` instead of the first one when given)."""
        root = resolve_data_dir(self.data_dir)
        inputs = [root / CATALOG[n].path for n in TABLE_INPUTS[key[0]]]
        if path is not None:
            inputs[0] = Path(path).resolve()
        if self._fingerprint is None:
            self._fingerprint = code_fingerprint()
        name = "-".join(str(k) for k in key if k is not None)
        return cached_table(root / "cache" / "tables", name, inputs, load,
                            fingerprint=self._fingerprint)

    def communes(self) -> gpd.GeoDataFrame:
        """Commune polygons (:func:`~territorial_geo.sources.load_communes`)."""
        return self._get(("communes",), lambda: load_communes(self.data_dir))

    def chefs_lieux(self) -> gpd.GeoDataFrame:
        """Chef-lieu points (:func:`~territorial_geo.sources.load_chefs_lieux`)."""
        return self._get(("chefs_lieux",), lambda: load_chefs_lieux(self.data_dir))

    def epci(self) -> pd.DataFrame:
        """EPCI of COG 2026 (:func:`~territorial_geo.sources.load_epci`)."""
        return self._get(("epci",), lambda: load_epci(self.data_dir))

    def commune_list(self) -> pd.DataFrame:
        """The COG 2026 list of current communes."""
        return self._get(("commune_list",), lambda: load_commune_list(self.data_dir))

    def code_mapping(self) -> dict[str, str]:
        """Former commune code -> COG 2026 code."""
        return self._get(("code_mapping",), lambda: code_mapping(self.data_dir))

    def density_grid(self) -> pd.DataFrame:
        """INSEE density grid (:func:`~territorial_geo.sources.load_density_grid`)."""
        return self._get(("density_grid",), lambda: load_density_grid(
            self.data_dir, current=self.commune_list().index, mapping=self.code_mapping()))

    def census(self) -> Harmonized:
        """Census RP2018 comparateur (:func:`~territorial_geo.sources.load_census`)."""
        return self._get(("census",), lambda: load_census(
            self.data_dir, current=self.commune_list().index, mapping=self.code_mapping()))

    def csp_shares(self, year: int) -> Harmonized:
        """CSP shares for a census year (:func:`~territorial_geo.sources.load_csp_shares`)."""
        return self._get(("csp_shares", year), lambda: load_csp_shares(
            year, self.data_dir, current=self.commune_list().index,
            mapping=self.code_mapping()))

    def third_places(self, path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
        """CGET 2019 third places, or a file in their layout
        (:func:`~territorial_geo.sources.load_third_places`)."""
        return self._get(("third_places", str(path) if path else None),
                         lambda: load_third_places(self.data_dir, path=path,
                                                   communes=self.communes(),
                                                   mapping=self.code_mapping()),
                         path=path)
