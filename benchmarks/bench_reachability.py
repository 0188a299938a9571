"""Commune-to-commune reachability, with and without junction costs, vs networkx.

One process, side by side, on the same directed graph and costs, for two readings of the
same classified-road skeleton (the mirror's France skeleton, or the Hauts-de-France one):

* **with junction costs** (the default :func:`network.read_pbf` model, OSRM car.lua speeds
  and junction costs): routing runs on the edge-based graph, whose vertices are the states
  (directed edges) and whose arcs are :meth:`RoadNetwork.turn_arcs` (edge time + turn cost);
* **without** (``network.legal_profile``, the node-based model of the approximate network's
  skeleton): vertices are the nodes, arcs the edges.

For each, the all-communes **distancier table**: for each origin commune, every commune whose
chef-lieu is within 10 and 20 minutes, time from the commune *to* the origin (the engine's
default direction ``"to"``: reversed graph). Points are attached to the nearest road
*segment* (:meth:`RoadNetwork.snap`); two chefs-lieux on the same segment are also joined
along it (``network.same_segment_times``).

- territorial_geo: ``zoning.reachability_table`` (compiled bounded Dijkstra, numba, indexed
  heap, 2 threads), timed with its snapping; also timed from the same snapped points
  networkx gets (``network.snapped_times``);
- networkx (``nx_baseline.py``, shared with ``bench_turns.py``): a DiGraph built from the
  network's own arcs (turn arcs or edges, not the engine's CSR), one
  ``single_source_dijkstra_path_length(..., cutoff=)`` per origin from a virtual source
  joined to the vertices the origin is reached from (the snap frame's ``in_states`` /
  ``in_nodes`` with their offsets), then each target commune's best attachment (vertex time
  + offset of the ``out_states`` / ``out_nodes`` it leaves along), then the same-segment
  pairs, all within the budget;

both run on every origin (not extrapolated); pair sets must agree and times match to 1e-9
(asserted). Then every vertex within 20 minutes of each origin (seeded at its snap, no
target attachment), streamed in batches, both engines; checked identical on
``--check-sample`` origins. On the France skeleton, the multi-source **nearest third place**
pass (1,512 CGET sites), territorial_geo only.

Medians over ``--repeats`` for territorial_geo (networkx once: it is the slow side). The
last line is ``speedup_vs_networkx=<ratio> speedup_node_based=<ratio> nearest_site_s=<s>
peak_mb=<MB>``, the ratios being the 20-minute tables with snapping, with and without
junction costs.

``--network hdf``: the Hauts-de-France skeleton and its communes (all of them origins).
``--quick`` (run by ``tests/test_bench_reachability.py``): the Hauts-de-France skeleton,
``--origins`` (default 300) seeded origins, one repeat; same assertions.

Usage: python benchmarks/bench_reachability.py [--data-dir data] [--repeats 3]
       [--network france|hdf] [--quick]
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from collections import defaultdict

import networkx as nx
import numpy as np
import pandas as pd
from nx_baseline import check_same_vertex_times, median_time, networkx_times, reach, routing_graph

from territorial_geo import network, sources, zoning

#: Hauts-de-France départements (the ``--quick`` territory, the ``roads-hdf`` skeleton).
HDF_DEPARTEMENTS = ("02", "59", "60", "62", "80")


def networkx_table(g: nx.DiGraph, origin_snap: pd.DataFrame, target_snap: pd.DataFrame,
                   budget: float) -> pd.DataFrame:
    """The distancier table with networkx, direction ``"to"`` (``g`` is the reversed graph).

    One search per origin from a virtual source joined to the vertices the origin is reached
    from (arc weight: the snap leg and the part of the segment, or of the state's edge),
    cutoff = budget; a target commune's time is its best attachment (vertex time + the
    offset of a vertex it leaves along), then the same-segment pairs; pairs within the
    budget. Returns ``origin``, ``target`` (rows), ``time_s``.
    """
    seeds, seed_off = network.snap_groups(origin_snap, leaving=False)  # how it is reached
    att, att_off = network.snap_groups(target_snap, leaving=True)  # how a commune leaves
    by_vertex: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for j, k in zip(*np.nonzero(att >= 0), strict=True):
        by_vertex[int(att[j, k])].append((int(j), float(att_off[j, k])))
    rows: list[tuple[int, int, float]] = []
    for i in range(len(seeds)):
        best: dict[int, float] = {}
        for v, d in reach(g, seeds[i], seed_off[i], budget).items():
            for j, off in by_vertex.get(v, ()):
                t = d + off
                if t <= budget and t < best.get(j, math.inf):
                    best[j] = t
        rows += [(i, j, t) for j, t in best.items()]
    direct = network.same_segment_times(origin_snap, target_snap, origin_to_target=False,
                                        budget_s=budget)
    f = pd.concat([pd.DataFrame(rows, columns=["origin", "target", "time_s"]),
                   direct[["origin", "target", "time_s"]]], ignore_index=True)
    f = f.astype({"origin": np.int64, "target": np.int64, "time_s": float})
    return f.groupby(["origin", "target"], as_index=False, sort=True)["time_s"].min()


def check_same_table(ours: pd.DataFrame, ref: pd.DataFrame, targets: pd.Index) -> None:
    """Assert the engine's table (``origin``/``code`` categoricals) equals networkx's."""
    mine = pd.DataFrame({"origin": ours["origin"].cat.codes.to_numpy(np.int64),
                         "target": ours["code"].cat.codes.to_numpy(np.int64),
                         "time_s": ours["time_s"].to_numpy(float)})
    assert ours["code"].cat.categories.equals(targets)
    mine = mine.sort_values(["origin", "target"]).reset_index(drop=True)
    ref = ref.sort_values(["origin", "target"]).reset_index(drop=True)
    assert len(mine) == len(ref), f"pair counts differ: networkx {len(ref)} vs {len(mine)}"
    assert (mine[["origin", "target"]].to_numpy() == ref[["origin", "target"]].to_numpy()).all(), \
        "commune pairs differ from networkx"
    assert np.allclose(mine["time_s"], ref["time_s"], rtol=1e-9, atol=1e-9), \
        "times differ from networkx"


def bench_model(label: str, net: network.RoadNetwork, pts, pick: np.ndarray, repeats: int,
                check_sample: int, rng: np.random.Generator) -> dict[int, float]:
    """Both benchmarks on one network model; returns the table speed-ups by minutes."""
    origins = pts.iloc[pick]
    size = net.turn_graph_size()
    print(f"{label}: {net.n_vertices} vertices ("
          + (f"states; {size['arcs']} turn arcs" if net.uses_turns else
             f"nodes; {len(net.edges)} edges") + ")")
    t = time.perf_counter()
    csr = net.csr(reverse=True)
    target_snap = net.snap(pts)
    origin_snap = target_snap.iloc[pick]
    prep_s = time.perf_counter() - t
    seeds, offs = network.snap_groups(origin_snap, leaving=False)
    network.bounded_times(csr, seeds[:10], 600.0, origin_offsets=offs[:10])  # JIT warm-up
    t = time.perf_counter()
    g = routing_graph(net, reverse=True)
    print(f"  routing graph + snapping {prep_s:.2f} s; networkx graph {time.perf_counter() - t:.1f} s")

    # every commune an origin: the study's all-communes call (the points snapped once)
    table_origins = None if len(pick) == len(pts) else origins
    speedups = {}
    for minutes in (10, 20):
        budget = minutes * 60.0
        ours_s, table = median_time(lambda b=budget: zoning.reachability_table(
            net, pts, b, origins=table_origins), repeats)
        nx_s, ref = median_time(lambda b=budget: networkx_table(g, origin_snap, target_snap, b),
                                1)
        check_same_table(table, ref, pd.Index(pts.index))
        route_s, _ = median_time(lambda b=budget: network.snapped_times(
            net, origin_snap, target_snap, b, reverse=True), repeats)
        speedups[minutes] = nx_s / ours_s
        print(f"distancier table {minutes} min, {label}, {len(origins)} origins x {len(pts)} "
              f"communes, {len(table):,} commune pairs (snap legs and partial segments "
              f"included), identical to networkx: territorial_geo {ours_s:.2f} s median "
              f"(snapping included; {route_s:.2f} s from the same snapped points as networkx), "
              f"networkx {nx_s:.1f} s -> {speedups[minutes]:.1f}x "
              f"({nx_s / route_s:.1f}x on the same snapped points)")

    # secondary: every reachable vertex (not only communes), streamed in batches
    batches = [(s, o) for s, o in zip(np.array_split(seeds, 8), np.array_split(offs, 8),
                                      strict=True) if len(s)]
    ours_s, _ = median_time(lambda: sum(len(network.bounded_times(
        csr, s, 1200.0, origin_offsets=o)) for s, o in batches), repeats)
    nx_s, _ = median_time(lambda: sum(len(reach(g, s, o, 1200.0))
                                      for s, o in zip(seeds, offs, strict=True)), 1)
    print(f"every vertex within 20 min of each origin, {label}: territorial_geo {ours_s:.2f} s, "
          f"networkx {nx_s:.1f} s -> {nx_s / ours_s:.1f}x")
    sample = np.sort(rng.choice(len(seeds), size=min(check_sample, len(seeds)), replace=False))
    res = network.bounded_times(csr, seeds[sample], 1200.0, origin_offsets=offs[sample])
    check_same_vertex_times(res, networkx_times(g, seeds[sample], offs[sample], 1200.0))
    print(f"vertex times identical to networkx on {len(sample)} sampled origins, {label} "
          "(sets and times)")
    return speedups


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check-sample", type=int, default=300)
    ap.add_argument("--network", choices=("france", "hdf"), default="france",
                    help="skeleton: France (every commune) or Hauts-de-France (its communes)")
    ap.add_argument("--quick", action="store_true",
                    help="Hauts-de-France skeleton, --origins origins, one repeat (CI)")
    ap.add_argument("--origins", type=int, default=300,
                    help="with --quick: number of origin communes (seeded sample)")
    args = ap.parse_args()
    repeats = 1 if args.quick else args.repeats
    hdf = args.quick or args.network == "hdf"

    path = sources.dataset_path("roads-hdf" if hdf else "roads-france", args.data_dir)
    t = time.perf_counter()
    turns = network.read_pbf(path)
    load_s = time.perf_counter() - t
    plain = network.read_pbf(path, profile=network.legal_profile(network.SpeedProfile()))
    assert turns.uses_turns and not plain.uses_turns
    pts = sources.load_chefs_lieux(args.data_dir).geometry
    if hdf:
        dep = sources.load_communes(args.data_dir)["departement"].reindex(pts.index)
        pts = pts[dep.isin(HDF_DEPARTEMENTS).to_numpy()]
    rng = np.random.default_rng(0)
    n_orig = min(args.origins, len(pts)) if args.quick else len(pts)
    pick = np.sort(rng.choice(len(pts), size=n_orig, replace=False))
    print(f"graph: {turns.n_nodes} nodes, {len(turns.edges)} directed edges, parsed in "
          f"{load_s:.1f} s ({'Hauts-de-France' if hdf else 'France'} skeleton"
          f"{', quick' if args.quick else ''})")
    print(f"communes: {len(pts)} targets, {n_orig} origins")

    with_turns = bench_model("junction costs (edge-based)", turns, pts, pick, repeats,
                             args.check_sample, rng)
    without = bench_model("no junction costs (node-based)", plain, pts, pick, repeats,
                          args.check_sample, rng)

    nearest_s = math.nan
    if not hdf:
        sites = sources.load_third_places(args.data_dir)
        nearest_s, _ = median_time(lambda: network.nearest_point_times(
            turns, turns.snap(pts), turns.snap(sites.geometry)), repeats)
        print(f"nearest third place for every commune, junction costs (snap of the sites "
              f"and communes included): {nearest_s * 1000:.0f} ms median")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"speedup_vs_networkx={with_turns[20]:.1f} speedup_node_based={without[20]:.1f} "
          f"nearest_site_s={nearest_s:.3f} peak_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
