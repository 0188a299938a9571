"""OSRM engine (``engine = "osrm"``) on a region-sized input: preparation cost and warm
zoning time against the built-in engine, side by side in one process.

Input: the **SYNTHETIC** Hauts-de-France PBF of ``bench_readers.py``
(:func:`bench_readers.synthetic_osm`: street grids around every commune chef-lieu, about
6 M nodes; generated once into ``benchmarks/results/``), clipped to the CC des Campagnes de
l'Artois (EPCI SIREN 200069482) + 25 km, as a study does. It is a scaling input, not a real
road network: the times it gives are not drive times of the Artois.

Measured
--------
Preparation (cold, once): ``osrm-extract`` (stock car.lua), ``osrm-partition``,
``osrm-customize`` on the clipped extract: wall seconds and peak resident memory of each
tool's own process (its ``VmHWM``, recorded by
:func:`territorial_geo.network.osrm_engine.prepare` in the cache manifest).

Warm zoning: :func:`territorial_geo.zoning.build_zones` of the reference territory's five
market towns (62045, 62063, 62279, 62649, 62820), budget 10 minutes, bands 5 and 10, with
isochrone polygons, the graph and the OSRM data already cached; each repeat builds the engine
(``make_engine``: opening the OSRM data) and the zones, the two engines alternating; one
untimed warm-up run each (numba compilation, file cache). Medians over ``--repeats`` and
the ratio OSRM / built-in (target of issue 18: <= 2).

Usage: python benchmarks/bench_osrm.py [--repeats 3] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_readers import ARTOIS_SIREN, ROOT, synthetic_osm  # noqa: E402

TOWNS = ["62045", "62063", "62279", "62649", "62820"]


def _zoning(terr, net, engine_name: str, bands: list[float],
            sample_m: float) -> tuple[float, object]:
    from territorial_geo import network as netmod
    from territorial_geo import zoning

    t0 = time.perf_counter()
    eng = netmod.make_engine(engine_name, net, osrm_sample_m=sample_m)
    z = zoning.build_zones(terr, TOWNS, network=net, budget_min=10.0, bands=bands, engine=eng)
    return time.perf_counter() - t0, z


def run(repeats: int = 3, threads: int | None = None, bands: tuple[float, ...] = (5.0, 10.0),
        fresh: bool = True, sample_m: float = 1000.0) -> dict:
    """Prepare OSRM data (cold) and time the warm zoning with both engines.

    Returns
    -------
    dict
        ``input``, ``clip_graph_s`` (read of the network, cold or cached: ``graph_cached``),
        ``osrm_steps`` (per step ``seconds``, ``peak_rss_mb``), ``zoning`` (per engine the
        median, all runs, zone sizes), ``ratio_osrm_builtin``.
    """
    from territorial_geo import network as netmod
    from territorial_geo.network import osrm_engine
    from territorial_geo.territory import load_territory

    results = ROOT / "benchmarks" / "results"
    pbf = results / "osm-synthetic-hdf.osm.pbf"
    info = synthetic_osm(pbf)
    terr = load_territory(ARTOIS_SIREN, ring_km=15.0)
    cache = results / "osrm-bench-cache"
    t0 = time.perf_counter()
    net = netmod.read_pbf(pbf, area=terr.outline, margin_m=25_000.0, cache_dir=cache)
    clip_graph_s = time.perf_counter() - t0
    clipped = osrm_engine.network_extract(net)
    folder = osrm_engine.osrm_folder(clipped, osrm_engine.stock_profile(), cache)
    if fresh and folder.exists():  # cold preparation: only this benchmark's own cache
        shutil.rmtree(folder)
    t0 = time.perf_counter()
    base = osrm_engine.prepare(clipped, cache_dir=cache, threads=threads)
    prepare_s = time.perf_counter() - t0
    man = osrm_engine.manifest(base)
    runs: dict[str, list[float]] = {"builtin": [], "osrm": []}
    sizes = {}
    for name in runs:  # warm-up
        _, z = _zoning(terr, net, name, list(bands), sample_m)
        sizes[name] = {c: len(v) for c, v in z.membership(territory_only=False).items()}
    for _ in range(repeats):
        for name in runs:
            s, _z = _zoning(terr, net, name, list(bands), sample_m)
            runs[name].append(round(s, 3))
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {
        "input": {"synthetic_pbf": info, "clipped_pbf_mb": round(clipped.stat().st_size / 1e6, 1),
                  "graph_nodes": net.n_nodes, "graph_edges": len(net.edges),
                  "territory": ARTOIS_SIREN, "margin_km": 25, "towns": TOWNS,
                  "budget_min": 10, "bands": list(bands), "osrm_sample_m": sample_m},
        "clip_graph_s": round(clip_graph_s, 2), "graph_cached": bool(net.source.get("cached")),
        "osrm_prepare_s": round(prepare_s, 2), "osrm_steps": man["steps"],
        "osrm_threads": threads, "osrm_bindings": man["osrm_bindings"],
        "zoning": {k: {"median_s": med[k], "runs_s": runs[k],
                       "members_per_zone": sizes[k]} for k in runs},
        "ratio_osrm_builtin": round(med["osrm"] / med["builtin"], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None,
                    help="threads of the OSRM tools (default: every core)")
    ap.add_argument("--bands", default="5,10", help="zone bands in minutes (default 5,10)")
    ap.add_argument("--sample-m", type=float, default=1000.0,
                    help="OSRM isochrone sample cell side in metres (default 1000)")
    ap.add_argument("--keep", action="store_true",
                    help="reuse prepared OSRM data (the preparation is then not cold)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = run(args.repeats, args.threads, tuple(float(b) for b in args.bands.split(",")),
              fresh=not args.keep, sample_m=args.sample_m)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    i = res["input"]
    print(f"SYNTHETIC Hauts-de-France PBF ({i['synthetic_pbf']['n_nodes'] / 1e6:.1f} M nodes) "
          f"clipped to EPCI {i['territory']} + {i['margin_km']} km: {i['clipped_pbf_mb']} MB, "
          f"graph {i['graph_nodes']} nodes / {i['graph_edges']} edges "
          f"({'cached' if res['graph_cached'] else 'built'} in {res['clip_graph_s']} s)")
    print(f"OSRM preparation (osrm-bindings {res['osrm_bindings']}, stock car.lua, MLD), "
          f"total {res['osrm_prepare_s']} s:")
    for step, s in res["osrm_steps"].items():
        print(f"  osrm-{step:10s} {s['seconds']:8.2f} s   peak RSS {s['peak_rss_mb']:8.1f} MB")
    print(f"warm zoning, {len(i['towns'])} towns, {i['budget_min']} min, bands {i['bands']}, "
          f"polygons, OSRM sample cells {i['osrm_sample_m']:g} m (median of {len(res['zoning']['builtin']['runs_s'])}):")
    for k, z in res["zoning"].items():
        print(f"  {k:8s} {z['median_s']:7.2f} s  runs {z['runs_s']}  members "
              f"{z['members_per_zone']}")
    print(f"ratio OSRM / built-in: {res['ratio_osrm_builtin']} (target <= 2)")


if __name__ == "__main__":
    main()
