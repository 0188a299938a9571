"""The merged batch outputs: tables, ranking, errors and (optionally) the maps."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import sources
from territorial_geo.batch.choropleth import batch_maps
from territorial_geo.i18n import DEFAULT_LANG


def ranking(table: pd.DataFrame, horizon_year: int) -> pd.DataFrame:
    """EPCIs (status ok) by unmet potential net of supply at the horizon year, largest
    first: ``rank``, ``siren``, ``name``, ``unmet_seats_<year>``, ``seats_total_<year>``,
    ``supply_seats``, ``uncovered_population``."""
    col = f"unmet_seats_{horizon_year}"
    ok = table[table["status"] == "ok"]
    cols = ["siren", "name", col, f"seats_total_{horizon_year}", "supply_seats",
            "uncovered_population"]
    r = ok[[c for c in cols if c in ok]].sort_values([col, "siren"], ascending=[False, True])
    r.insert(0, "rank", np.arange(1, len(r) + 1))
    return pd.DataFrame(r).reset_index(drop=True)


def write_outputs(table: gpd.GeoDataFrame, out: str | os.PathLike, *, horizon_year: int,
                  maps: bool = True, lang: str = DEFAULT_LANG) -> None:
    """Write ``epcis.csv``, ``epcis.parquet`` (GeoParquet), ``epcis.gpkg``, ``ranking.csv``,
    ``errors.csv`` and, with ``maps``, ``map.html`` and ``map.png`` (labels in ``lang``),
    each atomically."""
    o = Path(out)
    flat = pd.DataFrame(table.drop(columns="geometry"))
    sources.atomic_write(o / "epcis.csv", lambda p: flat.to_csv(p, index=False,
                                                                float_format="%.4f"))
    sources.atomic_write(o / "epcis.parquet", lambda p: table.to_parquet(p, index=False))
    sources.atomic_write(o / "epcis.gpkg", lambda p: table.to_file(p, layer="epcis",
                                                                   driver="GPKG"))
    sources.atomic_write(o / "ranking.csv", lambda p: ranking(flat, horizon_year).to_csv(
        p, index=False, float_format="%.4f"))
    errs = flat.loc[flat["status"] == "error", ["siren", "name", "partition", "error"]]
    sources.atomic_write(o / "errors.csv", lambda p: errs.to_csv(p, index=False))
    if maps:
        batch_maps(table, o, horizon_year=horizon_year, lang=lang)
