"""``engine = "osrm"``: zones, times and coverage computed by OSRM itself (osrm-bindings).

On the mirror's two real OpenStreetMap fixtures (Gibraltar, with one-way streets, and
Saint-Barthélemy), every answer of the OSRM engine is compared with a direct
``osrm.OSRM(...).Table(...)`` call made here on the same prepared data, with the points
converted to lon/lat independently (geopandas). A ``zones`` command runs end to end on a
small generated PBF around real Artois communes. Bad input (osrm-bindings missing, a network
OSRM cannot route on, a PBF OSRM cannot extract, a missing profile) is a one-line error,
exit 2, with nothing left in the cache.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from territorial_geo import cli, coverage, sources, zoning
from territorial_geo import network as N
from territorial_geo.errors import ConfigError, NetworkError
from territorial_geo.network import osrm_engine as OE
from territorial_geo.territory import build_territory

osrm = pytest.importorskip("osrm")

ROADS = (sources.default_mirror() or Path("/work/shared/data")) / "roads"
FIX = ROADS / "fixtures"


def _fixture(name: str) -> Path:
    p = FIX / name
    if not p.is_file():
        pytest.skip(f"{name} fixture not available (no mirror)")
    return p


def _central_area(net0, half_m: float):
    b = net0.edges.total_bounds
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return shapely.box(cx - half_m, cy - half_m, cx + half_m, cy + half_m)


def _road_points(net, n: int, seed: int) -> gpd.GeoSeries:
    """``n`` seeded points on the network's roads (a random edge, a random fraction)."""
    rng = np.random.default_rng(seed)
    e = net.edges.geometry.to_numpy()
    pick = rng.integers(0, len(e), n)
    pts = shapely.line_interpolate_point(e[pick], rng.uniform(0, 1, n), normalized=True)
    return gpd.GeoSeries(pts, crs=2154)


@pytest.fixture(scope="module", params=[("gibraltar.osm.pbf", 1200.0),
                                        ("saint_barthelemy.osm.pbf", 2500.0)],
                ids=["gibraltar", "saint-barthelemy"])
def fixture_net(request, tmp_path_factory):
    name, half = request.param
    path = _fixture(name)
    cache = tmp_path_factory.mktemp("cache")
    net0 = N.read_pbf(path, cache_dir=cache)
    net = N.read_pbf(path, area=_central_area(net0, half), margin_m=300.0, cache_dir=cache)
    eng = N.make_engine("osrm", net)
    return name, net, eng, cache


def direct_table(base: Path, src: gpd.GeoSeries, dst: gpd.GeoSeries) -> np.ndarray:
    """OSRM table durations, src x dst, asked directly (inf where OSRM answers null)."""
    o = osrm.OSRM(storage_config=str(base), algorithm="MLD", use_shared_memory=False)
    s4 = src.to_crs(4326)
    d4 = dst.to_crs(4326)
    coords = [(p.x, p.y) for p in s4] + [(p.x, p.y) for p in d4]
    res = o.Table(osrm.TableParameters(
        coordinates=coords, sources=list(range(len(s4))),
        destinations=list(range(len(s4), len(s4) + len(d4))), annotations=["duration"]))
    return np.array([[np.inf if v is None else v for v in row] for row in res["durations"]],
                    dtype=float)


def _fake_territory(points: gpd.GeoSeries):
    """A territory whose communes are 50 m squares around ``points`` (codes 99001...)."""
    codes = [f"99{i:03d}" for i in range(len(points))]
    pts = gpd.GeoDataFrame({"code": codes, "nom": [f"P{i}" for i in range(len(points))],
                            "population": 100.0},
                           geometry=points.to_numpy(), crs=2154, index=codes)
    com = pts.copy()
    com["geometry"] = pts.geometry.buffer(50, cap_style="square")
    com = gpd.GeoDataFrame(com, geometry="geometry", crs=2154)
    return build_territory("fixture", "communes", codes, communes=com, chefs_lieux=pts,
                           ring_km=0.0)


# -- the OSRM engine answers what OSRM answers --------------------------------------------

def test_zone_members_and_times_equal_direct_table(fixture_net):
    _, net, eng, _ = fixture_net
    pts = _road_points(net, 80, seed=7)
    terr = _fake_territory(pts)
    towns = terr.codes[:3]
    budget_min = 3.0
    z = zoning.build_zones(terr, towns, network=net, budget_min=budget_min, bands=[1.5],
                           engine=eng)
    assert z.engine["engine"] == "osrm"
    cl = terr.chefs_lieux.geometry
    # towards the bourg (the default): from every commune TO the town
    d = direct_table(eng.base, cl, cl.loc[towns])
    expected = {(towns[j], cl.index[i]): d[i, j] for i, j in zip(*np.nonzero(d <= 180.0),
                                                                 strict=True)}
    got = {(r.zone, r.code): r.time_s for r in z.members.itertuples()}
    assert set(got) == set(expected)
    assert len(got) > len(towns)  # more than the towns themselves
    for k, t in got.items():
        assert t == pytest.approx(expected[k], abs=0.05)
    # bands follow the times
    m = z.members
    assert set(m.loc[m["time_min"] <= 1.5, "band_min"]) == {1.5}
    # isochrone polygons drawn for every band
    assert len(z.polygons) == len(towns) * 2
    assert (z.polygons["area_km2"] > 0).all()


def test_direction_matters_on_one_way_streets(fixture_net):
    name, net, eng, _ = fixture_net
    pts = _road_points(net, 60, seed=11)
    sn = net.snap(pts)
    to = eng.snapped_times(sn.iloc[:4], sn, 1e9, reverse=True)
    fr = eng.snapped_times(sn.iloc[:4], sn, 1e9, reverse=False)
    d_to = direct_table(eng.base, pts, pts.iloc[:4])   # from each point to the origin
    d_fr = direct_table(eng.base, pts.iloc[:4], pts)   # from the origin to each point
    mt = np.full((4, len(pts)), np.inf)
    mt[to["origin"], to["target"]] = to["time_s"]
    mf = np.full((4, len(pts)), np.inf)
    mf[fr["origin"], fr["target"]] = fr["time_s"]
    np.testing.assert_allclose(mt, d_to.T, atol=0.05)
    np.testing.assert_allclose(mf, d_fr, atol=0.05)
    if name.startswith("gibraltar"):  # one-way streets: the two directions differ
        fin = np.isfinite(mt) & np.isfinite(mf)
        assert np.mean(np.abs(mt[fin] - mf[fin]) > 1.0) > 0.2


def test_isochrone_sample_points_equal_direct_table(fixture_net):
    _, net, eng, _ = fixture_net
    pts = _road_points(net, 2, seed=3)
    sn = net.snap(pts)
    budget = 120.0
    nodes = gpd.GeoSeries(net.nodes.geometry.to_numpy(), crs=2154)
    d = direct_table(eng.base, nodes, pts)  # every node to each point
    # every node asked (sample_m = 0): exactly OSRM's nodes within the budget
    every = OE.OsrmEngine(net, eng.base, profile=eng.profile, sample_m=0)
    got = every.node_times(sn, budget, reverse=True)
    ti, oi = np.nonzero(d <= budget)
    assert set(zip(got["origin"], got["target"], strict=True)) == set(zip(oi, ti, strict=True))
    np.testing.assert_allclose(
        got.sort_values(["origin", "target"])["time_s"].to_numpy(),
        np.array([d[t, o] for o, t in sorted(zip(oi, ti, strict=True))]), atol=0.05)
    # sampled (one node per 200 m cell): every node of a cell has the OSRM time of one node
    # of that cell, and the nodes reached are those of cells whose sample is within budget
    eng200 = OE.OsrmEngine(net, eng.base, profile=eng.profile, sample_m=200.0)
    got = eng200.node_times(sn, budget, reverse=True)
    cell = [tuple(c) for c in np.floor(net.nodes[["x", "y"]].to_numpy() / 200.0).astype(int)]
    assert len(got) > 0.5 * len(ti)
    for o in range(2):
        g = got[got["origin"] == o]
        by_cell: dict = {}
        for n, t in zip(g["target"], g["time_s"], strict=True):
            by_cell.setdefault(cell[n], set()).add(round(t, 3))
        assert all(len(v) == 1 for v in by_cell.values())
        for c, (t,) in by_cell.items():
            in_cell = [n for n in range(len(cell)) if cell[n] == c]
            assert np.min(np.abs(d[in_cell, o] - t)) < 0.05
    assert len(eng200.samples(np.arange(net.n_nodes))[0]) < net.n_nodes / 3


def test_coverage_and_raster_times_equal_direct_table(fixture_net):
    _, net, eng, _ = fixture_net
    pts = _road_points(net, 40, seed=5)
    sites = gpd.GeoDataFrame({"name": ["a", "b", "c"]}, geometry=_road_points(net, 3, seed=6),
                             crs=2154)
    t = coverage.nearest_site_times(net, pts, sites, engine=eng)
    d = direct_table(eng.base, pts, sites.geometry)  # from each commune to each site
    np.testing.assert_allclose(t["time_s"].to_numpy(), d.min(axis=1), atol=0.05)
    assert (t["site_index"].to_numpy() == d.argmin(axis=1)).all()
    cm = coverage.cover_matrix(net, pts, sites.geometry, 150.0, engine=eng)
    np.testing.assert_allclose(cm, np.where(d <= 150.0, d, np.inf), atol=0.05)
    nodes = gpd.GeoSeries(net.nodes.geometry.to_numpy(), crs=2154)
    dn = direct_table(eng.base, nodes, sites.geometry).min(axis=1)
    every = OE.OsrmEngine(net, eng.base, profile=eng.profile, sample_m=0)
    np.testing.assert_allclose(every.node_times_to_nearest(net.snap(sites.geometry)), dn,
                               atol=0.05)
    # sampled raster: each node has its cell's sample node time
    raster = eng.node_times_to_nearest(net.snap(sites.geometry), direction="to")
    sample, row = eng.samples(np.arange(net.n_nodes))
    np.testing.assert_allclose(raster, dn[sample][row], atol=0.05)


def test_builtin_and_osrm_engines_agree(fixture_net):
    """Issue 18 item 2's bounds between the two engines, 300 seeded road points."""
    _, net, eng, _ = fixture_net
    pts = _road_points(net, 300, seed=18)
    sn = net.snap(pts)
    b = N.BuiltinEngine(net).snapped_times(sn, sn, 1e9, reverse=False)
    o = eng.snapped_times(sn, sn, 1e9, reverse=False)
    m = b.merge(o, on=["origin", "target"], suffixes=("_b", "_o"))
    m = m[(m["origin"] != m["target"]) & (m["time_s_o"] > 30)]
    r = m["time_s_b"] / m["time_s_o"]
    assert 0.95 <= np.median(r) <= 1.05
    assert np.median(np.abs(np.log(r))) <= 0.08


# -- preparation: once per extract and profile, atomic ------------------------------------

def test_prepared_once_beside_the_clipped_extract(fixture_net):
    _, net, eng, cache = fixture_net
    clipped = Path(net.source["clipped_pbf"])
    assert eng.base.parent.parent == clipped.parent == Path(cache)
    man = OE.manifest(eng.base)
    assert man["pbf"] == str(clipped) and set(man["steps"]) == {"extract", "partition",
                                                                "customize"}
    stamp = (eng.base.parent / OE.MANIFEST).stat().st_mtime_ns
    again = N.make_engine("osrm", net)
    assert again.base == eng.base
    assert (eng.base.parent / OE.MANIFEST).stat().st_mtime_ns == stamp  # not rebuilt
    assert not list(Path(cache).glob(".routing-osrm-*"))


def test_killed_build_is_never_trusted(tmp_path):
    pbf = tmp_path / "g.osm.pbf"
    pbf.write_bytes(_fixture("gibraltar.osm.pbf").read_bytes())
    prof = OE.stock_profile()
    final = OE.osrm_folder(pbf, prof, tmp_path)
    # what a build killed after osrm-extract leaves: a temporary folder, extract files only
    half = tmp_path / f".{final.name}.killed"
    half.mkdir()
    (half / "data.osrm.timestamp").write_text("x")
    base = OE.prepare(pbf, cache_dir=tmp_path)
    assert base.parent == final and (final / OE.MANIFEST).is_file()
    assert (final / "data.osrm.mldgr").is_file()  # partition + customize ran


def test_pbf_osrm_cannot_extract_is_one_line_and_leaves_nothing(tmp_path):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not a protocol buffer" * 10)
    with pytest.raises(NetworkError) as exc:
        OE.prepare(bad, cache_dir=tmp_path)
    msg = str(exc.value)
    assert "\n" not in msg and "OSRM cannot extract" in msg and str(bad) in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.osm.pbf"]


def test_missing_profile_is_one_line_naming_it(tmp_path):
    with pytest.raises(NetworkError, match=r"OSRM profile .*nope\.lua not found") as exc:
        OE.prepare(_fixture("gibraltar.osm.pbf"), profile=tmp_path / "nope.lua",
                   cache_dir=tmp_path)
    assert "\n" not in str(exc.value)
    assert not list(tmp_path.iterdir())


def test_profile_is_a_parameter(tmp_path):
    """A user profile (the stock car.lua copied beside its lib/, every class speed of its
    ``speeds.highway`` table halved) gives other data, and times twice as long."""
    import re

    src = OE.stock_profile()
    prof_dir = tmp_path / "profiles"
    prof_dir.mkdir()
    (prof_dir / "lib").symlink_to(src.parent / "lib")
    text = src.read_text()
    head, rest = text.split("highway = {", 1)
    table, tail = rest.split("}", 1)
    assert "residential     = 25" in table
    table = re.sub(r"= (\d+)", lambda m: f"= {int(m.group(1)) / 2:g}", table)
    (prof_dir / "slow.lua").write_text(head + "highway = {" + table + "}" + tail)
    pbf = _fixture("saint_barthelemy.osm.pbf")
    stock = OE.prepare(pbf, cache_dir=tmp_path)
    slow = OE.prepare(pbf, profile=prof_dir / "slow.lua", cache_dir=tmp_path)
    assert stock != slow
    net = N.read_pbf(pbf, cache_dir=tmp_path)
    pts = _road_points(net, 20, seed=1)
    a, b = direct_table(stock, pts, pts), direct_table(slow, pts, pts)
    fin = np.isfinite(a) & (a > 60)
    assert 1.8 < np.median(b[fin] / a[fin]) < 2.2


# -- bad input at the edges ----------------------------------------------------------------

def test_without_osrm_bindings_one_line_install_hint(monkeypatch, fixture_net):
    _, net, _, _ = fixture_net
    monkeypatch.setitem(sys.modules, "osrm", None)  # import osrm now raises ImportError
    with pytest.raises(NetworkError) as exc:
        N.make_engine("osrm", net)
    msg = str(exc.value)
    assert "\n" not in msg and "pip install 'territorial-geo[osrm]'" in msg


@pytest.mark.parametrize("network", ["approximate", "roads-hdf", "bdtopo:x.gpkg", "x.shp"])
def test_osrm_needs_an_osm_extract(network, tmp_path):
    from territorial_geo.config import config_from_dict

    with pytest.raises(ConfigError, match=r"zoning\.engine: engine = 'osrm' needs an "
                       r"OpenStreetMap extract") as exc:
        config_from_dict({"zoning": {"network": network, "engine": "osrm"}})
    assert "\n" not in str(exc.value)
    assert config_from_dict({"zoning": {"network": "osm:picardie",
                                        "engine": "osrm"}})[0].zoning.engine == "osrm"
    with pytest.raises(ConfigError, match="engine must be one of builtin, osrm"):
        config_from_dict({"zoning": {"engine": "graphhopper"}})


def test_approximate_network_loaded_is_refused(data_dir):
    from territorial_geo.pipeline import road_network
    from territorial_geo.territory import load_territory

    terr = load_territory("communes:62045", ring_km=2.0, data_dir=data_dir)
    net = road_network("approximate", terr, margin_km=2.0, data=sources.Datasets(data_dir))
    with pytest.raises(NetworkError, match="needs an OpenStreetMap extract"):
        N.make_engine("osrm", net)


# -- end to end: the zones command on a generated PBF around real communes ----------------

TOWNS = ["62045", "62063"]


def _small_data_dir(data_dir: Path, tmp: Path) -> Path:
    """The test data directory's datasets, with a cache of its own (nothing written into
    the shared one)."""
    d = tmp / "data"
    d.mkdir()
    for p in Path(data_dir).iterdir():
        if p.name != "cache":
            (d / p.name).symlink_to(p)
    return d


def _grid_pbf(points: gpd.GeoSeries, out: Path) -> Path:
    """A small OSM file: a 5 x 5 street grid (150 m) around each point, every point joined
    to its two nearest by a secondary road (for this test only)."""
    import osmium
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    to4326 = Transformer.from_crs(2154, 4326, always_xy=True)
    xy = np.column_stack([points.x, points.y])
    nodes, ways, nid = [], [], 1
    centre = []
    for x, y in xy:
        ids = np.arange(nid, nid + 25).reshape(5, 5)
        nid += 25
        gx, gy = np.meshgrid(np.arange(5) * 150 - 300, np.arange(5) * 150 - 300)
        nodes += list(zip(ids.ravel(), (x + gx).ravel(), (y + gy).ravel(), strict=True))
        for r in range(5):
            ways.append((ids[r], {"highway": "residential"}))
            ways.append((ids[:, r], {"highway": "residential",
                                     **({"oneway": "yes"} if r == 1 else {})}))
        centre.append(ids[2, 2])
    _, nn = cKDTree(xy).query(xy, k=min(3, len(xy)))
    for a, row in enumerate(nn):
        for b in row[1:]:
            n = max(int(np.hypot(*(xy[b] - xy[a])) // 100), 1)
            f = np.arange(1, n) / n
            mid = np.arange(nid, nid + n - 1)
            nid += n - 1
            nodes += list(zip(mid, xy[a, 0] + f * (xy[b, 0] - xy[a, 0]),
                              xy[a, 1] + f * (xy[b, 1] - xy[a, 1]), strict=True))
            ways.append((np.concatenate([[centre[a]], mid, [centre[b]]]),
                         {"highway": "secondary"}))
    nodes.sort()
    w = osmium.SimpleWriter(str(out))
    try:
        for i, x, y in nodes:
            lon, lat = to4326.transform(x, y)
            w.add_node(osmium.osm.mutable.Node(id=int(i), location=(lon, lat)))
        for k, (ids, tags) in enumerate(ways, start=1):
            w.add_way(osmium.osm.mutable.Way(id=k, nodes=[int(v) for v in ids], tags=tags))
    finally:
        w.close()
    return out


def test_zones_command_end_to_end_with_osrm(data_dir, tmp_path, capsys):
    from territorial_geo.territory import load_territory

    d = _small_data_dir(data_dir, tmp_path)
    terr = load_territory("communes:62045,62063", ring_km=4.0, data_dir=d)
    pbf = _grid_pbf(terr.chefs_lieux.geometry, tmp_path / "artois-grid.osm.pbf")
    out = tmp_path / "zones.gpkg"
    args = ["zones", "communes:62045,62063", "--ring-km", "4", "--network", str(pbf),
            "--margin-km", "3", "--towns", ",".join(TOWNS), "--zone-minutes", "6",
            "--bands", "3", "--engine", "osrm", "--out", str(out), "--json",
            "--data-dir", str(d)]
    assert cli.main(args) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["engine"]["engine"] == "osrm"
    members = gpd.read_file(out, layer="members")
    assert set(members["zone"]) == set(TOWNS)
    assert len(gpd.read_file(out, layer="zones")) == 2 * len(TOWNS)
    # the members are exactly the communes OSRM puts within 6 minutes of a town
    base = Path(got["engine"]["data"])
    assert base.is_relative_to(d / "cache" / "networks")
    cl = terr.chefs_lieux.geometry
    dt = direct_table(base, cl, cl.loc[TOWNS])
    for j, town in enumerate(TOWNS):
        want = sorted(cl.index[dt[:, j] <= 360.0])
        assert sorted(got["membership"][town]) == want
        m = members[members["zone"] == town].set_index("code")["time_s"]
        np.testing.assert_allclose(m.loc[want].to_numpy(),
                                   dt[[cl.index.get_loc(c) for c in want], j], atol=0.05)
    # warm: a second run reuses the prepared data (same folder, manifest untouched)
    stamp = (base.parent / OE.MANIFEST).stat().st_mtime_ns
    assert cli.main(args) == 0
    capsys.readouterr()
    assert (base.parent / OE.MANIFEST).stat().st_mtime_ns == stamp
    # the built-in engine on the same file gives the same outputs, said to be builtin
    assert cli.main([a if a != "osrm" else "builtin" for a in args]) == 0
    assert json.loads(capsys.readouterr().out)["engine"]["engine"] == "builtin"


def test_cli_bad_input_exit_2_one_line(data_dir, tmp_path, capsys, monkeypatch):
    d = _small_data_dir(data_dir, tmp_path)
    base = ["zones", "communes:62045", "--ring-km", "2", "--towns", "62045",
            "--data-dir", str(d)]
    # approximate network with OSRM: refused before anything is read
    assert cli.main(base + ["--engine", "osrm"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs an OpenStreetMap extract" in err
    # a PBF OSRM cannot extract: it is not even a PBF for the reader, the file is named
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"garbage" * 100)
    assert cli.main(base + ["--network", str(bad), "--engine", "osrm"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err
    # a missing profile file, named
    from territorial_geo.territory import load_territory

    terr = load_territory("communes:62045", ring_km=2.0, data_dir=d)
    good = _grid_pbf(terr.chefs_lieux.geometry, tmp_path / "good.osm.pbf")
    assert cli.main(base + ["--network", str(good), "--engine", "osrm", "--osrm-profile",
                            str(tmp_path / "missing.lua")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.lua not found" in err
    assert not list((d / "cache" / "networks").glob("routing-osrm-*"))
    # osrm-bindings not installed: one line saying how to install it
    monkeypatch.setitem(sys.modules, "osrm", None)
    assert cli.main(base + ["--network", str(good), "--engine", "osrm"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'territorial-geo[osrm]'" in err


def test_study_end_to_end_with_osrm(data_dir, tmp_path):
    """A whole study (zones, demand, coverage, raster, report) with ``engine = "osrm"``:
    the outputs say OSRM computed the times, and the zone members are OSRM's."""
    from territorial_geo import study
    from territorial_geo.config import config_from_dict
    from territorial_geo.territory import load_territory

    d = _small_data_dir(data_dir, tmp_path)
    terr = load_territory("communes:62045,62063", ring_km=4.0, data_dir=d)
    pbf = _grid_pbf(terr.chefs_lieux.geometry, tmp_path / "artois-grid.osm.pbf")
    cfg, keys = config_from_dict({
        "name": "osrm", "territory": "communes:62045,62063", "ring_km": 4.0,
        "zoning": {"market_towns": TOWNS, "budget_min": 6, "bands": [3, 6], "network": str(pbf),
                   "margin_km": 3, "engine": "osrm"},
        "output": {"static_maps": False, "raster_cell_m": 500.0}})
    res = study.run_study(cfg, overridden=keys, data_dir=d)
    out = study.write_outputs(res, tmp_path / "out")
    params = json.loads((out / "parameters.json").read_text())
    assert params["routing_engine"]["engine"] == "osrm"
    assert params["routing_engine"]["isochrone_sample_m"] == 1000.0
    assert params["parameters"]["zoning"]["engine"] == "osrm"
    assert "OSRM (osrm-bindings" in (out / "report.html").read_text()
    cl = terr.chefs_lieux.geometry
    dt = direct_table(Path(params["routing_engine"]["data"]), cl, cl.loc[TOWNS])
    mem = res.zones.membership(territory_only=False)
    for j, town in enumerate(TOWNS):
        assert mem[town] == sorted(cl.index[dt[:, j] <= 360.0])
    assert (out / "drive_time.tif").is_file()
