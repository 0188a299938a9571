"""Commune-to-commune reachability and nearest-third-place times on the France skeleton.

One process, side by side, on the same directed graph (the mirror's France skeleton):

* The all-communes **distancier table**: for each commune, every commune whose chef-lieu is
  reachable within 10 and 20 minutes, computed the same way by both engines. Points are
  attached to the nearest road *segment* (:meth:`RoadNetwork.snap`): a chef-lieu enters the
  graph at both ends of its segment (the snap leg and the part of the segment driven
  included), and two chefs-lieux on the same segment are also joined along it. Times are
  from each commune *to* the origin (the engine's default direction ``"to"``: reversed
  graph).
  - territorial_geo: ``zoning.reachability_table`` (compiled bounded Dijkstra, numba,
    indexed heap, 2 threads);
  - networkx ``single_source_dijkstra_path_length(..., cutoff=)`` (the osmnx isochrone
    recipe) on the reversed graph from one virtual source per origin joined to the
    origin's seed nodes by edges weighted with their offsets, then each target commune's
    best attachment (node time + its offset), then the same-segment pairs
    (``network.same_segment_times``), all within the budget;
  both run on every origin (not extrapolated); pair sets must agree and times match to
  1e-9 relative (asserted).
* Every node (not only communes) within 20 minutes of each commune's nearest node, streamed
  in batches, both engines (node to node, no snap legs); results checked identical to
  networkx on sampled origins.
* The multi-source **nearest third place** pass (1,512 CGET sites), territorial_geo only.

Medians over ``--repeats`` for territorial_geo; the table is timed with its snapping
(``reachability_table``, what a study calls) and from the same snapped points networkx
gets (``network.snapped_times``). The last line is
``speedup_vs_networkx=<ratio> nearest_site_s=<seconds> peak_mb=<MB>`` where the ratio is the
20-minute distancier table, snapping included.

``--quick`` (run by ``tests/test_bench_reachability.py``): the Hauts-de-France skeleton,
its communes as targets and ``--origins`` (default 300) of them as origins, one repeat, no
nearest-site pass; same assertions.

Usage: python benchmarks/bench_reachability.py [--data-dir data] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import time
from collections import defaultdict

import networkx as nx
import numpy as np
import pandas as pd

from territorial_geo import network, sources, zoning

#: Hauts-de-France départements (the ``--quick`` territory, the ``roads-hdf`` skeleton).
HDF_DEPARTEMENTS = ("02", "59", "60", "62", "80")


def median_time(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn`` over ``repeats`` runs, and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def networkx_graph(csr: tuple[np.ndarray, np.ndarray, np.ndarray]) -> nx.DiGraph:
    """The CSR graph as a networkx DiGraph (same nodes, same edges, same weights)."""
    indptr, indices, weights = csr
    n = len(indptr) - 1
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    src = np.repeat(np.arange(n), np.diff(indptr))
    g.add_weighted_edges_from(zip(src.tolist(), indices.tolist(), weights.tolist(),
                                  strict=True))
    return g


def networkx_table(g: nx.DiGraph, n_nodes: int, origin_snap: pd.DataFrame,
                   target_snap: pd.DataFrame, budget: float) -> pd.DataFrame:
    """The distancier table with networkx, direction ``"to"`` (``g`` is the reversed graph).

    One search per origin from a virtual node joined to the nodes the origin is reached
    from (edge weight: the snap leg and the part of the segment), cutoff = budget; a target
    commune's time is its best attachment (node time + offset), then the same-segment
    pairs; pairs within the budget. Returns ``origin``, ``target`` (rows), ``time_s``.
    """
    seeds, seed_off = network.snap_groups(origin_snap, leaving=False)  # how it is reached
    att, att_off = network.snap_groups(target_snap, leaving=True)  # how a commune leaves
    by_node: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for j in range(len(att)):
        for k in range(att.shape[1]):
            if att[j, k] >= 0:
                by_node[int(att[j, k])].append((j, float(att_off[j, k])))
    rows: list[tuple[int, int, float]] = []
    virtual = n_nodes
    for i in range(len(seeds)):
        g.add_node(virtual)
        for k in range(seeds.shape[1]):
            node, off = int(seeds[i, k]), float(seed_off[i, k])
            if node >= 0 and off <= budget:
                w = g[virtual][node]["weight"] if g.has_edge(virtual, node) else math.inf
                g.add_edge(virtual, node, weight=min(w, off))
        reach = nx.single_source_dijkstra_path_length(g, virtual, cutoff=budget)
        g.remove_node(virtual)
        best: dict[int, float] = {}
        for node, d in reach.items():
            for j, off in by_node.get(node, ()):
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check-sample", type=int, default=300)
    ap.add_argument("--quick", action="store_true",
                    help="Hauts-de-France skeleton, --origins origins, one repeat (CI)")
    ap.add_argument("--origins", type=int, default=300,
                    help="with --quick: number of origin communes (seeded sample)")
    args = ap.parse_args()
    repeats = 1 if args.quick else args.repeats

    t = time.perf_counter()
    net = network.read_pbf(sources.dataset_path("roads-hdf" if args.quick else "roads-france",
                                                args.data_dir))
    load_s = time.perf_counter() - t
    pts = sources.load_chefs_lieux(args.data_dir).geometry
    if args.quick:
        dep = sources.load_communes(args.data_dir)["departement"].reindex(pts.index)
        pts = pts[dep.isin(HDF_DEPARTEMENTS).to_numpy()]
    rng = np.random.default_rng(0)
    n_orig = min(args.origins, len(pts)) if args.quick else len(pts)
    pick = np.sort(rng.choice(len(pts), size=n_orig, replace=False))
    origins = pts.iloc[pick]
    print(f"graph: {net.n_nodes} nodes, {len(net.edges)} directed edges, parsed in {load_s:.1f} s"
          f" ({'Hauts-de-France skeleton, quick' if args.quick else 'France skeleton'})")
    print(f"communes: {len(pts)} targets, {len(origins)} origins")
    csr = net.csr(reverse=True)
    target_snap = net.snap(pts)
    origin_snap = target_snap.iloc[pick]
    nodes = target_snap["node"].to_numpy()
    network.bounded_times(csr, nodes[:10], 600.0)  # JIT warm-up (cached on disk afterwards)
    g = networkx_graph(csr)

    speedups = {}
    for minutes in (10, 20):
        budget = minutes * 60.0
        ours_s, table = median_time(
            lambda b=budget: zoning.reachability_table(net, pts, b, origins=origins), repeats)
        nx_s, ref = median_time(lambda b=budget: networkx_table(
            g, net.n_nodes, origin_snap, target_snap, b), 1)
        check_same_table(table, ref, pd.Index(pts.index))
        route_s, _ = median_time(lambda b=budget: network.snapped_times(
            net, origin_snap, target_snap, b, reverse=True), repeats)
        speedups[minutes] = nx_s / ours_s
        print(f"distancier table {minutes} min, {len(origins)} origins x {len(pts)} communes, "
              f"{len(table):,} commune pairs (snap legs and partial segments included), "
              f"identical to networkx: territorial_geo {ours_s:.2f} s median (snapping "
              f"included; {route_s:.2f} s from the same snapped points as networkx), "
              f"networkx {nx_s:.1f} s -> {speedups[minutes]:.1f}x "
              f"({nx_s / route_s:.1f}x on the same snapped points)")

    # secondary: every reachable node (not only communes), node to node, streamed in batches
    onodes = nodes[pick]
    batches = np.array_split(onodes, 8)
    ours_s, _ = median_time(lambda: sum(len(network.bounded_times(csr, b, 1200.0))
                                        for b in batches), repeats)
    nx_s, _ = median_time(lambda: sum(
        len(nx.single_source_dijkstra_path_length(g, int(o), cutoff=1200.0)) for o in onodes),
        1)
    print(f"every node within 20 min of each origin's nearest node (no snap legs): "
          f"territorial_geo {ours_s:.2f} s, networkx {nx_s:.1f} s -> {nx_s / ours_s:.1f}x")

    sample = rng.choice(len(onodes), size=min(args.check_sample, len(onodes)), replace=False)
    res = network.bounded_times(csr, onodes[sample], 1200.0)
    for k, i in enumerate(sample):
        ref = nx.single_source_dijkstra_path_length(g, int(onodes[i]), cutoff=1200.0)
        mine = res[res["origin"] == k].set_index("target")["time_s"]
        assert set(ref) == set(mine.index), "reached sets differ from networkx"
        assert np.allclose([ref[n] for n in mine.index], mine.to_numpy()), "times differ"
    print(f"node to node identical to networkx on {len(sample)} sampled origins "
          "(sets and times)")

    nearest_s = math.nan
    if not args.quick:
        sites = sources.load_third_places(args.data_dir)
        nearest_s, _ = median_time(lambda: network.nearest_times(
            csr, net.snap(sites.geometry)["node"].to_numpy()), repeats)
        print(f"nearest third place for every node (snap of the sites included): "
              f"{nearest_s * 1000:.0f} ms median")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"speedup_vs_networkx={speedups[20]:.1f} nearest_site_s={nearest_s:.3f} "
          f"peak_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
