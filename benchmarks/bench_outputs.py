"""Writing the reference study's folder (Campagnes de l'Artois) from its result.

* **write_outputs**: ``study.write_outputs(result, tmp)`` on one result of
  ``study.run_study`` (routing, snapping and Leaflet already in ``result.prepared``):
  median wall and CPU seconds over ``--repeats`` (one warm-up write first: imports, font
  cache), and the CPU seconds of each step of the last write (tables, web map, printable
  maps, tornado charts, workbook, raster, report).
* **printable maps**, side by side in this process: the five ``map_*.png`` drawn on one
  figure (``maps.static_maps``, what the study does) against one figure per map (one
  ``maps.static_map`` call per theme, the former way); medians over ``--repeats``, ratio,
  and whether the PNGs are the same bytes.

On a machine shared with other jobs, wall times move with the load; CPU seconds
(``time.process_time``) less so.

The last line is ``write_s=<s> write_cpu_s=<s> maps_once_s=<s> maps_each_s=<s> ratio=<x>``.

Usage: python benchmarks/bench_outputs.py [--data-dir data] [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import geopandas as gpd

from territorial_geo import exports, maps, sources, study, uncertainty
from territorial_geo.config import load_config
from territorial_geo.outputs import tables, webmap
from territorial_geo.outputs import write as writing

ROOT = Path(__file__).resolve().parents[1]

#: (module, function) -> step label, for the CPU seconds of each step
STEPS = {(writing, "commune_table"): "tables", (writing, "zone_members"): "tables",
         (writing, "parameters_doc"): "tables", (exports, "write_csv"): "tables",
         (writing, "write_web_map"): "web map", (writing, "write_static_maps"): "printable maps",
         (uncertainty, "tornado_chart"): "tornado charts",
         (exports, "write_workbook"): "workbook", (exports, "write_qgis_project"): "QGIS",
         (maps, "write_time_raster"): "raster", (writing, "write_study_report"): "report"}


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn`` over ``repeats`` runs."""
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def step_seconds(res, out: Path) -> Counter:
    """CPU seconds per step of one write (the tornado charts counted apart from the
    report that embeds them)."""
    cpu: Counter = Counter()
    saved = []
    depth = Counter()

    def wrap(mod, name, label):
        f = getattr(mod, name)

        @functools.wraps(f)
        def g(*a, **k):
            depth[label] += 1
            t = time.process_time()
            try:
                return f(*a, **k)
            finally:
                depth[label] -= 1
                if not depth[label]:
                    cpu[label] += time.process_time() - t
        saved.append((mod, name, f))
        setattr(mod, name, g)

    for (mod, name), label in STEPS.items():
        wrap(mod, name, label)
    try:
        study.write_outputs(res, out)
    finally:
        for mod, name, f in reversed(saved):
            setattr(mod, name, f)
    cpu["report"] -= cpu["tornado charts"]
    return cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg, keys = load_config(ROOT / "examples" / "campagnes-artois.toml")
    # every chart and map drawn (what this benchmark times), none read from or stored in
    # the data directory's render cache (bench_study.py times the study with it)
    cfg.output.render_cache = False
    res = study.run_study(cfg, overridden=keys, data_dir=args.data_dir)
    tmp = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    n = iter(range(10_000))
    study.write_outputs(res, tmp / "warm")  # imports, font cache, templates
    write_s, write_cpu = timed(lambda: study.write_outputs(res, tmp / f"w{next(n)}"),
                               args.repeats)
    print(f"write_outputs: median {write_s:.2f} s wall, {write_cpu:.2f} s CPU "
          f"({args.repeats} writes)")
    for label, s in step_seconds(res, tmp / "steps").most_common():
        print(f"  {label:16s} {s:6.2f} s CPU")

    full = tables.commune_table(res)
    gdf = gpd.GeoDataFrame(full, geometry=tables.commune_geometries(
        res.territory, full.index).to_numpy(), crs=sources.WORKING_CRS)
    gdf = gdf[gdf["in_territory"]]
    zones, lang = res.zones, cfg.output.lang
    kw = {"polygons": zones.polygons[zones.polygons["band_min"] == zones.budget_min],
          "towns": zones.towns, "sites": res.sites, "outline": webmap.territory_outline(res),
          "lang": lang}
    themes = [(c, f"{cfg.name} — {label}", label, f"map_{c}.png")
              for c, label in webmap.theme_layers(res.demand.years, lang).items()]
    (tmp / "once").mkdir()
    (tmp / "each").mkdir()
    once_s, once_cpu = timed(lambda: maps.static_maps(
        gdf, [(c, t, lt, tmp / "once" / p) for c, t, lt, p in themes], **kw), args.repeats)
    each_s, each_cpu = timed(lambda: [maps.static_map(gdf, c, t, tmp / "each" / p,
                                                legend_title=lt, **kw)
                                for c, t, lt, p in themes], args.repeats)
    same = all((tmp / "once" / p).read_bytes() == (tmp / "each" / p).read_bytes()
               for *_x, p in themes)
    print(f"printable maps ({len(themes)}): one figure {once_s:.2f} s ({once_cpu:.2f} s CPU), "
          f"one figure per map {each_s:.2f} s ({each_cpu:.2f} s CPU); x{each_s / once_s:.2f} "
          f"wall, x{each_cpu / once_cpu:.2f} CPU; same PNG bytes: {same}")
    print(f"write_s={write_s:.2f} write_cpu_s={write_cpu:.2f} maps_once_s={once_s:.2f} "
          f"maps_each_s={each_s:.2f} ratio={each_s / once_s:.2f}")


if __name__ == "__main__":
    main()
