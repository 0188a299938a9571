"""Batch studies: every EPCI of a département, a region or France, on Dask.

One study file is a *template*: each EPCI gets the template's parameters, its own territory
and its market towns chosen from the INSEE density grid (:func:`zoning.candidate_towns`, the
five most populated communes on levels 4-5). The template's ``zoning.market_towns``,
``[[poles]]``, ``supply.planned`` and ``supply.file`` (a territory's own list of third
places) name places of one territory and are not used: the CGET inventory is.

Work is split by *partition*, one per département (an EPCI belongs to the département of
most of its communes); a département with more than :data:`EPCIS_PER_TASK` EPCIs is cut
into several tasks (``62-1``, ``62-2``...), and with several workers :func:`plan_tasks` cuts
départements further only while that shortens the expected run (every task pays for its
own area and network), the most expensive tasks first, one per worker at a time. A task
loads the road network of its EPCIs plus the template's margin (through the network cache),
never France; the national tables (communes, chefs-lieux, density grid, census, CSP shares,
third-place inventory) are read once, by two tasks side by side that the others depend on
(:func:`national_frames`, :data:`NATIONAL_GROUPS`; recomputed if their worker dies). The
pure stage functions then run per EPCI (:func:`epci_summary`). An EPCI that fails becomes a
``status = error`` row; the others complete.

Each finished task is written atomically to ``OUT/partitions/<task>.parquet``, then its
``<task>.done`` marker (written last, it names the template and EPCIs it was computed for): a
restarted batch skips the partitions whose marker matches and never reads a partition
without one. A task rerun after a worker died writes the same file again, so no EPCI is lost
or counted twice.

Scheduling is ``dask.distributed``: a ``LocalCluster`` of processes by default, or an
existing scheduler (``Client(address)``); no scheduler of our own.

Modules, one concern each: ``batch.selection`` (which EPCIs),
``batch.template`` (the study file as a template, its hash),
``batch.inputs`` (national tables, a partition's inputs),
``batch.summary`` (one EPCI's row), ``batch.partition``
(one task), ``batch.markers`` (finished partitions on disk),
``batch.plan`` (the tasks), ``batch.driver`` (Dask or
serial run), ``batch.outputs`` (merged tables, ranking),
``batch.choropleth`` (maps), ``batch.national``
(national coverage).
"""

from territorial_geo.batch.choropleth import batch_maps
from territorial_geo.batch.driver import (
    ALLOWED_FAILURES,
    SCHEDULER_TIMEOUT,
    BatchResult,
    make_client,
    run_batch,
)
from territorial_geo.batch.inputs import (
    NATIONAL_GROUPS,
    NATIONAL_TABLES,
    PartitionInputs,
    load_partition,
    national_frames,
)
from territorial_geo.batch.markers import partition_done, read_partitions
from territorial_geo.batch.national import (
    NATIONAL_MINUTES,
    NationalCoverage,
    all_departements,
    coverage_partition,
    coverage_tables,
    national_coverage,
    write_coverage,
)
from territorial_geo.batch.outputs import ranking, write_outputs
from territorial_geo.batch.partition import partition_rows, run_partition
from territorial_geo.batch.plan import (
    EPCIS_PER_TASK,
    TASK_COST_COMMUNES,
    makespan,
    plan_tasks,
    task_cost,
    task_groups,
)
from territorial_geo.batch.selection import select_epcis
from territorial_geo.batch.summary import EPCI_MINUTES, epci_summary
from territorial_geo.batch.template import template, template_key
from territorial_geo.codes import department_of

__all__ = [
    "ALLOWED_FAILURES", "EPCIS_PER_TASK", "EPCI_MINUTES", "NATIONAL_GROUPS", "NATIONAL_MINUTES",
    "NATIONAL_TABLES", "TASK_COST_COMMUNES",
    "SCHEDULER_TIMEOUT", "BatchResult", "NationalCoverage", "PartitionInputs",
    "all_departements", "batch_maps", "coverage_partition", "coverage_tables", "department_of",
    "epci_summary", "load_partition", "make_client", "makespan", "national_coverage", "national_frames",
    "partition_done", "partition_rows", "plan_tasks", "ranking", "read_partitions", "run_batch",
    "run_partition", "select_epcis", "task_cost", "task_groups", "template", "template_key",
    "write_coverage", "write_outputs",
]
