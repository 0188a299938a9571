"""Stage 2, network: an OpenStreetMap PBF turned into a timed, directed road graph.

* :func:`read_pbf` reads a real OSM PBF with pyrosm, keeps drivable ways, respects
  ``oneway`` (``yes``/``-1``), ``junction=roundabout`` and access restrictions, and times
  every edge from ``maxspeed`` or a French default per ``highway`` class.
* :class:`RoadNetwork` holds nodes and directed edges as GeoDataFrames (EPSG:2154), a CSR
  form for routing, and exports an osmnx-compatible ``MultiDiGraph``.
* Routing kernels (:func:`bounded_times`, :func:`nearest_times`) are compiled with numba:
  an indexed-heap Dijkstra bounded by a time budget, seeded from several sources at once,
  touching only the nodes it reaches.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from numba import njit
from scipy.spatial import cKDTree

from territorial_geo.errors import NetworkError
from territorial_geo.sources import WEB_CRS, WORKING_CRS, atomic_write, sha256_of

#: Default speeds (km/h) per OSM ``highway`` class, French rules: rural two-way roads 80
#: (décret 2018-487), motorways 130, dual carriageways 110, built-up areas 50.
DEFAULT_HIGHWAY_KMH: dict[str, float] = {
    "motorway": 130.0,
    "motorway_link": 90.0,
    "trunk": 110.0,
    "trunk_link": 70.0,
    "primary": 80.0,
    "primary_link": 60.0,
    "secondary": 80.0,
    "secondary_link": 50.0,
    "tertiary": 80.0,
    "tertiary_link": 50.0,
    "unclassified": 60.0,
    "road": 50.0,
    "residential": 50.0,
    "living_street": 20.0,
    "service": 30.0,
}

#: Symbolic French ``maxspeed`` values (OSM wiki, Key:maxspeed, France).
SYMBOLIC_MAXSPEED: dict[str, float] = {
    "fr:urban": 50.0,
    "fr:rural": 80.0,
    "fr:trunk": 110.0,
    "fr:motorway": 130.0,
    "fr:zone30": 30.0,
    "fr:zone20": 20.0,
    "fr:walk": 6.0,
    "fr:living_street": 20.0,
    "walk": 6.0,
}


@dataclass(frozen=True)
class SpeedProfile:
    """How edges are timed.

    Attributes
    ----------
    highway_kmh
        Default speed per ``highway`` class when ``maxspeed`` is not tagged.
    fallback_kmh
        Speed of a class missing from ``highway_kmh``.
    factor
        Multiplier on every speed (e.g. 0.85 for congestion or village crossings).
    snap_kmh
        Speed of the leg between a point and its network node.
    max_snap_m
        Points farther than this from the network are flagged (still timed).
    use_maxspeed
        Use tagged ``maxspeed`` when present.
    """

    highway_kmh: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HIGHWAY_KMH))
    fallback_kmh: float = 50.0
    factor: float = 1.0
    snap_kmh: float = 30.0
    max_snap_m: float = 2000.0
    use_maxspeed: bool = True

    def __post_init__(self) -> None:
        bad = {k: v for k, v in self.highway_kmh.items() if not (v > 0)}
        if bad or self.factor <= 0 or self.snap_kmh <= 0 or self.fallback_kmh <= 0:
            raise NetworkError(
                f"speeds must be positive: {bad or ''} factor={self.factor} "
                f"snap_kmh={self.snap_kmh} fallback_kmh={self.fallback_kmh}"
            )

    def key(self) -> str:
        """Stable hash of the profile (part of the graph cache key)."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


_NUM_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


def parse_maxspeed(value: object) -> float:
    """Parse an OSM ``maxspeed`` value to km/h; NaN when absent or not a speed.

    Handles ``"50"``, ``"FR:urban"``, ``"FR:rural"``, ``"FR:motorway"``, ``"70 mph"``,
    ``"30 km/h"`` and multi-values ``"50;70"`` (lowest kept).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, int | float):
        return float(value) if value > 0 else math.nan
    parts = [p for p in re.split(r"[;|]", str(value)) if p.strip()]
    speeds = []
    for part in parts:
        text = part.strip().lower()
        if text in SYMBOLIC_MAXSPEED:
            speeds.append(SYMBOLIC_MAXSPEED[text])
            continue
        m = _NUM_RE.match(text)
        if m:
            v = float(m.group(1))
            if m.group(2) == "mph":
                v *= 1.609344
            if v > 0:
                speeds.append(v)
    return min(speeds) if speeds else math.nan


_FORWARD = {"yes", "true", "1"}
_BACKWARD = {"-1", "reverse"}
_NO_ACCESS = {"no", "private"}
_YES_ACCESS = {"yes", "designated", "permissive", "destination"}


def _tag(edges: pd.DataFrame, key: str) -> pd.Series:
    """A tag as a column, taken from its own column or from pyrosm's JSON ``tags``."""
    col = edges[key] if key in edges.columns else pd.Series(None, index=edges.index, dtype=object)
    if "tags" in edges.columns:
        missing = col.isna()
        if bool(missing.any()):
            extra = edges.loc[missing, "tags"].map(
                lambda t: (json.loads(t) if isinstance(t, str) and t else {}).get(key)
                if not isinstance(t, dict) else t.get(key)
            )
            col = col.astype(object)
            col.loc[missing] = extra
    return col


@dataclass
class RoadNetwork:
    """A directed, timed road graph in Lambert-93.

    Attributes
    ----------
    nodes
        GeoDataFrame indexed 0..N-1 with ``osmid``, ``x``, ``y`` (EPSG:2154) and geometry.
    edges
        GeoDataFrame of directed edges: ``u``, ``v`` (node positions), ``highway``, ``ref``,
        ``name``, ``maxspeed``, ``speed_kmh``, ``speed_source`` (``maxspeed`` or
        ``default``), ``length_m``, ``time_s``, geometry oriented from u to v.
    profile
        The speed profile used.
    source
        Path of the PBF and its checksum.
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    profile: SpeedProfile
    source: dict = field(default_factory=dict)
    _csr: dict = field(default_factory=dict, repr=False)
    _tree: cKDTree | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    def csr(self, *, reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR arrays ``(indptr, indices, weights)`` of travel times in seconds.

        ``reverse=True`` gives the transposed graph (times *to* a node). Parallel edges keep
        the fastest.
        """
        key = "rev" if reverse else "fwd"
        if key not in self._csr:
            u = self.edges["u"].to_numpy(np.int64)
            v = self.edges["v"].to_numpy(np.int64)
            w = self.edges["time_s"].to_numpy(np.float64)
            if reverse:
                u, v = v, u
            self._csr[key] = build_csr(u, v, w, self.n_nodes)
        return self._csr[key]

    def snap(self, points: gpd.GeoSeries) -> pd.DataFrame:
        """Snap points to their nearest node.

        Returns
        -------
        pandas.DataFrame
            Same index as ``points``: ``node`` (position), ``snap_m`` (distance),
            ``snap_s`` (time of the snap leg at ``profile.snap_kmh``), ``far`` (True when
            ``snap_m > profile.max_snap_m``: flagged, not silently accepted).
        """
        if self.n_nodes == 0:
            raise NetworkError("the road network has no node")
        pts = points.to_crs(WORKING_CRS) if points.crs and points.crs != WORKING_CRS else points
        if self._tree is None:
            self._tree = cKDTree(np.c_[self.nodes["x"].to_numpy(), self.nodes["y"].to_numpy()])
        d, i = self._tree.query(np.c_[pts.x.to_numpy(), pts.y.to_numpy()])
        return pd.DataFrame(
            {
                "node": i.astype(np.int64),
                "snap_m": d,
                "snap_s": d / (self.profile.snap_kmh / 3.6),
                "far": d > self.profile.max_snap_m,
            },
            index=points.index,
        )

    def to_networkx(self):
        """An osmnx-compatible ``networkx.MultiDiGraph`` (node ids are OSM ids).

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
        for u, v, length, t, s, hw, ref, geom in zip(
            osmid[e["u"].to_numpy()], osmid[e["v"].to_numpy()], e["length_m"], e["time_s"],
            e["speed_kmh"], e["highway"], e["ref"], e.geometry, strict=True,
        ):
            g.add_edge(int(u), int(v), length=float(length), travel_time=float(t),
                       speed_kph=float(s), highway=hw, ref=ref, geometry=geom)
        return g


def build_csr(
    u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays from edge lists, keeping the minimum weight of parallel edges."""
    if len(u):
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        keep = np.ones(len(u), dtype=bool)
        keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, w = u[keep], v[keep], w[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    indptr = np.cumsum(indptr)
    return indptr, v.astype(np.int32), w.astype(np.float64)


def _time_edges(edges: pd.DataFrame, profile: SpeedProfile) -> pd.DataFrame:
    hw = edges["highway"].astype(object).where(edges["highway"].notna(), "road")
    default = hw.map(lambda h: profile.highway_kmh.get(str(h), profile.fallback_kmh)).astype(float)
    tagged = edges["maxspeed"].map(parse_maxspeed).astype(float)
    use_tag = tagged.notna() & profile.use_maxspeed
    speed = np.where(use_tag, tagged, default) * profile.factor
    out = edges.copy()
    out["maxspeed_kmh"] = tagged
    out["speed_kmh"] = speed
    out["speed_source"] = np.where(use_tag, "maxspeed", "default")
    out["time_s"] = out["length_m"] / (out["speed_kmh"] / 3.6)
    return out


def network_from_frames(
    nodes: pd.DataFrame, edges: gpd.GeoDataFrame, *, profile: SpeedProfile | None = None,
    source: dict | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from pyrosm-style frames.

    Parameters
    ----------
    nodes
        Columns ``id``, ``lon``, ``lat``.
    edges
        One row per way segment with ``u``, ``v`` (OSM node ids), ``highway``, ``length``
        (metres), geometry (EPSG:4326) and optional ``oneway``, ``junction``, ``maxspeed``,
        ``access``, ``ref``, ``name`` columns or a JSON ``tags`` column.
    """
    profile = profile or SpeedProfile()
    if edges is None or len(edges) == 0:
        raise NetworkError("the road network has no drivable way")
    e = edges.copy()
    for key in ("oneway", "junction", "maxspeed", "access", "motor_vehicle", "motorcar",
                "ref", "name"):
        e[key] = _tag(e, key)
    access = e["access"].astype(object).fillna("").str.lower()
    motor = e["motor_vehicle"].astype(object).fillna(e["motorcar"]).fillna("").astype(str).str.lower()
    blocked = (access.isin(_NO_ACCESS) & ~motor.isin(_YES_ACCESS)) | motor.isin(_NO_ACCESS)
    e = e[~blocked]
    oneway = e["oneway"].astype(object).fillna("").astype(str).str.lower()
    junction = e["junction"].astype(object).fillna("").astype(str).str.lower()
    fwd_only = oneway.isin(_FORWARD) | (junction.isin({"roundabout", "circular"}) & (oneway != "no"))
    bwd_only = oneway.isin(_BACKWARD)
    e = e.reset_index(drop=True)
    fwd_only = fwd_only.to_numpy()
    bwd_only = bwd_only.to_numpy()
    geom = gpd.GeoSeries(e.geometry.to_numpy(), crs=e.crs or WEB_CRS).to_crs(WORKING_CRS)
    length = pd.to_numeric(e.get("length"), errors="coerce")
    length = length.fillna(pd.Series(geom.length.to_numpy()))
    base = pd.DataFrame(
        {
            "osm_u": e["u"].to_numpy(np.int64),
            "osm_v": e["v"].to_numpy(np.int64),
            "highway": e["highway"].to_numpy(),
            "ref": e["ref"].to_numpy(),
            "name": e["name"].to_numpy(),
            "maxspeed": e["maxspeed"].to_numpy(),
            "oneway": np.where(fwd_only | bwd_only, True, False),
            "length_m": length.to_numpy(float),
        }
    )
    fwd = base[~bwd_only].copy()
    fwd["geometry"] = geom[~bwd_only].to_numpy()
    bwd = base[~fwd_only].copy()
    bwd[["osm_u", "osm_v"]] = bwd[["osm_v", "osm_u"]].to_numpy()
    bwd["geometry"] = geom[~fwd_only].reverse().to_numpy()
    directed = pd.concat([fwd, bwd], ignore_index=True)
    ids = np.unique(np.r_[directed["osm_u"].to_numpy(), directed["osm_v"].to_numpy()])
    nd = nodes.drop_duplicates("id").set_index("id").reindex(ids)
    if nd["lon"].isna().any():
        raise NetworkError(f"{int(nd['lon'].isna().sum())} way node(s) without coordinates")
    pts = gpd.GeoSeries(gpd.points_from_xy(nd["lon"], nd["lat"]), crs=WEB_CRS).to_crs(WORKING_CRS)
    # number nodes along a Z-order (Morton) curve: nodes close in space are close in memory,
    # which keeps the bounded Dijkstra's working set in cache
    order = np.argsort(morton_code(pts.x.to_numpy(), pts.y.to_numpy()), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    node_gdf = gpd.GeoDataFrame(
        {"osmid": ids[order], "x": pts.x.to_numpy()[order], "y": pts.y.to_numpy()[order]},
        geometry=pts.to_numpy()[order], crs=WORKING_CRS,
    )
    directed["u"] = rank[np.searchsorted(ids, directed["osm_u"].to_numpy())]
    directed["v"] = rank[np.searchsorted(ids, directed["osm_v"].to_numpy())]
    directed = _time_edges(directed, profile)
    edge_gdf = gpd.GeoDataFrame(directed, geometry="geometry", crs=WORKING_CRS)
    return RoadNetwork(node_gdf, edge_gdf, profile, source or {})


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


def _bbox_4326(area, margin_m: float) -> list[float]:
    minx, miny, maxx, maxy = gpd.GeoSeries([area], crs=WORKING_CRS).buffer(margin_m).to_crs(
        WEB_CRS).total_bounds
    return [float(minx), float(miny), float(maxx), float(maxy)]


def read_pbf(
    path: str | os.PathLike,
    *,
    area=None,
    margin_m: float = 20_000.0,
    profile: SpeedProfile | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> RoadNetwork:
    """Read a drivable road network from an OpenStreetMap PBF file.

    Parameters
    ----------
    path
        A ``.osm.pbf`` file (a regional extract, or the mirror's classified skeleton).
    area
        Optional shapely geometry in EPSG:2154 (a territory outline): only ways within its
        bounding box plus ``margin_m`` are read.
    margin_m
        Margin around ``area`` so that routes leaving the territory are kept.
    profile
        Speed profile; :class:`SpeedProfile` defaults when ``None``.
    cache_dir
        Where the built graph is cached, keyed by the PBF checksum, the area's bounding box
        and the speed profile. The second run loads the cache instead of parsing the PBF.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    NetworkError
        File missing, not a PBF, or with no drivable way in the area.
    """
    path = Path(path)
    profile = profile or SpeedProfile()
    if not path.is_file():
        raise NetworkError(f"road network file {path} not found; run `territorial-geo data fetch`")
    checksum = sha256_of(path)
    bbox = _bbox_4326(area, margin_m) if area is not None else None
    key = hashlib.sha256(
        json.dumps([checksum, bbox, profile.key(), 3], sort_keys=True).encode()
    ).hexdigest()[:20]
    source = {"pbf": str(path), "sha256": checksum, "bbox_4326": bbox, "cache_key": key}
    if cache_dir is not None:
        cdir = Path(cache_dir) / key
        if (cdir / "edges.parquet").is_file() and (cdir / "nodes.parquet").is_file():
            nodes = gpd.read_parquet(cdir / "nodes.parquet")
            edges = gpd.read_parquet(cdir / "edges.parquet")
            return RoadNetwork(nodes, edges, profile, {**source, "cached": True})
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path), bounding_box=bbox)
        got = osm.get_network(network_type="driving", nodes=True,
                              extra_attributes=["junction", "access", "motor_vehicle",
                                                "motorcar"])
    except Exception as exc:  # pyrosm raises bare exceptions on bad files
        raise NetworkError(f"{path}: cannot be read as an OSM PBF ({exc})") from exc
    if got is None or got[1] is None or len(got[1]) == 0:
        raise NetworkError(f"{path}: no drivable road in the requested area {bbox}")
    nodes, edges = got
    net = network_from_frames(nodes, edges, profile=profile, source={**source, "cached": False})
    if cache_dir is not None:
        cdir = Path(cache_dir) / key
        cdir.mkdir(parents=True, exist_ok=True)
        edges_out = net.edges.copy()
        for c in ("ref", "name", "maxspeed", "highway"):
            edges_out[c] = edges_out[c].astype("string")
        atomic_write(cdir / "nodes.parquet", lambda tmp: net.nodes.to_parquet(tmp))
        atomic_write(cdir / "edges.parquet", lambda tmp: edges_out.to_parquet(tmp))
    return net


# --------------------------------------------------------------------------------------
# compiled routing kernels
# --------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _sift_up(hk, hn, pos, i):
    k = hk[i]
    n = hn[i]
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= k:
            break
        hk[i] = hk[p]
        hn[i] = hn[p]
        pos[hn[i]] = i
        i = p
    hk[i] = k
    hn[i] = n
    pos[n] = i


@njit(cache=True, nogil=True)
def _sift_down(hk, hn, pos, i, size):
    k = hk[i]
    n = hn[i]
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= k:
            break
        hk[i] = hk[c]
        hn[i] = hn[c]
        pos[hn[i]] = i
        i = c
    hk[i] = k
    hn[i] = n
    pos[n] = i


@njit(cache=True, nogil=True)
def _dijkstra(indptr, indices, weights, seeds, seed_d, seed_label, limit, dist, label, touched,
              hk, hn, pos):
    """Multi-seed Dijkstra bounded by ``limit`` with an indexed binary heap (decrease-key).

    ``pos[v]`` is -1 for a node never queued, its heap slot while queued, -2 once settled;
    every node enters the heap at most once. Returns the number of touched nodes, listed in
    ``touched``; the caller resets ``dist`` and ``pos`` for them before the next run.
    """
    nt = 0
    size = 0
    for k in range(seeds.shape[0]):
        s = seeds[k]
        d = seed_d[k]
        if d <= limit and d < dist[s]:
            dist[s] = d
            label[s] = seed_label[k]
            if pos[s] == -1:
                touched[nt] = s
                nt += 1
                hk[size] = d
                hn[size] = s
                _sift_up(hk, hn, pos, size)
                size += 1
            else:
                hk[pos[s]] = d
                _sift_up(hk, hn, pos, pos[s])
    while size > 0:
        u = hn[0]
        d = hk[0]
        pos[u] = -2
        size -= 1
        if size > 0:
            hk[0] = hk[size]
            hn[0] = hn[size]
            _sift_down(hk, hn, pos, 0, size)
        lu = label[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd <= limit and nd < dist[v]:
                p = pos[v]
                if p == -1:
                    touched[nt] = v
                    nt += 1
                    dist[v] = nd
                    label[v] = lu
                    hk[size] = nd
                    hn[size] = v
                    _sift_up(hk, hn, pos, size)
                    size += 1
                elif p >= 0:
                    dist[v] = nd
                    label[v] = lu
                    hk[p] = nd
                    _sift_up(hk, hn, pos, p)
    return nt


@njit(cache=True, nogil=True)
def _grow(a, m, cap):
    b = np.empty(cap, a.dtype)
    b[:m] = a[:m]
    return b


@njit(cache=True, nogil=True)
def _many_bounded(indptr, indices, weights, origins, origin_d, limit, tptr, tids, toff):
    """One bounded Dijkstra per origin; hits are (origin, target, time) with a target offset."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.zeros(n, np.int64)
    touched = np.empty(n, np.int32)
    hk = np.empty(n, np.float64)
    hn = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    cap = max(1024, origins.shape[0] * 8)
    out_o = np.empty(cap, np.int32)
    out_t = np.empty(cap, np.int32)
    out_d = np.empty(cap, np.float64)
    m = 0
    seed = np.empty(1, np.int64)
    sd = np.empty(1, np.float64)
    sl = np.zeros(1, np.int64)
    for i in range(origins.shape[0]):
        seed[0] = origins[i]
        sd[0] = origin_d[i]
        nt = _dijkstra(indptr, indices, weights, seed, sd, sl, limit, dist, label, touched,
                       hk, hn, pos)
        need = m
        for k in range(nt):
            need += tptr[touched[k] + 1] - tptr[touched[k]]
        if need > cap:
            cap = max(2 * cap, need)
            out_o = _grow(out_o, m, cap)
            out_t = _grow(out_t, m, cap)
            out_d = _grow(out_d, m, cap)
        for k in range(nt):
            node = touched[k]
            dn = dist[node]
            for j in range(tptr[node], tptr[node + 1]):
                t = tids[j]
                tt = dn + toff[t]
                if tt <= limit:
                    out_o[m] = i
                    out_t[m] = t
                    out_d[m] = tt
                    m += 1
            dist[node] = np.inf
            pos[node] = -1
    return out_o[:m], out_t[:m], out_d[:m]


@njit(cache=True, nogil=True)
def _many_bounded_nodes(indptr, indices, weights, origins, origin_d, limit):
    """Fast path of :func:`_many_bounded` when every node is a target with no offset."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.zeros(n, np.int64)
    touched = np.empty(n, np.int32)
    hk = np.empty(n, np.float64)
    hn = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    cap = max(1024, origins.shape[0] * 8)
    out_o = np.empty(cap, np.int32)
    out_t = np.empty(cap, np.int32)
    out_d = np.empty(cap, np.float64)
    m = 0
    seed = np.empty(1, np.int64)
    sd = np.empty(1, np.float64)
    sl = np.zeros(1, np.int64)
    for i in range(origins.shape[0]):
        seed[0] = origins[i]
        sd[0] = origin_d[i]
        nt = _dijkstra(indptr, indices, weights, seed, sd, sl, limit, dist, label, touched,
                       hk, hn, pos)
        if m + nt > cap:
            cap = max(2 * cap, m + nt)
            out_o = _grow(out_o, m, cap)
            out_t = _grow(out_t, m, cap)
            out_d = _grow(out_d, m, cap)
        for k in range(nt):
            node = touched[k]
            out_o[m] = i
            out_t[m] = node
            out_d[m] = dist[node]
            m += 1
            dist[node] = np.inf
            pos[node] = -1
    return out_o[:m], out_t[:m], out_d[:m]


def _target_index(n_nodes: int, target_nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(target_nodes, kind="stable")
    tptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.add.at(tptr, target_nodes + 1, 1)
    return np.cumsum(tptr), order.astype(np.int64)


def bounded_times(
    csr: tuple[np.ndarray, np.ndarray, np.ndarray],
    origins: np.ndarray,
    budget_s: float,
    *,
    origin_offsets: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    target_offsets: np.ndarray | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Travel times within a budget from many origins (one-to-many, batched).

    Parameters
    ----------
    csr
        ``(indptr, indices, weights)`` from :meth:`RoadNetwork.csr`; pass the reversed CSR
        to get times *to* the origins (many-to-one).
    origins
        Origin node positions.
    budget_s
        Time budget in seconds (must be > 0); times above it are not returned.
    origin_offsets, target_offsets
        Seconds added at the start (origin snap leg) and at the end (target snap leg).
    targets
        Target node positions (e.g. the communes' snapped chefs-lieux); all nodes when None.
    threads
        Worker threads (the kernel releases the GIL); default ``min(2, os.cpu_count())``.

    Returns
    -------
    pandas.DataFrame
        Long table ``origin`` (position in ``origins``), ``target`` (position in ``targets``
        or node position), ``time_s``.
    """
    if not budget_s > 0:
        raise NetworkError(f"the time budget must be positive, got {budget_s} s")
    indptr, indices, weights = csr
    n = indptr.shape[0] - 1
    origins = np.asarray(origins, dtype=np.int64)
    if origin_offsets is None:
        origin_offsets = np.zeros(len(origins))
    all_nodes = targets is None and target_offsets is None
    if targets is None:
        targets = np.arange(n, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    if target_offsets is None:
        target_offsets = np.zeros(len(targets))
    if not all_nodes:
        tptr, tids = _target_index(n, targets)
    toff = np.asarray(target_offsets, dtype=np.float64)
    od = np.asarray(origin_offsets, dtype=np.float64)
    threads = threads or min(2, os.cpu_count() or 1)
    bounds = np.linspace(0, len(origins), max(1, min(threads * 4, len(origins))) + 1).astype(int)
    chunks = list(zip(bounds[:-1], bounds[1:], strict=True))

    def run(chunk: tuple[int, int]):
        a, b = chunk
        if all_nodes:
            o, t, d = _many_bounded_nodes(indptr, indices, weights, origins[a:b], od[a:b],
                                          float(budget_s))
        else:
            o, t, d = _many_bounded(indptr, indices, weights, origins[a:b], od[a:b],
                                    float(budget_s), tptr, tids, toff)
        return o.astype(np.int64) + a, t, d

    if threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(run, chunks))
    else:
        parts = [run(c) for c in chunks]
    return pd.DataFrame(
        {
            "origin": np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64),
            "target": np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64),
            "time_s": np.concatenate([p[2] for p in parts]) if parts else np.empty(0),
        }
    )


def snapped_times(
    net: RoadNetwork,
    origin_snap: pd.DataFrame,
    target_snap: pd.DataFrame,
    budget_s: float,
    *,
    reverse: bool,
    threads: int | None = None,
) -> pd.DataFrame:
    """Point-to-point times within a budget, snap legs included at both ends.

    Parameters
    ----------
    net
        Road network.
    origin_snap, target_snap
        Frames from :meth:`RoadNetwork.snap` (``node``, ``snap_s``).
    budget_s
        Budget in seconds, snap legs included.
    reverse
        Route on the reversed graph: times from each target *to* the origin.

    Returns
    -------
    pandas.DataFrame
        ``origin`` and ``target`` (positions in the snap frames) and ``time_s``.
    """
    return bounded_times(
        net.csr(reverse=reverse), origin_snap["node"].to_numpy(), budget_s,
        origin_offsets=origin_snap["snap_s"].to_numpy(), targets=target_snap["node"].to_numpy(),
        target_offsets=target_snap["snap_s"].to_numpy(), threads=threads,
    )


def nearest_times(
    csr: tuple[np.ndarray, np.ndarray, np.ndarray],
    sources: np.ndarray,
    *,
    source_offsets: np.ndarray | None = None,
    limit_s: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Time from every node to the closest of several sources, in one Dijkstra pass.

    Use the reversed CSR for the time from each node *to* its nearest site.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Per node: time in seconds (inf when unreachable) and the position in ``sources`` of
        the nearest source (-1 when unreachable).
    """
    indptr, indices, weights = csr
    n = indptr.shape[0] - 1
    sources = np.asarray(sources, dtype=np.int64)
    if len(sources) == 0:
        raise NetworkError("no source site given")
    offs = np.zeros(len(sources)) if source_offsets is None else np.asarray(source_offsets, float)
    dist = np.full(n, np.inf)
    label = np.full(n, -1, np.int64)
    touched = np.empty(n, np.int32)
    hk = np.empty(n, np.float64)
    hn = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    _dijkstra(indptr, indices, weights, sources, offs, np.arange(len(sources), dtype=np.int64),
              float(limit_s), dist, label, touched, hk, hn, pos)
    return dist, label

