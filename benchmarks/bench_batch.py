"""Batch studies and national coverage on Dask (``territorial_geo.batch``), mirror data.

* Every EPCI of Hauts-de-France (``--epcis region:32``, 90 EPCIs in 5 département
  partitions) from ``examples/campagnes-artois.toml`` as the template, on a fresh
  ``LocalCluster`` of 1 and of 2 worker processes (one thread each; the runs alternate,
  1, 2, 1, 2..., so that other load on a shared machine weighs on both alike), into a
  fresh output folder each run (no resume). Wall time is ``run_batch`` (national tables,
  partition tasks, merge and outputs); the cluster start (which includes the workers'
  imports, :mod:`territorial_geo.batch.worker`) is timed apart and the speed-up with it
  included is printed too. Each run also prints where its time went: before the first
  partition task starts (national tables, fetched by the workers), after the last one ends
  (merge, tables and maps), and each worker's tasks with their wall and CPU seconds. Peak
  memory per worker is the largest ``ru_maxrss`` a partition task reported.
* National coverage: minutes from every commune of France to the nearest CGET 2019 third
  place, one task per département, on 2 workers.

On a loaded machine the wall times say little (the two workers do not get two cores), so
the benchmark also prints a *CPU model*: what each run would take on an idle 2-core machine,
from CPU seconds measured in this load: the national tables (each group read in this
process, plus pickling it to the other worker and back), the busiest worker's partition
tasks (CPU seconds the tasks reported) and the merge and outputs (rerun here on the run's
table). 1 worker: all of them one after the other; 2 workers: the longer group and its copy,
the busiest worker, the outputs.

Medians over ``--repeats``. The network cache of the data directory is warm after the
first run (as on any second batch). The machine may be shared: the load average is printed
before each run; say so with the numbers.
The last line is
``speedup_2_workers=<ratio> cpu_model_speedup=<ratio> per_epci_s=<seconds>
coverage_france_s=<seconds> peak_mb=<MB>``
where ``per_epci_s`` is the 1-worker wall time divided by the number of EPCIs (loads
included).

Usage: python benchmarks/bench_batch.py [--data-dir data] [--repeats 2] [--epcis region:32]
[--epcis-per-task N] [--no-coverage]
"""

from __future__ import annotations

import argparse
import os
import pickle
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


def national_cpu(cfg, data_dir) -> list[tuple[float, float]]:
    """CPU seconds of each national-table group: reading it (fresh datasets, this process)
    and copying it to another process (pickle out and back in)."""
    tcfg = batch.template(cfg)
    out = []
    for group in batch.NATIONAL_GROUPS:
        c = time.process_time()
        part = batch.national_frames(tcfg, sources.Datasets(data_dir), group)
        read = time.process_time() - c
        c = time.process_time()
        pickle.loads(pickle.dumps(part, protocol=5))
        out.append((read, time.process_time() - c))
    return out


def one_run(cfg, epcis, workers: int, data_dir, epcis_per_task: int | None) -> dict:
    """One batch on a fresh local cluster; wall time, startup, peak memory, timeline."""
    load = os.getloadavg()[0]
    t = time.perf_counter()
    client = batch.make_client(workers=workers)
    startup = time.perf_counter() - t
    out = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        t0 = time.time()
        t = time.perf_counter()
        res = batch.run_batch(cfg, epcis, out, client=client, data_dir=data_dir,
                              epcis_per_task=epcis_per_task)
        wall = time.perf_counter() - t
    finally:
        _shut(client)
    tab = res.table
    c = time.process_time()
    merged = batch.read_partitions(out, [r["partition"] for r in res.tasks])
    batch.write_outputs(merged, out, horizon_year=cfg.demand.horizon_year, lang=cfg.output.lang)
    out_cpu = time.process_time() - c
    shutil.rmtree(out, ignore_errors=True)
    first = min(r["started"] for r in res.tasks) - t0
    last = max(r["finished"] for r in res.tasks) - t0
    workers_line, busiest = [], 0.0
    for pid in sorted({r["pid"] for r in res.tasks}):
        rs = sorted((r for r in res.tasks if r["pid"] == pid), key=lambda r: r["started"])
        busiest = max(busiest, sum(r["cpu_s"] for r in rs))
        workers_line.append(" ".join(f"{r['partition']}[{r['started'] - t0:.0f}-"
                                     f"{r['finished'] - t0:.0f}s cpu {r['cpu_s']:.1f}]"
                                     for r in rs))
    return {"wall": wall, "startup": startup, "load": load,
            "peak_mb": max(r["peak_mb"] for r in res.tasks),
            "n": len(tab), "n_ok": int((tab["status"] == "ok").sum()),
            "epci_s": float(tab["time_s"].median()),
            "cpu": sum(r["cpu_s"] for r in res.tasks),
            "before": first, "after": wall - last, "workers": workers_line,
            "busiest_cpu": busiest, "out_cpu": out_cpu}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--epcis", default="region:32")
    ap.add_argument("--epcis-per-task", type=int, default=None)
    ap.add_argument("--no-coverage", action="store_true")
    a = ap.parse_args()
    cfg = load_config(ROOT / "examples" / "campagnes-artois.toml")[0]
    epcis = batch.select_epcis(a.epcis, epci=sources.load_epci(a.data_dir),
                               commune_list=sources.load_commune_list(a.data_dir))
    print(f"{len(epcis)} EPCIs ({a.epcis}) in {epcis['partition'].nunique()} partitions")
    for w in (1, 2):
        plan = batch.plan_tasks(epcis, workers=w,
                                epcis_per_task=a.epcis_per_task or batch.EPCIS_PER_TASK)
        print(f"plan for {w} worker(s): " + ", ".join(
            f"{k} ({len(g)} EPCIs, cost {batch.task_cost(g):.0f})" for k, g in plan.items()))
    runs: dict[int, list[dict]] = {1: [], 2: []}
    nat: list[list[tuple[float, float]]] = []
    for _ in range(a.repeats):
        nat.append(national_cpu(cfg, a.data_dir))
        print("national tables, CPU s (read, copy) per group: " + ", ".join(
            f"{'+'.join(g)} ({r:.2f}, {c:.2f})" for g, (r, c) in zip(
                batch.NATIONAL_GROUPS, nat[-1], strict=True)))
        for w in (1, 2):
            r = one_run(cfg, epcis, w, a.data_dir, a.epcis_per_task)
            runs[w].append(r)
            print(f"workers={w} load_avg={r['load']:.1f} wall={r['wall']:.1f}s "
                  f"startup={r['startup']:.1f}s before_first_task={r['before']:.1f}s "
                  f"after_last_task={r['after']:.1f}s peak_mb={r['peak_mb']:.0f} "
                  f"ok={r['n_ok']}/{r['n']} median_epci_compute_s={r['epci_s']:.3f} "
                  f"task_cpu_s={r['cpu']:.1f} busiest_worker_cpu_s={r['busiest_cpu']:.1f} "
                  f"outputs_cpu_s={r['out_cpu']:.1f}")
            for line in r["workers"]:
                print(f"    worker: {line}")
    wall = {w: statistics.median(r["wall"] for r in rs) for w, rs in runs.items()}
    peak = max(r["peak_mb"] for rs in runs.values() for r in rs)
    n = runs[1][0]["n"]
    speedup = wall[1] / wall[2]
    per_epci = wall[1] / n
    cpu1 = statistics.median(r["cpu"] for r in runs[1])
    cpu2 = statistics.median(r["cpu"] for r in runs[2])
    best = min(r["wall"] for r in runs[1]) / min(r["wall"] for r in runs[2])
    with_start = (statistics.median(r["wall"] + r["startup"] for r in runs[1])
                  / statistics.median(r["wall"] + r["startup"] for r in runs[2]))
    print(f"median task CPU time (sum over tasks): 1 worker {cpu1:.1f}s, 2 workers "
          f"{cpu2:.1f}s; fastest-run ratio (less sensitive to other load) {best:.2f}x")
    print(f"median wall: 1 worker {wall[1]:.1f}s, 2 workers {wall[2]:.1f}s; "
          f"speed-up {speedup:.2f}x ({with_start:.2f}x with the cluster start); "
          f"{per_epci:.2f}s per EPCI on 1 worker (loads included)")
    reads = [statistics.median(n[i][0] for n in nat) for i in range(len(nat[0]))]
    copies = [statistics.median(n[i][1] for n in nat) for i in range(len(nat[0]))]
    out_cpu = statistics.median(r["out_cpu"] for rs in runs.values() for r in rs)
    model1 = sum(reads) + statistics.median(r["busiest_cpu"] for r in runs[1]) + out_cpu
    model2 = (max(reads) + max(copies) + statistics.median(r["busiest_cpu"] for r in runs[2])
              + out_cpu)
    print(f"CPU model (an idle 2-core machine): 1 worker {model1:.1f}s = national "
          f"{sum(reads):.1f} + tasks {model1 - sum(reads) - out_cpu:.1f} + outputs "
          f"{out_cpu:.1f}; 2 workers {model2:.1f}s = national {max(reads):.1f} + copy "
          f"{max(copies):.1f} + busiest worker {model2 - max(reads) - max(copies) - out_cpu:.1f}"
          f" + outputs {out_cpu:.1f}; speed-up {model1 / model2:.2f}x")
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
    print(f"speedup_2_workers={speedup:.2f} cpu_model_speedup={model1 / model2:.2f} "
          f"per_epci_s={per_epci:.2f} "
          f"coverage_france_s={cov_s:.1f} peak_mb={peak:.0f}")


if __name__ == "__main__":
    main()
