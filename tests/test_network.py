import math

import networkx as nx
import numpy as np
import pandas as pd
import pyrosm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territorial_geo import network as N
from territorial_geo.errors import NetworkError


@pytest.mark.parametrize(
    "value,kmh",
    [("50", 50), ("FR:urban", 50), ("FR:rural", 80), ("FR:motorway", 130), ("70 mph", 70 * 1.609344),
     ("30 km/h", 30), ("50;70", 50), ("none", math.nan), (None, math.nan), ("signals", math.nan)],
)
def test_parse_maxspeed(value, kmh):
    got = N.parse_maxspeed(value)
    assert (math.isnan(got) and math.isnan(kmh)) or got == pytest.approx(kmh)


@pytest.fixture(scope="module")
def test_pbf_net(tmp_path_factory):
    return N.read_pbf(pyrosm.get_data("test_pbf"), cache_dir=tmp_path_factory.mktemp("cache"))


def test_real_osm_maxspeed_and_defaults(test_pbf_net):
    """OSRM car.lua v26.x: a tagged maxspeed 80 is driven at 80 x 0.8 = 64 km/h, an untagged
    residential street at 25 km/h; the legal model keeps 80 and 50."""
    e = test_pbf_net.edges
    tagged = e[e["speed_source"] == "maxspeed"]
    assert len(tagged) > 0 and (tagged["maxspeed_kmh"] == 80).all()
    assert (tagged["speed_kmh"] == 64).all()
    res = e[e["highway"] == "residential"]
    assert (res["speed_kmh"] == 25).all() and (res["speed_source"] == "default").all()
    assert np.allclose(e["time_s"], e["length_m"] / (e["speed_kmh"] / 3.6))
    legal = N.read_pbf(pyrosm.get_data("test_pbf"),
                       profile=N.legal_profile(N.SpeedProfile())).edges
    assert (legal.loc[legal["speed_source"] == "maxspeed", "speed_kmh"] == 80).all()
    assert (legal.loc[legal["highway"] == "residential", "speed_kmh"] == 50).all()


def test_cache_is_used(tmp_path):
    p = pyrosm.get_data("test_pbf")
    a = N.read_pbf(p, cache_dir=tmp_path)
    b = N.read_pbf(p, cache_dir=tmp_path)
    assert not a.source["cached"] and b.source["cached"]
    assert len(a.edges) == len(b.edges)
    assert np.allclose(a.edges["time_s"], b.edges["time_s"])


def test_osmnx_export(test_pbf_net):
    import osmnx as ox

    g = test_pbf_net.to_networkx()
    nodes, edges = ox.graph_to_gdfs(g)
    assert len(nodes) == test_pbf_net.n_nodes
    assert "travel_time" in edges.columns


def _nx_graph(net):
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    for u, v, w in zip(net.edges["u"], net.edges["v"], net.edges["time_s"], strict=True):
        if not g.has_edge(u, v) or g[u][v]["weight"] > w:
            g.add_edge(u, v, weight=w)
    return g


def test_identical_to_networkx_on_real_network(artois_net):
    g = _nx_graph(artois_net)
    origins = np.arange(0, artois_net.n_nodes, 97)
    for reverse in (False, True):
        res = N.bounded_times(artois_net.csr(reverse=reverse), origins, 900.0)
        gg = g.reverse() if reverse else g
        for i, o in enumerate(origins):
            ref = nx.single_source_dijkstra_path_length(gg, int(o), cutoff=900.0)
            mine = res[res["origin"] == i].set_index("target")["time_s"]
            assert set(ref) == set(mine.index)
            assert np.allclose([ref[k] for k in mine.index], mine.to_numpy())


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 25), st.data())
def test_kernel_matches_networkx_on_random_graphs(n, data):
    m = data.draw(st.integers(1, 4 * n))
    u = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    v = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    w = np.array(data.draw(st.lists(st.floats(0.5, 100), min_size=m, max_size=m)))
    budget = data.draw(st.floats(1, 300))
    csr = N.build_csr(u, v, w, n)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, c in zip(u, v, w, strict=True):
        if a != b and (not g.has_edge(a, b) or g[a][b]["weight"] > c):
            g.add_edge(a, b, weight=c)
    res = N.bounded_times(csr, np.arange(n), budget, threads=1)
    for o in range(n):
        ref = nx.single_source_dijkstra_path_length(g, o, cutoff=budget)
        mine = res[res["origin"] == o].set_index("target")["time_s"]
        assert set(ref) == set(mine.index)
        assert np.allclose([ref[k] for k in mine.index], mine.to_numpy())
    # multi-source nearest = min over single sources
    srcs = np.array([0, n - 1])
    dist, lab = N.nearest_times(csr, srcs)
    for node in range(n):
        d = [nx.single_source_dijkstra_path_length(g, int(s)).get(node, np.inf) for s in srcs]
        assert dist[node] == pytest.approx(min(d))


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 20), st.data())
def test_targets_with_several_attachments_keep_their_best_time(n, data):
    """A target reached through two attachment nodes (a point snapped on a segment, a
    commune on the turn graph) gets one row per origin, the best over its attachments, and
    the rows come sorted by origin then target."""
    m = data.draw(st.integers(1, 4 * n))
    u = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    v = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    w = np.array(data.draw(st.lists(st.floats(0.5, 100), min_size=m, max_size=m)))
    budget = data.draw(st.floats(1, 300))
    k = data.draw(st.integers(1, 6))
    tn = np.array(data.draw(st.lists(st.lists(st.integers(-1, n - 1), min_size=2, max_size=2),
                                     min_size=k, max_size=k)))
    to = np.array(data.draw(st.lists(st.lists(st.floats(0, 50), min_size=2, max_size=2),
                                     min_size=k, max_size=k)))
    csr = N.build_csr(u, v, w, n)
    res = N.bounded_times(csr, np.arange(n), budget, targets=tn, target_offsets=to, threads=1)
    assert not res.duplicated(["origin", "target"]).any()
    assert res.equals(res.sort_values(["origin", "target"], kind="stable"))
    nodes = N.bounded_times(csr, np.arange(n), budget, threads=1)
    node_t = {(o, t): d for o, t, d in zip(nodes["origin"], nodes["target"], nodes["time_s"],
                                          strict=True)}
    got = {(o, t): d for o, t, d in zip(res["origin"], res["target"], res["time_s"],
                                       strict=True)}
    for o in range(n):
        for j in range(k):
            best = min((node_t[(o, a)] + off for a, off in zip(tn[j], to[j], strict=True)
                        if a >= 0 and (o, a) in node_t), default=np.inf)
            if best <= budget:
                assert got[(o, j)] == pytest.approx(best)
            else:
                assert (o, j) not in got


def test_islands_are_unreachable_not_dropped():
    # two components: 0-1 and 2-3
    csr = N.build_csr(np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2]), np.ones(4) * 10, 4)
    dist, lab = N.nearest_times(csr, np.array([0]))
    assert np.isinf(dist[2]) and lab[2] == -1 and dist[1] == 10


def test_bad_inputs(tmp_path):
    csr = N.build_csr(np.array([0]), np.array([1]), np.array([1.0]), 2)
    with pytest.raises(NetworkError, match="positive"):
        N.bounded_times(csr, np.array([0]), 0)
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(NetworkError, match="empty.osm.pbf"):
        N.read_pbf(empty)
    with pytest.raises(NetworkError, match="not found"):
        N.read_pbf(tmp_path / "missing.osm.pbf")
    with pytest.raises(NetworkError, match="no drivable"):
        N.network_from_frames(pd.DataFrame({"id": [], "lon": [], "lat": []}), None)
    with pytest.raises(NetworkError):
        N.SpeedProfile(snap_kmh=0)
