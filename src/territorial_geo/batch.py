"""Batch studies: every EPCI of a département, a region or France, on Dask.

One study file is a *template*: each EPCI gets the template's parameters, its own territory
and its market towns chosen from the INSEE density grid (:func:`zoning.candidate_towns`, the
five most populated communes on levels 4-5). The template's ``zoning.market_towns``,
``[[poles]]``, ``supply.planned`` and ``supply.file`` (a territory's own list of third
places) name places of one territory and are not used: the CGET inventory is.

Work is split by *partition*, one per département (an EPCI belongs to the département of
most of its communes); a département with more than :data:`EPCIS_PER_TASK` EPCIs is cut
into several tasks (``62-1``, ``62-2``...) so that the workers stay balanced. A task loads
the road network of its EPCIs plus the template's margin (through the network cache), never
France; the national tables (communes, chefs-lieux, density grid, census, CSP shares,
third-place inventory) are read once, by one task that the others depend on
(:func:`national_frames`; recomputed if its worker dies). The pure stage functions then run per EPCI
(:func:`epci_summary`). An EPCI that fails becomes a ``status = error`` row; the others
complete.

Each finished task is written atomically to ``OUT/partitions/<task>.parquet``, then its
``<task>.done`` marker (written last, it names the template and EPCIs it was computed for): a
restarted batch skips the partitions whose marker matches and never reads a partition
without one. A task rerun after a worker died writes the same file again, so no EPCI is lost
or counted twice.

Scheduling is ``dask.distributed``: a ``LocalCluster`` of processes by default, or an
existing scheduler (``Client(address)``); no scheduler of our own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import coverage, pipeline, sources, supply
from territorial_geo import network as netmod
from territorial_geo.config import StudyConfig
from territorial_geo.errors import TerritorialGeoError, UnknownPlaceError
from territorial_geo.i18n import DEFAULT_LANG, messages, number
from territorial_geo.territory import build_territory

#: Market towns chosen per EPCI from the density grid (as a study with auto towns does).
N_TOWNS = 5
#: Coverage thresholds always reported per EPCI (minutes to the nearest CGET third place).
EPCI_MINUTES = (10.0, 20.0)
#: Coverage thresholds of the national coverage.
NATIONAL_MINUTES = (10.0, 20.0, 30.0)
SEGMENTS = ("solos", "teleworkers", "total")
#: A partition task whose worker dies is run again on another worker, up to this many times
#: (local clusters; an existing scheduler keeps its own setting).
ALLOWED_FAILURES = 3
#: How long to wait for an existing scheduler (``--scheduler``) before giving up.
SCHEDULER_TIMEOUT = "30s"


def department_of(code: str) -> str:
    """The département of a commune code (``"62041"`` -> ``"62"``, ``"97411"`` -> ``"974"``)."""
    code = str(code)
    return code[:3] if code.startswith("97") else code[:2]


# ----------------------------------------------------------------------------- selection


def select_epcis(
    spec: str, *, epci: pd.DataFrame, commune_list: pd.DataFrame,
) -> pd.DataFrame:
    """The EPCIs a ``--epcis`` spec names, with their partition (département).

    Parameters
    ----------
    spec
        ``dep:62``, ``region:32``, ``france`` or comma-separated SIRENs.
    epci
        :func:`territorial_geo.sources.load_epci`.
    commune_list
        :func:`territorial_geo.sources.load_commune_list` (``departement``, ``region``).

    Returns
    -------
    pandas.DataFrame
        ``siren``, ``name``, ``members`` (list of codes), ``partition`` (the département of
        most members; ties: the smallest code), sorted by partition then SIREN.

    Raises
    ------
    UnknownPlaceError
        Unknown form, département, region or SIREN (named).
    """
    text = str(spec).strip()
    df = epci[["siren", "nom", "members"]].rename(columns={"nom": "name"}).copy()
    df["siren"] = df["siren"].astype(str)
    deps = commune_list["departement"].astype(str)
    regs = commune_list["region"].astype(str)

    def main_dep(members: list[str]) -> str:
        d = pd.Series([deps.get(c, department_of(c)) for c in members])
        counts = d.value_counts()
        return str(min(counts.index[counts == counts.max()]))

    df["partition"] = [main_dep(m) for m in df["members"]]
    low = text.lower()
    if low == "france":
        out = df
    elif low.startswith("dep:"):
        code = text[4:].strip().upper().zfill(2)
        if code not in set(deps):
            raise UnknownPlaceError(f"--epcis {text}: no département {code!r} "
                                    "(départements look like 02, 62, 2A, 974)")
        out = df[df["partition"] == code]
    elif low.startswith("region:"):
        code = text[7:].strip()
        in_region = set(deps[regs == code])
        if not in_region:
            raise UnknownPlaceError(f"--epcis {text}: no region {code!r} (regions are INSEE "
                                    "codes: 32 Hauts-de-France, 11 Île-de-France, ...)")
        out = df[df["partition"].isin(in_region)]
    else:
        wanted = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in wanted if s not in set(df["siren"])]
        if not wanted or bad:
            raise UnknownPlaceError(
                f"--epcis {text}: unknown EPCI SIREN(s) {bad or [text]}; give dep:CODE, "
                "region:CODE, france or comma-separated 9-digit SIRENs")
        out = df[df["siren"].isin(wanted)]
    if out.empty:
        raise UnknownPlaceError(f"--epcis {text}: no EPCI selected")
    return out.sort_values(["partition", "siren"]).reset_index(drop=True)


def template(cfg: StudyConfig) -> StudyConfig:
    """The study file as a batch template: no market town, pole, planned site or supply file
    of its own territory (towns come from the density grid per EPCI; existing third places
    from the national CGET inventory)."""
    z = dataclasses.replace(cfg.zoning, market_towns=[], auto_towns=True)
    s = dataclasses.replace(cfg.supply, planned=[], file="")
    return dataclasses.replace(cfg, zoning=z, supply=s, poles=[])


def template_key(cfg: StudyConfig) -> str:
    """A short hash of the template's parameters (partition markers name it)."""
    text = json.dumps(template(cfg).to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- per partition


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


def national_frames(cfg: StudyConfig, data: sources.Datasets) -> dict:
    """The national tables every task reads, loaded once by the driver: ``communes``,
    ``chefs_lieux``, ``density`` (the grid frame), ``census``, ``csp_shares``,
    ``inventory``, ``inventory_label``. On Dask they are one task whose result the
    partition tasks take as input (read once, fetched by the other workers, recomputed if
    its worker dies).

    Parameters
    ----------
    cfg
        The template (CSP year, supply settings).
    data
        The batch's datasets (:class:`~territorial_geo.sources.Datasets`).
    """
    inventory, label = supply.supply_inventory(cfg, data=data)
    return {"communes": data.communes(), "chefs_lieux": data.chefs_lieux(),
            "density": data.density_grid(), "census": data.census(),
            "csp_shares": data.csp_shares(cfg.demand.csp_year), "inventory": inventory,
            "inventory_label": label}


def _national_task(cfg: StudyConfig, data_dir: str) -> dict:
    """:func:`national_frames` read on a worker (the task behind :func:`_national_future`)."""
    return national_frames(cfg, sources.Datasets(data_dir))


def _national_future(client, cfg: StudyConfig, data_dir: str, key: str):
    """The national tables as a Dask task, not scattered data: a worker reads them once and
    the others fetch them from it. Scattered data lost with a killed worker cannot be
    recovered (and the active memory manager may have dropped the other replicas of a
    broadcast), which cancels every task that needs it; a task's result is recomputed."""
    return client.submit(_national_task, cfg, data_dir, key=f"national-frames-{key}",
                         pure=False)


def _datasets(nat: dict, data_dir) -> sources.Datasets:
    """A Datasets handle pre-filled with the national tables (no read)."""
    d = sources.Datasets(data_dir)
    d._memo.update({("communes",): nat["communes"], ("chefs_lieux",): nat["chefs_lieux"],
                    ("density_grid",): nat["density"]})
    return d


def load_partition(
    cfg: StudyConfig, members: list[str], *, nat: dict,
    data_dir: str | os.PathLike | None = None,
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
        engine=pipeline.engine_for(cfg, net))


def epci_summary(
    cfg: StudyConfig, siren: str, name: str, members: list[str], data: PartitionInputs,
) -> dict:
    """One EPCI's summary row from a partition's loaded inputs (reads no file): the
    study's stages (:mod:`territorial_geo.pipeline`) over the EPCI, its market towns taken
    from the density grid.

    Returns
    -------
    dict
        ``siren``, ``name``, ``n_communes``, ``population``, ``status`` (``ok``),
        ``error`` (empty), ``market_towns``, ``n_zones``, ``seats_<segment>_<year>`` (union
        of the zones, each commune once), ``supply_sites``, ``supply_seats`` (existing third
        places in the union of the zones), ``unmet_seats_<horizon>`` (union seats minus
        supply), ``share_population_<N>min`` (N in 10, 20 and the template's
        ``coverage.minutes``), ``uncovered_population`` (farther than
        ``coverage.budget_min`` from any existing third place), ``time_s``.

    Raises
    ------
    TerritorialGeoError
        No market town (no commune on density levels 4-5), and any stage error.
    """
    t0 = time.perf_counter()
    cfg = template(cfg)  # market towns from the density grid, no pole nor planned site
    terr = build_territory(name, "epci", sorted(members), communes=data.communes,
                           chefs_lieux=data.chefs_lieux, ring_km=cfg.ring_km, siren=siren)
    row: dict = {"siren": siren, "name": name, "n_communes": len(terr.codes),
                 "population": float(terr.population), "status": "ok", "error": ""}
    inputs = pipeline.inputs_from_frames(
        cfg, terr, data.network, census=data.census, csp_shares=data.csp_shares,
        inventory=data.inventory, inventory_label=data.inventory_label, density=data.density,
        engine=data.engine)
    if not inputs.towns:
        raise TerritorialGeoError(
            f"EPCI {siren} ({name}): no market town (no commune on density-grid levels 4-5); "
            "give its towns in a study of its own")
    zr = pipeline.zones_stage(inputs, polygons=False)
    dem = pipeline.demand_stage(inputs, zr)
    seats = pipeline.seats_stage(inputs, zr, dem, None, uncertainty_draws=False,
                                 rules=False).zone_seats
    row["market_towns"] = ";".join(inputs.towns)
    row["n_zones"] = len(zr.zones.zone_codes)
    for r in seats[seats["variant"] == "union"].itertuples():
        row[f"seats_{r.segment}_{r.year}"] = float(r.seats)
    sites = inputs.sites
    existing = sites[sites["status"] == "existing"]
    missing = inputs.inventory_missing
    in_union = existing[existing["code"].isin({c for v in zr.membership.values() for c in v})]
    row["supply_sites"] = np.nan if missing else float(len(in_union))
    row["supply_seats"] = np.nan if missing else float(in_union["seats"].sum())
    h = cfg.demand.horizon_year
    row[f"unmet_seats_{h}"] = row.get(f"seats_total_{h}", np.nan) - row["supply_seats"]
    minutes = sorted(set(EPCI_MINUTES) | {float(m) for m in cfg.coverage.minutes})
    cov = pipeline.coverage_stage(inputs, dem, minutes=minutes, sites="existing", levels=False)
    for r in cov.shares().itertuples():
        row[f"share_population_{r.minutes:g}min"] = (np.nan if missing else
                                                     float(r.share_population))
    pop = cov.weights["population"]
    row["uncovered_population"] = (np.nan if missing else
                                   float(pop[~cov.existing_cover].sum()))
    row["time_s"] = round(time.perf_counter() - t0, 3)
    return row


def _error_row(siren: str, name: str, members: list[str], pop: float, exc: BaseException) -> dict:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, TerritorialGeoError):
        msg = f"{type(exc).__name__}: {msg}"
    return {"siren": siren, "name": name, "n_communes": len(members), "population": pop,
            "status": "error", "error": msg}


def partition_rows(
    cfg: StudyConfig, epcis: pd.DataFrame, *, nat: dict,
    data_dir: str | os.PathLike | None = None,
    load: Callable[..., PartitionInputs] = load_partition,
) -> gpd.GeoDataFrame:
    """Every EPCI of one task: one row each (``status`` ok or error), EPCI outline as
    geometry (EPSG:2154). A task whose inputs cannot be loaded gives error rows."""
    communes = nat["communes"]
    members_all = [c for m in epcis["members"] for c in m]
    try:
        data = load(cfg, members_all, nat=nat, data_dir=data_dir)
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


def run_partition(
    cfg: StudyConfig, dep: str, epcis: pd.DataFrame, out: str, *,
    nat: dict, data_dir: str | None = None, template_id: str = "",
) -> dict:
    """Compute one partition and write it atomically: ``partitions/<dep>.parquet``, then the
    ``<dep>.done`` marker. The Dask task (a rerun rewrites the same files).

    Returns
    -------
    dict
        ``partition``, ``n`` (EPCIs), ``n_error``, ``seconds`` (wall), ``cpu_s`` (CPU time
        of the task's process), ``pid``, ``peak_mb`` (the process's peak resident memory).
    """
    import resource

    t0, c0 = time.perf_counter(), time.process_time()
    rows = partition_rows(cfg, epcis, nat=nat, data_dir=data_dir)
    o = Path(out)
    sources.atomic_write(_part_path(o, dep), lambda p: rows.to_parquet(p, index=False))
    marker = {**_expected(template_id, list(epcis["siren"])), "n": len(rows),
              "n_error": int((rows["status"] == "error").sum())}
    sources.atomic_write(_marker(o, dep), lambda p: p.write_text(json.dumps(marker),
                                                                 encoding="utf-8"))
    return {"partition": dep, "n": len(rows), "n_error": marker["n_error"],
            "seconds": round(time.perf_counter() - t0, 3),
            "cpu_s": round(time.process_time() - c0, 3), "pid": os.getpid(),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ----------------------------------------------------------------------------- driver

#: Largest number of EPCIs in one task (a département with more is split).
EPCIS_PER_TASK = 8


def task_groups(epcis: pd.DataFrame, epcis_per_task: int = EPCIS_PER_TASK) -> dict:
    """The tasks of a batch: task id -> its EPCIs. A département (``partition``) with at
    most ``epcis_per_task`` EPCIs is one task named after it (``"62"``); a larger one is
    cut, in SIREN order, into ``ceil(n / epcis_per_task)`` balanced tasks ``"62-1"``,
    ``"62-2"``... Each task loads the network of its own EPCIs plus the margin."""
    if epcis_per_task < 1:
        raise TerritorialGeoError(f"epcis_per_task must be >= 1, got {epcis_per_task}")
    out = {}
    for dep, g in epcis.groupby("partition", sort=True):
        g = g.sort_values("siren").reset_index(drop=True)
        k = -(-len(g) // epcis_per_task)
        if k == 1:
            out[str(dep)] = g
            continue
        for i, idx in enumerate(np.array_split(np.arange(len(g)), k), start=1):
            out[f"{dep}-{i}"] = g.iloc[idx].reset_index(drop=True)
    return out



@dataclass
class BatchResult:
    """What a batch produced."""

    table: gpd.GeoDataFrame
    out: Path
    computed: list[str]
    skipped: list[str]
    tasks: list[dict]
    seconds: float


def _bar(done: int, total: int, n_epci: int, total_epci: int, t0: float) -> str:
    w = 30
    k = int(w * done / max(total, 1))
    return (f"\r[{'#' * k}{' ' * (w - k)}] {done}/{total} tasks, {n_epci}/{total_epci} "
            f"EPCIs, {time.perf_counter() - t0:.0f}s")


def make_client(*, workers: int | None = None, scheduler: str | None = None):
    """A ``dask.distributed`` client: on ``scheduler`` when given, else on a new
    ``LocalCluster`` of ``workers`` processes (default: one per core), one thread each."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise TerritorialGeoError(
                f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); "
                "start one (dask scheduler) or drop --scheduler to run locally") from None
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=":0")
    return Client(cluster)


def run_batch(
    cfg: StudyConfig, epcis: pd.DataFrame, out: str | os.PathLike, *,
    client=None, data_dir: str | os.PathLike | None = None, progress: bool = True,
    write: bool = True, epcis_per_task: int = EPCIS_PER_TASK,
) -> BatchResult:
    """Run every EPCI's study, one task per partition, and write the outputs.

    Parameters
    ----------
    cfg
        The study file (used as a template, see :func:`template`).
    epcis
        :func:`select_epcis`.
    out
        Output folder; ``partitions/`` in it holds the finished partitions (resume).
    client
        A ``distributed.Client``; ``None`` runs the partitions one after the other in this
        process (the serial reference).
    data_dir
        Data directory (resolved here, so workers get an absolute path).
    progress
        Print the dashboard link and a progress bar to stderr.
    write
        Write the merged outputs (:func:`write_outputs`).
    epcis_per_task
        A département with more EPCIs is split into tasks of at most this many
        (:func:`task_groups`): smaller tasks balance the workers.
    """
    t_start = time.perf_counter()
    tcfg = template(cfg)
    key = template_key(cfg)
    o = Path(out).resolve()
    (o / "partitions").mkdir(parents=True, exist_ok=True)
    dd = str(sources.resolve_data_dir(data_dir))
    groups = task_groups(epcis, epcis_per_task)
    todo = [d for d, g in groups.items() if not partition_done(o, d, key, list(g["siren"]))]
    skipped = [d for d in groups if d not in todo]
    err = sys.stderr
    total_epci = sum(len(groups[d]) for d in todo)
    tasks: list[dict] = []
    t0 = time.perf_counter()
    if progress and skipped:
        print(f"resuming: {len(skipped)} partition(s) already done ({', '.join(skipped)})",
              file=err)
    if client is None:
        nat = national_frames(tcfg, sources.Datasets(dd)) if todo else {}
        n = 0
        for i, d in enumerate(todo):
            tasks.append(run_partition(tcfg, d, groups[d], str(o), nat=nat, data_dir=dd,
                                       template_id=key))
            n += len(groups[d])
            if progress:
                print(_bar(i + 1, len(todo), n, total_epci, t0), end="", file=err, flush=True)
    else:
        from distributed import as_completed

        if progress:
            print(f"Dask dashboard: {client.dashboard_link}", file=err, flush=True)
        # big partitions first, so the last task is a short one
        order = sorted(todo, key=lambda d: -len(groups[d]))
        nat_f = _national_future(client, tcfg, dd, key)
        futs = {client.submit(run_partition, tcfg, d, groups[d], str(o), nat=nat_f, data_dir=dd,
                              template_id=key, key=f"epci-partition-{d}-{key}", pure=False): d for d in order}
        n = 0
        for i, f in enumerate(as_completed(futs)):
            tasks.append(f.result())
            n += len(groups[futs[f]])
            if progress:
                print(_bar(i + 1, len(todo), n, total_epci, t0), end="", file=err, flush=True)
    if progress and todo:
        print(file=err)
    table = read_partitions(o, list(groups))
    if write:
        write_outputs(table, o, horizon_year=cfg.demand.horizon_year, lang=cfg.output.lang)
    return BatchResult(table, o, todo, skipped, tasks, round(time.perf_counter() - t_start, 3))


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


def _popup(r: pd.Series, horizon_year: int, lang: str = DEFAULT_LANG) -> str:
    import html

    e = html.escape
    _ = messages(lang)
    if r["status"] != "ok":
        return (f"<b>{e(str(r['name']))}</b> ({r['siren']})<br>{_('batch_status_error')}<br>"
                f"{e(str(r['error']))}")
    h = horizon_year

    def f(col: str, digits: int = 1, share: bool = False) -> str:
        v = r.get(col)
        if v is None or pd.isna(v):
            return _("batch_na")
        if share:
            return f"{number(100 * float(v), lang, digits=0)} %"
        return number(float(v), lang, digits=digits)

    return (f"<b>{e(str(r['name']))}</b> ({r['siren']})<br>"
            + "<br>".join(e(x) for x in (
                _("batch_communes", n=int(r["n_communes"]),
                  pop=number(float(r["population"]), lang, digits=0)),
                _("batch_zones", n=int(r["n_zones"]), towns=str(r["market_towns"])),
                _("batch_seats", year=h, v=f(f"seats_total_{h}")),
                _("batch_supply", v=f("supply_seats")),
                _("batch_unmet", year=h, v=f(f"unmet_seats_{h}")),
                _("batch_within", a=f("share_population_10min", share=True),
                  b=f("share_population_20min", share=True)),
                _("batch_uncovered", v=f("uncovered_population", digits=0)))))


def batch_maps(table: gpd.GeoDataFrame, out: str | os.PathLike, *, horizon_year: int,
               lang: str = DEFAULT_LANG) -> None:
    """``map.html`` (Folium choropleth of unmet seats by EPCI, click for the EPCI's summary;
    EPCIs in error in grey) and ``map.png`` (the same choropleth, printable); labels in
    ``lang`` (the message catalogue, :mod:`territorial_geo.i18n`)."""
    import folium

    from territorial_geo import maps

    _ = messages(lang)

    o = Path(out)
    col = f"unmet_seats_{horizon_year}"
    t = table.copy()
    if col not in t:
        t[col] = np.nan
    ok = (t["status"] == "ok") & t[col].notna()
    fills = pd.Series("#bbbbbb", index=t.index)
    bins: list[float] = []
    if ok.any():
        classes, bins = maps.classify(t.loc[ok, col])
        fills[ok] = [maps.SEQ_COLOURS[min(int(c), 4)] for c in classes]
    web = t.assign(geometry=t.geometry.simplify(100)).to_crs(sources.WEB_CRS)
    minx, miny, maxx, maxy = web.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=8,
                   tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    fg = folium.FeatureGroup(name=_("batch_layer", year=horizon_year))
    for i, r in web.iterrows():
        gj = folium.GeoJson(
            gpd.GeoDataFrame({"siren": [r["siren"]], "name": [r["name"]]},
                             geometry=[r.geometry], crs=sources.WEB_CRS).to_json(),
            style_function=lambda _f, c=fills[i]: {"fillColor": c, "color": "#444",
                                                   "weight": 0.8, "fillOpacity": 0.75},
            tooltip=str(r["name"]))
        folium.Popup(_popup(r, horizon_year, lang), max_width=360).add_to(gj)
        gj.add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    from branca.element import Element

    m.get_root().html.add_child(Element(
        '<div style="position:fixed;bottom:20px;left:10px;z-index:9999;background:white;'
        'padding:6px;font:12px sans-serif">'
        + maps._legend_html(_("batch_legend", year=horizon_year), maps.SEQ_COLOURS, bins)
        + f"<div>{html_escape(maps.credits(lang))}</div></div>"))
    maps.save_map(m, o / "map.html")

    def png(p: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 9))
        t.plot(ax=ax, color=fills.to_numpy(), edgecolor="#444", linewidth=0.3)
        ax.set_axis_off()
        ax.set_title(_("batch_title", year=horizon_year))
        from matplotlib.patches import Patch

        lo, handles = None, []
        for c, b in zip(maps.SEQ_COLOURS, bins, strict=False):
            handles.append(Patch(facecolor=c, edgecolor="#444",
                                 label=f"≤ {b:.0f}" if lo is None else f"{lo:.0f} – {b:.0f}"))
            lo = b
        handles.append(Patch(facecolor="#bbbbbb", edgecolor="#444", label=_("batch_error")))
        ax.legend(handles=handles, title=_("batch_legend", year=horizon_year),
                  loc="lower left", fontsize=8)
        fig.text(0.01, 0.01, maps.credits(lang), fontsize=6)
        fig.savefig(p, dpi=110, format="png")
        plt.close(fig)

    sources.atomic_write(o / "map.png", png)


def html_escape(text: str) -> str:
    """HTML-escape a text."""
    import html

    return html.escape(text)


# ----------------------------------------------------------------------------- national coverage


@dataclass
class NationalCoverage:
    """Minutes from every commune to the nearest CGET third place, and population shares.

    Attributes
    ----------
    communes
        ``code``, ``nom``, ``departement``, ``region``, ``population``, ``minutes`` (inf when
        no third place is reachable on the partition's network), ``error`` (empty, or why the
        département could not be computed; its communes then have NaN minutes).
    departements, regions
        ``departement`` / ``region``, ``minutes`` (10, 20, 30), ``covered_population``,
        ``total_population``, ``share_population``.
    """

    communes: pd.DataFrame
    departements: pd.DataFrame
    regions: pd.DataFrame


def coverage_partition(
    cfg: StudyConfig, dep: str, *, nat: dict, data_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Minutes from each commune of département ``dep`` to the nearest existing third place
    (inventory within the département plus ``zoning.margin_km``), on the template's network
    over the département plus that margin. The Dask task of :func:`national_coverage`.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``nom``, ``departement``, ``population``, ``minutes``, ``error``.
    """
    communes = nat["communes"]
    codes = sorted(communes.index[communes["departement"] == dep])
    out = pd.DataFrame({"code": codes, "nom": communes.loc[codes, "nom"].to_numpy(),
                        "departement": dep,
                        "population": communes.loc[codes, "population"].to_numpy(float)})
    try:
        inventory = nat["inventory"]
        if inventory is None:
            raise TerritorialGeoError(nat["inventory_label"])
        cl = nat["chefs_lieux"]
        terr = build_territory(f"Département {dep}", "department", codes, communes=communes,
                               chefs_lieux=cl, ring_km=0.0)
        net = pipeline.network_for(cfg, terr, data=_datasets(nat, data_dir))
        reach = terr.outline.buffer(cfg.zoning.margin_km * 1000)
        sites = inventory[inventory.geometry.within(reach)]
        if len(sites):
            t = coverage.nearest_site_times(net, terr.chefs_lieux.loc[codes].geometry, sites)
            out["minutes"] = t["time_min"].to_numpy()
        else:
            out["minutes"] = np.inf
        out["error"] = ""
    except Exception as exc:  # noqa: BLE001  (reported per département)
        out["minutes"] = np.nan
        out["error"] = " ".join(str(exc).split()) or type(exc).__name__
    return out


def coverage_tables(
    communes: pd.DataFrame, by: str, minutes: tuple[float, ...] = NATIONAL_MINUTES,
) -> pd.DataFrame:
    """Population within each threshold of a third place, per value of column ``by``
    (``departement`` or ``region``): ``covered_population``, ``total_population``,
    ``share_population`` (NaN when the group has no population with a result),
    ``communes_without_result`` (communes whose département could not be computed, left out
    of both sums)."""
    rows = []
    for key, all_sub in communes.groupby(by, sort=True):
        failed = all_sub["minutes"].isna()
        sub = all_sub[~failed]
        tot = float(sub["population"].sum())
        for n in minutes:
            cov = float(sub.loc[sub["minutes"] <= n, "population"].sum())
            rows.append({by: key, "minutes": float(n), "covered_population": cov,
                         "total_population": tot,
                         "share_population": cov / tot if tot > 0 else np.nan,
                         "communes_without_result": int(failed.sum())})
    return pd.DataFrame(rows)


def national_coverage(
    cfg: StudyConfig, deps: list[str], *, client=None,
    data_dir: str | os.PathLike | None = None, minutes: tuple[float, ...] = NATIONAL_MINUTES,
    progress: bool = False,
) -> NationalCoverage:
    """Coverage of the CGET 2019 third places over départements ``deps``, one task per
    département (``client``: Dask; ``None``: serially here), merged.

    Parameters
    ----------
    cfg
        Study file giving the network settings (``zoning.network``, speeds, margin).
    deps
        Département codes (all of them for France: :func:`all_departements`).
    """
    dd = str(sources.resolve_data_dir(data_dir))
    tcfg = template(cfg)
    data = sources.Datasets(dd)
    if client is None:
        nat = national_frames(tcfg, data)
        parts = [coverage_partition(tcfg, d, nat=nat, data_dir=dd) for d in deps]
    else:
        from distributed import as_completed

        nat_f = _national_future(client, tcfg, dd, template_key(cfg))
        futs = [client.submit(coverage_partition, tcfg, d, nat=nat_f, data_dir=dd, pure=False,
                              key=f"coverage-{d}-{template_key(cfg)}") for d in deps]
        t0 = time.perf_counter()
        for i, _f in enumerate(as_completed(futs)):
            if progress:
                print(_bar(i + 1, len(futs), 0, 0, t0).split(", 0/0")[0], end="",
                      file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
        parts = client.gather(futs)
    com = pd.concat(parts, ignore_index=True)
    regions = data.commune_list()["region"].astype(str)
    com.insert(3, "region", com["code"].map(regions).fillna("").to_numpy())
    com = com.sort_values("code").reset_index(drop=True)
    return NationalCoverage(com, coverage_tables(com, "departement", minutes),
                            coverage_tables(com, "region", minutes))


def all_departements(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Every département with a commune in the communes layer."""
    return sorted(sources.load_communes(data_dir)["departement"].dropna().astype(str).unique())


def write_coverage(cov: NationalCoverage, out: str | os.PathLike) -> None:
    """``coverage_communes.csv``, ``coverage_departements.csv``, ``coverage_regions.csv``,
    each atomically (unreachable communes: empty minutes)."""
    o = Path(out)
    com = cov.communes.assign(minutes=cov.communes["minutes"].replace(np.inf, np.nan))
    for name, df in (("communes", com), ("departements", cov.departements),
                     ("regions", cov.regions)):
        sources.atomic_write(o / f"coverage_{name}.csv",
                             lambda p, df=df: df.to_csv(p, index=False, float_format="%.4f"))
