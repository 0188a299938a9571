"""Imported by each worker process of a local batch cluster as it starts (Dask ``preload``,
see :func:`~territorial_geo.batch.make_client`): the modules a partition task runs, so that
the first task on each worker does not wait for their import (about 1.5 s of CPU per
worker; benchmarks/bench_batch.py times it with the cluster's start)."""

from __future__ import annotations

from territorial_geo import study  # noqa: F401  (imported by the partition tasks)
from territorial_geo.batch import partition  # noqa: F401
from territorial_geo.network import approximate, kernel  # noqa: F401
