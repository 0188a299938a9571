"""A sourced *approximate* road network for when no detailed network is at hand.

Two layers, merged into one :class:`~territorial_geo.network.graph.RoadNetwork`
(``kind="approximate"``, ``format="approximate"``):

(a) **Local links** between the chefs-lieux of communes that share a border (rook
    adjacency: a shared border at least ``min_shared_border_m`` long; communes touching at
    a point are *not* linked). A link of crow-fly length ``d`` stands for a road of length
    ``detour * d``; each half lies in one of the two communes and is driven at that
    commune's speed (by INSEE density level), except the built-up stretch around each
    chef-lieu (``builtup_m`` of the commune's level), driven at the built-up-area speed.
    That built-up stretch at each end *is* the crossing-villages penalty: a route through
    a village pays the village's whole crossing (two half stretches) at ``urban_kmh``.
(b) The **classified-road skeleton** (motorways, national and departmental roads) for the
    fast long links, kept as it is read, plus the same village-crossing penalty on each
    non-motorway skeleton segment passing within ``crossing_radius_m`` of a chef-lieu.
    Each chef-lieu within ``access_max_m`` of a road of an ``access_classes`` class is
    linked to both ends of its nearest segment (the perpendicular leg timed like a local
    link, then along the segment). Motorways and trunk roads are entered only where they
    meet another road (limited-access roads, Code de la voirie routière L122-1 / L151-1).

Every parameter lives in :class:`ApproxParams` with its source (:data:`PARAM_SOURCES`);
the network's ``source`` lists them all, and the skeleton used.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial_geo.errors import ConfigError, NetworkError
from territorial_geo.method import MARGIN_KM
from territorial_geo.network.graph import RoadNetwork, SpeedProfile, network_from_segments
from territorial_geo.sources import WORKING_CRS

if TYPE_CHECKING:
    from territorial_geo.config import ZoningConfig

#: INSEE communal density grid, 7 levels (2015 edition as mirrored; labels of ``LIBDENS``).
DENSITY_LEVELS: dict[int, str] = {
    1: "Grands centres urbains",
    2: "Centres urbains intermédiaires",
    3: "Petites villes",
    4: "Ceintures urbaines",
    5: "Bourgs ruraux",
    6: "Rural à habitat dispersé",
    7: "Rural à habitat très dispersé",
}

_DETOUR_SOURCE = (
    "Road-network detour index (circuity), published values about 1.2-1.4: "
    "Wang, Bette, Schreckenberg & Guhr (2024), 'How much longer do you have to drive than "
    "the crow has to fly?', npj Complexity 1:22, doi:10.1038/s44260-024-00023-x "
    "(network distance = 1.3 +/- 0.1 x crow-fly distance across national motorway networks); "
    "see also Boscoe, Henry & Zdeb (2012), 'A nationwide comparison of driving distance "
    "versus straight-line distance to hospitals', Professional Geographer 64(2), "
    "doi:10.1080/00330124.2011.583586, and Ballou, Rahardja & Sakai (2002), 'Selected "
    "country circuity factors for road travel distance estimation', Transportation "
    "Research Part A 36(9):843-848"
)
_OSRM_DATA = (
    "OSRM car times (osrm-backend, MLD, stock car.lua profile, on the Geofabrik France extract "
    "of OpenStreetMap) between IGN ADMIN EXPRESS COG 2021 chefs-lieux, public repository "
    "neocarto/rspatial, folder osrm/data (N. Lambert, 2021; no licence file: used for "
    "calibration and tests only; catalog datasets osrm-isere-matrix, osrm-isere-points, "
    "osrm-time-to-paris)"
)
_ISERE_FIT = (
    "FITTED to " + _OSRM_DATA + ": the 251-commune Isère matrix, communes split by area "
    "(20 km squares, alternate columns: 133 fitted, 118 held back), with "
    "`territorial-geo network calibrate --reference` as run by tools/fit_approx_defaults.py "
    "(docs/method.md §2.6.7 gives the residuals on the held-back communes)"
)
_PARIS_FIT = (
    "FITTED to " + _OSRM_DATA + ": every mainland commune's time to Paris (communes of "
    "even-numbered départements fitted, odd ones held back; tools/fit_approx_defaults.py), "
    "starting from OSRM car.lua's 0.8 x the legal limit (130, 110 km/h); the skeleton's "
    "straight junction-to-junction segments are shorter than the road, so these speeds are "
    "per straight-line km"
)

#: Where every default of :class:`ApproxParams` comes from.
PARAM_SOURCES: dict[str, str] = {
    "detour": _DETOUR_SOURCE + ". Not fitted: times alone cannot tell a longer road from a "
    "slower one, the fitted speeds absorb it",
    "speed_kmh": _ISERE_FIT + "; one speed per group of density levels (1-2, 3-4, 5-7)",
    "urban_kmh": _ISERE_FIT,
    "builtup_m": (
        "ASSUMPTION (no published source found): length of built-up road on each side of a "
        "chef-lieu, driven at urban_kmh, by density level (a rural village's crossing is "
        "2 x 300-400 m, a bourg's 2 x 600 m, a small town's 2 x 1000 m). It is the "
        "crossing-villages penalty: builtup_m x (1/urban_kmh - 1/speed_kmh) per end. "
        "Fit it to a detailed network with `territorial-geo network calibrate`"
    ),
    "min_shared_border_m": (
        "ASSUMPTION: communes are linked when their shared border is at least this long "
        "(rook adjacency); shorter contacts are mostly corners of the simplified ADMIN "
        "EXPRESS polygons"
    ),
    "access_max_m": (
        "ASSUMPTION: chefs-lieux farther than this from a skeleton road are not linked to it "
        "(same value as the engine's snap threshold, SpeedProfile.max_snap_m)"
    ),
    "access_classes": (
        "Skeleton classes a chef-lieu may join anywhere along; motorways (Code de la voirie "
        "routière art. L122-1) and trunk roads / routes express (art. L151-1) are "
        "limited-access and joined only where they meet another road"
    ),
    "crossing_radius_m": (
        "ASSUMPTION: a skeleton (non-motorway, non-trunk) segment passing within this "
        "distance of a chef-lieu crosses that village and pays its crossing penalty (the "
        "skeleton's straight junction-to-junction segments stray a few hundred metres from "
        "the road)"
    ),
    "skeleton_kmh": "motorway, trunk: " + _PARIS_FIT + "; secondary (departmental and "
    "national roads that are not trunk roads): " + _ISERE_FIT,
    "link_s": _ISERE_FIT + "; stands for leaving and entering villages and the junctions "
    "between (routers charge per-junction costs: OSRM car.lua turn_penalty 7.5 s, "
    "traffic_signal_penalty 2 s; IGN's road2_amelioration_des_vitesses about 5 s a section)",
}


def _default_speeds() -> dict[int, float]:
    # fitted (PARAM_SOURCES["speed_kmh"]); by groups of levels 1-2, 3-4, 5-7
    return {1: 37.2, 2: 37.2, 3: 24.2, 4: 24.2, 5: 27.5, 6: 27.5, 7: 27.5}


def _default_skeleton_speeds() -> dict[str, float]:
    # fitted (PARAM_SOURCES["skeleton_kmh"])
    return {"motorway": 100.8, "trunk": 82.3, "secondary": 53.8}


def _default_builtup() -> dict[int, float]:
    # levels 1-2 are built-up throughout (their speed is already urban_kmh)
    return {1: 0.0, 2: 0.0, 3: 1000.0, 4: 600.0, 5: 600.0, 6: 400.0, 7: 300.0}


@dataclass(frozen=True)
class ApproxParams:
    """Parameters of the approximate network (sources in :data:`PARAM_SOURCES`).

    Attributes
    ----------
    detour
        Road length / crow-fly length of a local link.
    speed_kmh
        Open-road speed by INSEE density level (1..7) of the commune a half-link lies in.
    urban_kmh
        Speed on the built-up stretch around each chef-lieu.
    builtup_m
        Length of that built-up stretch on each side of a chef-lieu, by density level.
    min_shared_border_m
        Shortest shared border for two communes to be linked.
    access_max_m
        Farthest a chef-lieu is linked to the skeleton.
    access_classes
        Skeleton ``highway`` classes a chef-lieu may join anywhere along.
    crossing_radius_m
        Distance within which a skeleton segment is taken to cross a village centre.
    skeleton_kmh
        Speed by skeleton ``highway`` class (classes not listed keep the reader's speed).
    link_s
        Fixed seconds added to every local and access link: leaving and entering a village
        and the junctions between (the per-section junction cost of routers).
    """

    detour: float = 1.3
    speed_kmh: dict[int, float] = field(default_factory=_default_speeds)
    urban_kmh: float = 32.5
    builtup_m: dict[int, float] = field(default_factory=_default_builtup)
    min_shared_border_m: float = 100.0
    access_max_m: float = 2000.0
    access_classes: tuple[str, ...] = ("primary", "secondary", "tertiary", "unclassified",
                                       "residential", "road")
    crossing_radius_m: float = 300.0
    skeleton_kmh: dict[str, float] = field(default_factory=_default_skeleton_speeds)
    link_s: float = 25.3

    def __post_init__(self) -> None:
        speeds = {int(k): float(v) for k, v in self.speed_kmh.items()}
        built = {int(k): float(v) for k, v in self.builtup_m.items()}
        sk = {str(k): float(v) for k, v in self.skeleton_kmh.items()}
        object.__setattr__(self, "speed_kmh", speeds)
        object.__setattr__(self, "builtup_m", built)
        object.__setattr__(self, "skeleton_kmh", sk)
        bad_sk = {k: v for k, v in sk.items() if not v > 0}
        if bad_sk or not self.link_s >= 0:
            raise NetworkError(f"ApproxParams: skeleton_kmh must be positive and link_s >= 0 "
                               f"(skeleton_kmh={bad_sk or sk}, link_s={self.link_s})")
        missing = sorted(set(DENSITY_LEVELS) - set(speeds)) + sorted(set(DENSITY_LEVELS) - set(built))
        if missing:
            raise NetworkError(f"ApproxParams: density level(s) {sorted(set(missing))} missing from "
                               "speed_kmh / builtup_m (levels 1..7 are all needed)")
        bad = {k: v for k, v in speeds.items() if not v > 0}
        if bad or not self.urban_kmh > 0 or not self.detour >= 1.0:
            raise NetworkError(
                f"ApproxParams: speeds must be positive and detour >= 1 "
                f"(speed_kmh={bad or speeds}, urban_kmh={self.urban_kmh}, detour={self.detour})")
        if any(v < 0 for v in built.values()):
            raise NetworkError(f"ApproxParams: builtup_m must be >= 0, got {built}")

    def to_dict(self) -> dict:
        """Every parameter with its value and source (JSON-able)."""
        d = asdict(self)
        d["access_classes"] = list(self.access_classes)
        return {k: {"value": v, "source": PARAM_SOURCES.get(k, "")} for k, v in d.items()}

    def key(self) -> str:
        """Stable hash of the parameters (part of a cache key)."""
        blob = json.dumps(asdict(self), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def replace(self, **changes) -> ApproxParams:
        """A copy with some parameters changed."""
        return replace(self, **changes)

    def end_penalty_s(self) -> dict[int, float]:
        """Seconds the built-up stretch adds at one end of a link, by level (derived)."""
        return {k: self.builtup_m[k] * (3.6 / self.urban_kmh - 3.6 / self.speed_kmh[k])
                for k in DENSITY_LEVELS}


def approx_params(zoning: ZoningConfig, where: str = "zoning") -> ApproxParams:
    """:class:`ApproxParams` with a study file's ``[zoning.approximate]`` overrides (tables
    such as ``speed_kmh`` merged by level, ``skeleton_kmh`` by highway class).

    Parameters
    ----------
    zoning
        The study's ``[zoning]`` table (:class:`~territorial_geo.config.ZoningConfig`).
    where
        Its key in the study file, named in errors.

    Raises
    ------
    ConfigError
        An unknown key (the known ones listed) or a value the parameters refuse.
    """
    base = ApproxParams()
    names = {f.name for f in fields(ApproxParams)}
    unknown = sorted(set(zoning.approximate) - names)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(f'{where}.approximate.{u}' for u in unknown)}"
                          f"; known here: {', '.join(sorted(names))}")
    changes = {}
    for k, v in zoning.approximate.items():
        cur = getattr(base, k)
        if isinstance(cur, dict):
            if not isinstance(v, dict):
                raise ConfigError(f"{where}.approximate.{k} must be a table (by density "
                                  "level, or by highway class for skeleton_kmh)")
            keyed = str if k == "skeleton_kmh" else int  # by highway class, else by level
            try:
                changes[k] = {**cur, **{keyed(kk): vv for kk, vv in v.items()}}
            except ValueError as exc:
                raise ConfigError(f"{where}.approximate.{k}: keys must be density levels "
                                  f"1..7 ({exc})") from exc
        elif isinstance(cur, tuple):
            changes[k] = tuple(v)
        else:
            changes[k] = v
    try:
        return replace(base, **changes)
    except (NetworkError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}.approximate: {exc}") from exc


def _lookup(table: dict[int, float], levels: np.ndarray) -> np.ndarray:
    arr = np.full(8, np.nan)
    for k, v in table.items():
        arr[int(k)] = v
    return arr[np.asarray(levels, dtype=np.int64)]


def half_link_s(length_m: np.ndarray, level: np.ndarray, params: ApproxParams) -> np.ndarray:
    """Seconds to drive ``length_m`` of road out of a chef-lieu of the given density level.

    The first ``builtup_m[level]`` metres are driven at ``urban_kmh``, the rest at
    ``speed_kmh[level]``.
    """
    length_m = np.asarray(length_m, dtype=float)
    built = np.minimum(length_m, _lookup(params.builtup_m, level))
    return built / (params.urban_kmh / 3.6) + (length_m - built) / (_lookup(params.speed_kmh, level) / 3.6)


def link_times(
    crow_m: np.ndarray, level_a: np.ndarray, level_b: np.ndarray, params: ApproxParams
) -> np.ndarray:
    """Seconds of local links between chefs-lieux ``crow_m`` apart (crow-fly).

    Road length ``detour * crow_m``, half in each commune (:func:`half_link_s`), plus the
    fixed ``link_s``.
    """
    half = params.detour * np.asarray(crow_m, dtype=float) / 2
    return half_link_s(half, level_a, params) + half_link_s(half, level_b, params) + params.link_s


def commune_adjacency(communes: gpd.GeoDataFrame, *, min_shared_m: float = 100.0) -> pd.DataFrame:
    """Pairs of communes sharing a border at least ``min_shared_m`` long (rook adjacency).

    Parameters
    ----------
    communes
        Polygons in a metric CRS (EPSG:2154), indexed by commune code.
    min_shared_m
        Shortest shared border (metres); communes touching at a corner only are not paired.

    Returns
    -------
    pandas.DataFrame
        One row per unordered pair: ``a``, ``b`` (row positions, ``a < b``), ``code_a``,
        ``code_b``, ``shared_m`` (length of the common border; for the rare overlapping
        slivers of simplified polygons, the sliver's perimeter).
    """
    geoms = np.asarray(communes.geometry.to_numpy(), dtype=object)
    if len(geoms) == 0:
        return pd.DataFrame({"a": [], "b": [], "code_a": [], "code_b": [], "shared_m": []})
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(geoms[i], geoms[j]))
    ok = shared >= min_shared_m
    codes = np.asarray(communes.index)
    return pd.DataFrame({"a": i[ok], "b": j[ok], "code_a": codes[i[ok]], "code_b": codes[j[ok]],
                         "shared_m": shared[ok]})


def _fill_density(codes: pd.Index, density: pd.Series, adj: pd.DataFrame) -> tuple[np.ndarray, list]:
    """Density level per commune; a commune missing from the grid (e.g. created after its
    edition) takes the most common level of its neighbours, and is reported."""
    lev = pd.to_numeric(density.reindex(codes), errors="coerce")
    bad = lev.notna() & ~lev.isin(list(DENSITY_LEVELS))
    if bad.any():
        raise NetworkError(f"density grid: level(s) outside 1..7 for commune(s) "
                           f"{list(codes[bad.to_numpy()][:10])}")
    missing = list(codes[lev.isna().to_numpy()])
    if missing:
        pos = np.flatnonzero(lev.isna().to_numpy())
        pairs = pd.concat([pd.DataFrame({"x": adj["a"], "y": adj["b"]}),
                           pd.DataFrame({"x": adj["b"], "y": adj["a"]})])
        pairs = pairs[pairs["x"].isin(pos)]
        pairs = pairs.assign(level=lev.to_numpy()[pairs["y"].to_numpy()]).dropna()
        fill = pairs.groupby("x")["level"].agg(lambda s: s.value_counts().index[0])
        arr = np.array(lev.to_numpy(dtype=float), copy=True)
        arr[fill.index.to_numpy()] = fill.to_numpy()
        still = [codes[p] for p in pos if not np.isfinite(arr[p])]
        if still:
            raise NetworkError(
                f"density grid: no level for commune(s) {still[:10]} and no neighbour to take it "
                "from; pass a density series covering them")
        lev = pd.Series(arr, index=codes)
    return lev.to_numpy(dtype=np.int64), missing


def _skeleton_segments(skeleton: RoadNetwork) -> gpd.GeoDataFrame:
    """Undirected segments of a network with end node ids, directions, time and attributes."""
    e = skeleton.edges
    osm = skeleton.nodes["osmid"].to_numpy(np.int64)
    first = e.groupby("seg", sort=True).head(1)
    u = first["u"].to_numpy(np.int64)
    v = first["v"].to_numpy(np.int64)
    both = e.groupby("seg").size().reindex(first["seg"]).to_numpy()
    seg = gpd.GeoDataFrame(
        {
            "u_id": osm[u], "v_id": osm[v], "u": u, "v": v,
            "forward": True, "backward": both > 1,
            "highway": first["highway"].to_numpy() if "highway" in first else None,
            "ref": first["ref"].to_numpy() if "ref" in first else None,
            "name": first["name"].to_numpy() if "name" in first else None,
            "length_m": first["length_m"].to_numpy(float),
            "base_s": first["time_s"].to_numpy(float),
            "base_kmh": first["speed_kmh"].to_numpy(float),
            "base_source": first["speed_source"].astype(str).to_numpy()
            if "speed_source" in first else "unknown",
        },
        geometry=first.geometry.to_numpy(), crs=WORKING_CRS,
    )
    return seg.reset_index(drop=True)


def build_approximate(
    communes: gpd.GeoDataFrame,
    chefs_lieux: gpd.GeoDataFrame,
    density: pd.Series,
    *,
    skeleton: RoadNetwork | None = None,
    params: ApproxParams | None = None,
    profile: SpeedProfile | None = None,
) -> RoadNetwork:
    """Build the approximate network of an area (local links merged with the skeleton).

    Parameters
    ----------
    communes
        Commune polygons (EPSG:2154) indexed by 5-character code: the area to cover
        (a territory, its ring and a margin).
    chefs_lieux
        Chef-lieu points, same index (a commune without one gets a point inside its polygon,
        counted in ``source["n_interior_points"]``).
    density
        INSEE density-grid level (1..7) by commune code.
    skeleton
        Classified-road skeleton (e.g. :func:`~territorial_geo.network.osm.read_pbf` of the
        mirror's ``roads-hdf``) covering the area, or ``None`` for local links only.
    params
        :class:`ApproxParams` (sourced defaults when ``None``).
    profile
        Snap speed and threshold for points attached later (:class:`SpeedProfile`).

    Returns
    -------
    RoadNetwork
        ``kind="approximate"``; node ``osmid`` of a chef-lieu is ``chef_lieu_base + i``
        (``i`` its row in ``communes``), skeleton nodes keep theirs. Edges carry ``link``
        (``local``, ``access`` or ``skeleton``), ``code_u``/``code_v`` (communes of local
        and access links) and ``level_u``/``level_v`` (their density levels), ``crow_m``,
        ``penalty_s`` (built-up / village-crossing seconds).

    Raises
    ------
    NetworkError
        No commune, a CRS that is not metric, or density levels missing for isolated communes.
    """
    t0 = time.perf_counter()
    params = params or ApproxParams()
    profile = profile or SpeedProfile()
    if communes is None or len(communes) == 0:
        raise NetworkError("approximate network: no commune given")
    if communes.crs is not None and communes.crs != WORKING_CRS:
        communes = communes.to_crs(WORKING_CRS)
    codes = pd.Index(communes.index.astype(str))
    if codes.has_duplicates:
        raise NetworkError(f"approximate network: duplicate commune codes "
                           f"{list(codes[codes.duplicated()][:5])}")
    cl = chefs_lieux.to_crs(WORKING_CRS) if chefs_lieux.crs not in (None, WORKING_CRS) else chefs_lieux
    pts = cl.geometry.reindex(codes)
    lacking = pts.isna().to_numpy() | shapely.is_empty(pts.to_numpy())
    if lacking.any():
        rep = communes.geometry.representative_point().to_numpy()
        pts = gpd.GeoSeries(np.where(lacking, rep, pts.to_numpy()), index=codes, crs=WORKING_CRS)
    xy = shapely.get_coordinates(pts.to_numpy())
    adj = commune_adjacency(communes, min_shared_m=params.min_shared_border_m)
    level, filled = _fill_density(codes, density, adj)

    base = 1
    if skeleton is not None and skeleton.n_nodes:
        base = int(max(0, skeleton.nodes["osmid"].max())) + 1
    cl_id = base + np.arange(len(codes), dtype=np.int64)

    # (a) local links
    a, b = adj["a"].to_numpy(), adj["b"].to_numpy()
    crow = np.hypot(xy[a, 0] - xy[b, 0], xy[a, 1] - xy[b, 1])
    t_local = link_times(crow, level[a], level[b], params)
    no_pen = params.replace(builtup_m=dict.fromkeys(DENSITY_LEVELS, 0.0), link_s=0.0)
    pen_local = t_local - link_times(crow, level[a], level[b], no_pen)
    length_local = params.detour * crow
    parts = [gpd.GeoDataFrame(
        {
            "u_id": cl_id[a], "v_id": cl_id[b], "forward": True, "backward": True,
            "link": "local", "highway": "approximate", "ref": None, "name": None,
            "code_u": codes[a], "code_v": codes[b], "crow_m": crow,
            "level_u": level[a].astype(float), "level_v": level[b].astype(float),
            "length_m": length_local, "time_s": t_local, "penalty_s": pen_local,
            "speed_source": "approximate: detour x density-level speed",
        },
        geometry=shapely.linestrings(np.stack([xy[a], xy[b]], axis=1)) if len(a) else [],
        crs=WORKING_CRS,
    )]

    n_access = n_crossed = 0
    sk_source = None
    if skeleton is not None and len(skeleton.edges):
        sk_source = {k: v for k, v in skeleton.source.items()
                     if isinstance(v, str | int | float | bool | list | None)}
        seg = _skeleton_segments(skeleton)
        geoms = seg.geometry.to_numpy()
        hw = seg["highway"].astype(str).to_numpy()
        # the approximate network's own class speeds (calibrated), not the reader's limits
        # (scaled like every detailed network's speeds by the profile's factor)
        kmh = pd.Series(hw).map(params.skeleton_kmh).to_numpy(dtype=float) * profile.factor
        own = np.isfinite(kmh)
        if own.any():
            seg.loc[own, "base_kmh"] = kmh[own]
            seg.loc[own, "base_s"] = seg["length_m"].to_numpy()[own] / (kmh[own] / 3.6)
            seg.loc[own, "base_source"] = "ApproxParams.skeleton_kmh"
        open_road = ~np.isin(hw, ["motorway", "motorway_link", "trunk", "trunk_link"])
        # (b1) village crossings on non-motorway skeleton segments
        penalty = np.zeros(len(seg))
        crossed_m = np.zeros(len(seg))  # built-up length crossed (for calibrate.retime)
        if open_road.any():
            tree = shapely.STRtree(geoms[open_road])
            ip, iseg = tree.query(pts.to_numpy(), predicate="dwithin",
                                  distance=params.crossing_radius_m)
            sidx = np.flatnonzero(open_road)[iseg]
            v_seg = seg["base_kmh"].to_numpy()[sidx] / 3.6
            built = _lookup(params.builtup_m, level[ip])
            # a crossing is two built-up half stretches, never more than the segment itself
            cross = np.minimum(2 * built, seg["length_m"].to_numpy()[sidx])
            add = np.maximum(cross / (params.urban_kmh / 3.6) - cross / v_seg, 0.0)
            np.add.at(penalty, sidx, add)
            np.add.at(crossed_m, sidx, cross)
            n_crossed = int((add > 0).sum())
        seg_time = seg["base_s"].to_numpy() + penalty
        sk = gpd.GeoDataFrame(
            {
                "u_id": seg["u_id"], "v_id": seg["v_id"], "forward": seg["forward"],
                "backward": seg["backward"], "link": "skeleton", "highway": seg["highway"],
                "ref": seg["ref"], "name": seg["name"], "code_u": None, "code_v": None,
                "level_u": np.nan, "level_v": np.nan,
                "crow_m": np.nan, "length_m": seg["length_m"], "time_s": seg_time,
                "penalty_s": penalty, "crossed_m": crossed_m,
                "speed_source": ("skeleton: " + seg["base_source"].astype(str)).to_numpy(),
            },
            geometry=geoms, crs=WORKING_CRS,
        )
        parts.append(sk)
        # (b2) access links: chef-lieu -> nearest open-road segment -> both its ends
        can = np.isin(hw, list(params.access_classes))
        if can.any():
            cidx = np.flatnonzero(can)
            tree = shapely.STRtree(geoms[cidx])
            (ip, iseg), dist = tree.query_nearest(pts.to_numpy(), max_distance=params.access_max_m,
                                                  return_distance=True, all_matches=False)
            si = cidx[iseg]
            g = geoms[si]
            p = pts.to_numpy()[ip]
            frac = np.nan_to_num(shapely.line_locate_point(g, p, normalized=True), nan=0.0)
            proj = shapely.line_interpolate_point(g, frac, normalized=True)
            leg = half_link_s(params.detour * dist, level[ip], params) + params.link_s
            leg_free = half_link_s(params.detour * dist, level[ip], no_pen)
            seg_len = seg["length_m"].to_numpy()[si]
            st = seg_time[si]
            fwd = seg["forward"].to_numpy()[si]
            bwd = seg["backward"].to_numpy()[si]
            end_u = seg["u_id"].to_numpy()[si]
            end_v = seg["v_id"].to_numpy()[si]
            node_xy_u = shapely.get_coordinates(shapely.get_point(g, 0))
            node_xy_v = shapely.get_coordinates(shapely.get_point(g, -1))
            pxy = xy[ip]
            rxy = shapely.get_coordinates(proj)
            rows = []
            # towards u: the part of the segment before the projection, drivable v->u
            # (to leave) and u->v (to arrive); the access link is two-way only when both are
            for end, exy, along_frac, go, come in (
                (end_u, node_xy_u, frac, bwd, fwd),
                (end_v, node_xy_v, 1 - frac, fwd, bwd),
            ):
                rows.append(gpd.GeoDataFrame(
                    {
                        "u_id": cl_id[ip], "v_id": end, "forward": go, "backward": come,
                        "link": "access", "highway": "approximate", "ref": None, "name": None,
                        "code_u": codes[ip], "code_v": None, "crow_m": dist,
                        "level_u": level[ip].astype(float), "level_v": np.nan,
                        "length_m": params.detour * dist + along_frac * seg_len,
                        "time_s": leg + along_frac * st, "penalty_s": leg - leg_free,
                        "speed_source": "approximate: access to the skeleton",
                    },
                    geometry=shapely.linestrings(np.stack([pxy, rxy, exy], axis=1)),
                    crs=WORKING_CRS,
                ))
            acc = pd.concat(rows, ignore_index=True)
            acc = acc[acc["forward"] | acc["backward"]]
            # a chef-lieu exactly at a segment end: a zero-length link to itself is useless
            acc = acc[acc["u_id"] != acc["v_id"]]
            n_access = int(len(ip))
            parts.append(gpd.GeoDataFrame(acc, geometry="geometry", crs=WORKING_CRS))

    segs = pd.concat([p for p in parts if len(p)], ignore_index=True)
    if len(segs) == 0:
        raise NetworkError(
            "approximate network: no link (no two communes share a border and no skeleton); "
            "pass the communes around the area, not a single one")
    segs = gpd.GeoDataFrame(segs, geometry="geometry", crs=WORKING_CRS)
    # zero-length links (two chefs-lieux at one point) keep a tiny positive time
    t = np.maximum(segs["time_s"].to_numpy(float), 1e-3)
    length = np.maximum(segs["length_m"].to_numpy(float), 1e-3)
    segs["length_m"] = length
    segs["speed_kmh"] = length / t * 3.6
    segs = segs.drop(columns="time_s")
    for c in ("code_u", "code_v", "ref", "name", "highway", "link", "speed_source"):
        segs[c] = segs[c].astype(object)
    src = {
        "kind": "approximate",
        "format": "approximate",
        "parameters": params.to_dict(),
        "skeleton": sk_source,
        "n_communes": int(len(codes)),
        "chef_lieu_base": int(base),
        "n_local_links": int(len(a)),
        "n_access_links": n_access,
        "n_village_crossings": n_crossed,
        "n_interior_points": int(lacking.sum()),
        "no_local_link": [str(c) for c in codes[np.bincount(np.r_[a, b], minlength=len(codes)) == 0]],
        "density_filled_from_neighbours": [str(c) for c in filled],
        "density_levels": {str(k): int(v) for k, v in
                           pd.Series(level).value_counts().sort_index().items()},
        "build_s": None,
    }
    net = network_from_segments(segs, profile=profile, source=src)
    net.source["build_s"] = round(time.perf_counter() - t0, 3)
    return net


def area_frames(
    area, *, communes: gpd.GeoDataFrame, chefs_lieux: gpd.GeoDataFrame, density: pd.DataFrame | pd.Series,
    margin_m: float = MARGIN_KM * 1000,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    """The frames :func:`build_approximate` needs for an area plus a margin.

    Parameters
    ----------
    area
        Shapely geometry in EPSG:2154 (a territory outline).
    communes, chefs_lieux
        National frames (:func:`territorial_geo.sources.load_communes`,
        :func:`~territorial_geo.sources.load_chefs_lieux`).
    density
        :func:`territorial_geo.sources.load_density_grid` (column ``dens``) or a series.
    margin_m
        Communes intersecting ``area`` buffered by this are kept.
    """
    zone = shapely.buffer(area, margin_m)
    sel = communes[communes.geometry.intersects(zone)]
    dens = density["dens"] if isinstance(density, pd.DataFrame) else density
    return sel, chefs_lieux.reindex(sel.index).dropna(subset=["geometry"]), dens
