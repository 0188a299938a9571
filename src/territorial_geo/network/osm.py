"""OpenStreetMap reader: a PBF file's drivable ways as a directed timed graph.

Drivable ways are read with pyosmium (:func:`read_segments`: libosmium decodes, numpy cuts
the ways into node-to-node segments; pyrosm's ``driving`` rules and segment lengths, so the
same network as the former pyrosm reader); a large extract is first clipped while
streaming (:func:`clip_pbf`). pyrosm remains for ``clip="pyrosm"`` and for files with
negative ids read within a box. ``oneway`` (``yes``/``-1``), ``junction=roundabout``
and ``highway=motorway`` (one-way in the drawing direction unless tagged otherwise) and
access restrictions decide the directions; every edge is timed the way OSRM's stock car
profile times it (:mod:`~territorial_geo.network.carprofile`: class speeds, tagged maxspeed
x 0.8, surface caps), and junctions cost what OSRM's ``process_turn`` charges (turn angle,
u-turns, traffic signals read from the nodes), unless the
:class:`~territorial_geo.network.graph.SpeedProfile` says otherwise.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial_geo.errors import NetworkError
from territorial_geo.network.carprofile import (
    OSRM_CAR_ONEWAY_TAGS,
    car_blocked,
    car_speeds,
    first_tag,
)
from territorial_geo.network.graph import (
    RoadNetwork,
    SpeedProfile,
    cached,
    network_from_segments,
)
from territorial_geo.sources import WEB_CRS, WORKING_CRS, sha256_of

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
_TWO_WAY = {"no", "false", "0"}
_NO_ACCESS = {"no", "private"}
_YES_ACCESS = {"yes", "designated", "permissive", "destination"}


def _tags(frame: pd.DataFrame, keys) -> pd.DataFrame:
    """Tags as columns, each taken from its own column or, when missing there, from pyrosm's
    ``tags`` column (a dict or JSON text per row; each distinct text parsed once)."""
    keys = list(keys)
    extra = None
    if "tags" in frame.columns:
        raw = frame["tags"]
        sub = raw[raw.notna().to_numpy()]
        if len(sub):
            try:
                codes, uniq = pd.factorize(sub)
            except TypeError:  # dicts (unhashable): one per row
                codes, uniq = np.arange(len(sub)), sub.to_numpy()
            parsed = [u if isinstance(u, dict) else (json.loads(u) if isinstance(u, str) and u
                                                     else {}) for u in uniq]
            table = pd.DataFrame.from_records([{k: d.get(k) for k in keys} for d in parsed],
                                              columns=keys)
            extra = table.iloc[codes].set_axis(sub.index).reindex(frame.index)
    out = {}
    for key in keys:
        col = frame[key].astype(object) if key in frame.columns else \
            pd.Series(None, index=frame.index, dtype=object)
        if extra is not None:
            col = col.where(col.notna(), extra[key].astype(object))
        out[key] = col
    return pd.DataFrame(out, index=frame.index)


def directions(oneway: pd.Series, junction: pd.Series,
               highway: pd.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Allowed directions of OSM ways: ``(forward, backward)`` boolean arrays.

    ``oneway=yes/true/1`` forward only; ``oneway=-1/reverse`` backward only;
    ``junction=roundabout/circular`` and ``highway=motorway`` imply one-way forward unless
    ``oneway`` says otherwise (``no`` two-way, ``-1`` backward), as OSRM car.lua v26.x
    ``WayHandlers.oneway`` does.
    """
    ow = oneway.astype(object).fillna("").astype(str).str.strip().str.lower()
    jn = junction.astype(object).fillna("").astype(str).str.strip().str.lower()
    backward_only = ow.isin(_BACKWARD)
    roundabout = jn.isin({"roundabout", "circular"})
    if highway is not None:
        roundabout = roundabout | highway.astype(object).fillna("").astype(str).eq("motorway")
    forward_only = ow.isin(_FORWARD) | (roundabout & ~ow.isin(_TWO_WAY | _BACKWARD))
    forward = ~backward_only.to_numpy()
    backward = ~forward_only.to_numpy()
    return forward, backward


def speeds(highway: pd.Series, maxspeed: pd.Series, profile: SpeedProfile,
           tags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Speed (km/h) and its source per way, by the profile's ``speed_model``.

    ``"osrm-car"`` (default): OSRM car.lua v26.x rules
    (:func:`~territorial_geo.network.carprofile.car_speeds`: class speed, tagged maxspeed x
    ``speed_reduction``, surface/tracktype/smoothness caps; ``tags`` gives the extra
    columns, ``maxspeed`` stands for all maxspeed keys when ``tags`` is None).
    ``"legal"``: tagged ``maxspeed`` (:func:`parse_maxspeed`) or the class's legal limit.
    Both are multiplied by ``profile.factor``.
    """
    if profile.speed_model == "osrm-car":
        t = pd.DataFrame({"highway": highway}, index=highway.index) if tags is None else \
            tags.assign(highway=highway)
        if tags is None or "maxspeed" not in t.columns:
            t["maxspeed"] = maxspeed if profile.use_maxspeed else None
        elif not profile.use_maxspeed:
            t = t.drop(columns=[c for c in t.columns if "maxspeed" in c])
        out = car_speeds(t, profile.highway_kmh, default_kmh=profile.fallback_kmh,
                         reduction=profile.speed_reduction)
        out["speed_kmh"] = out["speed_kmh"] * profile.factor
        return out
    hw = highway.astype(object).where(highway.notna(), "road")
    default = hw.map(lambda h: profile.highway_kmh.get(str(h), profile.fallback_kmh)).astype(float)
    tagged = maxspeed.map(parse_maxspeed).astype(float)
    use_tag = tagged.notna() & profile.use_maxspeed
    return pd.DataFrame({
        "maxspeed_kmh": tagged.to_numpy(),
        "speed_kmh": np.where(use_tag, tagged, default) * profile.factor,
        "speed_source": np.where(use_tag, "maxspeed", "default"),
    }, index=highway.index)


#: Way tags the reader must provide (own columns, or pyrosm's ``tags``): access, direction
#: and speed rules of the car profile.
WAY_TAGS = ("oneway", "junction", "maxspeed", "maxspeed:advisory", "source:maxspeed",
            "maxspeed:type", "access", "motor_vehicle", "motorcar", "vehicle",
            "oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle", "surface",
            "tracktype", "smoothness", "service", "area", "impassable", "ref", "name",
            "maxspeed:forward", "maxspeed:backward")


def traffic_signal_ids(nodes: pd.DataFrame | None) -> np.ndarray:
    """OSM ids of the nodes tagged ``highway=traffic_signals`` (a boolean
    ``traffic_signals`` column as :func:`read_segments` gives, a ``highway`` column or
    pyrosm's ``tags``); empty when the frame has none of them."""
    if nodes is None or len(nodes) == 0 or "id" not in nodes.columns:
        return np.zeros(0, np.int64)
    if "traffic_signals" in nodes.columns:
        return np.unique(nodes.loc[nodes["traffic_signals"].astype(bool).to_numpy(), "id"]
                         .to_numpy(np.int64))
    hw = _tags(nodes, ["highway"])["highway"]
    ids = pd.to_numeric(nodes.loc[hw.eq("traffic_signals").to_numpy(), "id"], errors="coerce")
    return np.unique(ids.dropna().to_numpy(np.int64))


#: Way tags kept on the edges besides ``highway``, ``ref``, ``name`` and ``maxspeed`` (for
#: speed and junction models: OSRM's car profile reads them), ``None`` when absent.
EDGE_TAGS = ("junction", "access", "motor_vehicle", "motorcar", "surface", "tracktype",
             "service", "smoothness", "maxspeed:forward", "maxspeed:backward")


def network_from_frames(
    nodes: pd.DataFrame | None, edges: gpd.GeoDataFrame | None, *,
    profile: SpeedProfile | None = None, source: dict | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from pyrosm-style frames.

    Parameters
    ----------
    nodes
        OSM nodes with ``id`` and their tags (a boolean ``traffic_signals`` column as
        :func:`read_segments` gives, a ``highway`` column or pyrosm's ``tags``): nodes
        tagged ``highway=traffic_signals`` cost ``profile.traffic_signal_s`` to cross (the
        network's nodes get a ``signal`` column and ``source["n_traffic_signals"]``). Node
        positions come from the segment geometries. ``None`` is accepted.
    edges
        One row per way segment with ``u``, ``v`` (OSM node ids), ``highway``, ``length``
        (metres), geometry (EPSG:4326) and the tags of :data:`WAY_TAGS` as columns or in a
        JSON ``tags`` column (the :data:`EDGE_TAGS` are kept on the edges).
    """
    profile = profile or SpeedProfile()
    if edges is None or len(edges) == 0:
        raise NetworkError("the road network has no drivable way")
    e = edges.copy()
    tags = _tags(e, WAY_TAGS)
    for key in WAY_TAGS:
        e[key] = tags[key]
    if profile.speed_model == "osrm-car":
        blocked = pd.Series(car_blocked(tags.assign(highway=e["highway"])), index=e.index)
        oneway = first_tag(tags, OSRM_CAR_ONEWAY_TAGS)
    else:
        access = e["access"].astype(object).fillna("").str.lower()
        motor = e["motor_vehicle"].astype(object).fillna(e["motorcar"]).fillna("").astype(str) \
            .str.lower()
        blocked = (access.isin(_NO_ACCESS) & ~motor.isin(_YES_ACCESS)) | motor.isin(_NO_ACCESS)
        oneway = e["oneway"]
    n_blocked = int(blocked.sum())
    keep = ~blocked.to_numpy()
    e, tags, oneway = (e[keep].reset_index(drop=True), tags[keep].reset_index(drop=True),
                       oneway[keep].reset_index(drop=True))
    if len(e) == 0:
        raise NetworkError("the road network has no drivable way (all restricted)")
    fwd, bwd = directions(oneway, e["junction"],
                          e["highway"] if profile.speed_model == "osrm-car" else None)
    sp = speeds(e["highway"], e["maxspeed"], profile, tags=tags)
    ok = sp["speed_kmh"].to_numpy() > 0  # smoothness=impassable
    seg = gpd.GeoDataFrame(
        {
            "u_id": e["u"].to_numpy(np.int64), "v_id": e["v"].to_numpy(np.int64),
            "osm_way": pd.to_numeric(e["id"], errors="coerce").to_numpy() if "id" in e else
            np.nan,
            "highway": e["highway"].to_numpy(), "ref": e["ref"].to_numpy(),
            "name": e["name"].to_numpy(), "maxspeed": e["maxspeed"].to_numpy(),
            "junction": e["junction"].to_numpy(),
            "forward": fwd, "backward": bwd,
            "length_m": pd.to_numeric(e.get("length"), errors="coerce").to_numpy(float)
            if "length" in e else np.nan,
            **{c: sp[c].to_numpy() for c in sp.columns},
            **{k: e[k].to_numpy() for k in EDGE_TAGS},
        },
        geometry=gpd.GeoSeries(e.geometry.to_numpy(), crs=e.crs or WEB_CRS).to_crs(WORKING_CRS)
        .to_numpy(),
        crs=WORKING_CRS,
    )[ok]
    src = {"kind": "detailed", "format": "osm-pbf", "n_restricted_ways": n_blocked,
           "speed_model": profile.speed_model, **(source or {})}
    return network_from_segments(seg, profile=profile, source=src,
                                 signal_ids=traffic_signal_ids(nodes))


def contract_segments(edges: gpd.GeoDataFrame, keep=None) -> gpd.GeoDataFrame:
    """Merge pyrosm's node-to-node segments into junction-to-junction edges, way by way.

    A chain of consecutive segments of one way is merged when the nodes between them belong
    to no other way and end exactly two segments (no junction, no way end, no loop back):
    ``u`` of the first segment, ``v`` of the last, the lengths summed, the geometries joined;
    tags are the way's. Travel times and directions between the remaining nodes are those
    of the uncontracted segments; a study area's graph gets several times fewer nodes and
    edges (vectorised; the segments must come way by way in drawing order, as pyrosm
    returns them, else chains simply break). Node ids in ``keep`` (e.g. traffic signals)
    are never merged away.
    """
    if len(edges) == 0:
        return edges
    e = edges.reset_index(drop=True)
    u = e["u"].to_numpy(np.int64)
    v = e["v"].to_numpy(np.int64)
    way = pd.to_numeric(e["id"], errors="coerce").fillna(-1).to_numpy(np.int64)
    ends = np.concatenate([u, v])
    n_ends = pd.Series(ends).value_counts()
    n_ways = pd.DataFrame({"n": ends, "w": np.concatenate([way, way])}).drop_duplicates() \
        .groupby("n").size()
    junction = n_ends.index[n_ends.to_numpy() != 2].union(n_ways.index[n_ways.to_numpy() > 1])
    if keep is not None and len(keep):
        junction = junction.union(pd.Index(np.asarray(keep, np.int64)))
    start = np.r_[True, (way[1:] != way[:-1]) | (u[1:] != v[:-1])] | np.isin(u, junction)
    chain = np.cumsum(start) - 1
    xy, idx = shapely.get_coordinates(e.geometry.to_numpy(), return_index=True)
    first_point = np.r_[True, idx[1:] != idx[:-1]]
    keep = ~(first_point & ~start[idx])  # a continuing segment's first point is the last one
    geoms = shapely.linestrings(xy[keep], indices=chain[idx[keep]])
    grouped = e.groupby(chain, sort=True)
    out = e.loc[start].drop(columns=e.geometry.name).reset_index(drop=True)
    out["v"] = grouped["v"].last().to_numpy()
    if "length" in out.columns:
        out["length"] = grouped["length"].sum(min_count=1).to_numpy()
    return gpd.GeoDataFrame(out, geometry=geoms, crs=e.crs)


def _bbox_4326(area, margin_m: float) -> list[float]:
    minx, miny, maxx, maxy = gpd.GeoSeries([area], crs=WORKING_CRS).buffer(margin_m).to_crs(
        WEB_CRS).total_bounds
    return [float(minx), float(miny), float(maxx), float(maxy)]


#: ``highway`` values that never make a drivable way: pyrosm's ``driving`` filter
#: (``pyrosm.config.osm_filters.driving_filter``), so that dropping them while clipping
#: changes nothing in what pyrosm then keeps.
NON_DRIVABLE_HIGHWAY = frozenset({
    "abandoned", "construction", "no", "planned", "platform", "proposed", "raceway", "razed",
    "rest_area", "services", "bridleway", "bus_guideway", "busway", "corridor", "cycleway",
    "elevator", "escalator", "footway", "ladder", "path", "pedestrian", "steps", "track",
    "trail", "service",
})


class UnstreamableError(NetworkError):
    """The PBF uses negative ids (editor or tool output), which libosmium's location cache
    and reference tracking do not handle: read the whole file instead."""


def _way_in_bbox(way, factory, bbox: list[float]) -> bool:
    """Whether at least one node of ``way`` (with locations) lies within ``bbox`` (lon/lat).

    One C++ call builds the way's WKB; the test on its coordinates is vectorised. Ways whose
    line cannot be built (a single node, missing locations) are tested node by node.
    """
    minx, miny, maxx, maxy = bbox
    try:
        xy = np.frombuffer(bytes.fromhex(factory.create_linestring(way)), dtype="<f8",
                           offset=9).reshape(-1, 2)
    except Exception:  # fewer than 2 distinct valid locations
        if len(way.nodes) and way.nodes[0].ref < 0:
            raise UnstreamableError(f"way {way.id} has negative node ids") from None
        for n in way.nodes:
            loc = n.location
            if loc.valid() and minx <= loc.lon <= maxx and miny <= loc.lat <= maxy:
                return True
        return False
    x, y = xy[:, 0], xy[:, 1]
    return bool(np.any((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)))


def clip_pbf(
    path: str | os.PathLike, bbox: list[float], out: str | os.PathLike, *,
    location_storage: str = "flex_mem",
) -> dict:
    """Stream an OSM PBF once and write the drivable ways near ``bbox`` to a small PBF.

    A way is kept when its ``highway`` value can be drivable (not in
    :data:`NON_DRIVABLE_HIGHWAY`) and at least one of its nodes lies within ``bbox``; it is
    kept whole, with all its nodes (also those outside the box), so that the clipped file
    read in full gives the same segments as the whole file restricted to those ways.
    libosmium does the heavy lifting: node locations are cached in C++ (``with_locations``),
    non-highway objects are dropped by C++ filters, the kept ways' node ids go to an
    :class:`osmium.IdTracker`, and a second pass over the file copies those nodes, filtered
    by id, then the kept ways, without a Python object per node. Peak memory
    follows the node location cache (about 16 bytes a node) and the kept ways, not pyrosm's
    frames of the whole file.

    Parameters
    ----------
    path
        Source ``.osm.pbf``.
    bbox
        ``[minx, miny, maxx, maxy]`` in EPSG:4326 (lon/lat), margin included.
    out
        Clipped ``.osm.pbf`` to write (written atomically: a temporary file renamed into
        place; nothing is left at ``out`` on failure).
    location_storage
        libosmium node location storage (``flex_mem``; ``dense_file_array,PATH`` keeps it on
        disk for planet-sized inputs).

    Returns
    -------
    dict
        ``n_highway_ways`` (ways with a ``highway`` tag), ``n_ways_kept``.

    Raises
    ------
    NetworkError
        No drivable way has a node within ``bbox`` (file and box named; nothing written).
    """
    import osmium

    from territorial_geo.sources import atomic_write

    path, out = Path(path), Path(out)
    stats = {"n_highway_ways": 0, "n_ways_kept": 0}

    def write(tmp: Path) -> None:
        factory = osmium.geom.WKBFactory()
        tracker = osmium.IdTracker()  # node ids of the kept ways (C++ id set)
        with tempfile.TemporaryDirectory(prefix="osm-clip-ways-") as folder:
            ways = Path(folder) / "ways.osm.pbf"
            try:
                ways_writer = osmium.SimpleWriter(str(ways))
                try:
                    fp = (osmium.FileProcessor(str(path))
                          .with_locations(location_storage)
                          .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                          .with_filter(osmium.filter.KeyFilter("highway")))
                    for way in fp:
                        stats["n_highway_ways"] += 1
                        if way.tags.get("highway") in NON_DRIVABLE_HIGHWAY:
                            continue
                        if _way_in_bbox(way, factory, bbox):
                            if way.id < 0 or (len(way.nodes) and way.nodes[0].ref < 0):
                                raise UnstreamableError(f"way {way.id} has negative ids")
                            tracker.add_references(way)
                            ways_writer.add_way(way)
                            stats["n_ways_kept"] += 1
                finally:
                    ways_writer.close()
                if not stats["n_ways_kept"]:
                    raise NetworkError(
                        f"{path}: no drivable road in the study area (lon/lat box "
                        f"{[round(b, 5) for b in bbox]}, margin included); check that the "
                        "file covers the territory (e.g. the right Geofabrik region)")
                # second pass, all in C++: the kept ways' nodes (filtered by id), then the
                # kept ways, so the clip is sorted like the source (nodes before ways)
                writer = osmium.SimpleWriter(str(tmp), overwrite=True)
                try:
                    osmium.apply(str(path), osmium.filter.EntityFilter(osmium.osm.NODE),
                                 tracker.id_filter(), writer)
                    osmium.apply(str(ways), writer)
                finally:
                    writer.close()
            except RuntimeError as exc:  # libosmium: not a PBF, truncated file
                raise NetworkError(f"{path}: cannot be read as an OSM PBF ({exc})") from exc

    atomic_write(out, write)
    return stats


def merge_pbfs(paths: list[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Merge PBF files into one (libosmium, sorted; an object present in several files, such
    as a way crossing the border of two Geofabrik regions, is written once). Atomic."""
    import osmium

    from territorial_geo.sources import atomic_write

    def write(tmp: Path) -> None:
        reader = osmium.MergeInputReader()
        for p in paths:
            reader.add_file(str(p))
        writer = osmium.SimpleWriter(str(tmp), overwrite=True)
        try:
            reader.apply(writer, simplify=True)
        finally:
            writer.close()

    return atomic_write(Path(out), write)


def _clip_name(checksum: str, bbox: list[float]) -> str:
    key = hashlib.sha256(json.dumps([checksum, [round(b, 7) for b in bbox], 1]).encode())
    return f"osm-clip-{checksum[:12]}-{key.hexdigest()[:12]}.osm.pbf"


#: ``service`` values that keep a way out of the driving network: pyrosm's ``driving``
#: filter (``pyrosm.config.osm_filters.driving_filter``, service roads excluded), itself
#: OSMnx's ``drive`` filter.
NON_DRIVABLE_SERVICE = frozenset({"emergency_access", "parking", "parking_aisle", "private",
                                  "alley", "driveway"})
#: Access tags of a car, most specific first, then the general one (OSM access hierarchy,
#: as pyrosm's ``AccessRule("motorcar", "motor_vehicle", "vehicle")``): the first one a way
#: carries decides; ``no``/``private`` (also within ``a;b`` values) closes the way.
CAR_ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")
_CLOSED_ACCESS = frozenset({"no", "private"})

#: Way tags the reader keeps as columns of its segment frame (``None`` when absent): every
#: tag of :data:`WAY_TAGS` (directions, access, speeds of the car profile, labels), with
#: ``highway`` and a few descriptive ones.
READ_TAGS = tuple(dict.fromkeys(("highway", *WAY_TAGS, "lanes", "bridge", "tunnel")))


def _any_value(value: str | None, values: frozenset) -> bool:
    """Whether a tag value, or one of its ``;``-separated values, is in ``values``."""
    if value is None:
        return False
    if value in values:
        return True
    return ";" in value and any(p.strip() in values for p in value.split(";"))


def is_drivable(tags) -> bool:
    """Whether a way's tags make it part of the driving network.

    The rules of pyrosm's ``driving`` filter (so that the network is the one pyrosm gave):
    a ``highway`` tag not in :data:`NON_DRIVABLE_HIGHWAY`, no ``area=yes``, no ``service``
    value in :data:`NON_DRIVABLE_SERVICE`, and not closed to cars by the first of
    :data:`CAR_ACCESS_KEYS` it carries. Multi-values (``a;b``) match when any part does.
    """
    highway = tags.get("highway")
    if highway is None or _any_value(highway, NON_DRIVABLE_HIGHWAY):
        return False
    if _any_value(tags.get("area"), frozenset({"yes"})):
        return False
    if _any_value(tags.get("service"), NON_DRIVABLE_SERVICE):
        return False
    for key in CAR_ACCESS_KEYS:
        value = tags.get(key)
        if value is not None:
            return not _any_value(value, _CLOSED_ACCESS)
    return True


#: Mean Earth radius (m) of the segment lengths: IUGG mean radius R1 = 6371.0088 km, the
#: value pyrosm (``pyrosm.distance``) and OSMnx use, so lengths match theirs.
EARTH_RADIUS_M = 6371.0088 * 1000.0  # written as pyrosm computes it (same double)


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray,
                lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance (m) between lon/lat points (degrees), on a sphere of radius
    :data:`EARTH_RADIUS_M`."""
    lat1, lon1, lat2, lon2 = (np.deg2rad(a) for a in (lat1, lon1, lat2, lon2))
    d = np.sin((lat2 - lat1) * 0.5) ** 2 + np.cos(lat1) * np.cos(lat2) * \
        np.sin((lon2 - lon1) * 0.5) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(d))


def _highway_way_refs(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids and node ids of every way with a ``highway`` tag, in file order.

    libosmium filters the ways and writes them as OPL text (C++, no Python object per
    node); the node lists are then parsed at once. Returns ``(way_ids, counts, refs)``:
    ``refs`` concatenates the ways' node ids, ``counts[i]`` of them for way ``i``.
    """
    import osmium

    with tempfile.TemporaryDirectory(prefix="osm-ways-") as tmp:
        opl = Path(tmp) / "ways.opl"
        writer = osmium.SimpleWriter(osmium.io.File(str(opl), "opl,add_metadata=false"),
                                     overwrite=True)
        try:
            osmium.apply(str(path), osmium.filter.EntityFilter(osmium.osm.WAY),
                         osmium.filter.KeyFilter("highway"), writer)
        finally:
            writer.close()
        lines = opl.read_text(encoding="utf-8").splitlines()
    # an OPL way line: "w<id> T<tags> N<n1>,<n2>,..." (spaces inside tags are escaped)
    way_ids = np.array([ln[1:ln.index(" ")] for ln in lines], dtype=np.int64)
    lists = [ln.rsplit(" N", 1)[1] for ln in lines]
    counts = np.array([s.count(",") + 1 if s else 0 for s in lists], dtype=np.int64)
    joined = ",".join(s for s in lists if s).replace("n", "")
    refs = np.array(joined.split(","), dtype=np.int64) if joined else np.zeros(0, np.int64)
    return way_ids, counts, refs


def _linestring_xy(factory, way, n_refs: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Lon/lat of every node of ``way`` (locations loaded) and which are valid (``None``:
    all of them).

    One C++ call builds the way's WKB with all its nodes; a way with a node missing from
    the file (or fewer than two nodes) is read node by node, its missing nodes invalid.
    """
    import osmium

    try:
        xy = np.frombuffer(bytes.fromhex(factory.create_linestring(way, osmium.geom.ALL)),
                           dtype="<f8", offset=9).reshape(-1, 2)
        if len(xy) == n_refs:
            return xy, None
    except Exception:  # a missing location, or fewer than two nodes  # noqa: BLE001
        pass
    xy = np.full((n_refs, 2), np.nan)
    valid = np.zeros(n_refs, dtype=bool)
    for i, n in enumerate(way.nodes):
        loc = n.location
        if loc.valid():
            xy[i] = (loc.lon, loc.lat)
            valid[i] = True
    return xy, valid


def read_segments(path: str | os.PathLike, *, label: object = None
                  ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The drivable ways of a PBF as node-to-node segments, read with pyosmium.

    libosmium does the per-node work: the ways' node lists come from
    :func:`_highway_way_refs`; one streaming pass then reads the tags of the ways with a
    ``highway`` tag (drivable ones kept, :func:`is_drivable`, with their
    :data:`READ_TAGS`), the nodes tagged ``highway=traffic_signals``, and the kept ways'
    node locations (libosmium's location index, one WKB per way). Files with negative
    ids (editor or tool output, which the location index does not take) are read with a
    second pass over the nodes instead. Ways are then cut between consecutive nodes with
    numpy: one row per segment, way by way in file order and each way in drawing order;
    a node missing from the file is skipped (the way cut through the nodes that remain),
    a way left with fewer than two nodes has no segment. These are pyrosm's rules: the
    segments are the ones pyrosm's ``get_network(nodes=True)`` gave.

    Parameters
    ----------
    path
        ``.osm.pbf`` (or any format libosmium reads).
    label
        Name of the input in error messages (defaults to ``path``).

    Returns
    -------
    (pandas.DataFrame, geopandas.GeoDataFrame)
        Nodes used by the segments: ``id``, ``lon``, ``lat``, ``traffic_signals`` (bool).
        Segments (EPSG:4326): ``id`` (way id), ``u``, ``v`` (node ids), the
        :data:`READ_TAGS` columns (categorical, missing when absent), ``length`` (haversine
        metres rounded to the millimetre, as pyrosm) and a 2-point LineString ``geometry``.

    Raises
    ------
    NetworkError
        Not readable as OSM data, or no drivable way.
    """
    import osmium

    label = label if label is not None else path
    try:
        way_ids, counts, refs = _highway_way_refs(path)
        starts = np.r_[0, np.cumsum(counts)]
        indexed = not (len(refs) and refs.min() < 0) and not (len(way_ids) and
                                                            way_ids.min() < 0)
        keep: list[int] = []
        tag_rows: list[tuple] = []
        signals: list[int] = []
        xy_parts: list[np.ndarray] = []
        partial: list[tuple[int, np.ndarray]] = []  # (way rank among kept, valid nodes)
        factory = osmium.geom.WKBFactory()
        fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        if indexed:
            fp = fp.with_locations()
        k = -1
        for obj in fp.with_filter(osmium.filter.KeyFilter("highway")):
            if obj.is_node():
                if obj.tags.get("highway") == "traffic_signals":
                    signals.append(obj.id)
                continue
            k += 1
            tags = {t.k: t.v for t in obj.tags}
            if not is_drivable(tags):
                continue
            if obj.id != way_ids[k]:  # both passes see the same ways in the same order
                raise NetworkError(f"{label}: ways out of order (way {obj.id})")
            keep.append(k)
            tag_rows.append(tuple(tags.get(t) for t in READ_TAGS))
            if indexed:
                xy, ok = _linestring_xy(factory, obj, int(counts[k]))
                xy_parts.append(xy)
                if ok is not None:
                    partial.append((len(keep) - 1, ok))
        if not keep:
            raise NetworkError(f"{label}: no drivable road in the file")
        kept = np.asarray(keep, dtype=np.int64)
        n_refs = counts[kept]
        way_of = np.repeat(np.arange(len(kept)), n_refs)
        take = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in kept]) \
            if len(kept) < 64 else _ranges(starts[kept], n_refs)
        ref = refs[take]
        if indexed:
            xy = np.concatenate(xy_parts)
            found = np.ones(len(ref), dtype=bool)
            first_ref = np.r_[0, np.cumsum(n_refs)]
            for rank, ok in partial:
                found[first_ref[rank]:first_ref[rank + 1]] = ok
        else:
            xy, found = _node_locations(path, ref)
    except RuntimeError as exc:  # libosmium: not a PBF, truncated file
        raise NetworkError(f"{label}: cannot be read as an OSM PBF ({exc})") from exc
    ref, way_of, xy = ref[found], way_of[found], xy[found]
    start = np.flatnonzero(way_of[1:] == way_of[:-1])  # a segment from i to i+1
    if len(start) == 0:
        raise NetworkError(f"{label}: no drivable road in the file (no way with 2 nodes)")
    seg_way = way_of[start]
    xy0, xy1 = xy[start], xy[start + 1]
    ways = pd.DataFrame.from_records(tag_rows, columns=list(READ_TAGS))
    edges = gpd.GeoDataFrame(
        {"id": way_ids[kept][seg_way], "u": ref[start], "v": ref[start + 1],
         **{t: _per_segment(ways[t], seg_way) for t in READ_TAGS},
         "length": haversine_m(xy0[:, 0], xy0[:, 1], xy1[:, 0], xy1[:, 1]).round(3)},
        geometry=shapely.linestrings(np.stack([xy0, xy1], axis=1)), crs=WEB_CRS)
    ids, first = np.unique(ref, return_index=True)
    nodes = pd.DataFrame({"id": ids, "lon": xy[first, 0], "lat": xy[first, 1],
                          "traffic_signals": np.isin(ids, np.asarray(signals, np.int64))})
    return nodes, edges


def _per_segment(values: pd.Series, seg_way: np.ndarray) -> pd.Categorical:
    """A way-level tag column repeated on the ways' segments, as a categorical (one string
    per distinct value, not one per segment); absent values are missing."""
    codes, uniques = pd.factorize(values.to_numpy(object), use_na_sentinel=True)
    return pd.Categorical.from_codes(codes[seg_way],
                                     categories=pd.Index(uniques, dtype=object))


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start ``s`` and length ``n`` (vectorised)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + offsets


def _node_locations(path: str | os.PathLike, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of the node ids ``ref`` (NaN and ``False`` when missing from the file), from
    one pass over the file's nodes (no location index: any ids, negative ones included).
    The coordinates are libosmium's fixed-point 1e-7 degrees divided once, as pyrosm does:
    the same doubles as pyrosm's and as :func:`_linestring_xy`'s."""
    import osmium

    node_id: list[int] = []
    node_x: list[int] = []
    node_y: list[int] = []
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
        loc = node.location
        if loc.valid():
            node_id.append(node.id)
            node_x.append(loc.x)
            node_y.append(loc.y)
    nid = np.asarray(node_id, np.int64)
    order = np.argsort(nid, kind="stable")
    nid = nid[order]
    x = np.asarray(node_x, np.int64)[order] / 1e7
    y = np.asarray(node_y, np.int64)[order] / 1e7
    pos = np.minimum(np.searchsorted(nid, ref), max(len(nid) - 1, 0))
    found = (len(nid) > 0) & (nid[pos] == ref) if len(nid) else np.zeros(len(ref), bool)
    xy = np.where(found[:, None], np.c_[x[pos], y[pos]] if len(nid) else np.nan, np.nan)
    return xy, found


def _pyrosm_network(path: Path, bbox: list[float] | None, *, label: Path):
    """pyrosm's drivable network of ``path`` (optionally with its own bounding box)."""
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path), bounding_box=bbox)
        got = osm.get_network(network_type="driving", nodes=True,
                              extra_attributes=["junction", "access", "motor_vehicle",
                                                "motorcar"])
    except Exception as exc:  # pyrosm raises bare exceptions on bad files
        raise NetworkError(f"{label}: cannot be read as an OSM PBF ({exc})") from exc
    if got is None or got[1] is None or len(got[1]) == 0:
        raise NetworkError(f"{label}: no drivable road in the requested area {bbox}")
    return got


def read_pbf(
    path: str | os.PathLike | list[str | os.PathLike],
    *,
    area=None,
    margin_m: float = 20_000.0,
    profile: SpeedProfile | None = None,
    cache_dir: str | os.PathLike | None = None,
    clip: str = "stream",
    contract: bool = False,
) -> RoadNetwork:
    """Read a drivable road network from an OpenStreetMap PBF file (or several).

    With an ``area``, the file is first clipped while streaming (:func:`clip_pbf`, pyosmium):
    only drivable ways with a node within the area's bounding box plus ``margin_m`` are kept,
    whole, so that a regional extract loads with a peak memory that follows the study area,
    not the file. The clipped PBF is cached beside the graph cache, keyed by the source
    checksum and the box. Several files (the Geofabrik regions a study area and its margin
    straddle) are each clipped, then merged (:func:`merge_pbfs`).

    Parameters
    ----------
    path
        A ``.osm.pbf`` file (a regional extract, or the mirror's classified skeleton), or a
        list of extracts (then ``area`` is required).
    area
        Optional shapely geometry in EPSG:2154 (a territory outline): only ways with a node
        within its bounding box plus ``margin_m`` are read.
    margin_m
        Margin around ``area`` so that routes leaving the territory are kept.
    profile
        Speed profile; :class:`SpeedProfile` defaults when ``None``.
    cache_dir
        Where the built graph (and the clipped PBF) is cached, keyed by the PBF checksum,
        the area's bounding box and the speed profile. The second run loads the cache
        instead of parsing the PBF.
    clip
        ``"stream"`` (default): pyosmium streaming clip, then :func:`read_segments` on the
        small file;
        ``"pyrosm"``: pyrosm's own ``bounding_box`` on the whole file (kept for the
        benchmark).
    contract
        Merge node-to-node segments into junction-to-junction edges
        (:func:`contract_segments`): same times between junctions, a much smaller graph.
        Off by default (node and edge counts then follow the file, segment by segment).

    Returns
    -------
    RoadNetwork

    Raises
    ------
    NetworkError
        File missing, not a PBF, or with no drivable way in the area (file and box named).
    """
    if isinstance(path, list | tuple):
        paths = [Path(p) for p in path]
        if len(paths) == 1:
            path = paths[0]
        else:
            return _read_pbfs(paths, area=area, margin_m=margin_m, profile=profile,
                              cache_dir=cache_dir, contract=contract)
    path = Path(path)
    profile = profile or SpeedProfile()
    if clip not in ("stream", "pyrosm"):
        raise NetworkError(f"read_pbf: clip must be 'stream' or 'pyrosm', not {clip!r}")
    if not path.is_file():
        raise NetworkError(f"road network file {path} not found; run `territorial-geo data fetch`")
    checksum = sha256_of(path)
    bbox = _bbox_4326(area, margin_m) if area is not None else None
    source = {"kind": "detailed", "format": "osm-pbf", "path": str(path), "pbf": str(path),
              "sha256": checksum, "bbox_4326": bbox, **({"contracted": True} if contract else {})}

    def finish(nodes, edges):
        if not contract:
            return edges
        return contract_segments(edges, keep=traffic_signal_ids(nodes))

    def build() -> RoadNetwork:
        if bbox is None:
            nodes, edges = read_segments(path)
            return network_from_frames(nodes, finish(nodes, edges), profile=profile,
                                       source={**source, "reader": "pyosmium"})
        if clip == "pyrosm":
            nodes, edges = _pyrosm_network(path, bbox, label=path)
            return network_from_frames(nodes, finish(nodes, edges), profile=profile,
                                       source={**source, "reader": "pyrosm"})
        with tempfile.TemporaryDirectory(prefix="osm-clip-") as tmpdir:
            folder = Path(cache_dir) if cache_dir is not None else Path(tmpdir)
            clipped = folder / _clip_name(checksum, bbox)
            stats = {"clip_cached": True}
            try:
                if not clipped.is_file():
                    stats = {**clip_pbf(path, bbox, clipped), "clip_cached": False}
            except UnstreamableError as exc:
                # negative ids (a small tool-made file such as the mirror's classified-road
                # skeleton): pyrosm's own bounding box on the whole file, as before
                nodes, edges = _pyrosm_network(path, bbox, label=path)
                src = {**source, "clip": f"pyrosm bounding box ({exc}: not streamable)",
                       "reader": "pyrosm"}
                return network_from_frames(nodes, finish(nodes, edges), profile=profile,
                                           source=src)
            nodes, edges = read_segments(clipped, label=path)
            src = {**source, "clip": "stream", "clipped_pbf": str(clipped)
                   if cache_dir is not None else None, "reader": "pyosmium", **stats}
            return network_from_frames(nodes, finish(nodes, edges), profile=profile,
                                       source=src)

    key = ["osm", checksum, bbox, clip, "segments-2"] + (["contracted"] if contract else [])
    return cached(key, build, profile=profile, cache_dir=cache_dir)


def _read_pbfs(paths: list[Path], *, area, margin_m: float, profile: SpeedProfile | None,
               cache_dir: str | os.PathLike | None, contract: bool = False) -> RoadNetwork:
    """Several extracts: each clipped while streaming (those without a road in the box
    skipped), the clips merged, then read as one file."""
    profile = profile or SpeedProfile()
    label = " + ".join(str(p) for p in paths)
    if area is None:
        raise NetworkError(f"{label}: several OpenStreetMap files need a study area to clip to")
    for p in paths:
        if not p.is_file():
            raise NetworkError(f"road network file {p} not found; run `territorial-geo data "
                               "fetch`")
    checksums = [sha256_of(p) for p in paths]
    bbox = _bbox_4326(area, margin_m)
    source = {"kind": "detailed", "format": "osm-pbf", "path": label,
              "pbf": [str(p) for p in paths], "sha256": checksums, "bbox_4326": bbox,
              "clip": "stream", **({"contracted": True} if contract else {})}

    def build() -> RoadNetwork:
        with tempfile.TemporaryDirectory(prefix="osm-clip-") as tmpdir:
            folder = Path(cache_dir) if cache_dir is not None else Path(tmpdir)
            clips, empty = [], []
            for p, cs in zip(paths, checksums, strict=True):
                clipped = folder / _clip_name(cs, bbox)
                if not clipped.is_file():
                    try:
                        clip_pbf(p, bbox, clipped)
                    except UnstreamableError as exc:
                        raise NetworkError(f"{p}: cannot be combined with other extracts "
                                           f"({exc})") from exc
                    except NetworkError as exc:
                        if "no drivable road" not in str(exc):
                            raise
                        empty.append(str(p))
                        continue
                clips.append(clipped)
            if not clips:
                raise NetworkError(
                    f"{label}: no drivable road in the study area (lon/lat box "
                    f"{[round(b, 5) for b in bbox]}, margin included)")
            merged = folder / _clip_name("+".join(checksums), bbox)
            merge_pbfs(clips, merged)
            nodes, edges = read_segments(merged, label=label)
            if contract:
                edges = contract_segments(edges, keep=traffic_signal_ids(nodes))
            src = {**source, "clipped_pbf": str(merged) if cache_dir is not None else None,
                   "pbf_without_road_in_area": empty, "reader": "pyosmium"}
            return network_from_frames(nodes, edges, profile=profile, source=src)

    key = ["osm-multi", checksums, bbox, "segments-2"] + (["contracted"] if contract else [])
    return cached(key, build, profile=profile, cache_dir=cache_dir)
