"""OSRM's stock car profile, as numbers and rules (no Lua): way speeds, access, junction costs.

Every constant is taken from ``car.lua`` and its ``lib/`` helpers as shipped with
osrm-bindings 26.10 (``osrm/share/profiles/car.lua``, OSRM car profile v26.x); the code
that applies them is our own, vectorised over ways (pandas) and turns (numpy).

Way speed (``car.lua`` ``process_way`` handlers ``speed``, ``maxspeed``, ``surface``):

1. the ``highway`` class speed (:data:`~territorial_geo.method.OSRM_CAR_HIGHWAY_KMH`); a class without one gets
   ``default_speed`` (10 km/h);
2. a tagged speed (the first of ``maxspeed:advisory``, ``maxspeed``, ``source:maxspeed``,
   ``maxspeed:type``) replaces it, times ``speed_reduction`` (0.8); symbolic values
   (``FR:urban``) come from ``maxspeed_table`` then ``maxspeed_table_default``;
3. ``surface``, ``tracktype`` and ``smoothness`` cap it (the lowest applies).

A segment's duration is its length divided by that speed. Junction costs
(``process_turn``) are in :func:`turn_costs`. The constants a study file may override (the
class speeds, ``speed_reduction``, the junction costs) are in :mod:`territorial_geo.method`.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

#: OSRM car.lua v26.x ``default_speed`` (km/h): a drivable way of a class without a speed.
OSRM_CAR_DEFAULT_KMH = 10.0
#: OSRM car.lua v26.x ``maxspeed_table_default`` (km/h), for ``XX:urban`` etc.
OSRM_CAR_MAXSPEED_DEFAULT: dict[str, float] = {
    "urban": 50.0, "rural": 90.0, "trunk": 110.0, "motorway": 130.0}
#: OSRM car.lua v26.x ``maxspeed_table`` (km/h): country-specific symbolic limits (the
#: European entries and ``none``; FR:rural is 80 since décret 2018-487).
OSRM_CAR_MAXSPEED_TABLE: dict[str, float] = {
    "at:rural": 100.0, "at:trunk": 100.0, "be:motorway": 120.0, "be-bru:rural": 70.0,
    "be-bru:urban": 30.0, "be-vlg:rural": 70.0, "bg:motorway": 140.0, "ch:rural": 80.0,
    "ch:trunk": 100.0, "ch:motorway": 120.0, "de:living_street": 7.0, "de:rural": 100.0,
    "de:motorway": 0.0, "dk:rural": 80.0, "es:trunk": 90.0, "fr:rural": 80.0,
    "gb:nsl_single": 60 * 1609 / 1000, "gb:nsl_dual": 70 * 1609 / 1000,
    "gb:motorway": 70 * 1609 / 1000, "nl:rural": 80.0, "nl:trunk": 100.0, "no:rural": 80.0,
    "no:motorway": 110.0, "pl:rural": 100.0, "pl:expressway": 120.0, "pl:motorway": 140.0,
    "ro:trunk": 100.0, "uk:nsl_single": 60 * 1609 / 1000, "uk:nsl_dual": 70 * 1609 / 1000,
    "uk:motorway": 70 * 1609 / 1000, "none": 140.0,
}
#: OSRM car.lua v26.x ``surface_speeds`` (km/h caps; paved surfaces have none).
OSRM_CAR_SURFACE_KMH: dict[str, float] = {
    "cement": 80.0, "compacted": 80.0, "fine_gravel": 80.0, "paving_stones": 60.0,
    "metal": 60.0, "bricks": 60.0, "grass": 40.0, "wood": 40.0, "sett": 40.0,
    "grass_paver": 40.0, "gravel": 40.0, "unpaved": 40.0, "ground": 40.0, "dirt": 40.0,
    "pebblestone": 40.0, "tartan": 40.0, "cobblestone": 30.0, "clay": 30.0, "earth": 20.0,
    "stone": 20.0, "rocky": 20.0, "sand": 20.0, "laterite": 15.0, "mud": 10.0, "ice": 20.0,
    "snow": 30.0,
}
#: OSRM car.lua v26.x ``tracktype_speeds`` (km/h caps).
OSRM_CAR_TRACKTYPE_KMH: dict[str, float] = {
    "grade1": 60.0, "grade2": 40.0, "grade3": 30.0, "grade4": 25.0, "grade5": 20.0}
#: OSRM car.lua v26.x ``smoothness_speeds`` (km/h caps; 0 = impassable).
OSRM_CAR_SMOOTHNESS_KMH: dict[str, float] = {
    "intermediate": 80.0, "bad": 40.0, "very_bad": 20.0, "horrible": 10.0,
    "very_horrible": 5.0, "impassable": 0.0}
#: OSRM car.lua v26.x ``access_tags_hierarchy``: the first of these tags decides access.
OSRM_CAR_ACCESS_TAGS = ("motorcar", "motor_vehicle", "vehicle", "access")
#: OSRM car.lua v26.x ``access_tag_whitelist``.
OSRM_CAR_ACCESS_WHITELIST = frozenset({
    "yes", "motorcar", "motor_vehicle", "vehicle", "permissive", "designated", "hov"})
#: OSRM car.lua v26.x ``access_tag_blacklist``.
OSRM_CAR_ACCESS_BLACKLIST = frozenset({
    "no", "agricultural", "forestry", "emergency", "psv", "taxi", "share_taxi", "minibus",
    "bus", "foot", "emergency_vehicle", "restricted", "military", "official", "customers",
    "private", "delivery", "destination", "permit", "residents"})
#: OSRM car.lua v26.x ``restricted_access_tag_list``: on these, OSRM starts or ends a route
#: but never drives through (``max_turn_weight`` when entering); we leave them out.
OSRM_CAR_RESTRICTED = frozenset({
    "private", "delivery", "destination", "customers", "permit", "residents", "unknown"})
#: OSRM car.lua v26.x ``service_tag_forbidden``.
OSRM_CAR_SERVICE_FORBIDDEN = frozenset({"emergency_access"})
#: OSRM car.lua v26.x ``avoid`` (highway values and ``oneway=reversible`` never routed).
OSRM_CAR_AVOID_HIGHWAY = frozenset({
    "area", "reversible", "impassable", "hov_lanes", "steps", "construction", "proposed"})
#: OSRM car.lua v26.x ``restrictions``: ``oneway:<mode>`` tags read before ``oneway``.
OSRM_CAR_ONEWAY_TAGS = ("oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle", "oneway")

#: The former default (legal limits, French rules): rural two-way roads 80 (décret
#: 2018-487), motorways 130, dual carriageways 110, built-up areas 50. Kept for the
#: classified-road skeleton of the approximate network (its numbers are calibrated on it)
#: and as ``speed_model = "legal"``.
LEGAL_HIGHWAY_KMH: dict[str, float] = {
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

_LEADING_NUMBER = re.compile(r"^(\d+)")
_COUNTRY_CLASS = re.compile(r"[a-z][a-z]:([a-z]+)")


def osrm_maxspeed(value: object) -> float:
    """A ``maxspeed`` value in km/h as OSRM car.lua parses it; NaN when none.

    Leading digits (``"50"``, ``"50;70"`` -> 50; ``mph`` x 1.609, Lua ``Measure``), else
    ``maxspeed_table`` (``"fr:rural"`` -> 80), else the class of ``XX:class`` in
    ``maxspeed_table_default`` (``"FR:urban"`` -> 50). Zero and unknown values give NaN.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, int | float):
        return float(value) if value > 0 else math.nan
    text = str(value).strip()
    m = _LEADING_NUMBER.match(text)
    if m:
        v = float(m.group(1))
        if "mph" in text or "mp/h" in text:
            v *= 1.609
        return v if v > 0 else math.nan
    low = text.lower()
    if low in OSRM_CAR_MAXSPEED_TABLE:
        v = OSRM_CAR_MAXSPEED_TABLE[low]
    else:
        c = _COUNTRY_CLASS.search(low)
        v = OSRM_CAR_MAXSPEED_DEFAULT.get(c.group(1), 0.0) if c else 0.0
    return v if v > 0 else math.nan


def first_tag(frame: pd.DataFrame, keys) -> pd.Series:
    """Per row, the value of the first of ``keys`` that is set (columns of ``frame``)."""
    out = pd.Series(None, index=frame.index, dtype=object)
    for k in keys:
        if k in frame.columns:
            out = out.where(out.notna(), frame[k])
    return out


def resolve_access(value: object) -> object:
    """OSRM lib/access.lua ``resolve_access``: of ``a;b`` the most permissive part."""
    if not isinstance(value, str) or ";" not in value:
        return value
    parts = [p.strip() for p in value.split(";")]

    def rank(p: str) -> int:
        if p in OSRM_CAR_ACCESS_WHITELIST:
            return 3
        if p in OSRM_CAR_RESTRICTED:
            return 2
        return 1 if p in OSRM_CAR_ACCESS_BLACKLIST else 0

    return max(parts, key=rank)


def car_blocked(tags: pd.DataFrame) -> np.ndarray:
    """Ways OSRM's car profile does not drive through (boolean per row).

    Access (the first of ``motorcar``, ``motor_vehicle``, ``vehicle``, ``access``) in the
    blacklist, including the restricted values (``private``, ``destination``, ...: OSRM only
    starts or ends there); ``service=emergency_access``; ``highway`` in ``avoid``;
    ``oneway=reversible``; ``area=yes``; ``impassable=yes``; ``smoothness=impassable``.
    """
    access = first_tag(tags, OSRM_CAR_ACCESS_TAGS).map(resolve_access)
    access = access.astype(object).fillna("").astype(str).str.strip().str.lower()

    def col(k: str) -> pd.Series:
        if k not in tags.columns:
            return pd.Series("", index=tags.index)
        return tags[k].astype(object).fillna("").astype(str).str.strip().str.lower()

    blocked = access.isin(OSRM_CAR_ACCESS_BLACKLIST | OSRM_CAR_RESTRICTED)
    blocked |= col("service").isin(OSRM_CAR_SERVICE_FORBIDDEN)
    blocked |= col("highway").isin(OSRM_CAR_AVOID_HIGHWAY)
    blocked |= col("oneway").eq("reversible") | col("area").eq("yes")
    blocked |= col("impassable").eq("yes") | col("smoothness").eq("impassable")
    return blocked.to_numpy()


def car_speeds(tags: pd.DataFrame, highway_kmh: dict[str, float], *, default_kmh: float,
               reduction: float, surface_caps: bool = True) -> pd.DataFrame:
    """Way speeds (km/h) as OSRM car.lua sets them (module docstring, steps 1-3).

    Parameters
    ----------
    tags
        One row per way: ``highway`` and any of the maxspeed, ``surface``, ``tracktype``,
        ``smoothness`` columns (missing columns count as untagged).
    highway_kmh
        Class speeds (:data:`~territorial_geo.method.OSRM_CAR_HIGHWAY_KMH` by default, study-file overrides merged).
    default_kmh
        Speed of a class without one (``default_speed``).
    reduction
        Factor on tagged speeds (``speed_reduction``).
    surface_caps
        Apply the surface, tracktype and smoothness caps.

    Returns
    -------
    pandas.DataFrame
        ``maxspeed_kmh`` (the parsed tag, NaN when none), ``speed_kmh``, ``speed_source``
        (``maxspeed``, ``default``, or ``surface`` when a cap lowered the speed).
    """
    hw = tags["highway"].astype(object)
    base = pd.to_numeric(hw.map(highway_kmh), errors="coerce").fillna(default_kmh) \
        .to_numpy(float)
    raw = first_tag(tags, ("maxspeed:advisory", "maxspeed", "source:maxspeed", "maxspeed:type"))
    parsed = {v: osrm_maxspeed(v) for v in pd.unique(raw.dropna())}  # each value once
    tagged = pd.to_numeric(raw.map(parsed), errors="coerce").to_numpy(float)
    has = np.isfinite(tagged)
    speed = np.where(has, tagged * reduction, base)
    source = np.where(has, "maxspeed", "default").astype(object)
    if surface_caps:
        for key, table in (("surface", OSRM_CAR_SURFACE_KMH),
                           ("tracktype", OSRM_CAR_TRACKTYPE_KMH),
                           ("smoothness", OSRM_CAR_SMOOTHNESS_KMH)):
            if key not in tags.columns:
                continue
            cap = pd.to_numeric(tags[key].astype(object).map(table), errors="coerce") \
                .fillna(np.inf).to_numpy(float)
            lower = cap < speed
            speed = np.where(lower, cap, speed)
            source = np.where(lower, "surface", source)
    return pd.DataFrame({"maxspeed_kmh": tagged, "speed_kmh": speed,
                         "speed_source": source.astype(str)}, index=tags.index)


def turn_angle(in_dx: np.ndarray, in_dy: np.ndarray, out_dx: np.ndarray,
               out_dy: np.ndarray) -> np.ndarray:
    """OSRM's turn angle in degrees: 0 straight on, +x to the right, -x to the left, 180 back.

    Computed from the heading of the last piece of the incoming edge and of the first
    piece of the outgoing one (planar coordinates, y north).
    """
    a_in = np.arctan2(in_dy, in_dx)
    a_out = np.arctan2(out_dy, out_dx)
    left = np.degrees(a_out - a_in)  # counter-clockwise = to the left
    left = (left + 180.0) % 360.0 - 180.0
    ang = -left
    return np.where(np.isclose(np.abs(ang), 180.0), 180.0, ang)


def turn_costs(angle: np.ndarray, n_roads: np.ndarray, u_turn: np.ndarray,
               signal: np.ndarray, *, turn_penalty_s: float, turn_bias: float, u_turn_s: float,
               oncoming_s: float, signal_s: float, roundabout: np.ndarray | None = None,
               ) -> np.ndarray:
    """Seconds per turn, OSRM car.lua v26.x ``process_turn`` (right-hand traffic).

    A traffic signal at the junction costs ``signal_s``. Where more than two roads meet
    (or on a u-turn) the turn costs ``turn_penalty / (1 + exp(-(13/bias * a/180 -
    6.5*bias)))`` for a right turn of ``a`` degrees (``13*bias`` and ``6.5/bias`` for a
    left turn), plus ``oncoming_s`` times ``1 / (1 + exp(-(13*|a|/180 - 3.25)))`` for a
    left turn (crossing oncoming traffic; not on roundabouts), plus ``u_turn_s`` for a
    u-turn. Through a node where only two roads meet a bend costs nothing.
    """
    a = np.asarray(angle, float)
    right = turn_penalty_s / (1.0 + np.exp(-((13.0 / turn_bias) * a / 180.0 - 6.5 * turn_bias)))
    left = turn_penalty_s / (1.0 + np.exp(-((13.0 * turn_bias) * -a / 180.0 - 6.5 / turn_bias)))
    ang_cost = np.where(a >= 0, right, left)
    junction = (np.asarray(n_roads) > 2) | u_turn
    sharp = 1.0 / (1.0 + np.exp(-(13.0 * np.abs(a) / 180.0 - 3.25)))
    ring = np.zeros(len(a), bool) if roundabout is None else np.asarray(roundabout, bool)
    oncoming = (a < 0) & ~u_turn & (np.asarray(n_roads) > 2) & ~ring
    cost = np.where(signal, signal_s, 0.0)
    cost = cost + np.where(junction, ang_cost, 0.0)
    cost = cost + np.where(oncoming, oncoming_s * sharp, 0.0)
    return cost + np.where(u_turn, u_turn_s, 0.0)
