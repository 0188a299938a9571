"""Stage 3, zoning: drive-time zones around market towns, their overlaps and polygons.

A commune belongs to a zone when its chef-lieu reaches the market town's chef-lieu within
the budget (INSEE distancier convention). Both points are attached to the nearest road
segment (the point on the segment, time along it to both ends); the snap legs are timed at
``SpeedProfile.snap_kmh`` and reported.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon
from shapely.ops import substring

from territorial_geo import network as netmod
from territorial_geo import sources
from territorial_geo.codes import code_or_none, fold, is_in
from territorial_geo.errors import NetworkError, UnknownPlaceError
from territorial_geo.method import POLE_RULES
from territorial_geo.territory import Territory

DIRECTIONS = netmod.DIRECTIONS


def reachability_table(
    net: netmod.RoadNetwork,
    points: gpd.GeoSeries,
    budget_s: float,
    *,
    origins: gpd.GeoSeries | None = None,
    direction: str = "to",
    threads: int | None = None,
    engine=None,
) -> pd.DataFrame:
    """Commune-to-commune travel times within a budget (the distancier's table).

    Parameters
    ----------
    net
        Road network.
    points
        Chef-lieu points indexed by commune code (targets).
    budget_s
        Budget in seconds, snap legs included.
    origins
        Points the zones are centred on (default: every point of ``points``).
    direction
        ``"to"``: time from each target commune to the origin (people travel to the third
        place); ``"from"``: from the origin to the commune.
    engine
        Routing engine (:mod:`territorial_geo.network.engine`; default the built-in one).

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``code`` (target commune; both categorical over the given codes),
        ``time_s`` for every pair within the budget.
    """
    reverse = netmod.check_direction(direction)
    target_snap = net.snap(points)
    origin_snap = target_snap if origins is None else net.snap(origins)
    origins = points if origins is None else origins
    if engine is None:
        res = netmod.snapped_times(net, origin_snap, target_snap, budget_s,
                                   reverse=reverse, threads=threads)
    else:
        res = netmod.engine_of(engine, net).snapped_times(origin_snap, target_snap, budget_s,
                                                          reverse=reverse)
    # categorical codes: no copy of millions of strings for a national table
    return pd.DataFrame(
        {
            "origin": pd.Categorical.from_codes(res["origin"].to_numpy(),
                                                categories=pd.Index(origins.index)),
            "code": pd.Categorical.from_codes(res["target"].to_numpy(),
                                              categories=pd.Index(points.index)),
            "time_s": res["time_s"].to_numpy(),
        }
    )


@dataclass
class Zones:
    """Drive-time zones around market towns (a result made of GeoDataFrames).

    Attributes
    ----------
    towns
        Market towns: ``code``, ``nom``, snap information, geometry (chef-lieu).
    members
        Long table, one row per (zone, commune) within the largest band: ``zone`` (town
        code), ``code``, ``nom``, ``time_s``, ``time_min``, ``band_min`` (smallest band
        containing it), ``in_territory``, ``snap_m``, ``far``; geometry = chef-lieu.
    polygons
        Isochrone polygons: ``zone``, ``band_min``, ``area_km2``, geometry (EPSG:2154).
    territory_codes
        Codes of the territory's communes.
    budget_min, bands, direction
        Parameters used.
    snaps
        Snap of every chef-lieu considered (``node``, ``snap_m``, ``snap_s``, ``far``).
    engine
        What computed the times (``engine``: ``builtin`` or ``osrm``, and its details).
    """

    towns: gpd.GeoDataFrame
    members: gpd.GeoDataFrame
    polygons: gpd.GeoDataFrame
    territory_codes: list[str]
    budget_min: float
    bands: tuple[float, ...]
    direction: str
    snaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: What computed the times (the routing engine's ``info()``).
    engine: dict = field(default_factory=lambda: {"engine": "builtin"})

    @property
    def zone_codes(self) -> list[str]:
        """Market-town codes, in the order given."""
        return list(self.towns.index)

    def within(self, band_min: float | None = None, *, territory_only: bool) -> pd.DataFrame:
        """Member rows within ``band_min`` (default: the budget).

        ``territory_only`` must be chosen: ``False`` keeps every member wherever it lives
        (a zone's catchment crosses the territory's border), ``True`` only the territory's
        own communes.
        """
        band = self.budget_min if band_min is None else band_min
        m = self.members[self.members["time_min"] <= band + 1e-9]
        if territory_only:
            m = m[m["in_territory"]]
        return pd.DataFrame(m.drop(columns="geometry"))

    def membership(self, band_min: float | None = None, *,
                   territory_only: bool) -> dict[str, list[str]]:
        """Zone -> sorted member codes (all members, or the territory's only)."""
        m = self.within(band_min, territory_only=territory_only)
        return {z: sorted(m.loc[m["zone"] == z, "code"]) for z in self.zone_codes}

    def overlap(self, band_min: float | None = None, *, territory_only: bool) -> pd.DataFrame:
        """Zone x zone table: member communes per zone on the diagonal, shared communes off
        it (all members, or the territory's only)."""
        mem = self.membership(band_min, territory_only=territory_only)
        z = self.zone_codes
        table = pd.DataFrame(0, index=pd.Index(z, name="zone"), columns=z, dtype=int)
        sets = {k: set(v) for k, v in mem.items()}
        for a in z:
            for b in z:
                table.loc[a, b] = len(sets[a] & sets[b])
        return table

    def union(self, band_min: float | None = None, *, territory_only: bool) -> list[str]:
        """Communes in at least one zone (all members, or the territory's only)."""
        return sorted(set(self.within(band_min, territory_only=territory_only)["code"]))

    def uncovered(self, band_min: float | None = None) -> list[str]:
        """Territory communes in no zone (including those on network islands)."""
        return sorted(set(self.territory_codes) - set(self.union(band_min, territory_only=True)))

    def exclusive(self, band_min: float | None = None, *, territory_only: bool) -> pd.Series:
        """Each commune of the union allocated to its nearest market town.

        Nearest = smallest travel time (``time_s``, in the zones' direction). Tie rule:
        times equal to the millisecond go to the market town listed first (the order the
        towns were given to :func:`build_zones`, ``zone_codes``).

        Returns
        -------
        pandas.Series
            Indexed by commune code (sorted), values the allocated town's code.
        """
        m = self.within(band_min, territory_only=territory_only)
        order = {z: i for i, z in enumerate(self.zone_codes)}
        m = m.assign(_t=np.round(m["time_s"].to_numpy(dtype=float), 3),
                     _o=m["zone"].map(order)).sort_values(["code", "_t", "_o"])
        first = m.drop_duplicates("code")
        return pd.Series(first["zone"].to_numpy(), index=first["code"].to_numpy(), name="zone")

    def pole_dropped(self, zone: str, pole: Zones, band_min: float | None = None, *,
                     territory_only: bool, rule: str = "closer_to_pole") -> pd.DataFrame:
        """Members of ``zone`` the variant without a competing pole drops
        (docs/method.md §6.1).

        Parameters
        ----------
        zone
            One of ``zone_codes``.
        pole
            Zones around the pole (e.g. Arras), with its times to every commune within its
            budget, wherever they live.
        band_min
            Band of ``zone`` (default: the budget).
        territory_only
            Start from the territory's members only, or from every member.
        rule
            ``"closer_to_pole"``: members strictly closer in time to the pole than to the
            market town; ``"within_budget"``: every member within the pole's budget (the
            literal rule). Under both the market town itself is never dropped.

        Returns
        -------
        pandas.DataFrame
            ``code``, ``nom``, ``in_territory``, ``time_to_town_min``,
            ``time_to_pole_min``, sorted by code.

        Raises
        ------
        UnknownPlaceError
            ``zone`` is not a market town.
        ValueError
            An unknown rule.
        """
        if zone not in self.zone_codes:
            raise UnknownPlaceError(f"zone {zone!r} is not one of the market towns "
                                    f"{self.zone_codes}")
        if rule not in POLE_RULES:
            raise ValueError(f"unknown pole rule {rule!r} ({', '.join(POLE_RULES)})")
        m = self.within(band_min, territory_only=territory_only)
        m = m[m["zone"] == zone].set_index("code")
        near = pole.within(territory_only=False).groupby("code")["time_min"].min()
        t_pole = near.reindex(m.index)
        drop = t_pole.notna() & (m.index != zone)
        if rule == "closer_to_pole":
            drop &= t_pole < m["time_min"]
        out = pd.DataFrame({"code": m.index[drop], "nom": m.loc[drop, "nom"].to_numpy(),
                            "in_territory": m.loc[drop, "in_territory"].to_numpy(),
                            "time_to_town_min": m.loc[drop, "time_min"].to_numpy(),
                            "time_to_pole_min": t_pole[drop].to_numpy()})
        return out.sort_values("code").reset_index(drop=True)

    def without_pole(self, zone: str, pole: Zones, band_min: float | None = None, *,
                     territory_only: bool, rule: str = "closer_to_pole") -> list[str]:
        """Members of ``zone`` kept by the variant without a competing pole: every member
        but those :meth:`pole_dropped` lists (same parameters); the market town is always
        kept."""
        dropped = set(self.pole_dropped(zone, pole, band_min, territory_only=territory_only,
                                        rule=rule)["code"])
        return [c for c in self.membership(band_min, territory_only=territory_only)[zone]
                if c not in dropped]

    def to_gpkg(self, path: str | os.PathLike) -> None:
        """Write layers ``zones`` (polygons), ``members`` and ``towns`` atomically."""
        def _w(tmp):
            self.polygons.to_file(tmp, layer="zones", driver="GPKG", index=False)
            self.members.to_file(tmp, layer="members", driver="GPKG", mode="a", index=False)
            self.towns.to_file(tmp, layer="towns", driver="GPKG", mode="a", index=False)

        sources.atomic_write(os.fspath(path), _w)


def candidate_towns(
    territory: Territory, density: pd.Series, *, levels: tuple[int, ...] = (4, 5)
) -> list[str]:
    """Market-town candidates: territory communes on INSEE density-grid levels 4-5
    (7-level grid: 4 ceintures urbaines, 5 bourgs ruraux), largest population first.

    Parameters
    ----------
    territory
        The study territory.
    density
        Density-grid level (1-7) per commune code.
    levels
        Levels that count as market towns.
    """
    codes = [c for c in territory.codes if c in density.index and int(density.loc[c]) in levels]
    return sorted(codes, key=lambda c: -territory.communes.loc[c, "population"])


#: ASSUMPTION (no source: the size of the reference study, five market towns for an EPCI of
#: ~100 communes): how many :func:`candidate_towns` a study with ``zoning.auto_towns`` and no
#: market towns named, the ``towns`` candidates and each EPCI of a batch take.
DEFAULT_TOWNS = 5


def default_market_towns(territory: Territory, density: pd.Series, *,
                         n: int = DEFAULT_TOWNS) -> list[str]:
    """The ``n`` most populated :func:`candidate_towns` (same ``territory`` and ``density``;
    fewer when the territory has fewer): the market towns of a study that names none
    (``zoning.auto_towns``) and of each EPCI of a batch, largest population first."""
    return candidate_towns(territory, density)[:n]


def isochrone_polygon(
    net: netmod.RoadNetwork,
    node_time: np.ndarray,
    budget_s: float,
    *,
    direction: str = "to",
    access_legs: np.ndarray | None = None,
    edge_buffer_m: float = 150.0,
    min_hole_km2: float = 1.0,
) -> Polygon:
    """The area reachable within a budget on a detailed network, from per-node times.

    Every road segment reached within the budget is kept, frontier segments cut where the
    budget runs out; the lines (and the access legs of member chefs-lieux, from the point
    to its road, when given) are buffered by ``edge_buffer_m`` and merged; holes smaller
    than ``min_hole_km2`` are filled.

    Parameters
    ----------
    net
        Road network.
    node_time
        Seconds between each node and the town (inf when not reached), in ``direction``.
    budget_s
        Band in seconds.
    direction
        ``"to"``: ``node_time`` is the time from the node to the town; ``"from"``: from
        the town to the node.
    access_legs
        Optional LineStrings (chef-lieu to its snapped point) of the members in the band.
    """
    netmod.check_direction(direction)
    e = net.edges
    te = e["time_s"].to_numpy()
    tu = node_time[e["u"].to_numpy()]
    tv = node_time[e["v"].to_numpy()]
    with np.errstate(invalid="ignore", divide="ignore"):
        if direction == "to":
            r = np.clip((budget_s - tv) / te, 0, 1)
        else:
            r = np.clip((budget_s - tu) / te, 0, 1)
    r = np.nan_to_num(r, nan=0.0, posinf=1.0)
    full = r >= 1.0
    part = (r > 0) & ~full
    geoms = list(e.geometry.to_numpy()[full])
    for g, f in zip(e.geometry.to_numpy()[part], r[part], strict=True):
        geoms.append(substring(g, 1 - f, 1, normalized=True) if direction == "to"
                     else substring(g, 0, f, normalized=True))
    if access_legs is not None:
        geoms.extend(list(access_legs))
    if not geoms:
        return Polygon()
    lines = shapely.buffer(np.array(geoms, dtype=object), edge_buffer_m, quad_segs=4)
    return fill_holes(shapely.union_all(lines), min_hole_km2 * 1e6)


def commune_polygon(member_codes: list[str], communes: gpd.GeoSeries) -> Polygon:
    """A zone drawn as the union of its member communes' shapes (approximate networks,
    where road lines are straight stand-ins and would draw stars, not areas)."""
    shapes = communes.reindex([c for c in member_codes if c in communes.index]).dropna()
    if len(shapes) == 0:
        return Polygon()
    return shapely.union_all(shapes.to_numpy())


def fill_holes(geom, min_area_m2: float):
    """Remove interior rings smaller than ``min_area_m2`` (spurious holes)."""
    polys = shapely.get_parts(geom)
    out = []
    for p in polys:
        if p.geom_type != "Polygon":
            continue
        keep = [ring for ring in p.interiors if Polygon(ring).area >= min_area_m2]
        out.append(Polygon(p.exterior, keep))
    return shapely.union_all(out) if out else Polygon()


def town_code(ref: str, chefs_lieux: gpd.GeoDataFrame, *, where: Territory) -> str:
    """A market town (INSEE code or name) as the code of one of the territory's (or its
    ring's) chefs-lieux.

    Raises
    ------
    UnknownPlaceError
        Naming the reference and the closest commune names of the territory and ring.
    """
    text = str(ref).strip()
    code = code_or_none(text)
    if code is not None:
        if code not in chefs_lieux.index:
            raise UnknownPlaceError(
                f"market town {code} is neither in {where.name} nor in its {where.ring_km:g} km "
                "ring")
        return code
    folded = chefs_lieux["nom"].astype(str).map(fold)
    hits = chefs_lieux.index[folded == fold(text)].tolist()
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise UnknownPlaceError(f"market town {text!r} is ambiguous: {hits}; give the code")
    close = difflib.get_close_matches(fold(text), folded.tolist(), n=3, cutoff=0.6)
    names = [chefs_lieux.loc[folded == c, "nom"].iloc[0] for c in close]
    raise UnknownPlaceError(
        f"market town {text!r} not found in {where.name} or its ring"
        + (f"; closest: {', '.join(names)}" if names else ""))


def build_zones(
    territory: Territory,
    market_towns: list[str],
    *,
    network: netmod.RoadNetwork,
    budget_min: float = 10.0,
    bands: tuple[float, ...] | list[float] | None = None,
    direction: str = "to",
    polygons: bool = True,
    edge_buffer_m: float = 150.0,
    min_hole_km2: float = 1.0,
    engine=None,
) -> Zones:
    """Drive-time zones around market towns.

    Parameters
    ----------
    territory
        The study territory (members and ring communes are routed).
    market_towns
        Market towns by INSEE code or name (``"62045"``, ``"Aubigny-en-Artois"``).
    network
        Road network covering the territory and its ring.
    budget_min
        Zone budget in minutes (default 10).
    bands
        Time bands (minutes) for membership and polygons; ``budget_min`` is always one.
    direction
        ``"to"`` (communes to the town, default) or ``"from"``.
    polygons
        Compute isochrone polygons.
    engine
        Routing engine (:mod:`territorial_geo.network.engine`): the built-in one on
        ``network`` by default; OSRM (:class:`~territorial_geo.network.osrm_engine.OsrmEngine`)
        times the members and the isochrone sample points (the network's nodes) itself.

    Returns
    -------
    Zones

    Raises
    ------
    UnknownPlaceError
        A market town that is not a commune (closest names given).
    NetworkError
        A budget <= 0, or a market town farther from the network than the snap threshold.
    """
    if not budget_min > 0:
        raise NetworkError(f"budget_min must be positive, got {budget_min}")
    if not market_towns:
        raise UnknownPlaceError("no market town given")
    band_list = tuple(sorted({float(b) for b in (bands or ())} | {float(budget_min)}))
    if band_list[0] <= 0:
        raise NetworkError(f"bands must be positive, got {band_list}")
    pts = territory.chefs_lieux
    codes = [town_code(t, pts, where=territory) for t in market_towns]
    if len(set(codes)) != len(codes):
        raise UnknownPlaceError(f"market towns given twice: {market_towns}")
    snaps = network.snap(pts.geometry)
    far_towns = [c for c in codes if snaps.loc[c, "far"]]
    if far_towns:
        raise NetworkError(
            f"market town(s) {far_towns} are more than {network.profile.max_snap_m:.0f} m from "
            f"the road network (nearest road at "
            f"{', '.join('{:.0f} m'.format(snaps.loc[c, 'snap_m']) for c in far_towns)}); "
            "use a network that covers them"
        )
    max_s = band_list[-1] * 60
    reverse = netmod.check_direction(direction)
    # one bounded Dijkstra per town over every node: it gives the members (chefs-lieux
    # attached to the reached nodes) and the per-node times the polygons need
    town_snap = snaps.loc[codes]
    eng = netmod.engine_of(engine, network)
    reached = eng.node_times(town_snap, max_s, reverse=reverse)
    hits = eng.points_from_node_times(reached, town_snap, snaps, max_s, reverse=reverse)
    cl_codes = np.asarray(pts.index)
    mem = pd.DataFrame({"zone": np.asarray(codes)[hits["origin"].to_numpy()],
                        "code": cl_codes[hits["target"].to_numpy()],
                        "time_s": hits["time_s"].to_numpy()})
    mem["time_min"] = mem["time_s"] / 60
    bands_arr = np.asarray(band_list)
    mem["band_min"] = bands_arr[np.searchsorted(bands_arr, mem["time_min"].to_numpy() - 1e-9)]
    mem["in_territory"] = is_in(mem["code"], territory.codes)
    # rows of the chefs-lieux and snaps by position (one lookup, not a .loc per column)
    at_pts, at_snap = pts.index.get_indexer(mem["code"]), snaps.index.get_indexer(mem["code"])
    mem["nom"] = pts["nom"].to_numpy()[at_pts]
    mem["snap_m"] = snaps["snap_m"].to_numpy()[at_snap]
    mem["far"] = snaps["far"].to_numpy()[at_snap]
    mem["_at"] = at_pts
    order = {z: i for i, z in enumerate(codes)}
    mem = mem.assign(_o=mem["zone"].map(order)).sort_values(["_o", "time_s", "code"]).drop(
        columns="_o")
    members = gpd.GeoDataFrame(
        mem.drop(columns="_at").reset_index(drop=True),
        geometry=pts.geometry.to_numpy()[mem["_at"].to_numpy()], crs=pts.crs,
    )
    towns = gpd.GeoDataFrame(
        {"code": codes, "nom": pts.loc[codes, "nom"].to_numpy(),
         "snap_m": snaps.loc[codes, "snap_m"].to_numpy(),
         "node": snaps.loc[codes, "node"].to_numpy()},
        geometry=pts.loc[codes].geometry.to_numpy(), crs=pts.crs, index=codes,
    )
    polys = []
    if polygons:
        shapes = None
        if network.kind == "approximate":
            shapes = pd.concat([territory.communes.geometry, territory.ring.geometry])
            shapes = shapes[~shapes.index.duplicated()]
        legs = pd.Series(netmod.access_legs(snaps), index=snaps.index)
        for i, c in enumerate(codes):
            hit = reached[reached["origin"] == i]
            t = np.full(network.n_vertices, np.inf)
            t[hit["target"].to_numpy()] = hit["time_s"].to_numpy()
            t = network.node_times_from_vertices(t, reverse=reverse)
            zm = members[members["zone"] == c]
            for b in band_list:
                inside = zm.loc[zm["time_min"] <= b + 1e-9, "code"].tolist()
                if shapes is not None:
                    g = commune_polygon(inside, shapes)
                else:
                    g = isochrone_polygon(network, t, b * 60, direction=direction,
                                          access_legs=legs.loc[inside].to_numpy(),
                                          edge_buffer_m=edge_buffer_m, min_hole_km2=min_hole_km2)
                polys.append({"zone": c, "nom": towns.loc[c, "nom"], "band_min": b,
                              "area_km2": g.area / 1e6, "geometry": g})
    poly_gdf = gpd.GeoDataFrame(
        polys or {"zone": [], "nom": [], "band_min": [], "area_km2": [], "geometry": []},
        geometry="geometry", crs=sources.WORKING_CRS,
    )
    return Zones(towns, members, poly_gdf, territory.codes, float(budget_min), band_list,
                 direction, snaps, engine=eng.info())
