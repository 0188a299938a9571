"""Batch studies and national coverage on Dask (``territorial_geo.batch``), mirror data.

* Every EPCI of Hauts-de-France (``--epcis region:32``, 90 EPCIs in 5 département
  partitions) from ``examples/campagnes-artois.toml`` as the template, on a fresh
  ``LocalCluster`` of 1 then 2 worker processes (one thread each), into a fresh output
  folder each run (no resume). Wall time is ``run_batch`` (partition tasks, merge and
  outputs), the cluster start is timed apart. Peak memory per worker is the largest
  ``ru_maxrss`` a partition task reported.
* National coverage: minutes from every commune of France to the nearest CGET 2019 third
  place, one task per département, on 2 workers.

Medians over ``--repeats``. The network cache of the data directory is warm after the
first run (as on any second batch). The machine may be shared: say so with the numbers.
The last line is
``speedup_2_workers=<ratio> per_epci_s=<seconds> coverage_france_s=<seconds> peak_mb=<MB>``
where ``per_epci_s`` is the 1-worker wall time divided by the number of EPCIs (loads
included).

Usage: python benchmarks/bench_batch.py [--data-dir data] [--repeats 2] [--epcis region:32]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from territorial_geo import batch, sources
from territorial_geo.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def _shut(client) -> None:
    """Close a client and the local cluster it started."""
    cluster = client.cluster
    client.close()
    cluster.close()


def one_run(cfg, epcis, workers: int, data_dir) -> dict:
    """One batch on a fresh local cluster; wall time, startup, peak memory, task times."""
    t = time.perf_counter()
    client = batch.make_client(workers=workers)
    startup = time.perf_counter() - t
    out = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        t = time.perf_counter()
        res = batch.run_batch(cfg, epcis, out, client=client, data_dir=data_dir)
        wall = time.perf_counter() - t
    finally:
        _shut(client)
    tab = res.table
    shutil.rmtree(out, ignore_errors=True)
    return {"wall": wall, "startup": startup, "peak_mb": max(r["peak_mb"] for r in res.tasks),
            "n": len(tab), "n_ok": int((tab["status"] == "ok").sum()),
            "epci_s": float(tab["time_s"].median()),
            "cpu": sum(r["cpu_s"] for r in res.tasks),
            "max_task_cpu": max(r["cpu_s"] for r in res.tasks),
            "tasks": sorted((r["partition"], r["seconds"]) for r in res.tasks)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--epcis", default="region:32")
    ap.add_argument("--no-coverage", action="store_true")
    a = ap.parse_args()
    cfg = load_config(ROOT / "examples" / "campagnes-artois.toml")[0]
    epcis = batch.select_epcis(a.epcis, epci=sources.load_epci(a.data_dir),
                               commune_list=sources.load_commune_list(a.data_dir))
    print(f"{len(epcis)} EPCIs ({a.epcis}) in {epcis['partition'].nunique()} partitions")
    runs = {}
    for w in (1, 2):
        runs[w] = [one_run(cfg, epcis, w, a.data_dir) for _ in range(a.repeats)]
        for r in runs[w]:
            print(f"workers={w} wall={r['wall']:.1f}s startup={r['startup']:.1f}s "
                  f"peak_mb={r['peak_mb']:.0f} ok={r['n_ok']}/{r['n']} "
                  f"median_epci_compute_s={r['epci_s']:.3f} task_cpu_s={r['cpu']:.1f} "
                  f"tasks={r['tasks']}")
    wall = {w: statistics.median(r["wall"] for r in rs) for w, rs in runs.items()}
    peak = max(r["peak_mb"] for rs in runs.values() for r in rs)
    n = runs[1][0]["n"]
    speedup = wall[1] / wall[2]
    per_epci = wall[1] / n
    cpu1 = statistics.median(r["cpu"] for r in runs[1])
    cpu2 = statistics.median(r["cpu"] for r in runs[2])
    best = min(r["wall"] for r in runs[1]) / min(r["wall"] for r in runs[2])
    print(f"median task CPU time (sum over tasks): 1 worker {cpu1:.1f}s, 2 workers "
          f"{cpu2:.1f}s; fastest-run ratio (less sensitive to other load) {best:.2f}x")
    print(f"median wall: 1 worker {wall[1]:.1f}s, 2 workers {wall[2]:.1f}s; "
          f"speed-up {speedup:.2f}x; {per_epci:.2f}s per EPCI on 1 worker (loads included)")
    cov_s = float("nan")
    if not a.no_coverage:
        deps = batch.all_departements(a.data_dir)
        client = batch.make_client(workers=2)
        try:
            t = time.perf_counter()
            cov = batch.national_coverage(cfg, deps, client=client, data_dir=a.data_dir)
            cov_s = time.perf_counter() - t
        finally:
            _shut(client)
        c = cov.communes
        fr = batch.coverage_tables(c.assign(country="FR"), "country")
        print(f"national coverage: {len(deps)} départements, {len(c)} communes, "
              f"{int((c['error'] != '').sum())} without a result, {cov_s:.1f}s on 2 workers")
        for r in fr.itertuples():
            print(f"  France population within {r.minutes:g} min: {r.share_population:.3f}")
    print(f"speedup_2_workers={speedup:.2f} per_epci_s={per_epci:.2f} "
          f"coverage_france_s={cov_s:.1f} peak_mb={peak:.0f}")


if __name__ == "__main__":
    main()
