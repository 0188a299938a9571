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

``osm``
    :func:`territorial_geo.network.read_pbf` on the mirror's two real OSM fixtures
    (Gibraltar, Saint-Barthélemy): whole file, and a central box read with pyrosm's own
    bounding box over the whole file (``clip="pyrosm"``, the former reader) or clipped
    while streaming (pyosmium, then the pyosmium segment reader on the small file; the
    default). With
    ``--osm-synthetic`` also a **SYNTHETIC** Hauts-de-France-sized PBF (about 6 M nodes:
    street grids around every commune chef-lieu, see :func:`synthetic_osm`; generated once
    into ``benchmarks/results/``) clipped to the CC des Campagnes de l'Artois + 25 km: the
    streaming clip alone, the parse up to the segments (streaming clip + pyosmium vs
    pyrosm's box),
    and the whole read including the graph (also with ``contract=True``: junction-to-junction
    edges), each ``--big-repeats`` times without warm-up.

A new reader adds a ``bench_<name>`` function returning the same rows and registers it in
:data:`READERS`.

``--region N`` runs only the region-sized comparison (:func:`bench_osm_region`): the
SYNTHETIC Hauts-de-France PBF clipped to the Artois EPCI + 25 km, stage by stage (clip,
parse, graph, total, peak memory), the former pyrosm parser and the pyosmium one
(:func:`territorial_geo.network.osm.read_segments`, also with ``contract``) side by side,
N interleaved rounds of fresh subprocesses, medians and ratios.

Usage: python benchmarks/bench_readers.py [--repeats 5] [--readers bdtopo osm]
[--osm-synthetic | --only-synthetic] [--big-repeats 1] [--region N] [--json]
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


def _child(reader: str, path: str, area: list[float] | None, repeats: int,
           margin_m: float = 0.0, clip: str = "stream", warmup: bool = True) -> dict:
    """Run inside the subprocess: time one reader call ``repeats`` times (after a warm-up).

    ``osm-clip`` times :func:`territorial_geo.network.osm.clip_pbf` alone (the streaming
    stage, to a temporary file; "edges" are then the kept ways); ``osm-parse`` the parse up
    to the segment frame (streaming clip + :func:`read_segments` on the small file, or
    pyrosm's bounding box on the whole file; "edges" are the segments); ``osm`` the whole
    :func:`read_pbf` (parse, then the timed graph). pyrosm's own result cache is cleared before every OSM run, and no
    graph or clip cache is used, so every run parses.
    """
    import tempfile

    import shapely

    from territorial_geo import network
    from territorial_geo.network import osm as osm_reader

    def clip_only(p, *, area, margin_m, clip):
        with tempfile.TemporaryDirectory() as tmp:
            st = osm_reader.clip_pbf(p, osm_reader._bbox_4326(area, margin_m),
                                     Path(tmp) / "clip.osm.pbf")

        class _Net:  # counts only
            edges, n_nodes = range(st["n_ways_kept"]), 0
            source = {"n_sections_read": st["n_highway_ways"]}
        return _Net()

    def parse_only(p, *, area, margin_m, clip):
        import pyrosm

        pyrosm.OSM.clear_cache()
        bbox = osm_reader._bbox_4326(area, margin_m)
        with tempfile.TemporaryDirectory() as tmp:
            if clip == "pyrosm":
                _, edges = osm_reader._pyrosm_network(Path(p), bbox, label=p)
            else:
                out = Path(tmp) / "clip.osm.pbf"
                osm_reader.clip_pbf(p, bbox, out)
                _, edges = osm_reader.read_segments(out, label=p)

        class _Net:  # counts only: the segments
            n_nodes = 0
            source = {"n_sections_read": int(edges["id"].nunique())}
        _Net.edges = edges
        return _Net()

    def osm(p, **kw):
        import pyrosm

        pyrosm.OSM.clear_cache()
        return network.read_pbf(p, **kw)

    fn = {"bdtopo": network.read_bdtopo, "osm": osm, "osm-clip": clip_only,
          "osm-parse": parse_only}[reader]
    kwargs = {"area": shapely.box(*area), "margin_m": margin_m} if area else {}
    if reader.startswith("osm") and area:
        kwargs["clip"] = clip.removesuffix("+contract")
        if clip.endswith("+contract"):
            kwargs["contract"] = True
    baseline = _status_mb("VmRSS")
    t = time.perf_counter()
    net = fn(path, **kwargs) if warmup else None
    first = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        net = None  # the previous result is not part of this run's peak
        t = time.perf_counter()
        net = fn(path, **kwargs)
        times.append(time.perf_counter() - t)
    return {"first_s": round(first, 4) if warmup else None,
            "median_s": round(statistics.median(times), 4),
            "times_s": [round(x, 4) for x in times], "baseline_mb": round(baseline, 1),
            "peak_mb": round(_status_mb("VmHWM"), 1),
            "delta_mb": round(_status_mb("VmHWM") - baseline, 1),
            "n_edges": int(len(net.edges)), "n_nodes": int(net.n_nodes),
            "n_sections_read": net.source.get("n_sections_read")}


#: Region-sized pipeline variants: (label, parser, contract). ``pyrosm`` is the former
#: pipeline (:func:`former_clip_pbf`, then pyrosm on the clipped file), ``pyosmium`` the new
#: one (:func:`territorial_geo.network.osm.clip_pbf`, then
#: :func:`territorial_geo.network.osm.read_segments`).
REGION_VARIANTS = (("old: former clip + pyrosm + graph", "pyrosm", False),
                   ("new: clip + pyosmium + graph", "pyosmium", False),
                   ("new, contracted: clip + pyosmium + contract + graph", "pyosmium", True))


def former_clip_pbf(path: str | os.PathLike, bbox: list[float], out: str | os.PathLike) -> int:
    """BASELINE: the streaming clip as it was before the pyosmium reader (kept here only to
    time it): same first pass, but :class:`osmium.BackReferenceWriter` adds the nodes, a
    merge of the source and the kept ways in Python, one object per node. Returns the
    number of kept ways."""
    import osmium

    from territorial_geo.network.osm import NON_DRIVABLE_HIGHWAY, _way_in_bbox

    factory = osmium.geom.WKBFactory()
    writer = osmium.BackReferenceWriter(str(out), ref_src=str(path), overwrite=True,
                                        remove_tags=False)
    kept = 0
    try:
        fp = (osmium.FileProcessor(str(path)).with_locations("flex_mem")
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("highway")))
        for way in fp:
            if way.tags.get("highway") not in NON_DRIVABLE_HIGHWAY and \
                    _way_in_bbox(way, factory, bbox):
                writer.add_way(way)
                kept += 1
    finally:
        writer.close()
    return kept


def _region_child(path: str, area: list[float], margin_m: float, parser: str,
                  contract: bool) -> dict:
    """Run inside the subprocess: one region-sized read, stage by stage (no cache, no
    warm-up): the streaming clip, the parse into segments, the graph; and the peak
    resident memory of this process (``VmHWM``)."""
    import tempfile

    import shapely

    from territorial_geo.network import osm as osm_reader

    baseline = _status_mb("VmRSS")
    bbox = osm_reader._bbox_4326(shapely.box(*area), margin_m)
    with tempfile.TemporaryDirectory() as tmp:
        clipped = Path(tmp) / "clip.osm.pbf"
        t0 = time.perf_counter()
        if parser == "pyrosm":
            former_clip_pbf(path, bbox, clipped)
        else:
            osm_reader.clip_pbf(path, bbox, clipped)
        t1 = time.perf_counter()
        if parser == "pyrosm":
            nodes, edges = osm_reader._pyrosm_network(clipped, None, label=path)
        else:
            nodes, edges = osm_reader.read_segments(clipped, label=path)
        n_segments = len(edges)
        if contract:
            edges = osm_reader.contract_segments(edges, keep=osm_reader._signal_ids(nodes))
        t2 = time.perf_counter()
        net = osm_reader.network_from_frames(nodes, edges)
        t3 = time.perf_counter()
    return {"clip_s": round(t1 - t0, 2), "parse_s": round(t2 - t1, 2),
            "graph_s": round(t3 - t2, 2), "total_s": round(t3 - t0, 2),
            "peak_mb": round(_status_mb("VmHWM"), 1), "baseline_mb": round(baseline, 1),
            "n_segments": n_segments, "n_nodes": int(net.n_nodes),
            "n_edges": int(len(net.edges))}


def bench_osm_region(repeats: int = 3) -> list[dict]:
    """SYNTHETIC Hauts-de-France PBF (:func:`synthetic_osm`) clipped to the CC des
    Campagnes de l'Artois + 25 km, former (pyrosm) and new (pyosmium) parser side by side:
    ``repeats`` rounds, each running every variant of :data:`REGION_VARIANTS` once in a
    fresh subprocess (so that its peak memory is its own), interleaved so that a change in
    the machine's load hits them alike; returns one row per variant with the medians."""
    import geopandas as gpd

    from territorial_geo import sources

    out = ROOT / "benchmarks" / "results" / "osm-synthetic-hdf.osm.pbf"
    info = synthetic_osm(out)
    print(f"SYNTHETIC Hauts-de-France PBF: {info}", file=sys.stderr)
    epci = sources.load_communes().query("epci_siren == @ARTOIS_SIREN")
    box = [float(v) for v in gpd.GeoSeries(epci.geometry).total_bounds]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    runs: dict[str, list[dict]] = {label: [] for label, _, _ in REGION_VARIANTS}
    for r in range(repeats):
        for label, parser, contract in REGION_VARIANTS:
            print(f"  round {r + 1}/{repeats}: {label}", file=sys.stderr, flush=True)
            arg = json.dumps({"path": str(out), "area": box, "margin_m": 25_000.0,
                              "parser": parser, "contract": contract})
            got = subprocess.run([sys.executable, __file__, "--region-child", arg],
                                 capture_output=True, text=True, env=env, check=True)
            runs[label].append(json.loads(got.stdout.strip().splitlines()[-1]))
    rows = []
    for label, _, _ in REGION_VARIANTS:
        rs = runs[label]
        row = {"case": label, "synthetic_pbf": info, "runs": rs}
        for k in ("clip_s", "parse_s", "graph_s", "total_s", "peak_mb"):
            row[k] = statistics.median(x[k] for x in rs)
        for k in ("n_segments", "n_nodes", "n_edges"):
            row[k] = rs[-1][k]
        rows.append(row)
    return rows


def print_region(rows: list[dict]) -> None:
    """The region-sized comparison as a table, with the ratios old / new."""
    print(f"{'SYNTHETIC HdF, Artois EPCI + 25 km':52} {'clip s':>7} {'parse s':>7} "
          f"{'graph s':>7} {'total s':>7} {'peak MB':>8} {'nodes':>8} {'edges':>8}")
    for r in rows:
        print(f"{r['case']:52} {r['clip_s']:>7.1f} {r['parse_s']:>7.1f} {r['graph_s']:>7.1f} "
              f"{r['total_s']:>7.1f} {r['peak_mb']:>8.0f} {r['n_nodes']:>8} {r['n_edges']:>8}")
    old = rows[0]
    for r in rows[1:]:
        print(f"old / ({r['case']}): total {old['total_s'] / r['total_s']:.2f}x, parse + graph "
              f"{(old['parse_s'] + old['graph_s']) / (r['parse_s'] + r['graph_s']):.2f}x, "
              f"peak memory {old['peak_mb'] / r['peak_mb']:.2f}x")
    print(f"medians over {len(old['runs'])} runs each (fresh subprocess per run)")


def run_case(reader: str, label: str, path: Path, *, area: list[float] | None = None,
             repeats: int = 5, margin_m: float = 0.0, clip: str = "stream",
             warmup: bool = True) -> dict:
    """One case in a fresh Python process; returns its measurements."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    arg = json.dumps({"reader": reader, "path": str(path), "area": area, "repeats": repeats,
                      "margin_m": margin_m, "clip": clip, "warmup": warmup})
    print(f"  running {reader}: {label}", file=sys.stderr, flush=True)
    out = subprocess.run([sys.executable, __file__, "--child", arg], capture_output=True,
                         text=True, env=env, check=True)
    return {"reader": reader, "case": label, "path": str(path), "area_2154": area,
            "margin_m": margin_m, **json.loads(out.stdout.strip().splitlines()[-1])}


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


#: Hauts-de-France départements (the synthetic region-sized PBF).
HDF_DEPARTEMENTS = ("02", "59", "60", "62", "80")
#: CC des Campagnes de l'Artois (examples/campagnes-artois.toml): the EPCI the big file is
#: clipped to, with a 25 km margin.
ARTOIS_SIREN = "200069482"


def synthetic_osm(out: Path, *, block_m: float = 100.0, step: int = 4, div: float = 3.0,
                  people_per_building: float = 20.0, neighbours: int = 3) -> dict:
    """SYNTHETIC region-sized PBF (for scaling only): street grids around every commune
    chef-lieu of the Hauts-de-France, joined by roads to the nearest chefs-lieux.

    Each commune gets a square grid of ``k = clip(round(sqrt(population) / div), 3, 80)``
    streets each way, ``block_m`` apart, with a node every ``block_m / step`` metres
    (``residential``; every 4th street ``tertiary``, every 5th one-way); each chef-lieu is
    joined to its ``neighbours`` nearest ones by ``secondary`` roads with a node every
    30 m; one closed 4-node ``building`` way per ``people_per_building`` inhabitants (not
    roads: the clip must skip them, as in a real extract). Node ids are positive and
    sorted, nodes before ways, like a Geofabrik file. Written once with pyosmium's
    ``SimpleWriter`` (atomically); returns counts.
    """
    import numpy as np
    import osmium
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from territorial_geo import sources

    meta = out.with_suffix(".json")
    if out.is_file() and meta.is_file():
        return json.loads(meta.read_text())
    t0 = time.perf_counter()
    com = sources.load_communes()
    com = com[com["departement"].isin(HDF_DEPARTEMENTS)]
    cl = sources.load_chefs_lieux()
    cl = cl.set_index("code") if "code" in cl.columns else cl
    pts = cl.geometry.reindex(com.index)
    pts = pts.where(pts.notna(), com.geometry.representative_point())
    cx, cy = pts.x.to_numpy(), pts.y.to_numpy()
    pop = com["population"].fillna(0).to_numpy()
    ks = np.clip(np.round(np.sqrt(pop) / div), 3, 80).astype(int)
    rng = np.random.default_rng(2154)
    xs, ys, ways = [], [], []  # ways: (node ids, tags)
    next_id = 1
    centre_ids = np.zeros(len(com), dtype=np.int64)
    for i, k in enumerate(ks):
        m = step * (k - 1) + 1
        half = (k - 1) * block_m / 2
        fine = np.arange(m) * block_m / step - half
        coarse = np.arange(k) * block_m - half
        # horizontal streets: k rows x m nodes; their ids are the grid's intersections too
        hx, hy = np.meshgrid(fine, coarse)  # (k, m)
        h_ids = next_id + np.arange(k * m).reshape(k, m)
        next_id += k * m
        # vertical streets: k columns; intermediate nodes only (the others are shared)
        inter = np.array([j for j in range(m) if j % step])
        vx, vy = np.meshgrid(coarse, fine[inter])  # (len(inter), k)
        v_ids_mid = next_id + np.arange(vx.size).reshape(vx.shape)
        next_id += vx.size
        xs += [cx[i] + hx.ravel(), cx[i] + vx.ravel()]
        ys += [cy[i] + hy.ravel(), cy[i] + vy.ravel()]
        for r in range(k):
            tags = {"highway": "tertiary" if r % 4 == 0 else "residential"}
            if r % 5 == 2:
                tags["oneway"] = "yes"
            ways.append((h_ids[r], tags))
        v_ids = np.empty((m, k), dtype=np.int64)
        v_ids[::step] = h_ids[:, ::step]  # intersections: the horizontal streets' nodes
        v_ids[inter] = v_ids_mid
        for c in range(k):
            ways.append((v_ids[:, c], {"highway": "tertiary" if c % 4 == 0 else "residential"}))
        centre_ids[i] = h_ids[k // 2, (m - 1) // 2 // step * step]
        # buildings: closed 4-node squares of 12 m, scattered in the grid
        nb = int(pop[i] // people_per_building)
        if nb:
            bx = cx[i] + rng.uniform(-half, half, nb)
            by = cy[i] + rng.uniform(-half, half, nb)
            corners_x = np.stack([bx, bx + 12, bx + 12, bx], axis=1)
            corners_y = np.stack([by, by, by + 12, by + 12], axis=1)
            b_ids = next_id + np.arange(nb * 4).reshape(nb, 4)
            next_id += nb * 4
            xs.append(corners_x.ravel())
            ys.append(corners_y.ravel())
            for row in b_ids:
                ways.append((np.append(row, row[0]), {"building": "yes"}))
    # roads between neighbouring chefs-lieux (grid centre to grid centre)
    centre_xy = np.column_stack([cx, cy])
    _, nn = cKDTree(centre_xy).query(centre_xy, k=neighbours + 1)
    pairs = {tuple(sorted((a, int(b)))) for a, row in enumerate(nn) for b in row[1:]}
    for a, b in sorted(pairs):
        n = max(int(np.hypot(*(centre_xy[b] - centre_xy[a])) // 30.0), 1)
        f = np.arange(1, n) / n
        ids = next_id + np.arange(n - 1)
        next_id += n - 1
        xs.append(centre_xy[a, 0] + f * (centre_xy[b, 0] - centre_xy[a, 0]))
        ys.append(centre_xy[a, 1] + f * (centre_xy[b, 1] - centre_xy[a, 1]))
        ways.append((np.concatenate([[centre_ids[a]], ids, [centre_ids[b]]]),
                     {"highway": "secondary"}))
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x, y)
    t_gen = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part.osm.pbf")
    tmp.unlink(missing_ok=True)
    w = osmium.SimpleWriter(str(tmp))
    try:
        node = osmium.osm.mutable.Node
        for nid, lo, la in zip(range(1, len(lon) + 1), lon.tolist(), lat.tolist(), strict=True):
            w.add_node(node(id=nid, location=(lo, la)))
        way = osmium.osm.mutable.Way
        for wid, (ids, tags) in enumerate(ways, start=1):
            w.add_way(way(id=wid, nodes=ids.tolist(), tags=tags))
    finally:
        w.close()
    tmp.rename(out)
    info = {"synthetic": True, "n_communes": int(len(com)), "n_nodes": int(len(lon)),
            "n_ways": len(ways), "n_highway_ways": sum("highway" in t for _, t in ways),
            "size_mb": round(out.stat().st_size / 1e6, 1),
            "generate_s": round(t_gen, 1), "write_s": round(time.perf_counter() - t0 - t_gen, 1)}
    meta.write_text(json.dumps(info))
    return info


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


def bench_osm(repeats: int = 3, mirror: Path | None = None, synthetic: bool = False,
              big_repeats: int = 1, only_big: bool = False) -> list[dict]:
    """OSM: the two real fixtures (Gibraltar, Saint-Barthélemy) whole file, with pyrosm's
    own bounding box (the former reader: the whole file parsed), and streaming-clipped
    (pyosmium, then the pyosmium segment reader); with ``synthetic`` also the SYNTHETIC
    Hauts-de-France PBF (:func:`synthetic_osm`) clipped to the CC des Campagnes de l'Artois
    + 25 km: streaming clip alone, the whole streaming read, and pyrosm's bounding box on
    the whole file, ``big_repeats`` timed runs each without warm-up."""
    import geopandas as gpd

    from territorial_geo import sources

    mirror = mirror or sources.default_mirror()
    if mirror is None:
        raise SystemExit("no data mirror (set TERRITORIAL_GEO_MIRROR)")
    fix = Path(mirror) / "roads" / "fixtures"
    rows = []
    fixtures = () if only_big else (("Gibraltar", "gibraltar.osm.pbf", 400.0),
                                    ("Saint-Barthélemy", "saint_barthelemy.osm.pbf", 1500.0))
    for label, name, half in fixtures:
        path = fix / name
        if not path.is_file():
            print(f"skip {label}: {path} missing", file=sys.stderr)
            continue
        from territorial_geo.network import read_pbf

        b = read_pbf(path).edges.total_bounds
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        box = [cx - half, cy - half, cx + half, cy + half]
        rows.append(run_case("osm", f"{label}, whole file", path, repeats=repeats))
        for clip in ("pyrosm", "stream"):
            rows.append(run_case("osm", f"{label}, {2 * half / 1000:g} km box, {clip}", path,
                                 area=box, repeats=repeats, clip=clip))
    if synthetic:
        out = ROOT / "benchmarks" / "results" / "osm-synthetic-hdf.osm.pbf"
        info = synthetic_osm(out)
        print(f"SYNTHETIC Hauts-de-France PBF: {info}", file=sys.stderr)
        epci = sources.load_communes().query("epci_siren == @ARTOIS_SIREN")
        box = [float(v) for v in gpd.GeoSeries(epci.geometry).total_bounds]
        label = f"SYNTHETIC HdF {info['n_nodes'] / 1e6:.1f}M nodes, Artois EPCI + 25 km"
        rows.append(run_case("osm-clip", f"{label}, clip only", out, area=box,
                             margin_m=25_000.0, repeats=big_repeats, warmup=False))
        for clip in ("stream", "pyrosm"):
            rows.append(run_case("osm-parse", f"{label}, parse only, {clip}", out, area=box,
                                 margin_m=25_000.0, repeats=big_repeats, warmup=False,
                                 clip=clip))
        for clip in ("stream", "stream+contract"):
            rows.append(run_case("osm", f"{label}, {clip}", out, area=box, margin_m=25_000.0,
                                 repeats=big_repeats, warmup=False, clip=clip))
        rows.append(run_case("osm", f"{label}, pyrosm", out, area=box, margin_m=25_000.0,
                             repeats=big_repeats, warmup=False, clip="pyrosm"))
    return rows


#: reader name -> benchmark function(repeats) returning rows.
READERS: dict[str, Callable[..., list[dict]]] = {"bdtopo": bench_bdtopo, "osm": bench_osm}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--readers", nargs="*", default=list(READERS))
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--bdtopo-tiles", type=int, default=0,
                    help="also a SYNTHETIC tiled BD TOPO file of N x N copies of the v3 fixture")
    ap.add_argument("--osm-synthetic", action="store_true",
                    help="also the SYNTHETIC Hauts-de-France PBF (generated once into "
                    "benchmarks/results/, about 6 M nodes; a few minutes)")
    ap.add_argument("--only-synthetic", action="store_true",
                    help="OSM: only the SYNTHETIC cases (implies --osm-synthetic)")
    ap.add_argument("--big-repeats", type=int, default=1,
                    help="timed runs of each SYNTHETIC Hauts-de-France case")
    ap.add_argument("--region", type=int, default=0, metavar="REPEATS",
                    help="only the SYNTHETIC Hauts-de-France clip + parse + graph, former "
                    "(pyrosm) and new (pyosmium) parser side by side, REPEATS rounds")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--region-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.region_child:
        spec = json.loads(args.region_child)
        print(json.dumps(_region_child(spec["path"], spec["area"], spec["margin_m"],
                                       spec["parser"], spec["contract"])))
        return
    if args.region:
        rows = bench_osm_region(args.region)
        if args.json:
            print(json.dumps(rows, indent=1))
        else:
            print_region(rows)
        return
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(_child(spec["reader"], spec["path"], spec["area"], spec["repeats"],
                                spec.get("margin_m", 0.0), spec.get("clip", "stream"),
                                spec.get("warmup", True))))
        return
    rows = []
    for name in args.readers:
        extra = ({"tiles": args.bdtopo_tiles} if name == "bdtopo" else
                 {"synthetic": args.osm_synthetic or args.only_synthetic,
                  "big_repeats": args.big_repeats, "only_big": args.only_synthetic})
        rows += READERS[name](repeats=args.repeats, **extra)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'reader':8} {'case':64} {'sections':>8} {'edges':>8} {'first s':>8} "
          f"{'median s':>8} {'peak MB':>8} {'+MB':>6}")
    for r in rows:
        first = "" if r["first_s"] is None else f"{r['first_s']:.3f}"
        print(f"{r['reader']:8} {r['case']:64} {r['n_sections_read'] or '':>8} "
              f"{r['n_edges']:>8} {first:>8} {r['median_s']:>8.3f} "
              f"{r['peak_mb']:>8.1f} {r['delta_mb']:>6.1f}")


if __name__ == "__main__":
    main()
