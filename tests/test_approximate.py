"""The approximate network (local links + skeleton) and its calibration.

Hand-made grids of square communes (EPSG:2154), with chefs-lieux and density levels set by
hand, give facts checkable by hand; the Artois facts run on the mirrored data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, box

from territorial_geo.errors import NetworkError
from territorial_geo.network import SpeedProfile, network_from_segments
from territorial_geo.network.approximate import (
    PARAM_SOURCES,
    ApproxParams,
    build_approximate,
    commune_adjacency,
    link_times,
)
from territorial_geo.network.calibrate import calibrate, fastest_pairs
from territorial_geo.sources import WORKING_CRS

X0, Y0 = 650_000.0, 6_900_000.0  # somewhere in Lambert-93


def grid(n: int, side: float = 3000.0, *, levels=None, jitter: float = 0.0, seed: int = 0):
    """n x n square communes, codes 99001.. row by row, chefs-lieux at the centres."""
    rng = np.random.default_rng(seed)
    codes, polys, pts = [], [], []
    for r in range(n):
        for c in range(n):
            codes.append(f"99{r * n + c + 1:03d}")
            x, y = X0 + c * side, Y0 + r * side
            polys.append(box(x, y, x + side, y + side))
            dx, dy = rng.uniform(-jitter, jitter, 2) if jitter else (0.0, 0.0)
            pts.append(shapely.Point(x + side / 2 + dx, y + side / 2 + dy))
    communes = gpd.GeoDataFrame({"nom": codes}, geometry=polys, crs=WORKING_CRS, index=codes)
    cl = gpd.GeoDataFrame({"nom": codes}, geometry=pts, crs=WORKING_CRS, index=codes)
    lev = levels if levels is not None else [6] * (n * n)
    return communes, cl, pd.Series(lev, index=codes)


#: The values before the calibration to OSRM (legal limits, no per-link cost; the skeleton
#: keeps the reader's speeds): the hand computations below use them.
LIMITS = ApproxParams(speed_kmh={1: 50.0, 2: 50.0, 3: 80.0, 4: 80.0, 5: 80.0, 6: 80.0, 7: 80.0},
                      urban_kmh=50.0, link_s=0.0, skeleton_kmh={})


def edge_between(net, code_a, code_b):
    e = net.edges
    m = (e["link"] == "local") & (((e["code_u"] == code_a) & (e["code_v"] == code_b)) |
                                   ((e["code_u"] == code_b) & (e["code_v"] == code_a)))
    return e[m]


# --------------------------------------------------------------------------- adjacency

def test_adjacency_is_rook_on_a_3x3_grid():
    communes, _, _ = grid(3)
    adj = commune_adjacency(communes)
    pairs = {frozenset(p) for p in zip(adj["code_a"], adj["code_b"], strict=True)}
    # 3 rows x 2 + 3 columns x 2 shared sides; diagonal neighbours touch at a corner only
    assert len(pairs) == 12
    centre = "99005"
    assert sorted(c for p in pairs if centre in p for c in p if c != centre) == \
        ["99002", "99004", "99006", "99008"]
    assert frozenset({"99001", "99005"}) not in pairs
    assert np.allclose(adj["shared_m"], 3000.0)


def test_short_shared_border_is_not_a_link():
    # two squares offset so that they share only 50 m of border
    a = box(0, 0, 1000, 1000)
    b = box(1000, 950, 2000, 1950)
    communes = gpd.GeoDataFrame(geometry=[a, b], crs=WORKING_CRS, index=["99001", "99002"])
    assert len(commune_adjacency(communes, min_shared_m=100.0)) == 0
    adj = commune_adjacency(communes, min_shared_m=40.0)
    assert len(adj) == 1 and adj["shared_m"].iloc[0] == pytest.approx(50.0)


# --------------------------------------------------------------------------- link times

def test_link_time_by_hand():
    # 3000 m crow-fly, detour 1.3 -> 3900 m of road, 1950 m in each commune.
    # level 6 half: 400 m at 50 km/h (28.8 s) + 1550 m at 80 km/h (69.75 s) = 98.55 s
    # level 1 half: 1950 m at 50 km/h = 140.4 s
    p = LIMITS
    assert link_times(np.array([3000.0]), np.array([6]), np.array([1]), p)[0] == \
        pytest.approx(98.55 + 140.4)
    assert link_times(np.array([3000.0]), np.array([6]), np.array([6]), p)[0] == \
        pytest.approx(2 * 98.55)
    # a half shorter than the built-up stretch is all at urban speed: 1.3*500/2 = 325 m
    assert link_times(np.array([500.0]), np.array([6]), np.array([6]), p)[0] == \
        pytest.approx(2 * 325 / (50 / 3.6))


def test_network_link_times_follow_density_levels():
    # 1x3 row: levels 1, 6, 5; chefs-lieux 3000 m apart
    communes, cl, dens = grid(3, levels=[1, 6, 5, 6, 6, 6, 6, 6, 6])
    net = build_approximate(communes, cl, dens, params=LIMITS)
    assert net.kind == "approximate" and net.source["format"] == "approximate"
    e = edge_between(net, "99001", "99002")
    assert len(e) == 2  # both directions
    assert e["time_s"].to_numpy() == pytest.approx([98.55 + 140.4] * 2)
    # level 5: built-up 600 m -> 43.2 s + 1350 m at 80 (60.75 s) = 103.95 s
    e = edge_between(net, "99002", "99003")
    assert e["time_s"].iloc[0] == pytest.approx(98.55 + 103.95)
    assert e["length_m"].iloc[0] == pytest.approx(3900.0)
    # no diagonal link
    assert len(edge_between(net, "99001", "99005")) == 0


def test_density_speed_lookup_uses_each_commune_level():
    p = LIMITS.replace(speed_kmh={1: 30, 2: 40, 3: 50, 4: 60, 5: 70, 6: 80, 7: 90},
                       builtup_m=dict.fromkeys(range(1, 8), 0.0))
    crow = np.full(7, 2000.0)
    lev = np.arange(1, 8)
    # 1300 m per half, at the speed of its own level
    want = 1300 / (np.array([30, 40, 50, 60, 70, 80, 90]) / 3.6) + 1300 / (80 / 3.6)
    assert link_times(crow, lev, np.full(7, 6), p) == pytest.approx(want)


def test_missing_density_level_is_taken_from_neighbours_and_reported():
    communes, cl, dens = grid(3, levels=[5, 5, 5, 5, 5, 5, 5, 5, 5])
    dens = dens.drop("99005")
    net = build_approximate(communes, cl, dens, params=LIMITS)
    assert net.source["density_filled_from_neighbours"] == ["99005"]
    e = edge_between(net, "99005", "99002")
    assert e["time_s"].iloc[0] == pytest.approx(2 * 103.95)
    lonely = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(100, 0, 110, 10)],
                              crs=WORKING_CRS, index=["99001", "99002"])
    with pytest.raises(NetworkError, match="99002"):
        build_approximate(lonely, gpd.GeoDataFrame(geometry=lonely.centroid, crs=WORKING_CRS),
                          pd.Series({"99001": 6}))


def test_every_parameter_has_a_source_in_the_network():
    communes, cl, dens = grid(2)
    net = build_approximate(communes, cl, dens)
    params = net.source["parameters"]
    fields = set(ApproxParams.__dataclass_fields__)
    assert set(params) == fields
    for name, entry in params.items():
        assert entry["source"] == PARAM_SOURCES[name] and len(entry["source"]) > 20
    for name in ("speed_kmh", "urban_kmh", "skeleton_kmh", "link_s"):
        assert "FITTED" in params[name]["source"] and "neocarto/rspatial" in params[name]["source"]
    assert "ASSUMPTION" in params["builtup_m"]["source"]
    assert net.info()["kind"] == "approximate"


# --------------------------------------------------------------------------- skeleton merge

def skeleton_row(y: float, *, highway="secondary", speed=80.0, x_from=X0 - 3000, x_to=X0 + 12000,
                 step=3000.0, ids_from=-1):
    """A straight skeleton road along y, junctions every ``step`` metres (negative ids)."""
    xs = np.arange(x_from, x_to + 1, step)
    segs = gpd.GeoDataFrame(
        {"u_id": ids_from - np.arange(len(xs) - 1), "v_id": ids_from - np.arange(1, len(xs)),
         "forward": True, "backward": True, "speed_kmh": speed, "speed_source": "default",
         "highway": highway, "ref": "D1", "name": None},
        geometry=[LineString([(a, y), (b, y)]) for a, b in zip(xs[:-1], xs[1:], strict=True)],
        crs=WORKING_CRS,
    )
    return segs


def components(net):
    n = net.n_nodes
    a = coo_matrix((np.ones(len(net.edges)), (net.edges["u"], net.edges["v"])), shape=(n, n))
    return connected_components(a, directed=False)[1]


def test_skeleton_merge_connects_and_is_used():
    communes, cl, dens = grid(4)
    # a departmental road 200 m north of the first row of chefs-lieux (y = Y0 + 1500)
    segs = skeleton_row(Y0 + 1700)
    # and a motorway 100 m south of the last row, not connected to anything
    segs = pd.concat([segs, skeleton_row(Y0 + 10400, highway="motorway", speed=130.0,
                                         ids_from=-100)], ignore_index=True)
    sk = network_from_segments(gpd.GeoDataFrame(segs, crs=WORKING_CRS),
                               source={"kind": "detailed", "format": "osm-pbf", "path": "sk.pbf"})
    net = build_approximate(communes, cl, dens, skeleton=sk, params=LIMITS)
    assert net.source["skeleton"]["path"] == "sk.pbf"
    acc = net.edges[net.edges["link"] == "access"]
    # chefs-lieux within 2 km of the D road: the first row (200 m) only (second row: 2800 m)
    assert sorted(set(acc["code_u"])) == ["99001", "99002", "99003", "99004"]
    lab = components(net)
    cl_nodes = net.nodes.index[net.nodes["osmid"] >= net.source["chef_lieu_base"]]
    d_nodes = net.nodes.index[(net.nodes["osmid"] < 0) & (net.nodes["osmid"] > -100)]
    assert len(set(lab[cl_nodes]) | set(lab[d_nodes])) == 1  # one component
    # the motorway is never joined mid-way: its own component
    m_nodes = net.nodes.index[net.nodes["osmid"] <= -100]
    assert set(lab[m_nodes]).isdisjoint(lab[cl_nodes])
    # the access leg of 99001: 200 m crow-fly x 1.3 = 260 m, all built-up -> 18.72 s;
    # its D-road segment runs 0..3000 m east of X0 - 3000 + 3000: the chef-lieu projects at
    # x = X0 + 1500, the middle of the segment [X0, X0 + 3000]
    a1 = acc[acc["code_u"] == "99001"]
    assert len(a1) == 2 * 2  # two ends, two directions each
    seg_t = 3000 / (80 / 3.6)
    # crossing penalty on that segment: 99001 is within 300 m; its built-up 400 m x 2 = 800 m
    cross = 800 / (50 / 3.6) - 800 / (80 / 3.6)
    assert a1["time_s"].to_numpy() == pytest.approx([18.72 + 0.5 * (seg_t + cross)] * 4)


def test_skeleton_village_crossing_penalty_by_hand():
    communes, cl, dens = grid(2)
    segs = skeleton_row(Y0 + 1500 + 250, step=15000.0)  # one 15 km segment, 250 m from row 1
    sk = network_from_segments(gpd.GeoDataFrame(segs, crs=WORKING_CRS), source={"path": "x"})
    net = build_approximate(communes, cl, dens, skeleton=sk, params=LIMITS)
    s = net.edges[net.edges["link"] == "skeleton"]
    # two chefs-lieux (99001, 99002) within 300 m: two crossings of 800 m at 50 instead of 80
    pen = 2 * (800 / (50 / 3.6) - 800 / (80 / 3.6))
    assert s["time_s"].to_numpy() == pytest.approx([15000 / (80 / 3.6) + pen] * 2)
    assert net.source["n_village_crossings"] == 2


def test_access_links_follow_a_one_way_skeleton_segment():
    communes, cl, dens = grid(2)
    # one segment drawn west -> east, drivable that way only, 100 m north of 99001
    seg = gpd.GeoDataFrame(
        {"u_id": [-1], "v_id": [-2], "forward": [True], "backward": [False], "speed_kmh": [80.0],
         "speed_source": ["default"], "highway": ["secondary"]},
        geometry=[LineString([(X0 + 500, Y0 + 1600), (X0 + 2500, Y0 + 1600)])], crs=WORKING_CRS)
    sk = network_from_segments(seg, source={"path": "x"})
    net = build_approximate(communes, cl, dens, skeleton=sk)
    osm = net.nodes["osmid"].to_numpy()
    e = net.edges[net.edges["link"] == "access"]
    pairs = {(int(osm[u]), int(osm[v])) for u, v in zip(e["u"], e["v"], strict=True)}
    c = net.source["chef_lieu_base"]  # 99001 is the first commune
    # leave eastwards (with the traffic) and arrive from the west end; never against it
    assert pairs == {(c, -2), (-1, c)}


# --------------------------------------------------------------------------- calibration

TRUE = LIMITS.replace(detour=1.3,
                    speed_kmh={1: 35.0, 2: 35.0, 3: 60.0, 4: 60.0, 5: 72.0, 6: 72.0, 7: 72.0},
                    builtup_m={1: 0.0, 2: 0.0, 3: 900.0, 4: 900.0, 5: 350.0, 6: 350.0, 7: 350.0})


def zigzag(a, b, ratio, n_teeth=6):
    """A polyline from a to b whose length is ``ratio`` x the straight distance."""
    a, b = np.asarray(a), np.asarray(b)
    d = np.linalg.norm(b - a)
    step = d / (2 * n_teeth)
    w = step * np.sqrt(ratio ** 2 - 1)
    u = (b - a) / d
    nrm = np.array([-u[1], u[0]])
    pts = [a + u * step * i + (nrm * w if i % 2 else 0) for i in range(2 * n_teeth + 1)]
    return LineString(pts)


def synthetic_detailed(communes, cl, dens, truth: ApproxParams):
    """A 'detailed' network: between each pair of neighbouring chefs-lieux a wiggly road of
    ``truth.detour`` x the crow-fly length, cut into built-up ends at urban speed and open
    halves at each commune's level speed."""
    from shapely.ops import substring

    adj = commune_adjacency(communes)
    xy = shapely.get_coordinates(cl.geometry.loc[communes.index].to_numpy())
    lev = dens.loc[communes.index].to_numpy()
    rows = []
    nid = 10_000
    for a, b in zip(adj["a"], adj["b"], strict=True):
        line = zigzag(xy[a], xy[b], truth.detour)
        L = line.length
        ha = min(truth.builtup_m[lev[a]], L / 2)
        hb = min(truth.builtup_m[lev[b]], L / 2)
        cuts = [0.0, ha, L / 2, L - hb, L]
        speeds = [truth.urban_kmh, truth.speed_kmh[lev[a]], truth.speed_kmh[lev[b]], truth.urban_kmh]
        pieces = [(cuts[k], cuts[k + 1], speeds[k]) for k in range(4) if cuts[k + 1] - cuts[k] > 1e-6]
        ids = [a] + list(range(nid, nid + len(pieces) - 1)) + [b]
        nid += len(pieces)
        for k, (c0, c1, sp) in enumerate(pieces):
            rows.append({"u_id": ids[k], "v_id": ids[k + 1], "forward": True, "backward": True,
                         "speed_kmh": sp, "speed_source": "synthetic",
                         "geometry": substring(line, c0, c1)})
    segs = gpd.GeoDataFrame(rows, geometry="geometry", crs=WORKING_CRS)
    # the synthetic truth has no junction cost: node-based, like the approximate network
    return network_from_segments(segs, source={"kind": "detailed", "format": "synthetic"},
                                 profile=SpeedProfile(turns=False))


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    n = 7
    levels = rng.choice([1, 2, 3, 4, 5, 6, 7], size=n * n, p=[.15, .1, .1, .15, .15, .25, .1])
    communes, cl, dens = grid(n, levels=list(levels), jitter=900.0, seed=3)
    return communes, cl, dens, synthetic_detailed(communes, cl, dens, TRUE)


def test_fastest_pairs_give_time_and_length(synthetic):
    communes, cl, dens, det = synthetic
    pts = cl.geometry
    res = fastest_pairs(det, pts, np.array([0]), np.array([1]))
    d = pts.iloc[0].distance(pts.iloc[1])
    assert res["length_m"].iloc[0] == pytest.approx(1.3 * d, rel=1e-6)
    lev = dens.to_numpy()
    assert res["time_s"].iloc[0] == pytest.approx(
        link_times(np.array([d]), lev[[0]], lev[[1]], TRUE)[0], rel=1e-6)


def test_calibration_recovers_known_parameters(synthetic):
    communes, cl, dens, det = synthetic
    start = LIMITS.replace(detour=1.5)
    res = calibrate(det, communes, cl, dens, params0=start, budget_min=10)
    p = res.params
    assert p.detour == pytest.approx(1.3, abs=0.01)
    for lev in range(1, 8):
        assert p.speed_kmh[lev] == pytest.approx(TRUE.speed_kmh[lev], rel=0.03), lev
    for lev in (3, 4, 5, 6, 7):
        assert p.builtup_m[lev] == pytest.approx(TRUE.builtup_m[lev], abs=40), lev
    assert res.after["time_error"]["p90_rel"] < 0.01
    assert res.after["membership_jaccard"] > 0.98
    assert res.before["membership_jaccard"] < res.after["membership_jaccard"]
    d = res.to_dict()
    assert d["fit"]["n_pairs"] == 2 * len(commune_adjacency(communes))
    assert "detour factor: 1.500 -> 1.300" in res.summary()


def test_calibration_needs_covered_pairs(synthetic):
    communes, cl, dens, det = synthetic
    far = communes.translate(200_000, 0)
    far_cl = gpd.GeoDataFrame(geometry=cl.translate(200_000, 0), crs=WORKING_CRS)
    with pytest.raises(NetworkError, match="covers 0"):
        calibrate(det, far, far_cl, dens)


# --------------------------------------------------------------------------- Artois (real data)

TOWNS = ["62045", "62063", "62279", "62649", "62820"]


@pytest.fixture(scope="module")
def artois_approx(artois, artois_net, data_dir):
    from territorial_geo import sources
    from territorial_geo.network.approximate import area_frames

    com, cl, dens = area_frames(artois.outline, communes=sources.load_communes(data_dir),
                                chefs_lieux=sources.load_chefs_lieux(data_dir),
                                density=sources.load_density_grid(data_dir), margin_m=25_000)
    return build_approximate(com, cl, dens, skeleton=artois_net), com


def _zone_counts(artois, net):
    from territorial_geo import zoning

    z = zoning.build_zones(artois, TOWNS, network=net, polygons=False)
    m = z.members[z.members["time_min"] <= 10 + 1e-9]
    return m, m.groupby("zone").size().reindex(TOWNS, fill_value=0)


def test_artois_zones_are_rings_not_corridors(artois, artois_net, artois_approx):
    net, com = artois_approx
    members, n_approx = _zone_counts(artois, net)
    _, n_skel = _zone_counts(artois, artois_net)
    # every 10-minute zone is smaller than on the skeleton alone (issue 9: 51-73 there) ...
    assert (n_approx < n_skel).all(), (n_approx.to_dict(), n_skel.to_dict())
    # ... and still holds most of the town's first ring of neighbours (3-4 km away). Not all
    # of it with the times fitted to OSRM: Duisans's neighbours Arras (a town centre, 12 min)
    # and Warlus (62878) are over 10 minutes away
    adj = commune_adjacency(com)
    for town in TOWNS:
        ring1 = set(adj.loc[adj["code_a"] == town, "code_b"]) | set(
            adj.loc[adj["code_b"] == town, "code_a"])
        got = set(members.loc[members["zone"] == town, "code"])
        assert len(ring1 & got) >= 0.7 * len(ring1), (town, ring1 - got)
        assert len(got) >= 5


def test_artois_planner_facts(artois, artois_approx):
    """Issue 18: with the defaults fitted to OSRM, 10-minute zones hold 5-40 communes (ring
    included; 41-49 on the legal limits) and Arras is no longer within 10 minutes of
    Duisans (7.8 min on the legal limits)."""
    net, _ = artois_approx
    members, n = _zone_counts(artois, net)
    assert n.between(5, 40).all(), n.to_dict()
    assert len(members[(members["zone"] == "62279") & (members["code"] == "62041")]) == 0
    from territorial_geo import zoning

    z = zoning.build_zones(artois, ["62279"], network=net, polygons=False, budget_min=20)
    d = z.members[(z.members["zone"] == "62279") & (z.members["code"] == "62041")]
    # still no faster than the crow-fly distance (6.6 km) at 80 km/h, and over 10 minutes
    crow = artois.chefs_lieux.geometry.loc["62041"].distance(artois.chefs_lieux.geometry.loc["62279"])
    assert d["time_s"].iloc[0] > crow / (80 / 3.6)
    assert d["time_min"].iloc[0] >= 10


def test_artois_adjacency_and_connectivity(artois_approx):
    """Adjacency on real polygons: about 6 neighbours per commune (a planar tiling averages
    under 6); with the skeleton every chef-lieu of the area is in one connected graph."""
    net, com = artois_approx
    adj = commune_adjacency(com)
    deg = np.bincount(np.r_[adj["a"], adj["b"]], minlength=len(com))
    assert 4.5 <= deg.mean() <= 6.5
    # found: Hesdin-la-Forêt (62447, merged in 2025) shares no border in the communes layer
    # (its polygon leaves a gap); it is listed and joined through the skeleton
    assert net.source["no_local_link"] == list(com.index[deg == 0])
    assert len(net.source["no_local_link"]) <= 0.01 * len(com)
    lab = components(net)
    cl_nodes = net.nodes.index[net.nodes["osmid"] >= net.source["chef_lieu_base"]]
    assert len(cl_nodes) == len(com)
    assert len(set(lab[cl_nodes])) == 1


def test_cli_network_calibrate(data_dir, capsys):
    """The command runs end to end; here the mirror's skeleton stands in for the detailed
    network (the only French network mirrored), so the fit itself means nothing."""
    import json

    from territorial_geo.cli import main

    argv = ["--data-dir", str(data_dir), "network", "calibrate", "--detailed", "roads-hdf",
            "--area", "200069482", "--skeleton", "", "--margin-km", "5", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["detailed"]["format"] == "osm-pbf"
    assert out["n_covered_communes"] >= 96  # the EPCI's 96 communes and some of the margin
    assert set(out["before"]) == set(out["after"])
    assert out["fit"]["n_pairs"] > 0 and 1.0 <= out["params"]["detour"] <= 5.0
    assert main(["--data-dir", str(data_dir), "network", "calibrate", "--detailed", "nope",
                 "--area", "200069482"]) == 2
    assert "unknown road network" in capsys.readouterr().err
