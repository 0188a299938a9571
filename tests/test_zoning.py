import geopandas as gpd
import numpy as np
import pytest

from territorial_geo import zoning
from territorial_geo.errors import NetworkError, UnknownPlaceError

TOWNS = ["62045", "62063", "62279", "62649", "62820"]


@pytest.fixture(scope="module")
def zones(artois, artois_net, data_dir):
    return zoning.build_zones(artois, TOWNS, network=artois_net, bands=[5, 10, 15, 20])


def test_each_zone_holds_its_town(zones):
    mem = zones.membership(territory_only=True)
    assert list(mem) == TOWNS
    for town, codes in mem.items():
        assert town in codes


def test_real_zone_crosses_the_border(zones, artois):
    # Arras (62041, outside the EPCI) is within 10 minutes of Duisans (62279)
    full = zones.membership(territory_only=False)
    own = zones.membership(territory_only=True)
    assert "62041" in full["62279"] and "62041" not in own["62279"]
    for z in TOWNS:
        assert set(own[z]) == set(full[z]) & set(artois.codes)
    assert set(zones.union(territory_only=True)) < set(zones.union(territory_only=False))
    assert zones.exclusive(territory_only=False)["62041"] == "62279"


def test_overlap_table(zones):
    for only in (True, False):
        ov = zones.overlap(territory_only=only)
        assert list(ov.index) == TOWNS and list(ov.columns) == TOWNS
        assert (ov.to_numpy() == ov.to_numpy().T).all()
        for z, codes in zones.membership(territory_only=only).items():
            assert ov.loc[z, z] == len(codes)
        assert (ov.to_numpy() <= np.diag(ov.to_numpy())[:, None]).all()
    # the Duisans zone reaches Arras' suburbs: more members than territory members
    assert (zones.overlap(territory_only=False).loc["62279", "62279"]
            > zones.overlap(territory_only=True).loc["62279", "62279"])


def test_exclusive_partitions_union(zones):
    for only in (True, False):
        ex = zones.exclusive(territory_only=only)
        assert sorted(ex.index) == zones.union(territory_only=only)
        mem = zones.membership(territory_only=only)
        w = zones.within(territory_only=only)
        best = w.groupby("code")["time_s"].min()
        for code, z in ex.items():
            assert code in mem[z]
            t = w.loc[(w["zone"] == z) & (w["code"] == code), "time_s"].iloc[0]
            assert t == pytest.approx(best[code], abs=1e-3)  # nearest town


def test_bands_nested(zones):
    prev = set()
    for b in zones.bands:
        cur = set(zones.union(b, territory_only=False))
        assert prev <= cur
        prev = cur
    areas = zones.polygons.pivot(index="zone", columns="band_min", values="area_km2")
    assert (areas.diff(axis=1).iloc[:, 1:] >= 0).all().all()


def test_polygons_contain_member_chefs_lieux(zones, artois):
    ten = zones.polygons[zones.polygons["band_min"] == 10].set_index("zone")
    for z in TOWNS:
        m = zones.members[(zones.members["zone"] == z) & (zones.members["time_min"] <= 10)]
        poly = ten.loc[z, "geometry"]
        inside = m.geometry.within(poly.buffer(1.0))
        assert inside.all(), m.loc[~inside, "code"].tolist()
        assert len(gpd.GeoSeries([poly]).explode()) >= 1


def test_direction_matters_not_for_symmetric_skeleton(artois, artois_net, data_dir):
    a = zoning.build_zones(artois, ["62045"], network=artois_net, direction="from",
                           polygons=False)
    b = zoning.build_zones(artois, ["62045"], network=artois_net, direction="to",
                           polygons=False)
    # the skeleton has no one-way roads, so both directions agree there
    assert a.membership(territory_only=False) == b.membership(territory_only=False)


def test_bad_zone_inputs(artois, artois_net, data_dir):
    with pytest.raises(UnknownPlaceError, match="closest: Aubigny-en-Artois"):
        zoning.build_zones(artois, ["Aubigny-en-Artoiss"], network=artois_net)
    with pytest.raises(NetworkError, match="positive"):
        zoning.build_zones(artois, TOWNS, network=artois_net, budget_min=0)
    with pytest.raises(UnknownPlaceError, match="neither in"):
        zoning.build_zones(artois, ["13055"], network=artois_net)


def test_candidate_towns(artois, data_dir):
    from territorial_geo import sources

    c = zoning.candidate_towns(artois, sources.load_density_grid(data_dir)["dens"])
    assert c and set(c) <= set(artois.codes)


def test_default_market_towns_are_the_most_populated_candidates(artois, data_dir):
    from territorial_geo import sources

    dens = sources.load_density_grid(data_dir)["dens"]
    towns = zoning.default_market_towns(artois, dens)
    pop = artois.communes["population"]
    assert zoning.DEFAULT_TOWNS == 5 and len(towns) == 5
    assert all(int(dens[c]) in (4, 5) for c in towns)
    assert list(pop[towns]) == sorted(pop[towns], reverse=True)
    others = [c for c in artois.codes if c in dens.index and int(dens[c]) in (4, 5)
              and c not in towns]
    assert others and pop[others].max() <= pop[towns].min()
    assert zoning.default_market_towns(artois, dens, n=2) == towns[:2]


def test_reachability_table_agrees_with_zones(zones, artois, artois_net):
    pts = artois.chefs_lieux.geometry
    table = zoning.reachability_table(artois_net, pts, 600.0, origins=pts.loc[TOWNS])
    assert str(table["code"].dtype) == "category"
    for town, codes in zones.membership(territory_only=True).items():
        got = table[(table["origin"] == town) & table["code"].isin(artois.codes)]
        assert sorted(got["code"].astype(str)) == codes
    full = zoning.reachability_table(artois_net, pts, 600.0)
    # the distancier convention: every commune reaches itself at its own snap legs
    own = full[full["origin"].astype(str) == full["code"].astype(str)]
    assert len(own) == (2 * zones.snaps.loc[pts.index, "snap_s"] <= 600).sum()
