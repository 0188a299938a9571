"""The directed timed road graph every reader returns, its builder, snapping and cache.

* :func:`network_from_segments` turns road *segments* (LineStrings in EPSG:2154 with the
  directions they may be driven in and a speed) into a :class:`RoadNetwork`: nodes at
  segment end points (optionally joined within a tolerance), one directed edge per allowed
  direction, Morton-ordered node numbering.
* :meth:`RoadNetwork.snap` attaches points to the nearest drivable *segment* (a point on
  the segment, like osmnx's ``nearest_edges``), not to the nearest node: a point enters the
  graph at both ends of its segment, each with the time along the segment.
* :func:`cached` stores a built network as GeoParquet under a key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial_geo.errors import ConfigError, NetworkError
from territorial_geo.method import (
    MAX_SNAP_M,
    OSRM_CAR_HIGHWAY_KMH,
    OSRM_CAR_ONCOMING_TURN_S,
    OSRM_CAR_SPEED_REDUCTION,
    OSRM_CAR_TRAFFIC_SIGNAL_S,
    OSRM_CAR_TURN_BIAS,
    OSRM_CAR_TURN_PENALTY_S,
    OSRM_CAR_U_TURN_S,
    SNAP_KMH,
    SPEED_MODELS,
)
from territorial_geo.network.carprofile import (
    LEGAL_HIGHWAY_KMH,
    OSRM_CAR_DEFAULT_KMH,
    turn_angle,
    turn_costs,
)
from territorial_geo.network.kernel import build_csr
from territorial_geo.sources import WORKING_CRS, atomic_write

if TYPE_CHECKING:
    from territorial_geo.config import ZoningConfig

#: Default speeds (km/h) per OSM ``highway`` class when no speed is tagged: OSRM car.lua
#: v26.x ``speeds.highway`` (see :mod:`~territorial_geo.network.carprofile`).
DEFAULT_HIGHWAY_KMH: dict[str, float] = dict(OSRM_CAR_HIGHWAY_KMH)



@dataclass(frozen=True)
class SpeedProfile:
    """How edges and junctions are timed and points attached.

    Attributes
    ----------
    highway_kmh
        Speed per OSM ``highway`` class when no speed is tagged (OSRM car.lua v26.x
        ``speeds.highway`` by default).
    fallback_kmh
        Speed of a class missing from ``highway_kmh`` (OSRM car.lua v26.x ``default_speed``).
    factor
        Multiplier on every speed (e.g. 0.85 for congestion).
    snap_kmh
        Speed of the leg between a point and the road it is attached to.
    max_snap_m
        Points farther than this from the network are flagged (still timed).
    use_maxspeed
        Use tagged ``maxspeed`` when present.
    speed_model
        ``"osrm-car"`` (OSRM car.lua rules: tagged maxspeed x ``speed_reduction``, surface,
        tracktype and smoothness caps, car.lua access and one-way rules) or ``"legal"``
        (the former model: legal limits, :func:`legal_profile`).
    speed_reduction
        Factor on tagged maxspeed (OSRM car.lua v26.x ``speed_reduction``).
    turns
        Time junctions (edge-based graph; detailed networks only): the costs below.
    turn_penalty_s, turn_bias, u_turn_s, oncoming_turn_s, traffic_signal_s
        OSRM car.lua v26.x ``turn_penalty``, ``turn_bias``, ``u_turn_penalty``,
        ``oncoming_turn_penalty`` and lib/obstacles.lua traffic-signal duration
        (:func:`~territorial_geo.network.carprofile.turn_costs`).
    """

    highway_kmh: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HIGHWAY_KMH))
    fallback_kmh: float = OSRM_CAR_DEFAULT_KMH
    factor: float = 1.0
    snap_kmh: float = SNAP_KMH
    max_snap_m: float = MAX_SNAP_M
    use_maxspeed: bool = True
    speed_model: str = "osrm-car"
    speed_reduction: float = OSRM_CAR_SPEED_REDUCTION
    turns: bool = True
    turn_penalty_s: float = OSRM_CAR_TURN_PENALTY_S
    turn_bias: float = OSRM_CAR_TURN_BIAS
    u_turn_s: float = OSRM_CAR_U_TURN_S
    oncoming_turn_s: float = OSRM_CAR_ONCOMING_TURN_S
    traffic_signal_s: float = OSRM_CAR_TRAFFIC_SIGNAL_S

    def __post_init__(self) -> None:
        bad = {k: v for k, v in self.highway_kmh.items() if not (v > 0)}
        if bad or self.factor <= 0 or self.snap_kmh <= 0 or self.fallback_kmh <= 0 \
                or self.speed_reduction <= 0:
            raise NetworkError(
                f"speeds must be positive: {bad or ''} factor={self.factor} "
                f"snap_kmh={self.snap_kmh} fallback_kmh={self.fallback_kmh} "
                f"speed_reduction={self.speed_reduction}"
            )
        if self.speed_model not in SPEED_MODELS:
            raise NetworkError(f"speed_model must be one of {', '.join(SPEED_MODELS)}, got "
                               f"{self.speed_model!r}")
        costs = {k: getattr(self, k) for k in ("turn_penalty_s", "u_turn_s", "oncoming_turn_s",
                                                "traffic_signal_s")}
        if any(not (v >= 0) for v in costs.values()) or not self.turn_bias > 0:
            raise NetworkError(f"junction costs must be >= 0 and turn_bias > 0: {costs} "
                               f"turn_bias={self.turn_bias}")

    def key(self) -> str:
        """Stable hash of the profile (part of the graph cache key)."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def legal_profile(profile: SpeedProfile) -> SpeedProfile:
    """The same profile on the former legal-limit model, without junction costs.

    Class speeds left at their OSRM default become the legal limit
    (:data:`~territorial_geo.network.carprofile.LEGAL_HIGHWAY_KMH`); speeds a study file set
    stay. Used for the classified-road skeleton of the approximate network (its parameters
    were fitted on those speeds).
    """
    kmh = {**LEGAL_HIGHWAY_KMH, **{k: v for k, v in profile.highway_kmh.items()
                                   if DEFAULT_HIGHWAY_KMH.get(k) != v}}
    return replace(profile, highway_kmh=kmh, speed_model="legal", speed_reduction=1.0,
                   turns=False, fallback_kmh=50.0 if profile.fallback_kmh == OSRM_CAR_DEFAULT_KMH
                   else profile.fallback_kmh)


def speed_profile(zoning: ZoningConfig, where: str = "zoning") -> SpeedProfile:
    """The speed profile a study's zoning settings give (class speeds, speed model, junction
    costs, snap settings).

    Parameters
    ----------
    zoning
        The study's ``[zoning]`` table (:class:`~territorial_geo.config.ZoningConfig`).
    where
        Its key in the study file, named in errors.

    Raises
    ------
    ConfigError
        A value the profile refuses (the key named).
    """
    try:
        profile = SpeedProfile(
            highway_kmh=dict(zoning.speeds), factor=zoning.speed_factor,
            snap_kmh=zoning.snap_kmh, max_snap_m=zoning.max_snap_m,
            speed_reduction=zoning.speed_reduction, turns=zoning.junction_costs,
            turn_penalty_s=zoning.turn_penalty_s, turn_bias=zoning.turn_bias,
            u_turn_s=zoning.u_turn_s, oncoming_turn_s=zoning.oncoming_turn_s,
            traffic_signal_s=zoning.traffic_signal_s)
    except NetworkError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if zoning.speed_model == "legal":
        return replace(legal_profile(profile), turns=zoning.junction_costs)
    return profile


#: Columns every ``snap`` frame has (see :meth:`RoadNetwork.snap`).
SNAP_COLUMNS = ("x", "y", "road_x", "road_y", "node", "seg", "frac", "snap_m", "snap_s", "far", "out_nodes", "out_s",
                "in_nodes", "in_s")


@dataclass
class RoadNetwork:
    """A directed, timed road graph in Lambert-93.

    Attributes
    ----------
    nodes
        GeoDataFrame indexed 0..N-1 with ``osmid`` (the source's node id, or a generated
        one), ``x``, ``y`` (EPSG:2154) and geometry.
    edges
        GeoDataFrame of directed edges: ``u``, ``v`` (node positions), ``seg`` (the road
        segment it comes from: the two directions of a two-way segment share it),
        ``oneway``, ``length_m``, ``speed_kmh``, ``speed_source``, ``time_s``, reader
        attributes (``highway``, ``ref``, ``name``, ...), geometry oriented from u to v.
    profile
        The speed profile used (snap speed and threshold for every reader).
    source
        Provenance: at least ``kind`` (``detailed`` or ``approximate``), ``format``, the
        input path(s) and checksum, and reader statistics.
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    profile: SpeedProfile
    source: dict = field(default_factory=dict)
    _csr: dict = field(default_factory=dict, repr=False)
    _segs: dict = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def kind(self) -> str:
        """``detailed`` or ``approximate``."""
        return str(self.source.get("kind", "detailed"))

    @property
    def uses_turns(self) -> bool:
        """Whether routing runs on the edge-based (turn) graph: detailed networks whose
        profile times junctions. Approximate networks stay node-based."""
        return bool(self.profile.turns) and self.kind != "approximate" and len(self.edges) > 0

    @property
    def n_vertices(self) -> int:
        """Vertices of the routing graph: nodes, or directed edges under the turn model."""
        return len(self.edges) if self.uses_turns else self.n_nodes

    def csr(self, *, reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR arrays ``(indptr, indices, weights)`` of travel times in seconds.

        Node-based networks: vertices are nodes, arcs the edges (parallel edges keep the
        fastest). Under the turn model (:attr:`uses_turns`) vertices are the directed edges
        (a *state*: at the start of the edge, the junction behind it paid) and an arc
        ``e -> f`` (``f`` leaves the node ``e`` ends at) weighs the time along ``e`` plus
        the cost of turning from ``e`` into ``f``. ``reverse=True`` gives the transposed
        graph (times *to* a vertex).
        """
        key = "rev" if reverse else "fwd"
        if key not in self._csr:
            if self.uses_turns:
                u, v, w = self.turn_arcs()
                n = len(self.edges)
            else:
                u = self.edges["u"].to_numpy(np.int64)
                v = self.edges["v"].to_numpy(np.int64)
                w = self.edges["time_s"].to_numpy(np.float64)
                n = self.n_nodes
            if reverse:
                u, v = v, u
            self._csr[key] = build_csr(u, v, w, n)
        return self._csr[key]

    def turn_arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arcs of the edge-based graph: (from edge, to edge, seconds), vectorised.

        Every pair (edge into node x, edge out of x) is a turn, except a u-turn (back along
        the same segment) where another edge leaves x: as in OSRM, u-turns only at dead
        ends. Its cost is :func:`~territorial_geo.network.carprofile.turn_costs` on the
        angle between the last piece of the incoming edge and the first piece of the
        outgoing one, the number of roads (segments) meeting at x, a traffic signal at x
        (node column ``signal``) and roundabouts (edge column ``junction``).
        """
        if "arcs" in self._csr:
            return self._csr["arcs"]
        e, p = self.edges, self.profile
        u = e["u"].to_numpy(np.int64)
        v = e["v"].to_numpy(np.int64)
        t = e["time_s"].to_numpy(np.float64)
        seg = e["seg"].to_numpy(np.int64)
        n = self.n_nodes
        xy, idx = shapely.get_coordinates(e.geometry.to_numpy(), return_index=True)
        count = np.bincount(idx, minlength=len(e))
        first = np.r_[0, np.cumsum(count)[:-1]]
        last = first + count - 1
        d_first = xy[np.minimum(first + 1, last)] - xy[first]
        d_last = xy[last] - xy[np.maximum(last - 1, first)]
        out_order = np.argsort(u, kind="stable")
        outdeg = np.bincount(u, minlength=n)
        out_ptr = np.r_[0, np.cumsum(outdeg)]
        k = outdeg[v]
        src = np.repeat(np.arange(len(e)), k)
        within = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        dst = out_order[out_ptr[v[src]] + within]
        node = v[src]
        ends = pd.DataFrame({"n": np.r_[u, v], "s": np.r_[seg, seg]}).drop_duplicates()
        n_roads = np.bincount(ends["n"].to_numpy(np.int64), minlength=n)[node]
        u_turn = (seg[src] == seg[dst]) & (u[src] == v[dst])
        # a u-turn is allowed only where it is the one way on (a dead end, or a node whose
        # other roads cannot be driven away from it)
        other_exits = k[src] - np.bincount(src[u_turn], minlength=len(e))[src]
        keep = ~u_turn | (other_exits == 0)
        src, dst, node, n_roads, u_turn = src[keep], dst[keep], node[keep], n_roads[keep], \
            u_turn[keep]
        ang = turn_angle(d_last[src, 0], d_last[src, 1], d_first[dst, 0], d_first[dst, 1])
        ang = np.where(u_turn, 180.0, ang)
        signal = self.nodes["signal"].to_numpy(bool)[node] if "signal" in self.nodes else \
            np.zeros(len(node), bool)
        ring = np.zeros(len(e), bool)
        if "junction" in e:
            ring = e["junction"].astype(object).fillna("").astype(str).isin(
                {"roundabout", "circular"}).to_numpy()
        cost = turn_costs(ang, n_roads, u_turn, signal, turn_penalty_s=p.turn_penalty_s,
                          turn_bias=p.turn_bias, u_turn_s=p.u_turn_s,
                          oncoming_s=p.oncoming_turn_s, signal_s=p.traffic_signal_s,
                          roundabout=ring[src] | ring[dst])
        self._csr["arcs"] = (src, dst, t[src] + cost)
        return self._csr["arcs"]

    def node_times_from_vertices(self, dist: np.ndarray, *, reverse: bool) -> np.ndarray:
        """Per node, seconds from vertex times of :meth:`csr` (identity when node-based).

        Under the turn model a node's time is the best over the states arriving at it
        (forward: a state's time plus the time along its edge, or a state leaving the node)
        or, on the reversed graph, the best over the states leaving it. Forward, the end
        node of an origin's own edge is timed by the cheapest way on out of it (the turn
        included: a fraction of a second straight on).
        """
        dist = np.asarray(dist, float)
        if not self.uses_turns:
            return dist
        u = self.edges["u"].to_numpy(np.int64)
        out = np.full(self.n_nodes, np.inf)
        np.minimum.at(out, u, dist)
        if not reverse:
            v = self.edges["v"].to_numpy(np.int64)
            np.minimum.at(out, v, dist + self.edges["time_s"].to_numpy(np.float64))
        return out

    def turn_graph_size(self) -> dict:
        """``states`` and ``arcs`` of the edge-based graph (0 when node-based)."""
        if not self.uses_turns:
            return {"states": 0, "arcs": 0}
        return {"states": int(len(self.edges)), "arcs": int(len(self.turn_arcs()[0]))}

    def _segments(self) -> dict:
        """Undirected segments: end nodes a, b, geometry a->b, time a->b and b->a (inf when
        that direction is not allowed), and a spatial index."""
        if not self._segs:
            e = self.edges
            seg = e["seg"].to_numpy(np.int64)
            u = e["u"].to_numpy(np.int64)
            v = e["v"].to_numpy(np.int64)
            t = e["time_s"].to_numpy(np.float64)
            first = pd.Series(np.arange(len(e))).groupby(seg).first()
            sid = first.index.to_numpy(np.int64)
            row = first.to_numpy()
            a, b = u[row], v[row]
            pos = np.searchsorted(sid, seg)
            t_ab = np.full(len(sid), np.inf)
            t_ba = np.full(len(sid), np.inf)
            fwd = (u == a[pos]) & (v == b[pos])
            np.minimum.at(t_ab, pos[fwd], t[fwd])
            np.minimum.at(t_ba, pos[~fwd], t[~fwd])
            e_ab = np.full(len(sid), -1, np.int64)
            e_ba = np.full(len(sid), -1, np.int64)
            rows = np.arange(len(e), dtype=np.int64)
            e_ab[pos[fwd]] = rows[fwd]
            e_ba[pos[~fwd]] = rows[~fwd]
            geom = e.geometry.to_numpy()[row]
            self._segs.update(sid=sid, a=a, b=b, t_ab=t_ab, t_ba=t_ba, e_ab=e_ab, e_ba=e_ba,
                              geom=geom,
                              tree=shapely.STRtree(geom))
        return self._segs

    def snap(self, points: gpd.GeoSeries) -> pd.DataFrame:
        """Attach points to the nearest drivable road segment.

        The point is projected on the segment (fraction ``frac`` of its length from end a
        to end b); the perpendicular leg is timed at ``profile.snap_kmh``. The point leaves
        the graph ("out") towards the ends it can drive to along the segment and is reached
        ("in") from the ends that can drive to it, each with the time along the segment.

        Returns
        -------
        pandas.DataFrame
            Same index as ``points``: ``node`` (the nearer end, for display), ``seg``,
            ``frac``, ``x``/``y`` (the point), ``road_x``/``road_y`` (its projection on the
            road), ``snap_m`` (distance to the road), ``snap_s`` (snap leg time), ``far``
            (``snap_m > profile.max_snap_m``: flagged, not silently accepted),
            ``out_nodes``/``out_s`` and ``in_nodes``/``in_s`` (two slots each, node -1 when
            a direction is not allowed; times include the snap leg); under the turn model
            also ``out_states``/``out_states_s`` and ``in_states``/``in_states_s``, the same
            in the edge-based graph (:meth:`_state_attachments`).
        """
        if self.n_nodes == 0 or len(self.edges) == 0:
            raise NetworkError("the road network has no edge")
        pts = points.to_crs(WORKING_CRS) if points.crs and points.crs != WORKING_CRS else points
        s = self._segments()
        geoms = np.asarray(pts.geometry.to_numpy(), dtype=object)
        if len(geoms) == 0:
            return pd.DataFrame({c: [] for c in (*SNAP_COLUMNS, "_t_ab", "_t_ba")},
                                index=points.index)
        (ip, iseg), dist = s["tree"].query_nearest(geoms, return_distance=True, all_matches=False)
        order = np.argsort(ip, kind="stable")
        iseg = iseg[order]
        dist = dist[order]
        g = s["geom"][iseg]
        frac = shapely.line_locate_point(g, geoms, normalized=True)
        frac = np.nan_to_num(frac, nan=0.0)
        on_road = shapely.line_interpolate_point(g, frac, normalized=True)
        a, b = s["a"][iseg], s["b"][iseg]
        t_ab, t_ba = s["t_ab"][iseg], s["t_ba"][iseg]
        snap_s = dist / (self.profile.snap_kmh / 3.6)
        # leaving the point: to b along a->b, to a along b->a
        out_nodes = np.c_[np.where(np.isfinite(t_ab), b, -1), np.where(np.isfinite(t_ba), a, -1)]
        out_s = np.c_[snap_s + (1 - frac) * np.where(np.isfinite(t_ab), t_ab, 0.0),
                      snap_s + frac * np.where(np.isfinite(t_ba), t_ba, 0.0)]
        # reaching the point: from a along a->b, from b along b->a
        in_nodes = np.c_[np.where(np.isfinite(t_ab), a, -1), np.where(np.isfinite(t_ba), b, -1)]
        in_s = np.c_[snap_s + frac * np.where(np.isfinite(t_ab), t_ab, 0.0),
                     snap_s + (1 - frac) * np.where(np.isfinite(t_ba), t_ba, 0.0)]
        return pd.DataFrame(
            {
                "x": shapely.get_x(geoms), "y": shapely.get_y(geoms),
                "road_x": shapely.get_x(on_road), "road_y": shapely.get_y(on_road),
                "node": np.where(frac <= 0.5, a, b),
                "seg": s["sid"][iseg],
                "frac": frac,
                "snap_m": dist,
                "snap_s": snap_s,
                "far": dist > self.profile.max_snap_m,
                "out_nodes": list(out_nodes), "out_s": list(out_s),
                "in_nodes": list(in_nodes), "in_s": list(in_s),
                "_t_ab": t_ab, "_t_ba": t_ba,
                **(self._state_attachments(iseg, frac, snap_s) if self.uses_turns else {}),
            },
            index=points.index,
        )

    def _state_attachments(self, iseg: np.ndarray, frac: np.ndarray, snap_s: np.ndarray
                           ) -> dict:
        """Snapped points in the edge-based graph (see :meth:`snap`).

        Reached: the state of each directed edge of the segment, plus the time from its
        start to the point. Leaving: every state the edge turns into, with the rest of the
        edge and the turn (the arc weight minus the part of the edge behind the point).
        """
        s = self._segments()
        e_ab, e_ba = s["e_ab"][iseg], s["e_ba"][iseg]
        t_ab = np.where(e_ab >= 0, s["t_ab"][iseg], 0.0)
        t_ba = np.where(e_ba >= 0, s["t_ba"][iseg], 0.0)
        indptr, indices, weights = self.csr()
        n = len(iseg)

        def successors(erow: np.ndarray, behind: np.ndarray):
            ok = erow >= 0
            r = np.where(ok, erow, 0)
            deg = np.where(ok, indptr[r + 1] - indptr[r], 0)
            width = max(int(deg.max()) if n else 0, 1)
            states = np.full((n, width), -1, np.int64)
            offs = np.full((n, width), np.inf)
            row = np.repeat(np.arange(n), deg)
            within = np.arange(int(deg.sum())) - np.repeat(np.cumsum(deg) - deg, deg)
            at = indptr[r[row]] + within
            states[row, within] = indices[at]
            offs[row, within] = snap_s[row] + np.maximum(weights[at] - behind[row], 0.0)
            return states, offs

        fs, fo = successors(e_ab, frac * t_ab)
        bs, bo = successors(e_ba, (1 - frac) * t_ba)
        in_states = np.c_[e_ab, e_ba]
        in_s = np.c_[snap_s + frac * t_ab, snap_s + (1 - frac) * t_ba]
        return {"out_states": list(np.c_[fs, bs]), "out_states_s": list(np.c_[fo, bo]),
                "in_states": list(in_states), "in_states_s": list(in_s)}

    def to_networkx(self):
        """An osmnx-compatible ``networkx.MultiDiGraph`` (node ids are source node ids).

        Nodes carry ``x``, ``y``; edges ``length``, ``travel_time``, ``speed_kph``,
        ``highway``, ``geometry``; the graph carries ``crs``. osmnx functions such as
        ``osmnx.graph_to_gdfs`` or ``osmnx.routing.shortest_path`` accept it.
        """
        import networkx as nx

        g = nx.MultiDiGraph(crs=WORKING_CRS)
        osmid = self.nodes["osmid"].to_numpy()
        for i, x, y in zip(osmid, self.nodes["x"], self.nodes["y"], strict=True):
            g.add_node(int(i), x=float(x), y=float(y))
        e = self.edges
        hw = e["highway"] if "highway" in e else pd.Series(None, index=e.index)
        ref = e["ref"] if "ref" in e else pd.Series(None, index=e.index)
        for u, v, length, t, s, h, r, geom in zip(
            osmid[e["u"].to_numpy()], osmid[e["v"].to_numpy()], e["length_m"], e["time_s"],
            e["speed_kmh"], hw, ref, e.geometry, strict=True,
        ):
            g.add_edge(int(u), int(v), length=float(length), travel_time=float(t),
                       speed_kph=float(s), highway=h, ref=r, geometry=geom)
        return g

    def info(self) -> dict:
        """One JSON-able summary: ``kind``, ``format``, counts, speed sources, provenance."""
        e = self.edges
        speed = e["speed_source"].value_counts().to_dict() if "speed_source" in e else {}
        out = {
            "kind": self.kind,
            "format": self.source.get("format", "unknown"),
            "n_nodes": int(self.n_nodes),
            "n_edges": int(len(e)),
            "n_oneway_edges": int(e["oneway"].sum()) if "oneway" in e else 0,
            "n_segments": int(e["seg"].nunique()) if "seg" in e else int(len(e)),
            "speed_sources": {str(k): int(v) for k, v in speed.items()},
            "speed_model": self.profile.speed_model if self.kind != "approximate" else
            self.source.get("speed_model", "approximate"),
            "junction_costs": self.uses_turns,
        }
        for k, v in self.source.items():
            if k not in out and isinstance(v, str | int | float | bool | list | dict | None):
                out[k] = v
        return out


def access_legs(snap: pd.DataFrame) -> np.ndarray:
    """LineStrings from each snapped point to its projection on the road."""
    a = np.c_[snap["x"].to_numpy(), snap["y"].to_numpy()]
    b = np.c_[snap["road_x"].to_numpy(), snap["road_y"].to_numpy()]
    return shapely.linestrings(np.stack([a, b], axis=1))


def snap_groups(snap: pd.DataFrame, *, leaving: bool) -> tuple[np.ndarray, np.ndarray]:
    """Seed (or attachment) nodes and offsets of snapped points as 2-D arrays.

    ``leaving=True`` gives how the points enter the graph when travelling away from them;
    ``leaving=False`` how they are reached. Vertices of :meth:`RoadNetwork.csr`: states of
    the edge-based graph when the frame has them (a network with junction costs), else nodes.
    """
    nodes_col, s_col = ("out_nodes", "out_s") if leaving else ("in_nodes", "in_s")
    if "out_states" in snap.columns:
        nodes_col, s_col = ("out_states", "out_states_s") if leaving else \
            ("in_states", "in_states_s")
    if len(snap) == 0:
        return np.zeros((0, 2), np.int64), np.zeros((0, 2))
    return (np.vstack(snap[nodes_col].to_numpy()).astype(np.int64),
            np.vstack(snap[s_col].to_numpy()).astype(np.float64))


def same_segment_times(
    origin_snap: pd.DataFrame, target_snap: pd.DataFrame, *, origin_to_target: bool,
    budget_s: float = np.inf,
) -> pd.DataFrame:
    """Direct times between points snapped on the same segment (no graph node between).

    Parameters
    ----------
    origin_snap, target_snap
        Frames from :meth:`RoadNetwork.snap`.
    origin_to_target
        Travel from the origin point to the target point (else from target to origin).

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``target`` (row positions), ``time_s`` for the pairs sharing a segment
        and drivable along it within the budget.
    """
    o = pd.DataFrame({"seg": origin_snap["seg"].to_numpy(), "fo": origin_snap["frac"].to_numpy(),
                      "xo": origin_snap["x"].to_numpy(), "yo": origin_snap["y"].to_numpy(),
                      "so": origin_snap["snap_s"].to_numpy(), "ab": origin_snap["_t_ab"].to_numpy(),
                      "ba": origin_snap["_t_ba"].to_numpy(), "origin": np.arange(len(origin_snap))})
    t = pd.DataFrame({"seg": target_snap["seg"].to_numpy(), "ft": target_snap["frac"].to_numpy(),
                      "xt": target_snap["x"].to_numpy(), "yt": target_snap["y"].to_numpy(),
                      "st": target_snap["snap_s"].to_numpy(), "target": np.arange(len(target_snap))})
    m = o.merge(t, on="seg")
    if len(m) == 0:
        return pd.DataFrame({"origin": [], "target": [], "time_s": []})
    start, end = (m["fo"], m["ft"]) if origin_to_target else (m["ft"], m["fo"])
    along = np.where(end >= start, (end - start) * m["ab"], (start - end) * m["ba"])
    along = np.where(np.isclose(end, start), 0.0, along)
    time = m["so"].to_numpy() + along + m["st"].to_numpy()
    # a point's time to itself is 0, not two snap legs
    same = np.isclose(m["xo"], m["xt"], atol=0.01) & np.isclose(m["yo"], m["yt"], atol=0.01)
    time = np.where(same, 0.0, time)
    ok = np.isfinite(time) & (time <= budget_s)
    return pd.DataFrame({"origin": m["origin"].to_numpy()[ok], "target": m["target"].to_numpy()[ok],
                         "time_s": time[ok]})


def morton_code(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order code of points (16 bits per axis over their bounding box)."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    if len(x) == 0:
        return np.zeros(0, np.uint64)
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    qx = ((x - x.min()) / span * 65535).astype(np.uint64)
    qy = ((y - y.min()) / span * 65535).astype(np.uint64)
    return spread(qx) | (spread(qy) << np.uint64(1))


def endpoint_ids(
    geometry: gpd.GeoSeries, *, tolerance_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Node ids for segment end points, end points closer than ``tolerance_m`` joined.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, int)
        Id of the first and last point of each line, and the number of end points that
        were joined to a *different* position (gaps closed within the tolerance).
    """
    g = geometry.to_numpy()
    first = shapely.get_coordinates(shapely.get_point(g, 0))
    last = shapely.get_coordinates(shapely.get_point(g, -1))
    pts = np.r_[first, last]
    # exact positions first (rounded to the centimetre)
    key = np.round(pts, 2)
    _, exact = np.unique(key, axis=0, return_inverse=True)
    exact = exact.ravel()
    n_joined = 0
    if tolerance_m > 0:
        from scipy.sparse import coo_matrix  # lazy: 0.2 s of imports a study may not need
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial import cKDTree

        uniq = np.zeros((exact.max() + 1, 2))
        uniq[exact] = key
        tree = cKDTree(uniq)
        pairs = tree.query_pairs(tolerance_m, output_type="ndarray")
        if len(pairs):
            m = len(uniq)
            adj = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
            n_comp, comp = connected_components(adj, directed=False)
            n_joined = int(m - n_comp)
            exact = comp[exact]
    n = len(g)
    return exact[:n].astype(np.int64), exact[n:].astype(np.int64), n_joined


def network_from_segments(
    segments: gpd.GeoDataFrame,
    *,
    profile: SpeedProfile | None = None,
    source: dict | None = None,
    tolerance_m: float = 0.0,
    signal_ids: np.ndarray | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from road segments (the common path of every reader).

    Parameters
    ----------
    segments
        GeoDataFrame (any CRS; reprojected to EPSG:2154) of LineStrings with boolean
        ``forward`` (drivable from first to last point) and ``backward`` columns,
        ``speed_kmh`` (> 0) and ``speed_source``; optional ``length_m`` (else the geometry
        length), ``u_id``/``v_id`` (int64 node keys of the end points, e.g. OSM node ids;
        else end points are matched by position), and any attribute columns (kept on the
        edges).
    profile
        Snap speed and threshold (:class:`SpeedProfile` defaults when ``None``).
    source
        Provenance stored on the network.
    tolerance_m
        End points closer than this are joined into one node (only when no ids are given).
    signal_ids
        Node keys (``u_id``/``v_id`` values) carrying traffic signals: node column
        ``signal``, a junction cost under the turn model.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    NetworkError
        No segment, or a non-positive speed.
    """
    profile = profile or SpeedProfile()
    if segments is None or len(segments) == 0:
        raise NetworkError("the road network has no drivable way")
    seg = segments[segments["forward"].astype(bool) | segments["backward"].astype(bool)]
    if len(seg) == 0:
        raise NetworkError("the road network has no drivable way (no direction allowed)")
    if seg.crs is not None and seg.crs != WORKING_CRS:
        seg = seg.to_crs(WORKING_CRS)
    seg = seg.reset_index(drop=True)
    seg = seg[~seg.geometry.is_empty & seg.geometry.notna()].reset_index(drop=True)
    speed = pd.to_numeric(seg["speed_kmh"], errors="coerce").to_numpy(float)
    if not (speed > 0).all():
        raise NetworkError(f"{int((~(speed > 0)).sum())} segment(s) with a non-positive speed")
    geom = gpd.GeoSeries(seg.geometry.to_numpy(), crs=WORKING_CRS)
    geom = gpd.GeoSeries(shapely.force_2d(geom.to_numpy()), crs=WORKING_CRS)
    n_joined = 0
    if "u_id" in seg and "v_id" in seg:
        uid = seg["u_id"].to_numpy(np.int64)
        vid = seg["v_id"].to_numpy(np.int64)
    else:
        uid, vid, n_joined = endpoint_ids(geom, tolerance_m=tolerance_m)
    length = (pd.to_numeric(seg["length_m"], errors="coerce").to_numpy(float)
              if "length_m" in seg else np.full(len(seg), np.nan))
    length = np.where(np.isfinite(length), length, geom.length.to_numpy())
    fwd = seg["forward"].astype(bool).to_numpy()
    bwd = seg["backward"].astype(bool).to_numpy()
    attrs = seg.drop(columns=[c for c in ("geometry", "forward", "backward", "u_id", "v_id",
                                          "length_m", "speed_kmh") if c in seg.columns])
    base = attrs.assign(seg=np.arange(len(seg), dtype=np.int64), id_u=uid, id_v=vid,
                        oneway=fwd ^ bwd, length_m=length, speed_kmh=speed)
    f = base[fwd].copy()
    f["geometry"] = geom.to_numpy()[fwd]
    b = base[bwd].copy()
    b[["id_u", "id_v"]] = b[["id_v", "id_u"]].to_numpy()
    b["geometry"] = geom[bwd].reverse().to_numpy()
    directed = pd.concat([f, b], ignore_index=True)
    # node coordinates: first point of each directed edge is its u
    ids = np.r_[directed["id_u"].to_numpy(), directed["id_v"].to_numpy()]
    dg = directed["geometry"].to_numpy()
    xy = np.r_[shapely.get_coordinates(shapely.get_point(dg, 0)),
               shapely.get_coordinates(shapely.get_point(dg, -1))]
    uniq, first = np.unique(ids, return_index=True)
    x, y = xy[first, 0], xy[first, 1]
    # number nodes along a Z-order (Morton) curve: nodes close in space are close in memory,
    # which keeps the bounded Dijkstra's working set in cache
    order = np.argsort(morton_code(x, y), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    nodes = gpd.GeoDataFrame(
        {"osmid": uniq[order], "x": x[order], "y": y[order],
         "signal": np.isin(uniq[order], np.asarray(signal_ids if signal_ids is not None
                                                   else [], dtype=np.int64))},
        geometry=shapely.points(x[order], y[order]), crs=WORKING_CRS,
    )
    directed["u"] = rank[np.searchsorted(uniq, directed["id_u"].to_numpy())]
    directed["v"] = rank[np.searchsorted(uniq, directed["id_v"].to_numpy())]
    directed["time_s"] = directed["length_m"] / (directed["speed_kmh"] / 3.6)
    directed = directed.drop(columns=["id_u", "id_v"])
    edges = gpd.GeoDataFrame(directed, geometry="geometry", crs=WORKING_CRS)
    src = dict(source or {})
    if signal_ids is not None:
        src["n_traffic_signals"] = int(nodes["signal"].sum())
    if n_joined:
        src["n_endpoints_joined"] = n_joined
        src["join_tolerance_m"] = tolerance_m
    return RoadNetwork(nodes, edges, profile, src)


def cached(
    key_parts: list, build: Callable[[], RoadNetwork], *, profile: SpeedProfile,
    cache_dir: str | os.PathLike | None,
) -> RoadNetwork:
    """Load a network from ``cache_dir/<key>`` or build it and store it there (atomically).

    ``key_parts`` must identify the input (checksums, area, parameters); the speed profile
    is part of the key.
    """
    key = hashlib.sha256(
        json.dumps([*key_parts, profile.key(), 5], sort_keys=True, default=str).encode()
    ).hexdigest()[:20]
    if cache_dir is not None:
        cdir = Path(cache_dir) / key
        meta = cdir / "source.json"
        if (cdir / "edges.parquet").is_file() and (cdir / "nodes.parquet").is_file() \
                and meta.is_file():
            nodes = gpd.read_parquet(cdir / "nodes.parquet")
            edges = gpd.read_parquet(cdir / "edges.parquet")
            src = json.loads(meta.read_text(encoding="utf-8"))
            return RoadNetwork(nodes, edges, profile, {**src, "cached": True})
    net = build()
    net.source = {**net.source, "cache_key": key, "cached": False}
    if cache_dir is not None:
        cdir = Path(cache_dir) / key
        cdir.mkdir(parents=True, exist_ok=True)
        edges_out = net.edges.copy()
        for c in edges_out.columns:
            if c != "geometry" and edges_out[c].dtype == object:
                edges_out[c] = edges_out[c].astype("string")
        atomic_write(cdir / "nodes.parquet", lambda tmp: net.nodes.to_parquet(tmp))
        atomic_write(cdir / "edges.parquet", lambda tmp: edges_out.to_parquet(tmp))
        atomic_write(meta, lambda tmp: tmp.write_text(
            json.dumps(net.source, default=str), encoding="utf-8"))
    return net
