"""Road network readers: parse time and peak memory, one function per reader.

Each case (reader x input x whole file / clipped to an area) runs in a **fresh
subprocess**, so that its peak memory is its own: the child records its resident memory
after the imports (``baseline_mb``), runs the reader once to warm up (``first_s``: file
cache, lazy imports), then ``--repeats`` more times without the on-disk graph cache, and
reports the median wall time (``median_s``) and its peak resident memory (``peak_mb``,
Linux ``VmHWM``) and the increase over the baseline (``delta_mb``).

Readers
-------
``bdtopo``
    :func:`territorial_geo.network.read_bdtopo` on the mirror's two real BD TOPO fixtures
    (v2 ``ROUTE.shp`` of La Flèche, 1,070 sections; v3 ``troncon_de_route`` GeoPackage of
    Marseille 10e, 2,936 sections), whole file and clipped to a 1 km box (no margin).
    With ``--bdtopo-tiles N`` also a **synthetic** département-sized GeoPackage (labelled
    as such): the v3 fixture copied on an N x N grid (7 km x 4.5 km apart, ids suffixed),
    read whole and clipped to one tile plus a 5 km margin.

Other readers (OSM) add a ``bench_<name>`` function returning the same rows and register
it in :data:`READERS`.

Usage: python benchmarks/bench_readers.py [--repeats 5] [--readers bdtopo] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _status_mb(key: str) -> float:
    """A memory line of /proc/self/status in MB (Linux); ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(reader: str, path: str, area: list[float] | None, repeats: int) -> dict:
    """Run inside the subprocess: time one reader call ``repeats`` times (after a warm-up)."""
    import shapely

    from territorial_geo import network

    fn = {"bdtopo": network.read_bdtopo, "osm": network.read_pbf}[reader]
    kwargs = {"area": shapely.box(*area), "margin_m": 0.0} if area else {}
    baseline = _status_mb("VmRSS")
    t = time.perf_counter()
    net = fn(path, **kwargs)
    first = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        net = fn(path, **kwargs)
        times.append(time.perf_counter() - t)
    return {"first_s": round(first, 4), "median_s": round(statistics.median(times), 4),
            "times_s": [round(x, 4) for x in times], "baseline_mb": round(baseline, 1),
            "peak_mb": round(_status_mb("VmHWM"), 1),
            "delta_mb": round(_status_mb("VmHWM") - baseline, 1),
            "n_edges": int(len(net.edges)), "n_nodes": int(net.n_nodes),
            "n_sections_read": net.source.get("n_sections_read")}


def run_case(reader: str, label: str, path: Path, *, area: list[float] | None = None,
             repeats: int = 5) -> dict:
    """One case in a fresh Python process; returns its measurements."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    arg = json.dumps({"reader": reader, "path": str(path), "area": area, "repeats": repeats})
    out = subprocess.run([sys.executable, __file__, "--child", arg], capture_output=True,
                         text=True, env=env, check=True)
    return {"reader": reader, "case": label, "path": str(path), "area_2154": area,
            **json.loads(out.stdout.strip().splitlines()[-1])}


def synthetic_bdtopo(v3: Path, tiles: int, out: Path) -> Path:
    """SYNTHETIC: the v3 fixture repeated on a ``tiles`` x ``tiles`` grid (for scaling only)."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    if out.is_file():
        return out
    g = pyogrio.read_dataframe(v3)
    parts = []
    for i in range(tiles):
        for j in range(tiles):
            h = g.copy()
            h["cleabs"] = h["cleabs"] + f"_{i}_{j}"
            h = h.set_geometry(h.geometry.translate(i * 7000.0, j * 4500.0))
            parts.append(h)
    big = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=g.crs)
    tmp = out.with_suffix(".part.gpkg")
    pyogrio.write_dataframe(big, tmp, layer="troncon_de_route")
    tmp.rename(out)
    return out


def bench_bdtopo(repeats: int = 5, mirror: Path | None = None, tiles: int = 0) -> list[dict]:
    """BD TOPO fixtures: v2 Shapefile and v3 GeoPackage, whole and clipped to 1 km; with
    ``tiles`` > 0 also the synthetic tiled GeoPackage, whole and clipped to one tile."""
    import tempfile

    import pyogrio

    from territorial_geo import sources

    mirror = mirror or sources.default_mirror()
    if mirror is None:
        raise SystemExit("no data mirror (set TERRITORIAL_GEO_MIRROR)")
    fix = Path(mirror) / "roads" / "fixtures"
    cases = [
        ("v2 ROUTE.shp La Flèche", fix / "bdtopo-v2-2011-la-fleche" / "ROUTE.shp",
         [470400.0, 6736400.0, 471400.0, 6737400.0]),
        ("v3 troncon_de_route.gpkg Marseille 10e", fix / "bdtopo-v3-marseille-10e.gpkg",
         [895400.0, 6244700.0, 896400.0, 6245700.0]),
    ]
    rows = []
    for label, path, box in cases:
        if not path.is_file():
            print(f"skip {label}: {path} missing", file=sys.stderr)
            continue
        rows.append(run_case("bdtopo", f"{label}, whole file", path, repeats=repeats))
        rows.append(run_case("bdtopo", f"{label}, clipped 1 km", path, area=box,
                             repeats=repeats))
    v3 = cases[1][1]
    if tiles > 0 and v3.is_file():
        out = Path(tempfile.gettempdir()) / f"bdtopo-synthetic-{tiles}x{tiles}.gpkg"
        path = synthetic_bdtopo(v3, tiles, out)
        minx, miny, maxx, maxy = pyogrio.read_info(v3)["total_bounds"]
        tile = [minx - 5000, miny - 5000, maxx + 5000, maxy + 5000]
        label = f"SYNTHETIC v3 x{tiles * tiles} tiles"
        rows.append(run_case("bdtopo", f"{label}, whole file", path, repeats=repeats))
        rows.append(run_case("bdtopo", f"{label}, one tile + 5 km", path, area=tile,
                             repeats=repeats))
    return rows


#: reader name -> benchmark function(repeats) returning rows.
READERS: dict[str, Callable[..., list[dict]]] = {"bdtopo": bench_bdtopo}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--readers", nargs="*", default=list(READERS))
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--bdtopo-tiles", type=int, default=0,
                    help="also a SYNTHETIC tiled BD TOPO file of N x N copies of the v3 fixture")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(_child(spec["reader"], spec["path"], spec["area"], spec["repeats"])))
        return
    rows = []
    for name in args.readers:
        extra = {"tiles": args.bdtopo_tiles} if name == "bdtopo" else {}
        rows += READERS[name](repeats=args.repeats, **extra)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'reader':8} {'case':52} {'sections':>8} {'edges':>6} {'first s':>8} "
          f"{'median s':>8} {'peak MB':>8} {'+MB':>6}")
    for r in rows:
        print(f"{r['reader']:8} {r['case']:52} {r['n_sections_read'] or '':>8} "
              f"{r['n_edges']:>6} {r['first_s']:>8.3f} {r['median_s']:>8.3f} "
              f"{r['peak_mb']:>8.1f} {r['delta_mb']:>6.1f}")


if __name__ == "__main__":
    main()
