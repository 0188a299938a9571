"""One partition task: every EPCI of the task (error rows for the ones that fail), written
atomically with its marker."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from territorial_geo import sources
from territorial_geo.batch.inputs import PartitionInputs, load_partition
from territorial_geo.batch.markers import _expected, _marker, _part_path
from territorial_geo.batch.summary import epci_summary
from territorial_geo.config import StudyConfig
from territorial_geo.errors import TerritorialGeoError


def _error_row(siren: str, name: str, members: list[str], pop: float, exc: BaseException) -> dict:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, TerritorialGeoError):
        msg = f"{type(exc).__name__}: {msg}"
    return {"siren": siren, "name": name, "n_communes": len(members), "population": pop,
            "status": "error", "error": msg}


def partition_rows(
    cfg: StudyConfig, epcis: pd.DataFrame, *, nat: dict,
    data_dir: str | os.PathLike | None = None,
    load: Callable[..., PartitionInputs] = load_partition, threads: int | None = None,
) -> gpd.GeoDataFrame:
    """Every EPCI of one task: one row each (``status`` ok or error), EPCI outline as
    geometry (EPSG:2154). A task whose inputs cannot be loaded gives error rows.
    ``threads``: the routing kernel's threads (:func:`load_partition`)."""
    communes = nat["communes"]
    members_all = [c for m in epcis["members"] for c in m]
    try:
        data = load(cfg, members_all, nat=nat, data_dir=data_dir, threads=threads)
        failed = None
    except Exception as exc:  # noqa: BLE001  (reported as error rows)
        data, failed = None, exc
    rows, geoms = [], []
    for r in epcis.itertuples():
        members = [c for c in r.members if c in communes.index]
        pop = float(communes.loc[members, "population"].sum())
        geoms.append(communes.loc[members].geometry.union_all() if members else None)
        if failed is not None:
            rows.append(_error_row(r.siren, r.name, r.members, pop, failed))
            continue
        try:
            rows.append(epci_summary(cfg, r.siren, r.name, list(r.members), data))
        except Exception as exc:  # noqa: BLE001  (one failing EPCI must not stop the others)
            rows.append(_error_row(r.siren, r.name, r.members, pop, exc))
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=sources.WORKING_CRS)
    out.insert(2, "partition", list(epcis["partition"]))
    return out


def run_partition(
    cfg: StudyConfig, dep: str, epcis: pd.DataFrame, out: str, *,
    nat: dict, data_dir: str | None = None, template_id: str = "",
    threads: int | None = None,
) -> dict:
    """Compute one partition and write it atomically: ``partitions/<dep>.parquet``, then the
    ``<dep>.done`` marker. The Dask task (a rerun rewrites the same files). ``threads``:
    the routing kernel's threads (one on a Dask worker: the workers share the cores).

    Returns
    -------
    dict
        ``partition``, ``n`` (EPCIs), ``n_error``, ``seconds`` (wall), ``cpu_s`` (CPU time
        of the task's process), ``pid``, ``peak_mb`` (the process's peak resident memory),
        ``started``, ``finished`` (epoch seconds: the workers' timeline).
    """
    import resource

    started = time.time()
    t0, c0 = time.perf_counter(), time.process_time()
    rows = partition_rows(cfg, epcis, nat=nat, data_dir=data_dir, threads=threads)
    o = Path(out)
    sources.atomic_write(_part_path(o, dep), lambda p: rows.to_parquet(p, index=False))
    marker = {**_expected(template_id, list(epcis["siren"])), "n": len(rows),
              "n_error": int((rows["status"] == "error").sum())}
    sources.atomic_write(_marker(o, dep), lambda p: p.write_text(json.dumps(marker),
                                                                 encoding="utf-8"))
    return {"partition": dep, "n": len(rows), "n_error": marker["n_error"],
            "seconds": round(time.perf_counter() - t0, 3),
            "cpu_s": round(time.process_time() - c0, 3), "pid": os.getpid(),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "started": started, "finished": time.time()}
