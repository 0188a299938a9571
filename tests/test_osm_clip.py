"""Streaming clip of a PBF (pyosmium) before the segment reader: same network as the whole file restricted
to the ways with a node in the study box, on the mirror's two real OSM fixtures."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyrosm
import pytest
import shapely

from territorial_geo import network as N
from territorial_geo import sources
from territorial_geo.errors import NetworkError
from territorial_geo.network import osm as O

ROADS = (sources.default_mirror() or Path("/work/shared/data")) / "roads"
FIX = ROADS / "fixtures"
EXTRA = ["junction", "access", "motor_vehicle", "motorcar"]


def _fixture(name: str) -> Path:
    p = FIX / name if (FIX / name).is_file() else ROADS / name
    if not p.is_file():
        pytest.skip(f"{name} fixture not available (no mirror)")
    return p


def _whole(path: Path):
    return pyrosm.OSM(str(path)).get_network(network_type="driving", nodes=True,
                                             extra_attributes=EXTRA)


def _central_area(edges: gpd.GeoDataFrame, half_m: float):
    """A square of side 2 x ``half_m`` (EPSG:2154) at the centre of the fixture's roads."""
    b = edges.geometry.to_crs(2154).total_bounds
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return shapely.box(cx - half_m, cy - half_m, cx + half_m, cy + half_m)


def _restricted(nodes, edges, bbox):
    """The whole file's network restricted to ways with at least one node within ``bbox``."""
    xy, idx = shapely.get_coordinates(edges.geometry.to_numpy(), return_index=True)
    minx, miny, maxx, maxy = bbox
    inside = (xy[:, 0] >= minx) & (xy[:, 0] <= maxx) & (xy[:, 1] >= miny) & (xy[:, 1] <= maxy)
    ways = set(edges["id"].iloc[np.unique(idx[inside])])
    return N.network_from_frames(nodes, edges[edges["id"].isin(ways)].reset_index(drop=True)), ways


def _edge_set(net) -> set:
    osm = net.nodes["osmid"].to_numpy()
    e = net.edges
    return set(zip(osm[e["u"]].astype(np.int64), osm[e["v"]].astype(np.int64),
                   e["osm_way"].astype(np.int64), e["oneway"], e["length_m"].round(3),
                   e["time_s"].round(4), strict=True))


@pytest.mark.parametrize("name,half_m,margin_m", [
    ("gibraltar.osm.pbf", 400.0, 300.0),
    ("saint_barthelemy.osm.pbf", 1500.0, 500.0),
])
def test_stream_clip_equals_whole_file_restricted(tmp_path, name, half_m, margin_m):
    path = _fixture(name)
    nodes, whole = _whole(path)
    area = _central_area(whole, half_m)
    bbox = O._bbox_4326(area, margin_m)
    expected, ways = _restricted(nodes, whole, bbox)
    net = N.read_pbf(path, area=area, margin_m=margin_m, cache_dir=tmp_path)
    # the box cuts the file: some ways are out, some cross its border
    assert 0 < len(ways) < whole["id"].nunique()
    # kept by the clip, then some dropped by pyrosm (access=private...)
    assert net.source["n_ways_kept"] >= len(ways)
    assert net.source["clip"] == "stream"
    assert set(net.edges["osm_way"].astype(np.int64)) == {int(w) for w in ways}
    assert _edge_set(net) == _edge_set(expected)
    assert len(net.edges) == len(expected.edges) and net.n_nodes == expected.n_nodes
    # one-way counts unchanged
    n_one = int(net.edges["oneway"].sum())
    assert n_one > 0 and n_one == int(expected.edges["oneway"].sum())
    # complete ways: nodes outside the box are kept (ways crossing its border)
    lon = net.nodes.to_crs(4326).geometry.x.to_numpy()
    assert (lon < bbox[0]).any() or (lon > bbox[2]).any()


def test_negative_ids_fall_back_to_pyrosm_bounding_box(tmp_path):
    """The mirror's skeleton (negative ids, which libosmium's location cache skips) is read
    as before: pyrosm's bounding box on the whole file."""
    path = _fixture("hauts-de-france-classified.osm.pbf")
    area = shapely.box(660_000, 7_010_000, 690_000, 7_040_000)  # around Arras
    net = N.read_pbf(path, area=area, margin_m=5000.0, cache_dir=tmp_path)
    assert "not streamable" in net.source["clip"]
    old = N.read_pbf(path, area=area, margin_m=5000.0, clip="pyrosm")
    assert _edge_set(net) == _edge_set(old) and len(net.edges) > 100
    assert not list(tmp_path.glob("*.pbf"))


def test_clipped_pbf_cached_atomically_and_reused(tmp_path):
    path = _fixture("gibraltar.osm.pbf")
    _, whole = _whole(path)
    area = _central_area(whole, 400.0)
    net = N.read_pbf(path, area=area, margin_m=300.0, cache_dir=tmp_path)
    clipped = Path(net.source["clipped_pbf"])
    assert clipped.parent == tmp_path and clipped.is_file()
    assert clipped.stat().st_size < path.stat().st_size / 3
    assert not list(tmp_path.glob("*.part*"))
    assert net.source["clip_cached"] is False
    # a different speed profile: a new graph, but the clipped file is reused
    again = N.read_pbf(path, area=area, margin_m=300.0, cache_dir=tmp_path,
                       profile=N.SpeedProfile(factor=0.9))
    assert again.source["clip_cached"] is True
    assert len(again.edges) == len(net.edges)
    # a wider study area in the same cache: its own clip, not the narrower one reused
    wide = _central_area(whole, 900.0)
    got = N.read_pbf(path, area=wide, margin_m=300.0, cache_dir=tmp_path)
    fresh = N.read_pbf(path, area=wide, margin_m=300.0, cache_dir=tmp_path / "fresh")
    assert got.source["clip_cached"] is False and len(got.edges) > len(net.edges)
    assert _edge_set(got) == _edge_set(fresh)


def test_clip_pbf_writes_only_drivable_ways(tmp_path):
    import osmium

    path = _fixture("gibraltar.osm.pbf")
    out = tmp_path / "clip.osm.pbf"
    stats = O.clip_pbf(path, [-180.0, -90.0, 180.0, 90.0], out)
    highways = [w.tags["highway"] for w in osmium.FileProcessor(str(out), osmium.osm.WAY)]
    assert len(highways) == stats["n_ways_kept"] < stats["n_highway_ways"]
    assert not set(highways) & O.NON_DRIVABLE_HIGHWAY
    assert "residential" in highways


def test_no_road_in_study_area_names_file_and_box(tmp_path):
    path = _fixture("saint_barthelemy.osm.pbf")
    far = shapely.box(650_000, 6_860_000, 651_000, 6_861_000)  # Paris, not Saint-Barthélemy
    with pytest.raises(NetworkError, match=r"saint_barthelemy\.osm\.pbf: no drivable road in "
                       r"the study area \(lon/lat box \[2\.\d+"):
        N.read_pbf(path, area=far, margin_m=1000.0, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_not_a_pbf_is_a_network_error(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf at all" * 100)
    with pytest.raises(NetworkError, match="bad.osm.pbf"):
        N.read_pbf(bad, area=shapely.box(0, 0, 1, 1), margin_m=10.0, cache_dir=tmp_path / "c")


def test_study_network_osm_region_downloads_and_streams(tmp_path, monkeypatch):
    """A study file naming ``osm:nord-pas-de-calais``: the extract is fetched (here a real
    fixture served from a ``file://`` Geofabrik-like tree) and clipped while streaming."""
    from territorial_geo import config
    from territorial_geo.network import load_network
    from territorial_geo.sources import osm as osm_sources

    from .official_layouts import geofabrik_tree

    pbf = _fixture("gibraltar.osm.pbf")
    geofabrik_tree(tmp_path / "geofabrik", "nord-pas-de-calais", pbf)
    monkeypatch.setenv(osm_sources.ENV_GEOFABRIK, (tmp_path / "geofabrik").as_uri())
    cfg, _ = config.config_from_dict({"zoning": {"network": "osm:nord-pas-de-calais"}})
    data = tmp_path / "data"
    _, whole = _whole(pbf)
    area = _central_area(whole, 400.0)
    net = load_network(cfg.zoning.network, area=area, margin_m=300.0, data_dir=data)
    local = data / "osm" / "nord-pas-de-calais-latest.osm.pbf"
    assert local.read_bytes() == pbf.read_bytes()
    assert net.source["spec"] == "osm:nord-pas-de-calais" and net.source["kind"] == "detailed"
    assert net.source["clip"] == "stream" and net.source["pbf"] == str(local)
    assert Path(net.source["clipped_pbf"]).parent == data / "cache" / "networks"
    # the same extract for a study area it does not cover: file and box named
    arras = shapely.box(680_000, 7_020_000, 690_000, 7_030_000)
    with pytest.raises(NetworkError, match=r"nord-pas-de-calais-latest\.osm\.pbf: no drivable "
                       r"road in the study area \(lon/lat box \[2\.7"):
        load_network(cfg.zoning.network, area=arras, margin_m=1000.0, data_dir=data)


def _split(path: Path, out: Path, keep) -> Path:
    """A complete sub-extract: the ways ``keep(id)`` selects, with their nodes."""
    import osmium

    w = osmium.BackReferenceWriter(str(out), ref_src=str(path), remove_tags=False)
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if keep(way.id):
            w.add_way(way)
    w.close()
    return out


def test_two_regions_clipped_and_merged_like_one(tmp_path, monkeypatch):
    """Two overlapping extracts (like two Geofabrik regions sharing border ways) read
    together give the network of the single file; an extract without a road in the area is
    skipped and named; ``osm:REGION,REGION`` in a study file reads both."""
    from territorial_geo.network import load_network

    path = _fixture("gibraltar.osm.pbf")
    data = tmp_path / "data"
    (data / "osm").mkdir(parents=True)
    a = _split(path, data / "osm" / "nord-pas-de-calais-latest.osm.pbf",
               lambda i: i % 2 == 0 or i % 3 == 0)
    b = _split(path, data / "osm" / "picardie-latest.osm.pbf", lambda i: i % 2 == 1)
    far = _fixture("saint_barthelemy.osm.pbf")
    _, whole = _whole(path)
    area = _central_area(whole, 400.0)
    one = N.read_pbf(path, area=area, margin_m=300.0)
    for part in (a, b):  # each half alone misses roads
        assert len(_edge_set(N.read_pbf(part, area=area, margin_m=300.0))) < len(_edge_set(one))
    both = N.read_pbf([a, far, b], area=area, margin_m=300.0, cache_dir=tmp_path / "c")
    assert _edge_set(both) == _edge_set(one) and len(both.edges) == len(one.edges)
    assert int(both.edges["oneway"].sum()) == int(one.edges["oneway"].sum()) > 0
    assert both.source["pbf_without_road_in_area"] == [str(far)]
    net = load_network("osm:nord-pas-de-calais,picardie", area=area, margin_m=300.0,
                       data_dir=data, download=False)
    assert _edge_set(net) == _edge_set(one) and len(net.source["pbf"]) == 2
    with pytest.raises(NetworkError, match=r"no drivable road in the study area"):
        N.read_pbf([a, b], area=shapely.box(650_000, 6_860_000, 651_000, 6_861_000),
                   margin_m=100.0)


def _times_from(net, sources_osm, targets_osm):
    """Shortest travel times (s) from OSM nodes to OSM nodes over the directed edges."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    n = net.n_nodes
    e = net.edges.groupby(["u", "v"], as_index=False)["time_s"].min()  # parallel edges
    m = coo_matrix((e["time_s"].to_numpy(), (e["u"].to_numpy(), e["v"].to_numpy())),
                   shape=(n, n)).tocsr()
    pos = {int(o): i for i, o in enumerate(net.nodes["osmid"].to_numpy())}
    d = dijkstra(m, indices=[pos[s] for s in sources_osm])
    return d[:, [pos[t] for t in targets_osm]]


def test_contracted_segments_keep_times_and_directions(tmp_path):
    path = _fixture("gibraltar.osm.pbf")
    full = N.read_pbf(path)
    small = N.read_pbf(path, contract=True)
    assert small.source["contracted"] is True
    assert small.n_nodes < full.n_nodes / 2 and len(small.edges) < len(full.edges) / 2
    # every junction-to-junction time is unchanged, in both directions of one-way streets
    kept = small.nodes["osmid"].astype(np.int64).to_numpy()
    rng = np.random.default_rng(9)
    src = rng.choice(kept, 15, replace=False)
    a = _times_from(full, src, kept)
    b = _times_from(small, src, kept)
    assert np.isfinite(a).sum() > 0.5 * a.size
    np.testing.assert_allclose(b, a, rtol=1e-9)
    # lengths and one-way lengths add up; the geometry of a merged edge is the chain's
    assert small.edges["length_m"].sum() == pytest.approx(full.edges["length_m"].sum())
    assert small.edges.loc[small.edges["oneway"], "length_m"].sum() == pytest.approx(
        full.edges.loc[full.edges["oneway"], "length_m"].sum())
    assert small.edges.geometry.length.sum() == pytest.approx(full.edges.geometry.length.sum())
