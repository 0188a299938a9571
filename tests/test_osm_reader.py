"""The pyosmium OSM reader (``read_segments``) gives the network pyrosm gave.

On the real fixtures (Saint-Barthélemy, Gibraltar, pyrosm's ``test_pbf``; whole files and
a streaming clip): same segments (way, u, v in the same order), lengths equal to 1e-6
relative, same tag values for every key the OSM module reads; the networks built from both
have the same nodes, the same directed edges with the same lengths and times, and the same
tag columns. On a hand-written PBF: the driving rules (access hierarchy, multi-values,
``service``, ``area``), a node missing from the file, negative ids; and the traffic signals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pandas as pd
import pyrosm
import pytest
import shapely

from territorial_geo import network as N
from territorial_geo import sources
from territorial_geo.network import osm as O

ROADS = (sources.default_mirror() or Path("/work/shared/data")) / "roads"
FIX = ROADS / "fixtures"
#: every tag the OSM module reads from the reader's frame (directions, access, speeds,
#: labels) and those it keeps on the edges
KEYS = sorted({"highway", "oneway", "junction", "maxspeed", "access", "motor_vehicle",
               "motorcar", "ref", "name", *O.EDGE_TAGS})


def _fixture(name: str) -> Path:
    if name == "test_pbf":
        return Path(pyrosm.get_data("test_pbf"))
    p = FIX / name
    if not p.is_file():
        pytest.skip(f"{name} fixture not available (no mirror)")
    return p


def _values(s: pd.Series) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
            else str(v) for v in s]


def _check_frames(old, new) -> None:
    assert len(new) == len(old) > 0
    for c in ("id", "u", "v"):
        np.testing.assert_array_equal(new[c].to_numpy(np.int64), old[c].to_numpy(np.int64))
    np.testing.assert_allclose(new["length"].to_numpy(float), old["length"].to_numpy(float),
                               rtol=1e-6, atol=0)
    assert shapely.equals_exact(new.geometry.to_numpy(), old.geometry.to_numpy(), 1e-9).all()
    for key in KEYS:
        assert _values(O._tags(new, [key])[key]) == _values(O._tags(old, [key])[key]), key


def _edge_table(net) -> pd.DataFrame:
    osm = net.nodes["osmid"].to_numpy(np.int64)
    e = net.edges
    t = pd.DataFrame({"u": osm[e["u"]], "v": osm[e["v"]], "way": e["osm_way"].astype(np.int64),
                      "seg": e["seg"], "oneway": e["oneway"], "length_m": e["length_m"],
                      "time_s": e["time_s"], "speed_kmh": e["speed_kmh"],
                      **{k: _values(e[k]) for k in ("highway", "ref", "name", "maxspeed",
                                                   *O.EDGE_TAGS)}})
    return t.sort_values(["seg", "u", "v"]).reset_index(drop=True)


def _check_networks(old, new) -> None:
    a, b = old.nodes, new.nodes
    np.testing.assert_array_equal(b["osmid"].to_numpy(np.int64), a["osmid"].to_numpy(np.int64))
    np.testing.assert_array_equal(b[["x", "y"]].to_numpy(), a[["x", "y"]].to_numpy())
    ea, eb = _edge_table(old), _edge_table(new)
    assert len(eb) == len(ea) > 0
    for c in ("u", "v", "way", "seg", "oneway", "highway", "ref", "name", "maxspeed",
              *O.EDGE_TAGS):
        assert eb[c].tolist() == ea[c].tolist(), c
    for c in ("length_m", "time_s", "speed_kmh"):
        np.testing.assert_allclose(eb[c].to_numpy(float), ea[c].to_numpy(float), rtol=1e-6)


@pytest.mark.parametrize("name", ["saint_barthelemy.osm.pbf", "gibraltar.osm.pbf", "test_pbf"])
def test_same_network_as_pyrosm_on_real_files(name):
    path = _fixture(name)
    nodes_old, old = O._pyrosm_network(path, None, label=path)
    nodes_new, new = O.read_segments(path)
    _check_frames(old, new)
    _check_networks(N.network_from_frames(nodes_old, old), N.network_from_frames(nodes_new, new))
    # the tags a speed model needs are there (Gibraltar tags surface and maxspeed)
    if name == "gibraltar.osm.pbf":
        assert new["surface"].notna().any() and new["maxspeed"].notna().any()


@pytest.mark.parametrize("name,half_m", [("gibraltar.osm.pbf", 400.0),
                                         ("saint_barthelemy.osm.pbf", 1500.0)])
def test_same_network_as_pyrosm_on_a_streaming_clip(tmp_path, name, half_m):
    path = _fixture(name)
    b = O.read_segments(path)[1].geometry.to_crs(2154).total_bounds
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    area = shapely.box(cx - half_m, cy - half_m, cx + half_m, cy + half_m)
    clipped = tmp_path / "clip.osm.pbf"
    O.clip_pbf(path, O._bbox_4326(area, 300.0), clipped)
    nodes_old, old = O._pyrosm_network(clipped, None, label=clipped)
    nodes_new, new = O.read_segments(clipped)
    _check_frames(old, new)
    net = N.read_pbf(path, area=area, margin_m=300.0)
    assert net.source["reader"] == "pyosmium" and net.source["clip"] == "stream"
    _check_networks(N.network_from_frames(nodes_old, old), net)


def _write(path: Path, nodes: list[tuple[int, float, float, dict]],
           ways: list[tuple[int, list[int], dict]]) -> Path:
    w = osmium.SimpleWriter(str(path))
    try:
        for nid, lon, lat, tags in nodes:
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags))
        for wid, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    finally:
        w.close()
    return path


#: way id -> (tags, drivable?) for the hand-written file
RULES = {
    1: ({"highway": "residential"}, True),
    2: ({"highway": "footway"}, False),
    3: ({"highway": "residential", "access": "no", "motorcar": "yes"}, True),
    4: ({"highway": "residential", "access": "yes", "motor_vehicle": "private"}, False),
    5: ({"highway": "tertiary", "access": "private;delivery"}, False),
    6: ({"highway": "service"}, False),
    7: ({"highway": "unclassified", "service": "parking_aisle"}, False),
    8: ({"highway": "residential", "area": "yes"}, False),
    9: ({"highway": "footway;residential"}, False),
    10: ({"highway": "primary", "vehicle": "no", "access": "yes"}, False),
    11: ({"highway": "secondary", "surface": "asphalt", "maxspeed:forward": "70",
          "maxspeed:backward": "50", "tracktype": "grade1", "smoothness": "good"}, True),
}


def _hand_file(tmp_path: Path, sign: int = 1) -> Path:
    """A line of nodes 1..13 (0.001 degree apart, node 4 a traffic signal, node 7 absent
    from the file); way i joins nodes i, i+1 (way 12: 3 -> 7 -> 8: cut through the
    missing node 7). ``sign=-1``: every id negative (an editor's file)."""
    nodes = [(sign * i, 2.0 + 0.001 * i, 50.0, {"highway": "traffic_signals"} if i == 4 else {})
             for i in range(1, 14) if i != 7]
    ways = [(sign * i, [sign * i, sign * (i + 1)], tags) for i, (tags, _) in RULES.items()]
    ways.append((sign * 12, [sign * 3, sign * 7, sign * 8], {"highway": "residential"}))
    return _write(tmp_path / f"hand{sign}.osm.pbf", nodes, ways)


@pytest.mark.parametrize("sign", [1, -1])
def test_driving_rules_missing_node_negative_ids_and_signals(tmp_path, sign):
    path = _hand_file(tmp_path, sign)
    nodes, new = O.read_segments(path)
    drivable = sorted(sign * i for i, (_, ok) in RULES.items() if ok) + [sign * 12]
    assert sorted(set(new["id"])) == sorted(drivable)
    w12 = new[new["id"] == sign * 12]  # 3 -> (7 missing) -> 8: one segment 3 -> 8
    assert w12[["u", "v"]].to_numpy().tolist() == [[sign * 3, sign * 8]]
    # 0.005 degree of longitude at 50 N on a 6371.0088 km sphere
    expected = 2 * 6_371_008.8 * np.arcsin(np.cos(np.radians(50.0)) * np.sin(np.radians(0.0025)))
    assert w12["length"].iloc[0] == pytest.approx(expected, abs=1e-3)
    w11 = new[new["id"] == sign * 11].iloc[0]
    assert (w11["surface"], w11["maxspeed:forward"], w11["maxspeed:backward"],
            w11["tracktype"], w11["smoothness"]) == ("asphalt", "70", "50", "grade1", "good")
    assert nodes.loc[nodes["traffic_signals"], "id"].tolist() == [sign * 4]
    # pyrosm agrees on the same file
    _, old = O._pyrosm_network(path, None, label=path)
    _check_frames(old.sort_values(["id", "u"]).reset_index(drop=True),
                  new.sort_values(["id", "u"]).reset_index(drop=True))
    # the network flags the signal node and keeps the new tag columns on its edges
    net = N.network_from_frames(nodes, new)
    assert net.nodes.loc[net.nodes["signal"], "osmid"].tolist() == [sign * 4]
    assert net.source["n_traffic_signals"] == 1
    assert set(net.edges.loc[net.edges["osm_way"] == sign * 11, "surface"]) == {"asphalt"}
    # contracting keeps the signal node (way 3 -> 4 -> 5 chain is cut at 4 anyway: one
    # way per segment here), and the same network comes out of read_pbf
    got = N.read_pbf(path)
    assert got.source["reader"] == "pyosmium" and got.source["n_traffic_signals"] == 1


def test_contraction_keeps_traffic_signal_nodes(tmp_path):
    """One way 1 -> 2 -> ... -> 6 with a signal at node 3: contracted to 1 -> 3 -> 6."""
    nodes = [(i, 2.0 + 0.001 * i, 50.0, {"highway": "traffic_signals"} if i == 3 else {})
             for i in range(1, 7)]
    path = _write(tmp_path / "chain.osm.pbf", nodes,
                  [(1, [1, 2, 3, 4, 5, 6], {"highway": "residential", "oneway": "yes"})])
    net = N.read_pbf(path, contract=True)
    pairs = net.edges.assign(u=net.nodes["osmid"].to_numpy()[net.edges["u"]],
                             v=net.nodes["osmid"].to_numpy()[net.edges["v"]])
    assert sorted(zip(pairs["u"], pairs["v"], strict=True)) == [(1, 3), (3, 6)]
    assert net.nodes.set_index("osmid")["signal"].to_dict() == {1: False, 3: True,
                                                                          6: False}
