"""What a partition task reads: the national tables (one Dask task the partition tasks
depend on) and each task's inputs cut to its area, with the road network over its EPCIs
plus the template's margin (through the network cache)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from territorial_geo import network as netmod
from territorial_geo import pipeline, sources, supply
from territorial_geo.config import StudyConfig
from territorial_geo.errors import TerritorialGeoError
from territorial_geo.territory import build_territory


@dataclass
class PartitionInputs:
    """Everything the EPCIs of one partition need, loaded once.

    Attributes
    ----------
    communes, chefs_lieux
        Communes (polygons) and chefs-lieux of the partition area plus margin.
    density
        INSEE density-grid level per commune code.
    census, csp_shares
        Demand-stage inputs (:func:`territorial_geo.pipeline.load_demand_inputs`).
    inventory, inventory_label
        Existing third places (None when not obtainable) and where they come from.
    network
        Road network over the partition's EPCIs plus the template's margin.
    """

    communes: gpd.GeoDataFrame
    chefs_lieux: gpd.GeoDataFrame
    density: pd.Series
    census: object
    csp_shares: object
    inventory: gpd.GeoDataFrame | None
    inventory_label: str
    network: netmod.RoadNetwork
    #: The routing engine over ``network`` (``zoning.engine``).
    engine: object = None


#: The national tables, each read by :func:`national_frames`.
NATIONAL_TABLES = ("communes", "chefs_lieux", "density", "census", "csp_shares", "inventory")
#: On Dask the national tables are read by one task per group, so that two workers read them
#: side by side before the partition tasks (which need all of them) start. Two groups of
#: about equal read time on the mirror data (benchmarks/bench_batch.py prints the reads:
#: communes and census are the longest, about 1.2 and 1.4 s of CPU each).
NATIONAL_GROUPS = (("communes", "chefs_lieux", "density", "inventory"), ("census", "csp_shares"))


def national_frames(
    cfg: StudyConfig, data: sources.Datasets, tables: tuple[str, ...] = NATIONAL_TABLES,
) -> dict:
    """The national tables every task reads, loaded once: ``communes``, ``chefs_lieux``,
    ``density`` (the grid frame), ``census``, ``csp_shares``, ``inventory`` and
    ``inventory_label``. On Dask they are tasks (one per :data:`NATIONAL_GROUPS` group)
    whose results the partition tasks take as input (read once, fetched by the other
    workers, recomputed if their worker dies).

    Parameters
    ----------
    cfg
        The template (CSP year, supply settings).
    data
        The batch's datasets (:class:`~territorial_geo.sources.Datasets`).
    tables
        The tables to read (names in :data:`NATIONAL_TABLES`; ``inventory`` brings
        ``inventory_label``).

    Raises
    ------
    TerritorialGeoError
        An unknown table name.
    """
    unknown = sorted(set(tables) - set(NATIONAL_TABLES))
    if unknown:
        raise TerritorialGeoError(f"unknown national table(s) {unknown}; known: "
                                  f"{', '.join(NATIONAL_TABLES)}")
    read = {"communes": data.communes, "chefs_lieux": data.chefs_lieux,
            "density": data.density_grid, "census": data.census,
            "csp_shares": lambda: data.csp_shares(cfg.demand.csp_year)}
    out: dict = {}
    if "inventory" in tables:
        out["inventory"], out["inventory_label"] = supply.supply_inventory(cfg, data=data)
    for name in NATIONAL_TABLES:
        if name in tables and name in read:
            out[name] = read[name]()
    return out


def _national_task(cfg: StudyConfig, data_dir: str, tables: tuple[str, ...]) -> dict:
    """:func:`national_frames` read on a worker (the tasks behind :func:`_national_futures`)."""
    return national_frames(cfg, sources.Datasets(data_dir), tables)


def _national_futures(client, cfg: StudyConfig, data_dir: str, key: str) -> list:
    """The national tables as Dask tasks (one per :data:`NATIONAL_GROUPS` group), not
    scattered data: a worker reads each group once and the others fetch it. Scattered data
    lost with a killed worker cannot be recovered (and the active memory manager may have
    dropped the other replicas of a broadcast), which cancels every task that needs it; a
    task's result is recomputed."""
    return [client.submit(_national_task, cfg, data_dir, group, pure=False,
                          key=f"national-frames-{i}-{key}")
            for i, group in enumerate(NATIONAL_GROUPS)]


def _with_national(fn, *args, nat_parts: list[dict], **kwargs):
    """``fn(*args, nat=..., **kwargs)`` with the national tables merged from the results of
    :func:`_national_futures` (the Dask task wrapper of a partition or coverage task)."""
    nat: dict = {}
    for part in nat_parts:
        nat.update(part)
    return fn(*args, nat=nat, **kwargs)


def _datasets(nat: dict, data_dir) -> sources.Datasets:
    """A Datasets handle holding the national tables already read (no read)."""
    return sources.Datasets(data_dir, tables={"communes": nat["communes"],
                                              "chefs_lieux": nat["chefs_lieux"],
                                              "density_grid": nat["density"]})


def load_partition(
    cfg: StudyConfig, members: list[str], *, nat: dict,
    data_dir: str | os.PathLike | None = None, threads: int | None = None,
) -> PartitionInputs:
    """A task's inputs: the national tables (:func:`national_frames`, loaded once by the
    driver) cut to the task's area, and the network over ``members``' outline plus
    ``zoning.margin_km`` (from the network cache when it was built before).

    Parameters
    ----------
    cfg
        The template.
    members
        Every member commune of the partition's EPCIs.
    nat
        :func:`national_frames`.
    data_dir
        Data directory.
    threads
        Threads of the routing kernel (one per task when the workers share the cores).

    Raises
    ------
    TerritorialGeoError
        ``demand.solos.sirene_file`` is set (batches use the census solo-worker fallback
        or the default SIRENE counts only).
    """

    if cfg.demand.solos.sirene_file:
        raise TerritorialGeoError("demand.solos.sirene_file is not supported by batch runs "
                                  "(a per-territory SIRENE extract); remove it from the template")
    communes, cl = nat["communes"], nat["chefs_lieux"]
    area = build_territory("partition", "communes", sorted(set(members)), communes=communes,
                           chefs_lieux=cl, ring_km=0.0)
    keep = communes.geometry.intersects(area.outline.buffer(cfg.zoning.margin_km * 1000))
    sub = communes[keep]
    net = pipeline.network_for(cfg, area, data=_datasets(nat, data_dir))
    return PartitionInputs(
        communes=sub, chefs_lieux=cl[cl.index.isin(sub.index)],
        density=nat["density"]["dens"], census=nat["census"], csp_shares=nat["csp_shares"],
        inventory=nat["inventory"], inventory_label=nat["inventory_label"], network=net,
        engine=pipeline.engine_for(cfg, net, threads=threads))
