"""Junction costs (OSRM car.lua v26.x ``process_turn``) and the edge-based graph.

Hand-made crossroads in Lambert-93 (arms exactly north, east, south, west of the centre),
so that turn angles are exact and every expected time can be computed by hand.
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from territorial_geo import network as N
from territorial_geo import sources
from territorial_geo.network.carprofile import osrm_maxspeed, turn_costs

GIBRALTAR = (sources.default_mirror() or Path("/nonexistent")) / "roads/fixtures/gibraltar.osm.pbf"
C = (650_000.0, 6_860_000.0)
# residential at OSRM car.lua's 25 km/h: 500 m take 72 s
HALF_ARM_S = 500 / (25 / 3.6)
# right 90°: 7.5 / (1 + exp(-(13/1.075 * 0.5 - 6.5 * 1.075))) = 7.5 / (1 + e^0.94099)
RIGHT_90 = 2.105256
# left 90°: 7.5 / (1 + e^-0.94099) = 5.39474, + oncoming 2 / (1 + e^-(6.5 - 3.25)) = 1.92535
LEFT_90 = 7.320091


def test_turn_costs_by_hand():
    cost = turn_costs(np.array([90.0, -90.0, 0.0, 180.0, 30.0]), np.array([4, 4, 4, 1, 2]),
                      np.array([False, False, False, True, False]), np.zeros(5, bool),
                      turn_penalty_s=7.5, turn_bias=1.075, u_turn_s=20.0, oncoming_s=2.0,
                      signal_s=2.0)
    assert cost[0] == pytest.approx(RIGHT_90, abs=1e-5)
    assert cost[1] == pytest.approx(LEFT_90, abs=1e-5)
    assert cost[2] == pytest.approx(7.5 / (1 + np.exp(6.5 * 1.075)), abs=1e-6)  # ~0.007 s
    # u-turn at a dead end: 7.5 / (1 + e^-(13/1.075 - 6.9875)) + 20
    assert cost[3] == pytest.approx(7.5 / (1 + np.exp(-(13 / 1.075 - 6.9875))) + 20, abs=1e-6)
    assert cost[4] == 0.0  # a bend where only two roads meet costs nothing
    signal = turn_costs(np.array([0.0]), np.array([2]), np.array([False]), np.array([True]),
                        turn_penalty_s=7.5, turn_bias=1.075, u_turn_s=20.0, oncoming_s=2.0,
                        signal_s=2.0)
    assert signal[0] == pytest.approx(2.0)


@pytest.mark.parametrize("value,kmh", [("50", 50), ("FR:urban", 50), ("FR:rural", 80),
                                       ("FR:motorway", 130), ("50;70", 50), ("70 mph", 70 * 1.609),
                                       ("FR:zone30", np.nan), ("none", 140), (None, np.nan)])
def test_osrm_maxspeed(value, kmh):
    got = osrm_maxspeed(value)
    assert (np.isnan(got) and np.isnan(kmh)) or got == pytest.approx(kmh)


def _crossroads(signal: bool = False, **tags):
    """Four 1 km residential arms from C (node 1): north (2), east (3), south (4), west (5)."""
    ends = {2: (0, 1000), 3: (1000, 0), 4: (0, -1000), 5: (-1000, 0)}
    lines = [LineString([C, (C[0] + dx, C[1] + dy)]) for dx, dy in ends.values()]
    geo = gpd.GeoSeries(lines, crs=2154).to_crs(4326)
    edges = gpd.GeoDataFrame({"id": list(range(10, 14)), "u": 1, "v": list(ends),
                              "highway": "residential", "length": 1000.0, **tags},
                             geometry=geo.to_numpy(), crs=4326)
    nodes = pd.DataFrame({"id": [1], "tags": [{"highway": "traffic_signals"} if signal else {}]})
    return N.network_from_frames(nodes, edges)


def _time(net, a, b):
    pts = gpd.GeoSeries([Point(*a), Point(*b)], crs=2154)
    snap = net.snap(pts)
    t = N.snapped_times(net, snap.iloc[[0]], snap.iloc[[1]], 3600, reverse=False)
    return float(t["time_s"].iloc[0])


WEST = (C[0] - 500, C[1])
NORTH = (C[0], C[1] + 500)
EAST = (C[0] + 500, C[1])


def test_crossroads_turn_costs():
    """West -> north turns left (90°), north -> west turns right; straight on is ~free."""
    net = _crossroads()
    assert _time(net, WEST, NORTH) == pytest.approx(2 * HALF_ARM_S + LEFT_90, abs=1e-4)
    assert _time(net, NORTH, WEST) == pytest.approx(2 * HALF_ARM_S + RIGHT_90, abs=1e-4)
    assert _time(net, WEST, EAST) == pytest.approx(2 * HALF_ARM_S, abs=0.01)
    # the reversed graph gives the same pair read the other way
    pts = gpd.GeoSeries([Point(*NORTH), Point(*WEST)], crs=2154)
    snap = net.snap(pts)
    rev = N.snapped_times(net, snap.iloc[[0]], snap.iloc[[1]], 3600, reverse=True)
    assert float(rev["time_s"].iloc[0]) == pytest.approx(2 * HALF_ARM_S + LEFT_90, abs=1e-4)


def test_node_times_under_the_turn_model():
    """Node times (polygons, raster) from the state times, by hand on the crossroads: from
    the west point the centre is reached in 72 s and the north dead end after a left turn;
    towards it, the north end leaves south and turns right."""
    net = _crossroads()
    site = net.snap(gpd.GeoSeries([Point(*WEST)], crs=2154))
    osm = net.nodes["osmid"].to_numpy()
    centre, north = int(np.flatnonzero(osm == 1)[0]), int(np.flatnonzero(osm == 2)[0])
    frm = N.node_times_to_nearest(net, site, direction="from")
    assert frm.shape == (net.n_nodes,)
    # the end node of the site's own edge is timed by the cheapest way on out of it
    # (straight on: 7.5 / (1 + e^(6.5 x 1.075)) = 0.0069 s)
    assert frm[centre] == pytest.approx(HALF_ARM_S + 7.5 / (1 + np.exp(6.5 * 1.075)), abs=1e-6)
    assert frm[north] == pytest.approx(3 * HALF_ARM_S + LEFT_90, abs=1e-4)
    to = N.node_times_to_nearest(net, site, direction="to")
    assert to[centre] == pytest.approx(HALF_ARM_S, abs=1e-6)
    assert to[north] == pytest.approx(3 * HALF_ARM_S + RIGHT_90, abs=1e-4)


def test_traffic_signal_costs_two_seconds():
    net = _crossroads(signal=True)
    assert net.nodes["signal"].sum() == 1
    assert _time(net, WEST, NORTH) == pytest.approx(2 * HALF_ARM_S + LEFT_90 + 2.0, abs=1e-4)


def test_turns_off_is_the_node_graph():
    net = _crossroads()
    flat = N.RoadNetwork(net.nodes, net.edges, N.SpeedProfile(turns=False), net.source)
    assert not flat.uses_turns and flat.n_vertices == flat.n_nodes
    assert _time(flat, WEST, NORTH) == pytest.approx(2 * HALF_ARM_S, abs=1e-6)


def test_u_turns_only_at_dead_ends():
    """No u-turn at the crossroads (other roads leave it); one at each arm's dead end."""
    net = _crossroads()
    src, dst, w = net.turn_arcs()
    e = net.edges
    seg, u, v = e["seg"].to_numpy(), e["u"].to_numpy(), e["v"].to_numpy()
    uturn = (seg[src] == seg[dst]) & (u[src] == v[dst])
    centre = int(np.flatnonzero(net.nodes["osmid"].to_numpy() == 1)[0])
    assert not (uturn & (v[src] == centre)).any()
    assert uturn.sum() == 4
    # 4 arms into the centre x 3 ways out + 4 dead-end u-turns
    assert net.turn_graph_size() == {"states": 8, "arcs": 16}
    dead = w[uturn] - e["time_s"].to_numpy()[src[uturn]]
    assert np.allclose(dead, 7.5 / (1 + np.exp(-(13 / 1.075 - 6.9875))) + 20)


def test_class_and_access_rules():
    """OSRM car.lua: untagged residential 25 km/h, maxspeed 50 -> 40, a gravel surface caps
    at 40, access=destination is not driven through."""
    lines = [LineString([(C[0] + 10 * i, C[1]), (C[0] + 10 * i, C[1] + 1000)])
             for i in range(4)]
    geo = gpd.GeoSeries(lines, crs=2154).to_crs(4326)
    edges = gpd.GeoDataFrame(
        {"id": range(4), "u": [1, 3, 5, 7], "v": [2, 4, 6, 8], "highway": "primary",
         "length": 1000.0, "maxspeed": [None, "50", None, None],
         "surface": [None, None, "gravel", None], "access": [None, None, None, "destination"]},
        geometry=geo.to_numpy(), crs=4326)
    net = N.network_from_frames(None, edges)
    kmh = net.edges.groupby("osm_way")["speed_kmh"].first()
    assert kmh.to_dict() == {0: 65.0, 1: 40.0, 2: 40.0}
    assert net.source["n_restricted_ways"] == 1


@pytest.fixture(scope="module")
def gibraltar():
    if not GIBRALTAR.is_file():
        pytest.skip("mirror fixture missing")
    return N.read_pbf(GIBRALTAR)


def test_gibraltar_turn_graph_and_consumers_agree(gibraltar):
    """Under the turn model, vertex times + attachments (zones), snapped times (tables) and
    the nearest-site pass (coverage) give the same times, in both directions."""
    net = gibraltar
    assert net.uses_turns and net.n_vertices == len(net.edges)
    assert net.source["n_traffic_signals"] > 0
    e = net.edges.sample(40, random_state=3)
    pts = gpd.GeoSeries([g.interpolate(0.5, normalized=True) for g in e.geometry], crs=2154)
    snap = net.snap(pts)
    for reverse in (False, True):
        direct = N.snapped_times(net, snap.iloc[:5], snap, 1800, reverse=reverse)
        reached = N.node_times(net, snap.iloc[:5], 1800, reverse=reverse)
        via = N.points_from_node_times(reached, snap.iloc[:5], snap, 1800, reverse=reverse)
        m = direct.merge(via, on=["origin", "target"], how="outer")
        assert np.allclose(m["time_s_x"], m["time_s_y"])
        nodes = net.node_times_from_vertices(_vertex_array(net, reached, 0), reverse=reverse)
        assert nodes.shape == (net.n_nodes,) and np.isfinite(nodes).sum() > 10
        assert (nodes[np.isfinite(nodes)] >= 0).all()
    t, site = N.nearest_point_times(net, snap, snap.iloc[:3], direction="to")
    full = N.snapped_times(net, snap.iloc[:3], snap, 1e6, reverse=True)
    best = full.groupby("target")["time_s"].min().reindex(range(len(snap))).to_numpy()
    np.testing.assert_allclose(t, np.nan_to_num(best, nan=np.inf))


def _vertex_array(net, reached, origin):
    t = np.full(net.n_vertices, np.inf)
    hit = reached[reached["origin"] == origin]
    t[hit["target"].to_numpy()] = hit["time_s"].to_numpy()
    return t


def test_study_file_sets_speeds_and_junction_costs():
    from territorial_geo import config
    from territorial_geo.errors import ConfigError

    cfg, _ = config.config_from_dict({"zoning": {"turn_penalty_s": 0.0, "u_turn_s": 5.0,
                                                 "speeds": {"residential": 30.0}}})
    p = N.speed_profile(cfg.zoning)
    assert (p.turn_penalty_s, p.u_turn_s, p.traffic_signal_s) == (0.0, 5.0, 2.0)
    assert p.highway_kmh["residential"] == 30.0 and p.highway_kmh["primary"] == 65.0
    net = _crossroads()
    flat = N.RoadNetwork(net.nodes, net.edges, p, net.source)
    # no angle cost left: only the oncoming-traffic part of the left turn
    assert _time(flat, WEST, NORTH) == pytest.approx(2 * HALF_ARM_S + 1.925349, abs=1e-4)
    legal, _ = config.config_from_dict({"zoning": {"speed_model": "legal",
                                                   "speeds": {"primary": 70.0}}})
    lp = N.speed_profile(legal.zoning)
    assert lp.speed_model == "legal" and lp.highway_kmh["residential"] == 50.0
    assert lp.highway_kmh["primary"] == 70.0 and lp.turns
    with pytest.raises(ConfigError, match="zoning.speed_model"):
        config.config_from_dict({"zoning": {"speed_model": "fast"}})
    with pytest.raises(ConfigError, match=r"zoning\.u_turn_s must be >= 0"):
        config.config_from_dict({"zoning": {"u_turn_s": -1.0}})


@pytest.fixture(scope="module")
def artois_turns(artois, data_dir):
    """The Artois skeleton read as a detailed network: car.lua speeds, junction costs."""
    return N.read_pbf(sources.dataset_path("roads-hdf", data_dir), area=artois.outline,
                      cache_dir=data_dir / "cache" / "networks")


@pytest.mark.parametrize("direction", ["to", "from"])
def test_zones_on_the_turn_graph(artois, artois_turns, direction):
    """Zones, their polygons and the distancier agree under the turn model, and junction
    costs never make a trip shorter than the same roads without them."""
    from territorial_geo import zoning

    net = artois_turns
    assert net.uses_turns and net.turn_graph_size()["arcs"] > net.n_vertices
    towns = ["62279", "62045"]
    z = zoning.build_zones(artois, towns, network=net, bands=[10, 20], direction=direction)
    pts = artois.chefs_lieux.geometry
    table = zoning.reachability_table(net, pts, 1200.0, origins=pts.loc[towns],
                                      direction=direction)
    for town in towns:
        sub = table[table["origin"] == town]
        got = sub.set_index(sub["code"].astype(str))["time_s"]
        mem = z.members[z.members["zone"] == town].set_index("code")["time_s"]
        assert set(mem.index) == set(got.index)
        assert np.allclose(mem.sort_index(), got.sort_index())
        poly = z.polygons[(z.polygons["zone"] == town) & (z.polygons["band_min"] == 20)]
        inside = z.members[z.members["zone"] == town].geometry.within(
            poly.geometry.iloc[0].buffer(1.0))
        assert inside.all()
    flat = N.RoadNetwork(net.nodes, net.edges, N.SpeedProfile(turns=False), net.source)
    base = zoning.reachability_table(flat, pts, 1200.0, origins=pts.loc[towns],
                                     direction=direction)
    m = base.merge(table, on=["origin", "code"], suffixes=("_flat", "_turns"))
    assert len(m) == len(table) and len(base) >= len(table)
    assert (m["time_s_turns"] >= m["time_s_flat"] - 1e-6).all()
    assert (m["time_s_turns"] > m["time_s_flat"] + 1).mean() > 0.5
