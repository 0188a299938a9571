"""Band edges and budgets on a hand-made road where every time is an exact number of
seconds: a commune exactly at the budget is in the zone, one second more is not."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from territorial_geo import network as N
from territorial_geo import zoning
from territorial_geo.territory import Territory

# a straight two-way road along y = 0, one node every 1,000 m, 36 km/h = 10 m/s: 100 s a km
XS = [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]
CODES = [f"990{i:02d}" for i in range(len(XS))]


@pytest.fixture(scope="module")
def road():
    seg = gpd.GeoDataFrame(
        {"forward": True, "backward": True, "speed_kmh": 36.0, "speed_source": "test"},
        index=range(len(XS) - 1),
        geometry=[LineString([(a, 0), (b, 0)]) for a, b in zip(XS[:-1], XS[1:], strict=True)],
        crs=2154)
    return N.network_from_segments(seg)


@pytest.fixture(scope="module")
def terr():
    communes = gpd.GeoDataFrame(
        {"nom": [f"C{i}" for i in range(len(XS))], "population": 100.0, "area_km2": 1.0},
        index=CODES, geometry=[box(x - 400, -400, x + 400, 400) for x in XS], crs=2154)
    cl = gpd.GeoDataFrame({"nom": communes["nom"], "in_territory": True}, index=CODES,
                          geometry=[Point(x, 0) for x in XS], crs=2154)
    return Territory("line", "communes", communes, communes.iloc[0:0], cl, 0.0)


def test_kernel_keeps_a_node_exactly_at_the_budget(road):
    res = N.bounded_times(road.csr(), np.array([int(road.snap(gpd.GeoSeries(
        [Point(0, 0)], crs=2154))["node"].iloc[0])]), 600.0)
    far = res["time_s"].max()
    assert far == 600.0 and len(res) == 7  # nodes at 0..6 km; 7 km (700 s) is out


def test_zone_members_at_band_edges(road, terr):
    z = zoning.build_zones(terr, [CODES[0]], network=road, budget_min=5, bands=[5, 10],
                           polygons=False)
    times = z.members.set_index("code")["time_s"]
    assert times.to_dict() == {c: 100.0 * i for i, c in enumerate(CODES[:7])}
    # exactly 5 minutes is in the 5-minute band; exactly 10 in the 10-minute band
    assert z.members.set_index("code")["band_min"].to_dict() == {
        CODES[0]: 5.0, CODES[1]: 5.0, CODES[2]: 5.0, CODES[3]: 5.0,
        CODES[4]: 10.0, CODES[5]: 10.0, CODES[6]: 10.0}
    assert sorted(z.within(5, territory_only=False)["code"]) == CODES[:4]
    assert sorted(z.within(10, territory_only=False)["code"]) == CODES[:7]


def test_snapped_pair_exactly_at_budget(road, terr):
    snap = road.snap(terr.chefs_lieux.geometry)
    res = N.snapped_times(road, snap.iloc[[0]], snap, 300.0, reverse=True)
    assert sorted(res["target"]) == [0, 1, 2, 3]
    assert res["time_s"].max() == 300.0
