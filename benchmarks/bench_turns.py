"""Junction costs: the edge-based graph's size, build time and routing speed vs networkx.

One process, side by side, on the same edge-based graph and costs (OSRM car.lua junction
costs): for each network (the Gibraltar OSM fixture, and the Artois EPCI on the mirror's
Hauts-de-France skeleton read as a detailed network), ``--origins`` seeded points on the
roads are routed within 10 and 20 minutes to every state

* by territorial_geo (``bounded_times``: compiled bounded Dijkstra, 2 threads), and
* by networkx ``single_source_dijkstra_path_length(..., cutoff=)`` on a DiGraph of the same
  arcs, each point seeded at the states it leaves along (a virtual source joined to them
  by the seed offsets; ``nx_baseline.py``, shared with ``bench_reachability.py``),

and the results are checked identical. Prints the states and arcs, the time to build the
turn graph, medians over ``--repeats`` and the speed-up. Timings depend on the machine's
load (the lead's machine is shared: say so when quoting them).

Usage: python benchmarks/bench_turns.py [--data-dir data] [--origins 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from nx_baseline import check_same_vertex_times, median_time, networkx_times, routing_graph

from territorial_geo import network, sources, territory
from territorial_geo.network.graph import snap_groups


def road_points(net: network.RoadNetwork, n: int, seed: int = 18):
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    e = net.edges
    w = e["length_m"].to_numpy(float)
    idx = rng.choice(len(e), size=min(n, len(e)), replace=False, p=w / w.sum())
    pts = shapely.line_interpolate_point(e.geometry.to_numpy()[idx], rng.uniform(0.15, 0.85,
                                         len(idx)), normalized=True)
    return gpd.GeoSeries(pts, crs=sources.WORKING_CRS)


def bench(name: str, net: network.RoadNetwork, n_origins: int, repeats: int) -> None:
    t0 = time.perf_counter()
    net._csr.clear()
    csr = net.csr()
    build_s = time.perf_counter() - t0
    size = net.turn_graph_size()
    snap = net.snap(road_points(net, n_origins))
    seeds, offs = snap_groups(snap, leaving=True)
    g = routing_graph(net)
    print(f"{name}: nodes={net.n_nodes} states={size['states']} arcs={size['arcs']} "
          f"turn_graph_build_s={build_s:.2f} origins={len(snap)}")
    for minutes in (10, 20):
        cutoff = minutes * 60.0
        ours_s, ours = median_time(lambda c=cutoff: network.bounded_times(
            csr, seeds, c, origin_offsets=offs), repeats)
        nx_s, ref = median_time(lambda c=cutoff: networkx_times(g, seeds, offs, c), 1)
        pairs = sum(len(d) for d in ref)
        check_same_vertex_times(ours, ref, range(0, len(ref), max(1, len(ref) // 50)))
        print(f"  {minutes} min: pairs={pairs} territorial_geo_s={ours_s:.3f} "
              f"networkx_s={nx_s:.3f} speedup={nx_s / ours_s:.1f}x (identical)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--origins", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    mirror = sources.default_mirror()
    gib = (mirror / "roads" / "fixtures" / "gibraltar.osm.pbf") if mirror else None
    if gib is not None and gib.is_file():
        bench("gibraltar", network.read_pbf(gib), args.origins, args.repeats)
    data = sources.resolve_data_dir(args.data_dir)
    artois = territory.from_epci("200069482", data_dir=data)
    skel = network.read_pbf(sources.dataset_path("roads-hdf", data), area=artois.outline,
                            cache_dir=data / "cache" / "networks")
    bench("artois-skeleton", skel, args.origins, args.repeats)


if __name__ == "__main__":
    main()
