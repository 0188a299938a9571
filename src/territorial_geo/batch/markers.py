"""Finished partitions on disk: ``partitions/<task>.parquet`` and its ``<task>.done``
marker (written last, naming the template and EPCIs); a partition without a matching
marker is never read as done."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from territorial_geo import sources
from territorial_geo.errors import TerritorialGeoError


def _marker(out: Path, dep: str) -> Path:
    return out / "partitions" / f"{dep}.done"


def _part_path(out: Path, dep: str) -> Path:
    return out / "partitions" / f"{dep}.parquet"


def _expected(key: str, sirens: list[str]) -> dict:
    return {"template": key, "sirens": sorted(sirens)}


def partition_done(out: str | os.PathLike, dep: str, key: str, sirens: list[str]) -> bool:
    """True when partition ``dep`` was finished for this template and these EPCIs (its
    marker, written after the data file, says so)."""
    m = _marker(Path(out), dep)
    if not m.is_file() or not _part_path(Path(out), dep).is_file():
        return False
    try:
        got = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    exp = _expected(key, sirens)
    return got.get("template") == exp["template"] and got.get("sirens") == exp["sirens"]



def read_partitions(out: str | os.PathLike, deps: list[str]) -> gpd.GeoDataFrame:
    """The finished partitions (each with its marker), as one table sorted by SIREN.

    Raises
    ------
    TerritorialGeoError
        A partition has no marker (never read as done).
    """
    o = Path(out)
    frames = []
    for d in deps:
        if not _marker(o, d).is_file():
            raise TerritorialGeoError(f"{_part_path(o, d)}: partition not finished (no "
                                      "marker); rerun the batch to compute it")
        frames.append(gpd.read_parquet(_part_path(o, d)))
    tab = pd.concat(frames, ignore_index=True)
    seat_cols = sorted(c for c in tab.columns if c.startswith("seats_"))
    head = ["siren", "name", "partition", "n_communes", "population", "status", "error",
            "market_towns", "n_zones"]
    rest = [c for c in tab.columns if c not in head + seat_cols + ["geometry"]]
    tab = tab[[c for c in head if c in tab] + seat_cols + rest + ["geometry"]]
    return gpd.GeoDataFrame(tab.sort_values("siren").reset_index(drop=True),
                            geometry="geometry", crs=sources.WORKING_CRS)
