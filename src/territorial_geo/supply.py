"""Supply: the existing third places a study counts (the CGET 2019 inventory or a file
of the user's in its layout, with seats per place) and the planned ones.

Read at the pipeline's edge (:func:`territorial_geo.pipeline.load_inputs`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import sources
from territorial_geo.config import StudyConfig, SupplyConfig
from territorial_geo.i18n import Note
from territorial_geo.territory import Territory, resolve_communes

#: Said in the supply and coverage sections when no inventory of existing third places
#: could be obtained.
NO_INVENTORY = Note("no_inventory")
_LOAD = object()


def supply_inventory(
    cfg: StudyConfig, data_dir=None, *, data: sources.Datasets | None = None,
) -> tuple[gpd.GeoDataFrame | None, str]:
    """The inventory of existing third places a study uses, loaded once, and its label.

    ``supply.file`` (a CSV in the CGET layout; a relative path is read beside the study
    file when it is there, else from the current directory) when set, else the CGET 2019
    dataset when
    ``supply.use_cget``; when that dataset is not in the data directory (no mirror and no
    reachable address) the study runs on: ``(None, NO_INVENTORY)``.

    Raises
    ------
    DataMissingError
        ``supply.file`` is set but not found.
    """
    data = data or sources.Datasets(data_dir)
    if cfg.supply.file:
        path = Path(cfg.supply.file)
        if not path.is_absolute() and cfg.source_file:
            beside = Path(cfg.source_file).parent / path
            path = beside if beside.is_file() else path
        tp = data.third_places(str(path))
        dialect = tp.attrs.get("csv_dialect", {})
        how = (Note("inv_read_as", encoding=Note(f"enc_{dialect['encoding']}"),
                    sep=dialect["separator"]) if "separator" in dialect else "")
        return tp, Note("inv_supply_file", file=cfg.supply.file, how=how)
    if not cfg.supply.use_cget:
        return None, Note("inv_not_used")
    try:
        sources.dataset_path("third-places", data.data_dir)
    except sources.DataMissingError:
        return None, NO_INVENTORY
    d = sources.CATALOG["third-places"]
    return data.third_places(), Note("inv_cget", source=d.source, vintage=d.vintage)


def site_seats(sites: pd.DataFrame, supply: SupplyConfig) -> tuple[list[float], list[str]]:
    """Seats of existing third places and where each figure comes from, first found of:
    ``supply.site_seats`` by id (``study file (supply.site_seats)``), the inventory's own
    ``seats`` column (``supply file (seats column)``; a ``supply.file`` may carry one),
    ``supply.seats_per_site`` (``ASSUMPTION (seats_per_site)``)."""
    own = (sites["seats"] if "seats" in sites else pd.Series(np.nan, index=sites.index))
    seats, src = [], []
    for i, v in zip(sites["id"].astype(str), own.astype(float), strict=True):
        if i in supply.site_seats:
            seats.append(float(supply.site_seats[i]))
            src.append("study file (supply.site_seats)")
        elif np.isfinite(v):
            seats.append(float(v))
            src.append("supply file (seats column)")
        else:
            seats.append(float(supply.seats_per_site))
            src.append("ASSUMPTION (seats_per_site)")
    return seats, src


def third_places(
    territory: Territory, cfg: StudyConfig, data_dir=None, *, inventory=_LOAD,
    data: sources.Datasets | None = None,
) -> gpd.GeoDataFrame:
    """Existing (CGET 2019 or ``supply.file``) and planned third places in the territory and
    its ring.

    ``inventory`` is the frame :func:`supply_inventory` returned (``None``: no existing
    place); loaded here when not given. Columns ``name``, ``type``, ``status``
    (``existing``/``planned``), ``code``, ``seats``, ``seats_source``, geometry (EPSG:2154).
    """
    data = data or sources.Datasets(data_dir)
    if inventory is _LOAD:
        inventory, _ = supply_inventory(cfg, data=data)
    frames = []
    if inventory is not None:
        tp = inventory[inventory["code"].isin(territory.all_codes)].copy()
        tp["status"] = "existing"
        tp["seats"], tp["seats_source"] = site_seats(tp, cfg.supply)
        frames.append(tp[["id", "name", "type", "status", "code", "seats", "seats_source",
                          "geometry"]])
    if cfg.supply.planned:
        codes = resolve_communes(cfg.supply.planned, data=data, within=territory.all_codes)
        cl = territory.chefs_lieux
        frames.append(gpd.GeoDataFrame({
            "id": [f"planned-{c}" for c in codes],
            "name": [f"Planned: {cl.loc[c, 'nom']}" for c in codes],
            "type": "planned", "status": "planned", "code": codes,
            "seats": cfg.supply.seats_per_site, "seats_source": "ASSUMPTION (seats_per_site)",
        }, geometry=cl.loc[codes].geometry.to_numpy(), crs=cl.crs))
    if not frames:
        return gpd.GeoDataFrame({"id": [], "name": [], "type": [], "status": [], "code": [],
                                 "seats": [], "seats_source": []}, geometry=[],
                                crs=sources.WORKING_CRS)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=sources.WORKING_CRS)
