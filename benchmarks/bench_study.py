"""The warm reference study (``examples/campagnes-artois.toml``), stage by stage.

What ``territorial-geo study examples/campagnes-artois.toml`` costs when it is run a second
time (data files, the table and network caches of the data directory and numba's cache
warm). Every run is a **fresh Python process**, like the command: it times

* ``imports``: importing what the ``study`` command imports (``territorial_geo.cli``, then
  ``study``, ``report``, ``config``); the heavy optional libraries that import loaded are
  listed (none of spopt, pulp, matplotlib, folium, rasterio, dask, osrm, xlsxwriter should
  be: the functions that use them import them, and their import time then counts in the
  stage that does);
* each stage of ``study.run_study`` (``StudyResult.timings``: territory, network, zones,
  demand, coverage, whatever keys the runner reports);
* ``outputs``: ``study.write_outputs`` into a fresh temporary folder. Warm, the charts
  and maps are the ones the warm-up drew from the same inputs (the render cache,
  ``output.render_cache``, :mod:`territorial_geo.outputs.rendercache`), like the tables
  and the network; ``outputs, all drawn`` is the same step with the render cache off
  (every PNG and the web map drawn again: what a run that changed every figure costs);
* ``total``: imports + run + outputs, against the 5 s target (issue 21). The interpreter's
  own start-up (about 0.05 s) is not in it; ``--cli`` times the command end to end.

The first run warms the caches and is discarded; then ``--repeats`` runs, medians per
stage. ``--baseline REF`` also measures the code of git revision ``REF`` (its ``src/``
exported to a temporary folder), the two versions' runs interleaved, and prints the
ratios before/now. ``--quick``: one run after the warm-up, no baseline.

The machine may be shared: say so with the numbers (the load average is printed). The
last line is ``total_s=<s> run_s=<s> outputs_s=<s> imports_s=<s> target_s=5`` (medians of
this version).

Usage: python benchmarks/bench_study.py [--data-dir data] [--repeats 3] [--baseline REF]
[--quick] [--cli]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "examples" / "campagnes-artois.toml"
TARGET_S = 5.0
#: Optional libraries the ``study`` command must not import until a function needs them.
HEAVY = ("spopt", "pulp", "matplotlib", "folium", "rasterio", "dask", "distributed",
         "osrm", "xlsxwriter", "openpyxl", "libpysal", "pointpats", "sklearn", "jinja2", "branca")


def _env(src: Path, data_dir: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    if data_dir:
        env["TERRITORIAL_GEO_DATA"] = str(Path(data_dir).resolve())
    return env


def child(data_dir: str | None, *, draw: bool = False) -> None:
    """Run inside a fresh child: the command's imports, one study, its outputs (``draw``:
    with the render cache off); JSON on stdout."""
    t = time.perf_counter()
    import territorial_geo.cli  # noqa: F401  (what `territorial-geo study` imports)
    from territorial_geo import config, report, study  # noqa: F401

    imports = time.perf_counter() - t
    heavy = sorted(m for m in HEAVY if m in sys.modules)
    cfg, keys = config.load_config(STUDY)
    if draw and "render_cache" in type(cfg.output).__dataclass_fields__:
        cfg = config.with_values(cfg, {"output.render_cache": False})
    tmp = Path(tempfile.mkdtemp(prefix="bench-study-"))
    try:
        t = time.perf_counter()
        res = study.run_study(cfg, overridden=keys, data_dir=data_dir)
        t_run = time.perf_counter() - t
        t = time.perf_counter()
        import inspect  # older revisions (--baseline) read the data directory while writing

        kw = ({"data_dir": data_dir} if "data_dir" in inspect.signature(
            study.write_outputs).parameters else {})
        study.write_outputs(res, tmp / "out", **kw)
        t_out = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"imports": imports, "heavy": heavy, "stages": dict(res.timings),
                      "run": t_run, "outputs": t_out}))


def measure(src: Path, data_dir: str | None, *, draw: bool = False) -> dict:
    """One study run of the code under ``src`` in a fresh child process (``draw``: the
    render cache off)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--draw"] if draw
                                                                        else [])
    if data_dir:
        cmd += ["--data-dir", str(data_dir)]
    out = subprocess.run(cmd, env=_env(src, data_dir), capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"child failed for {src}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_cli(src: Path, data_dir: str | None, repeats: int) -> list[float]:
    """Wall time of the real ``study`` command (fresh process), after one warm-up run."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-study-cli-"))
    cmd = [sys.executable, "-m", "territorial_geo.cli", "study", str(STUDY), "--quiet",
           "--out", str(tmp / "out")]
    times = []
    try:
        for i in range(repeats + 1):
            t = time.perf_counter()
            subprocess.run(cmd, env=_env(src, data_dir), check=True, capture_output=True)
            if i:
                times.append(time.perf_counter() - t)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return times


def export_ref(ref: str, dest: Path) -> Path:
    """``src/`` of git revision ``ref`` exported under ``dest``; returns its ``src``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def summary(runs: list[dict]) -> dict[str, float]:
    """Median seconds per stage, run, outputs, imports and of the runs' totals."""
    keys = list(dict.fromkeys(k for r in runs for k in r["stages"]))
    med = {k: statistics.median(r["stages"].get(k, 0.0) for r in runs) for k in keys}
    for k in ("run", "outputs", "imports"):
        med[k] = statistics.median(r[k] for r in runs)
    med["total"] = statistics.median(r["imports"] + r["run"] + r["outputs"] for r in runs)
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", default=None, help="git revision to compare with")
    ap.add_argument("--quick", action="store_true", help="1 run after the warm-up")
    ap.add_argument("--cli", action="store_true", help="also time the real command")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--draw", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.data_dir, draw=args.draw)
        return
    if args.quick:
        args.repeats, args.baseline = 1, None
    versions = {"now": ROOT / "src"}
    tmp = Path(tempfile.mkdtemp(prefix="bench-study-ref-"))
    try:
        if args.baseline:
            versions = {"before": export_ref(args.baseline, tmp), **versions}
        runs: dict[str, list[dict]] = {v: [] for v in versions}
        drawn: dict[str, list[float]] = {v: [] for v in versions}
        for i in range(args.repeats + 1):
            for v, src in versions.items():  # interleaved
                r = measure(src, args.data_dir)
                if i:  # the first run of each version warms the caches
                    runs[v].append(r)
                    drawn[v].append(measure(src, args.data_dir, draw=True)["outputs"])
        cli = ({v: time_cli(src, args.data_dir, args.repeats)
                for v, src in versions.items()} if args.cli else {})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {v: summary(runs[v]) for v in versions}
    for v in versions:
        med[v]["outputs, all drawn"] = statistics.median(drawn[v])
    print(f"warm reference study ({STUDY.name}): a fresh process per run, medians over "
          f"{args.repeats} run(s) after a discarded warm-up; {os.cpu_count()} cores, load "
          f"average {os.getloadavg()[0]:.2f}")
    for v in versions:
        print(f"heavy optional modules loaded by the imports ({v}): "
              f"{', '.join(runs[v][-1]['heavy']) or 'none'}")
    head = f"{'stage':<12}" + "".join(f"{v + ' (s)':>12}" for v in versions)
    print(head + (f"{'before/now':>12}" if "before" in versions else ""))
    keys = list(dict.fromkeys(k for v in versions for k in med[v]))
    for k in keys:
        if k == "run":
            print("-" * len(head))
        cells = "".join(f"{med[v].get(k, float('nan')):>12.3f}" for v in versions)
        ratio = ""
        if "before" in versions and med["now"].get(k, 0) > 0 and k in med["before"]:
            ratio = f"{med['before'][k] / med['now'][k]:>11.2f}x"
        print(f"{k:<12}{cells}{ratio}")
    for v, times in cli.items():
        print(f"CLI `study` end to end ({v}): median {statistics.median(times):.2f} s "
              f"({', '.join(f'{t:.2f}' for t in times)})")
    now = med["now"]
    verdict = "under" if now["total"] < TARGET_S else "ABOVE"
    print(f"total {now['total']:.2f} s: {verdict} the {TARGET_S:g} s target")
    print(f"total with every chart and map drawn again: "
          f"{now['total'] - now['outputs'] + now['outputs, all drawn']:.2f} s")
    print(f"total_s={now['total']:.2f} run_s={now['run']:.2f} outputs_s={now['outputs']:.2f} "
          f"imports_s={now['imports']:.2f} drawn_outputs_s={now['outputs, all drawn']:.2f} "
          f"target_s={TARGET_S:g}")


if __name__ == "__main__":
    main()
