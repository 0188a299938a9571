"""The warm reference study (``examples/campagnes-artois.toml``), stage by stage.

What ``territorial-geo study examples/campagnes-artois.toml`` costs when it is run a second
time (data files and the network cache warm), split into:

* ``imports``: importing what the ``study`` command imports (``territorial_geo.cli``, then
  ``study``, ``report``, ``config``), timed in ``--import-repeats`` fresh interpreters
  (median); the heavy optional libraries that import loaded are listed (none of spopt,
  pulp, matplotlib, folium, rasterio, dask, osrm, openpyxl should be: they are imported by
  the functions that use them);
* each stage of ``study.run_study`` (``StudyResult.timings``: territory, network, zones,
  demand, coverage, whatever keys the runner reports);
* ``outputs``: ``study.write_outputs`` into a fresh temporary folder;
* ``total``: imports + run + outputs (the medians added), against the 5 s target (issue 21).

The study runs in one child process per code version: once to warm up (numba, file and
network caches, first imports of the libraries the outputs use; discarded), then
``--repeats`` times (median per stage). ``--baseline REF`` also measures the code of git
revision ``REF`` (its ``src/`` exported to a temporary folder) the same way, the two
versions' children interleaved, and prints the ratios before/after. ``--quick``: one repeat,
one import timing, no baseline. ``--cli`` also times the real command end to end (a fresh
``python -m territorial_geo.cli study`` process, after one warm-up run), which adds the
interpreter start-up.

The machine may be shared: say so with the numbers. The last line is
``total_s=<s> run_s=<s> outputs_s=<s> imports_s=<s> target_s=5`` (medians of this version).

Usage: python benchmarks/bench_study.py [--data-dir data] [--repeats 3] [--import-repeats 3]
[--baseline REF] [--quick] [--cli]
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
         "osrm", "openpyxl", "libpysal", "pointpats", "sklearn", "jinja2", "branca")

_IMPORT_CHILD = """
import sys, time, json
t = time.perf_counter()
import territorial_geo.cli
from territorial_geo import config, report, study
dt = time.perf_counter() - t
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"imports": dt, "heavy": heavy}}))
"""


def _env(src: Path, data_dir: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    if data_dir:
        env["TERRITORIAL_GEO_DATA"] = str(Path(data_dir).resolve())
    return env


def time_imports(src: Path, data_dir: str | None) -> dict:
    """Import time of the ``study`` command in a fresh interpreter, and the heavy modules
    it loaded."""
    out = subprocess.run([sys.executable, "-c", _IMPORT_CHILD.format(heavy=HEAVY)],
                         env=_env(src, data_dir), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(repeats: int, data_dir: str | None) -> None:
    """Run inside the child: warm-up run, then ``repeats`` timed runs; JSON on stdout."""
    from territorial_geo import study
    from territorial_geo.config import load_config

    cfg, keys = load_config(STUDY)
    runs = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-study-"))
    try:
        for i in range(repeats + 1):
            t = time.perf_counter()
            res = study.run_study(cfg, overridden=keys, data_dir=data_dir)
            t_run = time.perf_counter() - t
            t = time.perf_counter()
            study.write_outputs(res, tmp / f"out{i}", data_dir=data_dir)
            t_out = time.perf_counter() - t
            shutil.rmtree(tmp / f"out{i}")
            if i:  # the first run warms up and is discarded
                runs.append({"stages": dict(res.timings), "run": t_run, "outputs": t_out})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(runs))


def measure(src: Path, repeats: int, data_dir: str | None) -> list[dict]:
    """Timed runs of the code under ``src`` in a fresh child process."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--repeats", str(repeats)]
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


def summary(runs: list[dict], imports: list[float]) -> dict[str, float]:
    """Median seconds per stage, run, outputs, imports and their total."""
    keys = list(dict.fromkeys(k for r in runs for k in r["stages"]))
    med = {k: statistics.median(r["stages"].get(k, 0.0) for r in runs) for k in keys}
    med["run"] = statistics.median(r["run"] for r in runs)
    med["outputs"] = statistics.median(r["outputs"] for r in runs)
    med["imports"] = statistics.median(imports)
    med["total"] = med["imports"] + med["run"] + med["outputs"]
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--import-repeats", type=int, default=3)
    ap.add_argument("--baseline", default=None, help="git revision to compare with")
    ap.add_argument("--quick", action="store_true", help="1 repeat, 1 import timing")
    ap.add_argument("--cli", action="store_true", help="also time the real command")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.repeats, args.data_dir)
        return
    if args.quick:
        args.repeats, args.import_repeats, args.baseline = 1, 1, None
    versions = {"now": ROOT / "src"}
    tmp = Path(tempfile.mkdtemp(prefix="bench-study-ref-"))
    try:
        if args.baseline:
            versions = {"before": export_ref(args.baseline, tmp), **versions}
        imports = {v: [] for v in versions}
        heavy = {}
        for _ in range(args.import_repeats):  # interleaved
            for v, src in versions.items():
                r = time_imports(src, args.data_dir)
                imports[v].append(r["imports"])
                heavy[v] = r["heavy"]
        runs = {v: measure(src, args.repeats, args.data_dir) for v, src in versions.items()}
        cli = ({v: time_cli(src, args.data_dir, max(1, args.repeats - 1))
                for v, src in versions.items()} if args.cli else {})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {v: summary(runs[v], imports[v]) for v in versions}
    print(f"warm reference study ({STUDY.name}), medians over {args.repeats} run(s) after a "
          f"discarded warm-up; imports over {args.import_repeats} fresh interpreter(s); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for v in versions:
        print(f"heavy optional modules loaded by the imports ({v}): "
              f"{', '.join(heavy[v]) or 'none'}")
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
    print(f"total_s={now['total']:.2f} run_s={now['run']:.2f} outputs_s={now['outputs']:.2f} "
          f"imports_s={now['imports']:.2f} target_s={TARGET_S:g}")


if __name__ == "__main__":
    main()
