"""OpenStreetMap reader: a PBF file's drivable ways as a directed timed graph.

Drivable ways are read with pyrosm; ``oneway`` (``yes``/``-1``), ``junction=roundabout``
(one-way in the drawing direction unless tagged otherwise) and access restrictions decide
the directions; every edge is timed from ``maxspeed`` or a French default per ``highway``
class (:class:`~territorial_geo.network.graph.SpeedProfile`).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo.errors import NetworkError
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


def directions(oneway: pd.Series, junction: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Allowed directions of OSM ways: ``(forward, backward)`` boolean arrays.

    ``oneway=yes/true/1`` forward only; ``oneway=-1/reverse`` backward only;
    ``junction=roundabout/circular`` implies one-way forward unless ``oneway`` says
    otherwise (``no`` two-way, ``-1`` backward).
    """
    ow = oneway.astype(object).fillna("").astype(str).str.strip().str.lower()
    jn = junction.astype(object).fillna("").astype(str).str.strip().str.lower()
    backward_only = ow.isin(_BACKWARD)
    roundabout = jn.isin({"roundabout", "circular"})
    forward_only = ow.isin(_FORWARD) | (roundabout & ~ow.isin(_TWO_WAY | _BACKWARD))
    forward = ~backward_only.to_numpy()
    backward = ~forward_only.to_numpy()
    return forward, backward


def speeds(highway: pd.Series, maxspeed: pd.Series, profile: SpeedProfile) -> pd.DataFrame:
    """Speed (km/h) and its source per way: tagged ``maxspeed`` or the class default."""
    hw = highway.astype(object).where(highway.notna(), "road")
    default = hw.map(lambda h: profile.highway_kmh.get(str(h), profile.fallback_kmh)).astype(float)
    tagged = maxspeed.map(parse_maxspeed).astype(float)
    use_tag = tagged.notna() & profile.use_maxspeed
    return pd.DataFrame({
        "maxspeed_kmh": tagged.to_numpy(),
        "speed_kmh": np.where(use_tag, tagged, default) * profile.factor,
        "speed_source": np.where(use_tag, "maxspeed", "default"),
    }, index=highway.index)


def network_from_frames(
    nodes: pd.DataFrame | None, edges: gpd.GeoDataFrame | None, *,
    profile: SpeedProfile | None = None, source: dict | None = None,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from pyrosm-style frames.

    Parameters
    ----------
    nodes
        Unused beyond validation (node positions come from the segment geometries); kept
        for pyrosm's ``(nodes, edges)`` pair.
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
    n_blocked = int(blocked.sum())
    e = e[~blocked].reset_index(drop=True)
    if len(e) == 0:
        raise NetworkError("the road network has no drivable way (all restricted)")
    fwd, bwd = directions(e["oneway"], e["junction"])
    sp = speeds(e["highway"], e["maxspeed"], profile)
    seg = gpd.GeoDataFrame(
        {
            "u_id": e["u"].to_numpy(np.int64), "v_id": e["v"].to_numpy(np.int64),
            "osm_way": pd.to_numeric(e["id"], errors="coerce").to_numpy() if "id" in e else
            np.nan,
            "highway": e["highway"].to_numpy(), "ref": e["ref"].to_numpy(),
            "name": e["name"].to_numpy(), "maxspeed": e["maxspeed"].to_numpy(),
            "forward": fwd, "backward": bwd,
            "length_m": pd.to_numeric(e.get("length"), errors="coerce").to_numpy(float)
            if "length" in e else np.nan,
            **{c: sp[c].to_numpy() for c in sp.columns},
        },
        geometry=gpd.GeoSeries(e.geometry.to_numpy(), crs=e.crs or WEB_CRS).to_crs(WORKING_CRS)
        .to_numpy(),
        crs=WORKING_CRS,
    )
    src = {"kind": "detailed", "format": "osm-pbf", "n_restricted_ways": n_blocked,
           **(source or {})}
    return network_from_segments(seg, profile=profile, source=src)


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
    source = {"kind": "detailed", "format": "osm-pbf", "path": str(path), "pbf": str(path),
              "sha256": checksum, "bbox_4326": bbox}

    def build() -> RoadNetwork:
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
        return network_from_frames(nodes, edges, profile=profile, source=source)

    return cached(["osm", checksum, bbox], build, profile=profile, cache_dir=cache_dir)
