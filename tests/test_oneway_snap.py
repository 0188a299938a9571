"""Directions (one-way, reverse one-way, roundabouts, access), edge snapping and the
direction of routing ("to" the town vs "from" it), on hand-made ways and real OSM data."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
from shapely.geometry import LineString, Point

from territorial_geo import network as N
from territorial_geo import sources, zoning

GIBRALTAR = (sources.default_mirror() or Path("/nonexistent")) / "roads/fixtures/gibraltar.osm.pbf"


def _ways(rows):
    """pyrosm-style edge rows: way i goes from node 10*i+1 to 10*i+2 (lon, lat degrees)."""
    recs = []
    for i, tags in enumerate(rows):
        lon = 2.0 + 0.01 * i
        recs.append({"id": 100 + i, "u": 10 * i + 1, "v": 10 * i + 2, "highway": "residential",
                     "length": 1000.0, **tags,
                     "geometry": LineString([(lon, 50.0), (lon, 50.009)])})
    return gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")


def _dirs(net):
    osm = net.nodes["osmid"].to_numpy()
    return {(int(osm[u]), int(osm[v])) for u, v in zip(net.edges["u"], net.edges["v"],
                                                        strict=True)}


CASES = [
    ({"oneway": "yes"}, {(1, 2)}),
    ({"oneway": "-1"}, {(2, 1)}),
    ({"oneway": "no"}, {(1, 2), (2, 1)}),
    ({}, {(1, 2), (2, 1)}),
    ({"junction": "roundabout"}, {(1, 2)}),
    ({"junction": "roundabout", "oneway": "-1"}, {(2, 1)}),
    ({"junction": "roundabout", "oneway": "no"}, {(1, 2), (2, 1)}),
    ({"junction": "circular"}, {(1, 2)}),
    ({"access": "private"}, set()),
    ({"access": "no", "motor_vehicle": "yes"}, {(1, 2), (2, 1)}),
    ({"motor_vehicle": "no"}, set()),
    # OSRM car.lua v26.x: motorways are one-way unless tagged; oneway:motorcar first;
    # access=destination (restricted) and private are not driven through
    ({"highway": "motorway"}, {(1, 2)}),
    ({"highway": "motorway", "oneway": "no"}, {(1, 2), (2, 1)}),
    ({"oneway:motorcar": "yes"}, {(1, 2)}),
    ({"access": "destination"}, set()),
    ({"access": "no", "motorcar": "yes"}, {(1, 2), (2, 1)}),
    ({"oneway": "reversible"}, set()),
]


@pytest.mark.parametrize("tags,expected", CASES)
def test_directions_from_tags(tags, expected):
    ways = _ways([{"oneway": "no"}, tags])  # way 0 keeps the network non-empty
    net = N.network_from_frames(None, ways)
    got = {(u - 10, v - 10) for u, v in _dirs(net) if u > 10}
    assert got == expected


def test_oneway_street_times_differ_by_direction():
    # a one-way street 1 -> 2 (1 km) and a two-way detour 2 -> 3 -> 1 (2 km)
    recs = [
        {"id": 1, "u": 1, "v": 2, "highway": "residential", "oneway": "yes",
         "geometry": LineString([(2.0, 50.0), (2.0, 50.009)])},
        {"id": 2, "u": 2, "v": 3, "highway": "residential",
         "geometry": LineString([(2.0, 50.009), (2.014, 50.0045)])},
        {"id": 3, "u": 3, "v": 1, "highway": "residential",
         "geometry": LineString([(2.014, 50.0045), (2.0, 50.0)])},
    ]
    net = N.network_from_frames(None, gpd.GeoDataFrame(recs, crs="EPSG:4326"))
    pts = gpd.GeoSeries([Point(2.0, 50.002), Point(2.0, 50.007)], index=["A", "B"],
                        crs="EPSG:4326").to_crs(2154)
    snap = net.snap(pts)
    assert (snap["snap_m"] < 1).all()
    ab = N.snapped_times(net, snap.iloc[[0]], snap.iloc[[1]], 3600, reverse=False)
    ba = N.snapped_times(net, snap.iloc[[1]], snap.iloc[[0]], 3600, reverse=False)
    t_ab, t_ba = float(ab["time_s"].iloc[0]), float(ba["time_s"].iloc[0])
    street = net.edges[net.edges["oneway"]].iloc[0]
    frac = (snap["frac"].iloc[1] - snap["frac"].iloc[0])
    # A -> B runs along the one-way street; B -> A must take the detour
    assert t_ab == pytest.approx(frac * street["time_s"], rel=1e-6)
    assert t_ba > 2.5 * t_ab
    # reverse=True on the same pair gives B -> A (times from the target to the origin)
    rev = N.snapped_times(net, snap.iloc[[0]], snap.iloc[[1]], 3600, reverse=True)
    assert float(rev["time_s"].iloc[0]) == pytest.approx(t_ba)


@pytest.fixture(scope="module")
def gibraltar():
    if not GIBRALTAR.is_file():
        pytest.skip("mirror fixture missing")
    return N.read_pbf(GIBRALTAR)


def test_gibraltar_counts_checked_on_the_file(gibraltar):
    """Facts counted on the file with pyrosm directly (26 ways oneway=-1, 213 oneway=yes,
    61 roundabout ways without oneway tag)."""
    _, raw = pyrosm.OSM(str(GIBRALTAR)).get_network(network_type="driving", nodes=True,
                                                    extra_attributes=["junction"])
    e = gibraltar.edges
    one = e[e["oneway"]]
    way_oneway = raw.drop_duplicates("id").set_index("id")["oneway"]
    rev_ways = set(way_oneway[way_oneway == "-1"].index.astype(int))
    assert len(rev_ways) == 26
    osm = gibraltar.nodes["osmid"].to_numpy()
    raw_uv = set(zip(raw["u"].astype(np.int64), raw["v"].astype(np.int64), strict=True))
    # every directed edge of a oneway=-1 way runs against the drawing direction
    rev = one[one["osm_way"].isin(rev_ways)]
    assert len(rev) > 0
    for u, v in zip(osm[rev["u"]], osm[rev["v"]], strict=True):
        assert (int(v), int(u)) in raw_uv and (int(u), int(v)) not in raw_uv
    # roundabouts (no oneway tag) are one-way in the drawing direction
    rb_ways = set(raw.loc[raw["junction"] == "roundabout", "id"].astype(int))
    rb = e[e["osm_way"].isin(rb_ways)]
    assert rb["oneway"].all() and len(rb) == len(raw[raw["junction"] == "roundabout"])
    # a two-way way gives both directions
    two = e[~e["oneway"]]
    pairs = set(zip(two["u"], two["v"], strict=True))
    assert all((v, u) in pairs for u, v in list(pairs)[:200])


def test_gibraltar_to_differs_from_from(gibraltar):
    # a point half-way along a one-way segment: "to" and "from" a town there differ
    e = gibraltar.edges
    one = e[e["oneway"] & (e["length_m"] > 80)].iloc[0]
    mid = one.geometry.interpolate(0.5, normalized=True)
    end = one.geometry.interpolate(0.9, normalized=True)
    pts = gpd.GeoSeries([mid, end], index=["T0001", "T0002"], crs=2154)
    frm = zoning.reachability_table(gibraltar, pts, 1800, origins=pts.iloc[[0]],
                                    direction="from").set_index("code")["time_s"]
    to = zoning.reachability_table(gibraltar, pts, 1800, origins=pts.iloc[[0]],
                                   direction="to").set_index("code")["time_s"]
    # from the town to the point further along: 40 % of the segment
    assert frm["T0002"] == pytest.approx(0.4 * one["time_s"], rel=1e-3)
    assert to["T0002"] > frm["T0002"] + 1
    assert frm["T0001"] == 0 and to["T0001"] == 0


def test_snap_to_nearest_road_not_nearest_node(artois, artois_net):
    pts = artois.chefs_lieux.loc[artois.codes].geometry
    snap = artois_net.snap(pts)
    node_xy = np.c_[artois_net.nodes["x"], artois_net.nodes["y"]]
    from scipy.spatial import cKDTree

    d_node, _ = cKDTree(node_xy).query(np.c_[pts.x, pts.y])
    assert (snap["snap_m"].to_numpy() <= d_node + 1e-6).all()
    # on the skeleton the median distance to a node is ~3x the distance to a road
    assert np.median(snap["snap_m"]) < 0.6 * np.median(d_node)
    # the snapped point lies on the road: projection checked with shapely
    seg_geom = artois_net.edges.drop_duplicates("seg").set_index("seg").geometry
    for code in artois.codes[:10]:
        line = seg_geom.loc[snap.loc[code, "seg"]]
        assert line.distance(pts.loc[code]) == pytest.approx(snap.loc[code, "snap_m"], abs=0.01)


def test_town_time_to_itself_is_zero(artois, artois_net, data_dir):
    z = zoning.build_zones(artois, ["62279", "62045"], network=artois_net, polygons=False)
    m = z.members
    own = m[m["zone"] == m["code"]]
    assert len(own) == 2 and (own["time_s"] == 0).all()
    # every other member pays at least its own snap leg
    other = m[m["zone"] != m["code"]]
    assert (other["time_s"] + 1e-9 >= other["snap_m"] / (30 / 3.6)).all()


def test_same_segment_points_direct():
    seg = gpd.GeoDataFrame({"forward": [True], "backward": [False], "speed_kmh": [36.0],
                            "speed_source": ["test"]},
                           geometry=[LineString([(0, 0), (1000, 0)])], crs=2154)
    net = N.network_from_segments(seg)
    pts = gpd.GeoSeries([Point(200, 10), Point(700, 0)], crs=2154)
    snap = net.snap(pts)
    fwd = N.snapped_times(net, snap.iloc[[0]], snap.iloc[[1]], 3600, reverse=False)
    # 10 m snap leg at 30 km/h + 500 m at 36 km/h (10 m/s) + 0 m leg
    assert float(fwd["time_s"].iloc[0]) == pytest.approx(10 / (30 / 3.6) + 50.0)
    back = N.snapped_times(net, snap.iloc[[1]], snap.iloc[[0]], 3600, reverse=False)
    assert len(back) == 0  # against the one-way: unreachable
    assert isinstance(fwd, pd.DataFrame)
