"""Running a batch: a ``dask.distributed`` client (local cluster or existing scheduler),
the partition tasks, the merge and the outputs; or serially in this process."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from territorial_geo import sources
from territorial_geo.batch.inputs import _national_futures, _with_national, national_frames
from territorial_geo.batch.markers import partition_done, read_partitions
from territorial_geo.batch.outputs import write_outputs
from territorial_geo.batch.partition import run_partition
from territorial_geo.batch.plan import EPCIS_PER_TASK, plan_tasks
from territorial_geo.batch.template import template, template_key
from territorial_geo.config import StudyConfig
from territorial_geo.errors import TerritorialGeoError

log = logging.getLogger(__name__)

#: A partition task whose worker dies is run again on another worker, up to this many times
#: (local clusters; an existing scheduler keeps its own setting).
ALLOWED_FAILURES = 3
#: How long to wait for an existing scheduler (``--scheduler``) before giving up.
SCHEDULER_TIMEOUT = "30s"


@dataclass
class BatchResult:
    """What a batch produced."""

    table: gpd.GeoDataFrame
    out: Path
    computed: list[str]
    skipped: list[str]
    tasks: list[dict]
    seconds: float


def make_client(*, workers: int | None = None, scheduler: str | None = None):
    """A ``dask.distributed`` client: on ``scheduler`` when given, else on a new
    ``LocalCluster`` of ``workers`` processes (default: one per core), one thread each,
    which import the modules of a partition task as they start
    (``territorial_geo.batch.worker``)."""
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
                               processes=True, dashboard_address=":0",
                               preload=["territorial_geo.batch.worker"])
    return Client(cluster)


def run_batch(
    cfg: StudyConfig, epcis: pd.DataFrame, out: str | os.PathLike, *,
    client=None, data_dir: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    write: bool = True, epcis_per_task: int | None = None,
) -> BatchResult:
    """Run every EPCI's study, one task per partition, and write the outputs.

    Parameters
    ----------
    cfg
        The study file (used as a template, see ``batch.template``).
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
        Called with one line per step (resumed partitions, the Dask dashboard link, each
        finished task with the EPCIs done so far); the same lines go to the
        ``territorial_geo.batch.driver`` logger at INFO level.
    write
        Write the merged outputs (:func:`write_outputs`).
    epcis_per_task
        A département with more EPCIs is split into tasks of at most this many (default
        :data:`EPCIS_PER_TASK`); :func:`plan_tasks` then cuts départements further while
        that shortens the expected run on the client's workers, and orders the tasks, the
        most expensive first. A resumed batch keeps the partitions whose task ids and
        EPCIs match.
    """
    t_start = time.perf_counter()
    tcfg = template(cfg)
    key = template_key(cfg)
    o = Path(out).resolve()
    (o / "partitions").mkdir(parents=True, exist_ok=True)
    dd = str(sources.resolve_data_dir(data_dir))
    workers = sum(client.nthreads().values()) if client is not None else 1
    groups = plan_tasks(epcis, workers=workers,
                        epcis_per_task=epcis_per_task or EPCIS_PER_TASK)
    todo = [d for d, g in groups.items() if not partition_done(o, d, key, list(g["siren"]))]
    skipped = [d for d in groups if d not in todo]
    total_epci = sum(len(groups[d]) for d in todo)
    tasks: list[dict] = []
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        log.info(msg)
        if progress is not None:
            progress(msg)

    def done(i: int, d: str, n: int) -> None:
        say(f"task {d} done: {i}/{len(todo)} tasks, {n}/{total_epci} EPCIs, "
            f"{time.perf_counter() - t0:.0f} s")

    if skipped:
        say(f"resuming: {len(skipped)} partition(s) already done ({', '.join(skipped)})")
    if client is None:
        nat = national_frames(tcfg, sources.Datasets(dd)) if todo else {}
        n = 0
        for i, d in enumerate(todo):
            tasks.append(run_partition(tcfg, d, groups[d], str(o), nat=nat, data_dir=dd,
                                       template_id=key))
            n += len(groups[d])
            done(i + 1, d, n)
    elif todo:
        from distributed import as_completed

        say(f"Dask dashboard: {client.dashboard_link}")
        nat_f = _national_futures(client, tcfg, dd, key)
        futs: dict = {}
        running = as_completed()

        def submit(d: str) -> None:
            f = client.submit(_with_national, run_partition, tcfg, d, groups[d], str(o),
                              nat_parts=nat_f, data_dir=dd, template_id=key,
                              # one kernel thread per task: the workers share the cores
                              threads=1, key=f"epci-partition-{d}-{key}", pure=False)
            futs[f] = d
            running.add(f)

        # one task per worker at a time, in the plan's order (most expensive first): the
        # scheduler would otherwise queue every task on a worker at once, in its own order
        queue = list(todo)
        for d in queue[:workers]:
            submit(d)
        queue = queue[workers:]
        n = 0
        for i, f in enumerate(running):
            tasks.append(f.result())
            if queue:
                submit(queue.pop(0))
            n += len(groups[futs[f]])
            done(i + 1, futs[f], n)
    table = read_partitions(o, list(groups))
    if write:
        write_outputs(table, o, horizon_year=cfg.demand.horizon_year, lang=cfg.output.lang)
    return BatchResult(table, o, todo, skipped, tasks, round(time.perf_counter() - t_start, 3))
