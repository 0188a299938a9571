"""CGET 2019 third places (tiers-lieux) as points, located in their COG 2026 commune."""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo.codes import is_in, normalize_codes
from territorial_geo.errors import DataFormatError, DataMissingError
from territorial_geo.sources.catalog import WEB_CRS, WORKING_CRS
from territorial_geo.sources.cog import code_mapping
from territorial_geo.sources.communes import load_communes
from territorial_geo.sources.fetching import dataset_path
from territorial_geo.sources.tables import read_csv, require_columns, to_number

log = logging.getLogger(__name__)

#: Encodings tried in turn on a user's CSV: UTF-8 (with or without BOM), then Windows-1252
#: (what French Excel writes with "CSV (séparateur : point-virgule)").
ENCODINGS = ("utf-8-sig", "cp1252")
#: Separators recognised in a user's CSV (French Excel writes ``;``).
SEPARATORS = ",;\t|"


def read_user_csv(path: str | os.PathLike) -> tuple[pd.DataFrame, dict]:
    """Read a CSV as planners have it: UTF-8 or Windows-1252, ``,`` ``;`` tab or ``|``
    separated (numbers with decimal commas are parsed later, by :func:`to_number`).

    Returns
    -------
    (DataFrame, dict)
        Every column as text, and how the file was read: ``encoding`` (``utf-8``,
        ``utf-8-sig`` with a BOM, or ``cp1252``), ``separator``, ``label`` (one line, e.g.
        ``"Windows-1252, ';'-separated"``).

    Raises
    ------
    DataFormatError
        The file is in none of these encodings, or is not a table (file named).
    """
    raw = Path(path).read_bytes()
    text = encoding = None
    for enc in ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        encoding = ("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8") \
            if enc == "utf-8-sig" else enc
        break
    if text is None:
        raise DataFormatError(f"{path}: not UTF-8 nor Windows-1252 text; save it as CSV UTF-8")
    head = "\n".join(text.splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(head, delimiters=SEPARATORS).delimiter
    except csv.Error:
        sep = ","
    df = read_csv(io.StringIO(text), label=str(path), sep=sep, engine="c", encoding=None)
    names = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252"}
    info = {"encoding": encoding, "separator": sep,
            "label": f"{names[encoding]}, {sep!r}-separated"}
    log.info("%s read as %s", path, info["label"])
    return df, info


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
        A CSV in the CGET layout (columns ``ID``, ``NOM_TL``, ``INSEECOM``, ``TYPO``,
        ``LAT``, ``LONG``; ``ADRESSE``, ``CP``, ``NOMCOM`` and ``seats``, the number of
        workstations, optional; an empty cell is unknown) read instead of the dataset (a
        study's ``supply.file``): UTF-8 or Windows-1252, ``,`` or ``;`` separated, decimal
        points or commas, as French Excel saves it (:func:`read_user_csv`; how it was read
        is in ``attrs["csv_dialect"]``).
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
        raw, dialect = read_user_csv(p)
    else:
        p = dataset_path("third-places", data_dir)
        raw = read_csv(p, sep=",", engine="c")
        dialect = {"encoding": "utf-8", "separator": ",", "label": "UTF-8, ','-separated"}
    require_columns(raw, ["ID", "NOM_TL", "INSEECOM", "TYPO", "LAT", "LONG"], p)
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
    need = g["code"].isna().to_numpy() | ~is_in(g["code"], communes.index)
    if bool(need.any()):
        joined = gpd.sjoin(g.loc[need, ["geometry"]], communes[["code", "geometry"]],
                           how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        g.loc[need, "code"] = joined["code"].to_numpy()
        g.loc[need, "code_source"] = "located"
    out = g.drop(columns=["raw_code"]).reset_index(drop=True)
    out.attrs["csv_dialect"] = dialect
    return out

