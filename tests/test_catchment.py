"""Catchments cross the territory's border (issue 9 item 0) and the exclusive allocation
(issue 13 defect 3), on a small hand-made case: no network, every number checkable by hand.

Territory: 62001, 62002, 62003, 62004. Market towns, in this order: A = 62001, B = 62003.
Outside the territory: 62041 (an Arras-like town), 62900, 62950.

    commune  in terr.  seats   time to A   time to B
    62001    yes          1        0 s         -
    62002    yes          2      300 s       200 s   (B nearer although A is listed first)
    62003    yes          4      560 s         0 s
    62004    yes          8      400 s       400 s   (tie: goes to A, listed first)
    62041    no          16      480 s       590 s
    62900    no          32        -         420 s
    62950    no          64      700 s         -     (15-minute band only)
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from territorial_geo import demand, i18n, zoning
from territorial_geo.errors import DataMissingError, UnknownPlaceError

TERR = ["62001", "62002", "62003", "62004"]
SEATS = {"62001": 1.0, "62002": 2.0, "62003": 4.0, "62004": 8.0, "62041": 16.0,
         "62900": 32.0, "62950": 64.0}


def _zones(rows, towns, territory=TERR, budget=10.0, bands=(10.0, 15.0)):
    members = pd.DataFrame(rows, columns=["zone", "code", "time_s"])
    members["time_min"] = members["time_s"] / 60
    b = np.asarray(bands)
    members["band_min"] = b[np.searchsorted(b, members["time_min"].to_numpy() - 1e-9)]
    members["in_territory"] = members["code"].isin(territory)
    members["nom"] = "commune " + members["code"]
    pts = [Point(i * 1000.0, 0.0) for i in range(len(members))]
    members = gpd.GeoDataFrame(members, geometry=pts, crs=2154)
    t = gpd.GeoDataFrame({"code": towns, "nom": [f"town {c}" for c in towns]},
                         geometry=[Point(0, 0)] * len(towns), crs=2154, index=towns)
    polys = gpd.GeoDataFrame({"zone": [], "band_min": [], "area_km2": []}, geometry=[],
                             crs=2154)
    return zoning.Zones(t, members, polys, list(territory), budget, tuple(bands), "to")


@pytest.fixture()
def zones():
    return _zones([
        ("62001", "62001", 0.0), ("62001", "62002", 300.0), ("62001", "62003", 560.0),
        ("62001", "62004", 400.0), ("62001", "62041", 480.0), ("62001", "62950", 700.0),
        ("62003", "62003", 0.0), ("62003", "62002", 200.0), ("62003", "62004", 400.0),
        ("62003", "62041", 590.0), ("62003", "62900", 420.0),
    ], ["62001", "62003"])


@pytest.fixture()
def dem():
    idx = pd.Index(list(SEATS))
    total = pd.Series(SEATS)
    table = pd.DataFrame({"seats_solos_2018": total * 0.75, "seats_teleworkers_2018": total * 0.25,
                          "seats_total_2018": total}, index=idx)
    return demand.CommuneDemand(table, [2018])


def test_membership_needs_an_explicit_choice(zones):
    with pytest.raises(TypeError):
        zones.membership()  # no silent default
    assert zones.membership(territory_only=False) == {
        "62001": ["62001", "62002", "62003", "62004", "62041"],
        "62003": ["62002", "62003", "62004", "62041", "62900"],
    }
    assert zones.membership(territory_only=True) == {
        "62001": ["62001", "62002", "62003", "62004"],
        "62003": ["62002", "62003", "62004"],
    }
    assert zones.membership(15, territory_only=False)["62001"][-1] == "62950"
    assert zones.union(territory_only=False) == ["62001", "62002", "62003", "62004", "62041",
                                                 "62900"]
    assert zones.union(territory_only=True) == TERR
    assert zones.uncovered() == []


def test_overlap_counts_every_member(zones):
    ov = zones.overlap(territory_only=False)
    assert ov.loc["62001", "62001"] == 5 and ov.loc["62003", "62003"] == 5
    assert ov.loc["62001", "62003"] == ov.loc["62003", "62001"] == 4  # 62002-4 and 62041
    own = zones.overlap(territory_only=True)
    assert own.loc["62001", "62001"] == 4 and own.loc["62003", "62003"] == 3
    assert own.loc["62001", "62003"] == 3


def test_exclusive_goes_to_the_nearest_town_not_the_first_listed(zones):
    ex = zones.exclusive(territory_only=False)
    assert ex.to_dict() == {"62001": "62001", "62002": "62003", "62003": "62003",
                            "62004": "62001", "62041": "62001", "62900": "62003"}
    assert zones.exclusive(territory_only=True).to_dict() == {
        "62001": "62001", "62002": "62003", "62003": "62003", "62004": "62001"}


def test_exclusive_tie_goes_to_the_first_listed_town():
    # same members, towns given in the other order: the tie (62004) follows the order
    z = _zones([("62003", "62004", 400.0), ("62001", "62004", 400.0),
                ("62001", "62001", 0.0), ("62003", "62003", 0.0)], ["62003", "62001"])
    assert z.exclusive(territory_only=True)["62004"] == "62003"
    # within a millisecond is a tie too
    z = _zones([("62001", "62004", 400.0004), ("62003", "62004", 400.0),
                ("62001", "62001", 0.0), ("62003", "62003", 0.0)], ["62001", "62003"])
    assert z.exclusive(territory_only=True)["62004"] == "62001"


def test_zone_seats_count_members_outside_the_territory(zones, dem):
    pole = _zones([("62041", "62041", 0.0), ("62041", "62003", 500.0),
                   ("62041", "62950", 300.0)], ["62041"])
    kept = zones.without_pole("62003", pole, territory_only=False)
    assert kept == ["62002", "62003", "62004", "62900"]  # the market town is kept
    zt = demand.zone_table(
        dem, zones.membership(territory_only=False), zones.exclusive(territory_only=False),
        without_pole={"62003": kept}, supply_seats={"62001": 10.0}, territory_codes=TERR)
    tot = zt[zt["segment"] == "total"].set_index(["variant", "zone"])
    assert tot.loc[("zone", "62001"), "seats"] == 1 + 2 + 4 + 8 + 16
    assert tot.loc[("zone", "62003"), "seats"] == 2 + 4 + 8 + 16 + 32
    assert tot.loc[("zone", "62003"), "n_communes"] == 5
    assert tot.loc[("union", "all"), "seats"] == 63
    assert tot.loc[("exclusive", "62001"), "seats"] == 1 + 8 + 16
    assert tot.loc[("exclusive", "62003"), "seats"] == 2 + 4 + 32
    assert tot.loc[("exclusive", "all"), "seats"] == 63
    assert tot.loc[("without_pole", "62003"), "seats"] == 2 + 4 + 8 + 32
    assert tot.loc[("net_of_supply", "62001"), "seats"] == 31 - 10
    assert tot.loc[("territory_residents", "62001"), "seats"] == 15
    assert tot.loc[("territory_residents", "62001"), "share_of_zone"] == pytest.approx(15 / 31)
    assert tot.loc[("territory_residents", "62003"), "seats"] == 14
    assert tot.loc[("territory_residents", "62003"), "n_communes"] == 3
    assert tot.loc[("territory_residents", "62003"), "share_of_zone"] == pytest.approx(14 / 62)
    assert tot.loc[("territory_residents", "all"), "share_of_zone"] == pytest.approx(15 / 63)
    assert tot.loc[("zone", "62001"), "share_of_zone"] != tot.loc[("zone", "62001"),
                                                                  "share_of_zone"]  # NaN
    solos = zt[zt["segment"] == "solos"].set_index(["variant", "zone"])
    assert solos.loc[("zone", "62003"), "seats"] == pytest.approx(62 * 0.75)
    # the tidy layout is kept, columns added at the end (persons: NaN without the columns)
    assert list(zt.columns) == ["zone", "zone_name", "variant", "segment", "year", "seats",
                                "n_communes", "share_of_zone", "teleworkers", "solos", "users"]


def test_without_pole_starts_from_every_member(zones):
    pole = _zones([("62041", "62041", 0.0), ("62041", "62003", 500.0)], ["62041"])
    assert zones.without_pole("62003", pole, territory_only=False) == ["62002", "62003",
                                                                       "62004", "62900"]
    assert zones.without_pole("62003", pole, territory_only=True) == ["62002", "62003",
                                                                      "62004"]
    with pytest.raises(UnknownPlaceError, match="62999"):
        zones.without_pole("62999", pole, territory_only=False)


@pytest.fixture()
def pole():
    # Arras-like pole 62041: 62002 is nearer B (200 s) than the pole (250 s), 62004 nearer
    # the pole (350 s) than B (400 s); the pole reaches B's chef-lieu in 500 s
    return _zones([("62041", "62041", 0.0), ("62041", "62003", 500.0),
                   ("62041", "62002", 250.0), ("62041", "62004", 350.0),
                   ("62041", "62950", 300.0)], ["62041"])


def test_pole_rules_never_drop_the_market_town(zones, pole):
    # closer_to_pole: 62004 (350 s < 400 s) and the pole itself (0 s < 590 s) go; 62002
    # (250 s > 200 s) stays; the town 62003 stays although the pole reaches it in 500 s
    assert zones.without_pole("62003", pole, territory_only=False,
                              rule="closer_to_pole") == ["62002", "62003", "62900"]
    # within_budget (literal): every member the pole reaches within its budget, but the town
    assert zones.without_pole("62003", pole, territory_only=False,
                              rule="within_budget") == ["62003", "62900"]
    d = zones.pole_dropped("62003", pole, territory_only=False, rule="closer_to_pole")
    assert d["code"].tolist() == ["62004", "62041"]
    assert d.set_index("code").loc["62004", "time_to_town_min"] == pytest.approx(400 / 60)
    assert d.set_index("code").loc["62004", "time_to_pole_min"] == pytest.approx(350 / 60)
    assert d["in_territory"].tolist() == [True, False]
    with pytest.raises(ValueError, match="nearest"):
        zones.pole_dropped("62003", pole, territory_only=False, rule="nearest")


def test_member_without_demand_is_an_error(zones, dem):
    with pytest.raises(DataMissingError, match="62900"):
        demand.zone_table(demand.CommuneDemand(dem.table.drop(index="62900"), [2018]),
                          zones.membership(territory_only=False),
                          zones.exclusive(territory_only=False))


def test_pole_variants_warn_when_another_market_town_is_dropped(monkeypatch, caplog):
    """Issue 19: a rule that would drop another market town says so (notes, log, table)."""
    from types import SimpleNamespace

    from territorial_geo import config, pipeline

    # B = 62003 reaches A = 62001 in 500 s; the pole reaches A in 100 s, 62004 in 350 s
    zs = _zones([("62001", "62001", 0.0), ("62003", "62003", 0.0), ("62003", "62001", 500.0),
                 ("62003", "62004", 400.0)], ["62001", "62003"])
    pole = _zones([("62041", "62041", 0.0), ("62041", "62001", 100.0),
                   ("62041", "62004", 350.0)], ["62041"])
    monkeypatch.setattr(pipeline.zoning, "build_zones",
                        lambda _t, towns, **_kw: pole if towns == ["62041"] else zs)
    for rule in ("within_budget", "closer_to_pole"):
        cfg, _ = config.config_from_dict({})
        inputs = SimpleNamespace(config=cfg, territory=None, network=None, engine=None,
                                 towns=("62001", "62003"),
                                 poles=(pipeline.Pole("62003", "62041", rule),))
        zr = pipeline.zones_stage(inputs)
        kept, dropped, notes = zr.without_pole, zr.pole_dropped, zr.notes
        assert kept == {"62003": ["62003"]}
        assert dropped.set_index("code")["market_town"].to_dict() == {"62001": True,
                                                                      "62004": False}
        assert any(n.startswith(f"WARNING: the pole rule '{rule}' drops another market town")
                   and "commune 62001 (62001)" in n for n in notes)
        assert any(i18n.render(n, "fr").startswith("ATTENTION : la règle de pôle « ")
                   and f"(poles.rule = '{rule}') retire un autre bourg-centre" in
                   i18n.render(n, "fr") for n in notes)
    assert "drops another market town" in caplog.text


def test_variant_members_lists_each_row_of_the_zone_table():
    membership = {"A": ["1", "2"], "B": ["2", "3"]}
    exclusive = pd.Series({"1": "A", "2": "A", "3": "B"})
    rows = demand.variant_members(membership, exclusive, without_pole={"A": ["1"]},
                                  territory_codes=["1", "3"])
    assert rows == [
        ("A", "zone", ["1", "2"]), ("B", "zone", ["2", "3"]),
        ("all", "union", ["1", "2", "3"]),
        ("A", "exclusive", ["1", "2"]), ("B", "exclusive", ["3"]),
        ("all", "exclusive", ["1", "2", "3"]),
        ("A", "without_pole", ["1"]),
        ("A", "territory_residents", ["1"]), ("B", "territory_residents", ["3"]),
        ("all", "territory_residents", ["1", "3"]),
    ]
    assert [r[:2] for r in demand.variant_members(membership, exclusive)] == [
        ("A", "zone"), ("B", "zone"), ("all", "union"), ("A", "exclusive"), ("B", "exclusive"),
        ("all", "exclusive")]
