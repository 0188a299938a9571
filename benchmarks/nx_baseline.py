"""The networkx baseline the routing benchmarks compare the engine with (one copy, shared).

The baseline graph is built from the network's own arcs, not from the engine's CSR arrays:
under the turn model (:attr:`RoadNetwork.uses_turns`) its vertices are the states (directed
edges) and its arcs :meth:`RoadNetwork.turn_arcs` (edge time plus junction cost); otherwise
the vertices are the nodes and the arcs the edges. Parallel arcs keep the fastest, as the
engine's CSR does. Searches are networkx ``single_source_dijkstra_path_length(...,
cutoff=)`` (the osmnx isochrone recipe) from one virtual source per origin joined to the
origin's seed vertices by arcs weighted with their offsets.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import networkx as nx
import numpy as np
import pandas as pd

from territorial_geo import network

#: Name of the per-origin virtual source (a string: never one of the integer vertices).
SOURCE = "source"


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn`` over ``repeats`` runs, and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def routing_graph(net: network.RoadNetwork, *, reverse: bool = False) -> nx.DiGraph:
    """The network's routing graph as a networkx DiGraph (vertices ``0..n_vertices-1``).

    States and turn arcs under the turn model, else nodes and edges; ``reverse=True``
    transposes it (times *to* a vertex).
    """
    if net.uses_turns:
        u, v, w = net.turn_arcs()
    else:
        e = net.edges
        u, v, w = (e["u"].to_numpy(np.int64), e["v"].to_numpy(np.int64),
                   e["time_s"].to_numpy(np.float64))
    if reverse:
        u, v = v, u
    arcs = pd.DataFrame({"u": u, "v": v, "w": w}).groupby(["u", "v"], sort=False)["w"].min()
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_vertices))
    g.add_weighted_edges_from(zip(arcs.index.get_level_values(0).tolist(),
                                  arcs.index.get_level_values(1).tolist(),
                                  arcs.to_numpy().tolist(), strict=True))
    return g


def reach(g: nx.DiGraph, seeds: np.ndarray, offsets: np.ndarray, cutoff: float
          ) -> dict[int, float]:
    """``{vertex: seconds}`` within ``cutoff`` of one origin seeded at ``seeds`` (-1: none)
    with ``offsets`` (a vertex seeded twice keeps its smallest offset)."""
    best: dict[int, float] = {}
    for v, d in zip(seeds.tolist(), offsets.tolist(), strict=True):
        if v >= 0 and d < best.get(v, np.inf):
            best[v] = d
    g.add_node(SOURCE)
    g.add_weighted_edges_from((SOURCE, v, d) for v, d in best.items())
    try:
        out = nx.single_source_dijkstra_path_length(g, SOURCE, cutoff=cutoff)
    finally:
        g.remove_node(SOURCE)
    out.pop(SOURCE, None)
    return out


def networkx_times(g: nx.DiGraph, seeds: np.ndarray, offs: np.ndarray, cutoff: float
                   ) -> list[dict[int, float]]:
    """Per origin row of ``seeds``/``offs``, :func:`reach` (``{vertex: seconds}``)."""
    return [reach(g, row, off, cutoff) for row, off in zip(seeds, offs, strict=True)]


def check_same_vertex_times(ours: pd.DataFrame, ref: list[dict[int, float]],
                            rows: np.ndarray | None = None) -> None:
    """Assert the engine's ``origin``/``target``/``time_s`` frame equals networkx's dicts
    (reached sets equal, times to 1e-9) on the origin ``rows`` (default: all)."""
    pairs = sum(len(d) for d in ref)
    assert pairs == len(ours), f"pair counts differ: networkx {pairs} vs ours {len(ours)}"
    by_origin = dict(tuple(ours.groupby("origin")))
    for i in range(len(ref)) if rows is None else rows:
        mine = by_origin.get(i, ours.iloc[:0]).set_index("target")["time_s"]
        assert set(mine.index) == set(ref[i]), f"reached sets differ from networkx (origin {i})"
        assert np.allclose([ref[i][k] for k in mine.index], mine.to_numpy(), rtol=1e-9,
                           atol=1e-9), f"times differ from networkx (origin {i})"
