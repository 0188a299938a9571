"""The tasks of a batch and their order: départements (cut when too large, then split further
while that shortens the expected run on the workers), the most expensive first."""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from territorial_geo.errors import TerritorialGeoError

#: Largest number of EPCIs in one task (a département with more is split). A task holds
#: the road network of its EPCIs plus the template's margin in memory.
EPCIS_PER_TASK = 24
#: ASSUMPTION (measured on region 32 with benchmarks/bench_batch.py, 2026-12): expected cost
#: of a task = this fixed part + one unit per member commune of its EPCIs. The fixed part is
#: the task's start (its area, the buffers of its outline, the network over the area plus
#: the margin): 14 tasks of region 32 took 35.8 s of CPU, the same EPCIs in 5 tasks 27.7 s,
#: about 0.9 s per task, while one commune costs about 0.003 s.
TASK_COST_COMMUNES = 300.0


def _chunks(g: pd.DataFrame, k: int) -> list[pd.DataFrame]:
    g = g.sort_values("siren").reset_index(drop=True)
    return [g.iloc[idx].reset_index(drop=True) for idx in np.array_split(np.arange(len(g)), k)]


def _named(dep: str, chunks: list[pd.DataFrame]) -> dict:
    if len(chunks) == 1:
        return {dep: chunks[0]}
    return {f"{dep}-{i}": c for i, c in enumerate(chunks, start=1)}


def task_groups(epcis: pd.DataFrame, epcis_per_task: int = EPCIS_PER_TASK) -> dict:
    """The tasks of a batch: task id -> its EPCIs. A département (``partition``) with at
    most ``epcis_per_task`` EPCIs is one task named after it (``"62"``); a larger one is
    cut, in SIREN order, into ``ceil(n / epcis_per_task)`` balanced tasks ``"62-1"``,
    ``"62-2"``... Each task loads the network of its own EPCIs plus the margin."""
    if epcis_per_task < 1:
        raise TerritorialGeoError(f"epcis_per_task must be >= 1, got {epcis_per_task}")
    out = {}
    for dep, g in epcis.groupby("partition", sort=True):
        out.update(_named(str(dep), _chunks(g, -(-len(g) // epcis_per_task))))
    return out


def task_cost(epcis: pd.DataFrame) -> float:
    """Expected cost of one task (:data:`TASK_COST_COMMUNES` plus its member communes)."""
    return TASK_COST_COMMUNES + float(sum(len(m) for m in epcis["members"]))


def makespan(costs: list[float], workers: int) -> float:
    """When the last of ``workers`` ends if each takes the next task, most expensive first,
    as it becomes free (the longest-processing-time rule; a lower bound of any order is
    ``max(max(costs), sum(costs) / workers)``)."""
    ends = [0.0] * max(workers, 1)
    for c in sorted(costs, reverse=True):
        heapq.heapreplace(ends, ends[0] + c)
    return max(ends)


def plan_tasks(
    epcis: pd.DataFrame, *, workers: int = 1, epcis_per_task: int = EPCIS_PER_TASK,
) -> dict:
    """The tasks of a batch on ``workers`` workers, in the order to submit them.

    Starts from :func:`task_groups`; then, while it shortens the expected run
    (:func:`makespan` of :func:`task_cost`), the département whose tasks are the most
    expensive is cut into one more task: large tasks share the cost of a task's start, the
    smaller ones fill the end. One worker (or a serial run) keeps the fewest tasks.

    Parameters
    ----------
    epcis
        :func:`~territorial_geo.batch.select_epcis` (``siren``, ``members``, ``partition``).
    workers
        Worker processes the tasks run on.
    epcis_per_task
        Most EPCIs in one task.

    Returns
    -------
    dict
        Task id (``"62"``, or ``"62-1"``, ``"62-2"``... for a cut département) -> its EPCIs,
        the most expensive task first (ties: by id).
    """
    if epcis_per_task < 1:
        raise TerritorialGeoError(f"epcis_per_task must be >= 1, got {epcis_per_task}")
    by_dep = {str(d): g for d, g in epcis.groupby("partition", sort=True)}
    cuts = {d: -(-len(g) // epcis_per_task) for d, g in by_dep.items()}

    def costs(c: dict) -> list[float]:
        return [task_cost(x) for d, g in by_dep.items() for x in _chunks(g, c[d])]

    best = makespan(costs(cuts), workers)
    while True:
        can = [d for d in by_dep if cuts[d] < len(by_dep[d])]
        if not can:
            break
        dep = max(can, key=lambda d: (max(task_cost(x) for x in _chunks(by_dep[d], cuts[d])),
                                      d))
        trial = {**cuts, dep: cuts[dep] + 1}
        span = makespan(costs(trial), workers)
        if span >= best:
            break
        cuts, best = trial, span
    groups: dict = {}
    for d, g in by_dep.items():
        groups.update(_named(d, _chunks(g, cuts[d])))
    order = sorted(groups, key=lambda t: (-task_cost(groups[t]), t))
    return {t: groups[t] for t in order}
