"""CGET 2019 third places (tiers-lieux) as points, located in their COG 2026 commune."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo.codes import normalize_codes
from territorial_geo.errors import DataFormatError, DataMissingError
from territorial_geo.sources.catalog import WEB_CRS, WORKING_CRS
from territorial_geo.sources.cog import code_mapping
from territorial_geo.sources.communes import load_communes
from territorial_geo.sources.fetching import dataset_path
from territorial_geo.sources.tables import _read_csv, _require_columns, to_number


def load_third_places(
    data_dir: str | os.PathLike | None = None, *, path: str | os.PathLike | None = None,
    communes: gpd.GeoDataFrame | None = None, mapping: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """CGET 2019 third places (or a user file in the same layout) as points in Lambert-93.

    Rows whose ``INSEECOM`` is missing (``0``) get their commune from their coordinates;
    codes are moved to COG 2026. Columns: ``id``, ``name``, ``type``, ``address``, ``code``,
    ``commune``, ``code_source`` (``file`` or ``located``), ``seats`` (the file's own
    ``seats`` column when it has one, else NaN: CGET 2019 gives none), ``geometry``.

    Parameters
    ----------
    data_dir
        Data directory (the ``third-places`` dataset, communes for locating rows).
    path
        A CSV in the CGET layout (``,``-separated, columns ``ID``, ``NOM_TL``, ``INSEECOM``,
        ``TYPO``, ``LAT``, ``LONG``; ``ADRESSE``, ``CP``, ``NOMCOM`` and ``seats``, the
        number of workstations, optional; an empty cell is unknown) read instead of the
        dataset (a study's ``supply.file``).
    communes, mapping
        The communes layer and the former -> COG 2026 code mapping, read from ``data_dir``
        when not given.

    Raises
    ------
    DataMissingError
        The dataset (or ``path``) is missing.
    DataFormatError
        A required column is missing or a coordinate is not a number (file and column named).
    """
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise DataMissingError(f"third-place file {p} not found (supply.file)")
    else:
        p = dataset_path("third-places", data_dir)
    raw = _read_csv(p, sep=",", engine="c")
    _require_columns(raw, ["ID", "NOM_TL", "INSEECOM", "TYPO", "LAT", "LONG"], p)
    seats_col = next((c for c in raw.columns if str(c).strip().lower() == "seats"), None)
    seats = (to_number(raw[seats_col], source=f"{p}:{seats_col}") if seats_col is not None
             else pd.Series(np.nan, index=raw.index))
    if bool((seats < 0).any()):
        raise DataFormatError(f"{p}:{seats_col}: negative seat count(s) "
                              f"{seats[seats < 0].head(3).tolist()}; give seats >= 0 or leave "
                              "the cell empty (unknown)")
    lat = to_number(raw["LAT"], source=f"{p}:LAT")
    lon = to_number(raw["LONG"], source=f"{p}:LONG")
    g = gpd.GeoDataFrame(
        {
            "id": raw["ID"].to_numpy(),
            "name": raw["NOM_TL"].to_numpy(),
            "type": raw["TYPO"].fillna("non renseigné").to_numpy(),
            "address": (raw.get("ADRESSE", pd.Series("", index=raw.index)).fillna("")
                        + " " + raw.get("CP", pd.Series("", index=raw.index)).fillna(""))
            .str.strip().to_numpy(),
            "commune": raw.get("NOMCOM"),
            "raw_code": raw["INSEECOM"].fillna("0").to_numpy(),
            "seats": seats.to_numpy(dtype=float),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=WEB_CRS,
    ).to_crs(WORKING_CRS)
    g = g[g.geometry.is_valid & ~g.geometry.is_empty]
    has_code = g["raw_code"].str.strip().str.fullmatch(r"\d{4,5}|2[ABab]\d{3}").fillna(False)
    g["code"] = None
    g.loc[has_code, "code"] = normalize_codes(g.loc[has_code, "raw_code"], source=f"{p}:INSEECOM")
    g["code_source"] = np.where(has_code, "file", "located")
    if communes is None:
        communes = load_communes(data_dir)
    if mapping is None:
        mapping = code_mapping(data_dir)
    g["code"] = [c if (c is None or c in communes.index) else mapping.get(c, c) for c in g["code"]]
    need = g["code"].isna() | ~g["code"].isin(communes.index)
    if bool(need.any()):
        joined = gpd.sjoin(g.loc[need, ["geometry"]], communes[["code", "geometry"]],
                           how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        g.loc[need, "code"] = joined["code"].to_numpy()
        g.loc[need, "code_source"] = "located"
    return g.drop(columns=["raw_code"]).reset_index(drop=True)

