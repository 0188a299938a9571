"""Point-to-point routing on snapped points (communes' chefs-lieux, market towns, sites).

A snapped point enters the graph at the ends of its road segment ("out" seeds) and is
reached from them ("in" attachments); two points on the same segment are also joined
directly along it. Direction is explicit everywhere: ``reverse=True`` / ``direction="to"``
means times from the targets *to* the origin (people travel to the third place), computed
with one Dijkstra per origin on the reversed graph.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from territorial_geo.errors import NetworkError
from territorial_geo.method import DIRECTIONS
from territorial_geo.network.graph import RoadNetwork, same_segment_times, snap_groups
from territorial_geo.network.kernel import bounded_times, nearest_times


def check_direction(direction: str) -> bool:
    """Validate a direction; return True when routing runs on the reversed graph (``to``)."""
    if direction not in DIRECTIONS:
        raise NetworkError(f"direction must be 'to' or 'from', got {direction!r}")
    return direction == "to"


def origin_seeds(snap: pd.DataFrame, *, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Seeds of origins: how they leave (forward graph) or how they are reached (reversed)."""
    return snap_groups(snap, leaving=not reverse)


def target_attachments(snap: pd.DataFrame, *, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Attachments of targets: how they are reached (forward) or how they leave (reversed)."""
    return snap_groups(snap, leaving=reverse)


def _min_pairs(*frames: pd.DataFrame) -> pd.DataFrame:
    f = pd.concat([x for x in frames if len(x)], ignore_index=True) if any(
        len(x) for x in frames) else frames[0]
    if len(f) == 0:
        return pd.DataFrame({"origin": np.zeros(0, np.int64), "target": np.zeros(0, np.int64),
                             "time_s": np.zeros(0)})
    f = f.astype({"origin": np.int64, "target": np.int64, "time_s": float})
    return f.groupby(["origin", "target"], as_index=False, sort=True)["time_s"].min()


def snapped_times(
    net: RoadNetwork,
    origin_snap: pd.DataFrame,
    target_snap: pd.DataFrame,
    budget_s: float,
    *,
    reverse: bool,
    threads: int | None = None,
) -> pd.DataFrame:
    """Point-to-point times within a budget, snap legs and partial segments included.

    Parameters
    ----------
    net
        Road network.
    origin_snap, target_snap
        Frames from :meth:`RoadNetwork.snap`.
    budget_s
        Budget in seconds, snap legs included.
    reverse
        ``True``: times from each target *to* the origin; ``False``: from the origin to
        each target.

    Returns
    -------
    pandas.DataFrame
        ``origin`` and ``target`` (row positions in the snap frames) and ``time_s``.
    """
    sn, so = origin_seeds(origin_snap, reverse=reverse)
    tn, to = target_attachments(target_snap, reverse=reverse)
    res = bounded_times(net.csr(reverse=reverse), sn, budget_s, origin_offsets=so,
                        targets=tn, target_offsets=to, threads=threads)
    direct = same_segment_times(origin_snap, target_snap, origin_to_target=not reverse,
                                budget_s=budget_s)
    return _min_pairs(res, direct)


def node_times(
    net: RoadNetwork, origin_snap: pd.DataFrame, budget_s: float, *, reverse: bool,
    threads: int | None = None,
) -> pd.DataFrame:
    """Times between each origin point and every vertex of the routing graph within the
    budget.

    Returns ``origin``, ``target`` (vertex of :meth:`RoadNetwork.csr`: a node, or a directed
    edge under the turn model; :meth:`RoadNetwork.node_times_from_vertices` gives node
    times), ``time_s``.
    """
    sn, so = origin_seeds(origin_snap, reverse=reverse)
    return bounded_times(net.csr(reverse=reverse), sn, budget_s, origin_offsets=so,
                         threads=threads)


def points_from_node_times(
    reached: pd.DataFrame, origin_snap: pd.DataFrame, target_snap: pd.DataFrame,
    budget_s: float, *, reverse: bool,
) -> pd.DataFrame:
    """Point times from the vertex times of :func:`node_times` (no second Dijkstra).

    Returns ``origin``, ``target`` (row in ``target_snap``), ``time_s`` within the budget.
    """
    tn, to = target_attachments(target_snap, reverse=reverse)
    att = pd.DataFrame({"target": np.repeat(np.arange(len(tn)), tn.shape[1]),
                        "node": tn.ravel(), "off": to.ravel()})
    att = att[att["node"] >= 0]
    m = reached.merge(att, left_on="target", right_on="node", suffixes=("_node", ""))
    m = pd.DataFrame({"origin": m["origin"].to_numpy(), "target": m["target"].to_numpy(),
                      "time_s": m["time_s"].to_numpy() + m["off"].to_numpy()})
    m = m[m["time_s"] <= budget_s]
    direct = same_segment_times(origin_snap, target_snap, origin_to_target=not reverse,
                                budget_s=budget_s)
    return _min_pairs(m, direct)


def nearest_point_times(
    net: RoadNetwork, point_snap: pd.DataFrame, site_snap: pd.DataFrame, *,
    direction: str = "to",
) -> tuple[np.ndarray, np.ndarray]:
    """Time between each point and its nearest site, in one multi-source pass.

    Parameters
    ----------
    net
        Road network.
    point_snap, site_snap
        Snapped points and sites.
    direction
        ``"to"``: from each point to its nearest site (default); ``"from"``: from the
        nearest site to the point.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Per point: seconds (inf when unreachable) and the row of the nearest site (-1).
    """
    reverse = check_direction(direction)
    sn, so = origin_seeds(site_snap, reverse=reverse)
    dist, lab = nearest_times(net.csr(reverse=reverse), sn, source_offsets=so)
    tn, to = target_attachments(point_snap, reverse=reverse)
    cand = np.where(tn >= 0, dist[np.maximum(tn, 0)] + to, np.inf)
    best = np.argmin(cand, axis=1) if len(cand) else np.zeros(0, np.int64)
    rows = np.arange(len(cand))
    t = cand[rows, best] if len(cand) else np.zeros(0)
    site = np.where(np.isfinite(t), lab[np.maximum(tn[rows, best], 0)], -1) if len(cand) else \
        np.zeros(0, np.int64)
    direct = same_segment_times(site_snap, point_snap, origin_to_target=not reverse)
    if len(direct):
        for o, p, d in direct[["origin", "target", "time_s"]].itertuples(index=False):
            if d < t[int(p)]:
                t[int(p)] = d
                site[int(p)] = int(o)
    return t, site.astype(np.int64)


def node_times_to_nearest(
    net: RoadNetwork, site_snap: pd.DataFrame, *, direction: str = "to",
) -> np.ndarray:
    """Per node, seconds to (``"to"``) or from the nearest of the snapped sites."""
    reverse = check_direction(direction)
    sn, so = origin_seeds(site_snap, reverse=reverse)
    dist, _ = nearest_times(net.csr(reverse=reverse), sn, source_offsets=so)
    return net.node_times_from_vertices(dist, reverse=reverse)
