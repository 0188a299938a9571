"""IGN BD TOPO reader on the two real fixtures of the mirror: BD TOPO v2 ``ROUTE`` around La
Flèche (Shapefile, 2011) and BD TOPO v3 ``troncon_de_route`` of Marseille 10e (GeoPackage).

Every expected number was checked by hand on the files with independent code (pyogrio,
pandas value counts, shapely lengths), never with the reader; the comments say how.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from territorial_geo import sources
from territorial_geo.errors import NetworkError
from territorial_geo.network import (
    RoadNetwork,
    SpeedProfile,
    network_from_bdtopo,
    read_bdtopo,
    snapped_times,
)

MIRROR = sources.default_mirror()
FIX = MIRROR / "roads" / "fixtures" if MIRROR else None
V2 = FIX / "bdtopo-v2-2011-la-fleche" / "ROUTE.shp" if FIX else None
V3 = FIX / "bdtopo-v3-marseille-10e.gpkg" if FIX else None
needs_v2 = pytest.mark.skipif(V2 is None or not V2.is_file(), reason="BD TOPO v2 fixture missing")
needs_v3 = pytest.mark.skipif(V3 is None or not V3.is_file(), reason="BD TOPO v3 fixture missing")


@pytest.fixture(scope="module")
def v3_raw():
    return pyogrio.read_dataframe(V3)


@pytest.fixture(scope="module")
def v3_net():
    return read_bdtopo(V3)


@pytest.fixture(scope="module")
def v2_raw():
    return pyogrio.read_dataframe(V2)


@pytest.fixture(scope="module")
def v2_net():
    return read_bdtopo(V2)


def _sections(raw: gpd.GeoDataFrame, ids: list[str], id_col: str) -> gpd.GeoDataFrame:
    return raw.set_index(id_col).loc[ids]


def _times(net, a, b, *, junctions: bool = False) -> tuple[float, float]:
    """Seconds a -> b and b -> a between two EPSG:2154 points (inf when out of budget);
    section times only unless ``junctions`` (the OSRM junction costs on top)."""
    if not junctions:
        net = RoadNetwork(net.nodes, net.edges, dataclasses.replace(net.profile, turns=False),
                          net.source)
    pts = gpd.GeoSeries([a, b], crs=2154)
    snap = net.snap(pts)
    out = []
    for o, t in ((0, 1), (1, 0)):
        res = snapped_times(net, snap.iloc[[o]], snap.iloc[[t]], 3600.0, reverse=False)
        out.append(float(res["time_s"].iloc[0]) if len(res) else np.inf)
    return out[0], out[1]


# --- v3, Marseille 10e ----------------------------------------------------------------------

@needs_v3
def test_v3_version_and_excluded_sections_by_reason(v3_net, v3_raw):
    s = v3_net.source
    assert (s["format"], s["version"], s["kind"]) == ("bdtopo", "v3", "detailed")
    assert s["n_sections_read"] == 2936
    # pandas on the raw layer: etat != "En service": 1 (Route à 1 chaussée, "En
    # construction"); nature Sentier 267, Escalier 10, Piste cyclable 3, Chemin 71;
    # then among the rest acces_vehicule_leger Physiquement impossible 167 (163 Route
    # empierrée + 4 Route à 1 chaussée) and Restreint aux ayants droit 372 (365 + 7)
    assert s["excluded_by_reason"] == {
        "etat_de_l_objet: En construction": 1,
        "nature: Sentier": 267,
        "nature: Escalier": 10,
        "nature: Piste cyclable": 3,
        "nature: Chemin": 71,
        "acces_vehicule_leger: Physiquement impossible": 167,
        "acces_vehicule_leger: Restreint aux ayants droit": 372,
    }
    assert s["n_excluded_sections"] == 891
    # IGN's own car rule (route-graph-generator): en service and vitesse_moyenne_vl not 0/1
    ign_rule = (v3_raw["etat_de_l_objet"] == "En service") & (v3_raw["vitesse_moyenne_vl"] > 1)
    assert int(ign_rule.sum()) == 2045 == v3_net.edges["seg"].nunique()
    assert set(v3_net.edges["bdtopo_id"]) == set(v3_raw.loc[ign_rule, "cleabs"])


@needs_v3
def test_v3_oneway_and_toll_counts(v3_net, v3_raw):
    s = v3_net.source
    kept = v3_raw[(v3_raw["etat_de_l_objet"] == "En service") & (v3_raw["vitesse_moyenne_vl"] > 1)]
    # value_counts of sens_de_circulation on the 2045 kept sections: 682 direct or inverse
    assert int(kept["sens_de_circulation"].isin(["Sens direct", "Sens inverse"]).sum()) == 682
    assert s["n_oneway_sections"] == 682
    assert len(v3_net.edges) == 2 * 2045 - 682 == 3408
    assert int(v3_net.edges["oneway"].sum()) == 682
    # "A péage": 39 sections (3 Double sens, 25 Sens direct, 11 Sens inverse) -> 42 edges
    assert s["n_toll_sections"] == 39
    assert int(v3_net.edges["toll"].sum()) == 42


@needs_v3
def test_v3_speeds_are_vitesse_moyenne_vl(v3_net, v3_raw):
    e = v3_net.edges.set_index("bdtopo_id")
    for cleabs, kmh in [("TRONROUT0000000040969370", 40.0),   # BD FIFI TURIN
                        ("TRONROUT0000000040969974", 105.0),  # Type autoroutier, A péage
                        ("TRONROUT0000000040969395", 100.0),  # Type autoroutier, urbain
                        ("TRONROUT0000002202325326", 25.0),   # Rond-point
                        ("TRONROUT0000000349636733", 10.0),   # Route empierrée, Libre
                        ("TRONROUT0000000040969480", 75.0)]:  # Route à 1 chaussée
        assert v3_raw.set_index("cleabs").loc[cleabs, "vitesse_moyenne_vl"] == kmh
        assert set(np.atleast_1d(e.loc[cleabs, "speed_kmh"])) == {kmh}
        assert set(np.atleast_1d(e.loc[cleabs, "speed_source"])) == {"vitesse_moyenne_vl"}
    raw_kmh = v3_raw.set_index("cleabs")["vitesse_moyenne_vl"]
    assert np.array_equal(v3_net.edges["speed_kmh"].to_numpy(),
                          raw_kmh.loc[v3_net.edges["bdtopo_id"]].to_numpy(float))


@needs_v3
def test_v3_default_table_is_igns_model(v3_raw):
    # without vitesse_moyenne_vl, the (nature, urbain, importance) table gives IGN's value
    # on every kept section but the 7 "Route à 1 chaussée" rural importance-2 at 75 (the
    # cell's mode is 67, 17 sections) and the one urban "Type autoroutier" at 100 (mode 95)
    net = read_bdtopo(V3, profile=SpeedProfile(use_maxspeed=False))
    e = net.edges.drop_duplicates("seg").set_index("bdtopo_id")
    raw = v3_raw.set_index("cleabs").loc[e.index, "vitesse_moyenne_vl"].astype(float)
    differ = e.index[e["speed_kmh"].to_numpy() != raw.to_numpy()]
    assert sorted(differ) == sorted([
        "TRONROUT0000000040969480", "TRONROUT0000000040969605", "TRONROUT0000000040969454",
        "TRONROUT0000000040972943", "TRONROUT0000000040972944", "TRONROUT0000000040972945",
        "TRONROUT0000000224431198", "TRONROUT0000000040969395"])
    assert set(e.loc[differ, "speed_kmh"]) == {67.0, 95.0}
    assert "vitesse_moyenne_vl" not in set(e["speed_source"])


@needs_v3
def test_v3_speed_factor(v3_raw):
    net = read_bdtopo(V3, profile=SpeedProfile(factor=0.8))
    e = net.edges
    raw_kmh = v3_raw.set_index("cleabs").loc[e["bdtopo_id"], "vitesse_moyenne_vl"].to_numpy(float)
    assert np.allclose(e["speed_kmh"], 0.8 * raw_kmh)
    assert np.allclose(e["time_s"], e["length_m"] / (0.8 * raw_kmh / 3.6))


@needs_v3
def test_v3_one_way_fifi_turin_hand_timed(v3_net, v3_raw):
    # BD FIFI TURIN: 4 sections, "Sens inverse", 40 km/h, drawn north -> south in the order
    # 347, 1937, 1933, 346 (end point of one = start of the next, read with shapely):
    # traffic runs south -> north. A: middle of the southern section, B: of the northern.
    ids = ["TRONROUT0000000040969374", "TRONROUT0000000040969348",
           "TRONROUT0000000040969320", "TRONROUT0000000040969370"]
    sec = _sections(v3_raw, ids, "cleabs")
    assert set(sec["sens_de_circulation"]) == {"Sens inverse"}
    lengths = sec.geometry.length.to_numpy()  # 60.57, 181.81, 9.43, 216.36 m
    metres = 0.5 * lengths[3] + lengths[2] + lengths[1] + 0.5 * lengths[0]
    hand = metres / (40 / 3.6)  # 329.7 m at 40 km/h = 29.7 s
    a = shapely.line_interpolate_point(sec.geometry.iloc[3], 0.5, normalized=True)
    b = shapely.line_interpolate_point(sec.geometry.iloc[0], 0.5, normalized=True)
    ab, ba = _times(v3_net, a, b)
    assert ab == pytest.approx(hand, abs=0.05)
    assert ba > ab + 30  # against the one-way: a detour through other streets


@needs_v3
def test_v3_dual_carriageway_elie_wiesel_hand_timed(v3_net, v3_raw):
    # BOULEVARD ELIE WIESEL, Route à 2 chaussées: each carriageway is its own "Sens direct"
    # line, 40 km/h. Northbound chain (end point = next start point):
    ids = ["TRONROUT0000002207276768", "TRONROUT0000002207276765", "TRONROUT0000002207276778",
           "TRONROUT0000002207276772", "TRONROUT0000002207276774", "TRONROUT0000002207276785"]
    sec = _sections(v3_raw, ids, "cleabs")
    assert set(sec["sens_de_circulation"]) == {"Sens direct"}
    g = sec.geometry.to_numpy()
    for i in range(len(g) - 1):
        assert shapely.get_point(g[i], -1).equals(shapely.get_point(g[i + 1], 0))
    lengths = sec.geometry.length.to_numpy()
    metres = 0.5 * lengths[0] + lengths[1:-1].sum() + 0.5 * lengths[-1]  # 723.6 m
    hand = metres / (40 / 3.6)
    a = shapely.line_interpolate_point(g[0], 0.5, normalized=True)
    b = shapely.line_interpolate_point(g[-1], 0.5, normalized=True)
    ab, ba = _times(v3_net, a, b)
    assert ab == pytest.approx(hand, abs=0.05)
    assert ba > ab  # back south means leaving the northbound carriageway first


@needs_v3
def test_v3_sections_meet_at_end_points(v3_net, v3_raw):
    kept = v3_raw[(v3_raw["etat_de_l_objet"] == "En service") & (v3_raw["vitesse_moyenne_vl"] > 1)]
    g = shapely.force_2d(kept.geometry.to_numpy())
    ends = np.r_[shapely.get_coordinates(shapely.get_point(g, 0)),
                 shapely.get_coordinates(shapely.get_point(g, -1))]
    assert v3_net.n_nodes == len(np.unique(np.round(ends, 2), axis=0)) == 1747
    assert v3_net.source["n_endpoints_joined"] == 0  # no sub-metre gap in this extract
    assert not v3_net.edges.geometry.has_z.any()
    assert v3_raw.geometry.has_z.all()


@needs_v3
def test_v3_area_reads_only_sections_in_bbox(v3_raw):
    area = shapely.box(895800, 6245300, 896000, 6245600)  # around BD FIFI TURIN
    net = read_bdtopo(V3, area=area, margin_m=100.0)
    window = shapely.box(895700, 6245200, 896100, 6245700)
    # geopandas on the full layer: 53 sections intersect the window
    assert int(v3_raw.intersects(window).sum()) == 53
    assert net.source["n_sections_read"] == 53
    assert net.source["bbox_2154"] == [895700, 6245200, 896100, 6245700]
    inside = set(v3_raw.loc[v3_raw.intersects(window), "cleabs"])
    assert set(net.edges["bdtopo_id"]) <= inside


@needs_v3
def test_v3_cache(tmp_path):
    first = read_bdtopo(V3, cache_dir=tmp_path)
    again = read_bdtopo(V3, cache_dir=tmp_path)
    assert (first.source["cached"], again.source["cached"]) == (False, True)
    assert again.source["excluded_by_reason"] == first.source["excluded_by_reason"]
    assert len(again.edges) == len(first.edges)
    assert np.allclose(np.sort(again.edges["time_s"]), np.sort(first.edges["time_s"]))


@needs_v3
def test_v3_shapefile_field_names(tmp_path, v3_raw):
    # the v3 Shapefile delivery names fields differently (IGN structure file: SENS,
    # VIT_MOY_VL, ACCES_VL, ETAT, URBAIN, ID, NOM_1_G, NUMERO, CL_ADMIN)
    names = {"cleabs": "ID", "nature": "NATURE", "importance": "IMPORTANCE",
             "sens_de_circulation": "SENS", "vitesse_moyenne_vl": "VIT_MOY_VL",
             "acces_vehicule_leger": "ACCES_VL", "etat_de_l_objet": "ETAT",
             "urbain": "URBAIN", "fictif": "FICTIF", "nom_collaboratif_gauche": "NOM_1_G",
             "cpx_numero": "NUMERO", "cpx_classement_administratif": "CL_ADMIN"}
    shp = v3_raw[list(names) + ["geometry"]].rename(columns=names)
    path = tmp_path / "TRONCON_DE_ROUTE.shp"
    pyogrio.write_dataframe(shp, path, encoding="UTF-8")
    net = read_bdtopo(tmp_path)  # a directory holding the delivery
    assert net.source["version"] == "v3"
    assert net.source["excluded_by_reason"]["acces_vehicule_leger: Restreint aux ayants droit"] \
        == 372
    assert net.source["n_excluded_sections"] == 891
    assert len(net.edges) == 3408 and net.source["n_toll_sections"] == 39


# --- v2, La Flèche ----------------------------------------------------------------------------

@needs_v2
def test_v2_counts(v2_net, v2_raw):
    s = v2_net.source
    assert (s["version"], s["n_sections_read"]) == ("v2", 1070)
    # NATURE value counts: Chemin 121, Sentier 19, Piste cyclable 5 (no access field in v2)
    assert s["excluded_by_reason"] == {"nature: Chemin": 121, "nature: Sentier": 19,
                                       "nature: Piste cyclable": 5}
    assert s["n_excluded_sections"] == 145
    # SENS value counts: Direct 102, Inverse 37 (all on Route à 1 / 2 chaussées, all kept)
    assert dict(v2_raw["SENS"].value_counts()) == {"Double": 867, "Direct": 102, "NC": 64,
                                                  "Inverse": 37}
    assert s["n_oneway_sections"] == 139
    assert len(v2_net.edges) == 2 * 925 - 139
    assert s["n_toll_sections"] is None  # v2 has no access/toll field
    assert v2_net.n_nodes == 805  # unique end points of the 925 kept sections (numpy)
    # v2 placeholders "NR" (non renseigné) / "NC" (non concerné) are not names or numbers
    assert not {"NR", "NC"} & (set(v2_net.edges["name"]) | set(v2_net.edges["ref"]))
    assert "D306" in set(v2_net.edges["ref"])


@needs_v2
def test_v2_nc_direction_is_two_way(v2_net, v2_raw):
    # SENS "NC" on the 36 kept sections, all Route empierrée: both directions drivable
    nc = v2_net.edges[v2_net.edges["sens"] == "NC"]
    assert set(nc["nature"]) == {"Route empierrée"}
    assert nc["seg"].nunique() == 36 and len(nc) == 72
    raw_nc = v2_raw[(v2_raw["SENS"] == "NC") & v2_raw["NATURE"].str.startswith("Route empierr")]
    assert len(raw_nc) == 36


@needs_v2
def test_v2_speeds_from_nature_and_importance(v2_net):
    # no speed field in v2: IGN's v3 model, non-urban column (DEFAULT_BDTOPO_KMH docs):
    # Route à 1 chaussée importance 2/3/4/5 -> 67/63/58/35, Route à 2 chaussées (all
    # importance 2) -> 75, Route empierrée (importance 5 and "NC") -> 10
    e = v2_net.edges.drop_duplicates("seg")
    got = e.groupby(["nature", "importance"])["speed_kmh"].unique().map(list).to_dict()
    assert got == {("Route à 1 chaussée", 2): [67.0], ("Route à 1 chaussée", 3): [63.0],
                   ("Route à 1 chaussée", 4): [58.0], ("Route à 1 chaussée", 5): [35.0],
                   ("Route à 2 chaussées", 2): [75.0], ("Route empierrée", 5): [10.0]}
    assert v2_net.source["speed_sources_sections"] == {"default_ign_model": 925}


@needs_v2
def test_v2_hand_timed_d306(v2_net, v2_raw):
    # D306 (Route du Lude) east of La Flèche, Route à 1 chaussée, Double, importance 2
    # (67 km/h): 15 sections drawn west -> east, end point of one = start of the next
    ids = ["TRONROUT0000000112442246", "TRONROUT0000000112442222", "TRONROUT0000000112442226",
           "TRONROUT0000000112442188", "TRONROUT0000000112442190", "TRONROUT0000000112442187",
           "TRONROUT0000000112442218", "TRONROUT0000000112442219", "TRONROUT0000000112442185",
           "TRONROUT0000000112442170", "TRONROUT0000000112442172", "TRONROUT0000000112442169",
           "TRONROUT0000000112442168", "TRONROUT0000000112442171", "TRONROUT0000000112442159"]
    sec = _sections(v2_raw, ids, "ID")
    assert set(sec["NUMERO"]) == {"D306"} and set(sec["SENS"]) == {"Double"}
    g = sec.geometry.to_numpy()
    for i in range(len(g) - 1):
        assert shapely.get_point(g[i], -1).equals(shapely.get_point(g[i + 1], 0))
    lengths = sec.geometry.length.to_numpy()
    metres = 0.5 * lengths[0] + lengths[1:-1].sum() + 0.5 * lengths[-1]  # 3,844 m
    hand = metres / (67 / 3.6)
    a = shapely.line_interpolate_point(g[0], 0.5, normalized=True)
    b = shapely.line_interpolate_point(g[-1], 0.5, normalized=True)
    ab, ba = _times(v2_net, a, b)
    assert ab == pytest.approx(hand, abs=0.05)
    assert ba == pytest.approx(hand, abs=0.05)
    # with junction costs: 14 junctions crossed, each at most turn_penalty (7.5 s, straight
    # on ~0) and never less than nothing; side roads meet the D306, so some cost
    jab, jba = _times(v2_net, a, b, junctions=True)
    assert hand < jab < hand + 14 * 7.5 and hand < jba < hand + 14 * 7.5


@needs_v2
def test_v2_damaged_text_repaired(v2_net, v2_raw):
    # the .dbf holds U+FFFD bytes (EF BF BD) where the accents were: 925 NATURE values
    # and 174 CL_ADMIN "D?partementale" (str.contains on the raw layer)
    assert int(v2_raw["NATURE"].str.contains("\ufffd").sum()) == 925
    assert int(v2_raw["CL_ADMIN"].str.contains("\ufffd").sum()) == 174
    assert v2_net.source["text_repaired"] == {"NATURE": 925, "CL_ADMIN": 174}
    assert set(v2_net.edges["nature"]) == {"Route à 1 chaussée", "Route à 2 chaussées",
                                           "Route empierrée"}
    assert set(v2_net.edges["cl_admin"]) == {"Départementale", "Autre"}


def _v2_rows_clean(v2_raw: gpd.GeoDataFrame, n: int = 80) -> gpd.GeoDataFrame:
    """The first rows of the v2 fixture with the accents restored by hand."""
    fix = {"Route \ufffd 1 chauss\ufffde": "Route à 1 chaussée",
           "Route \ufffd 2 chauss\ufffdes": "Route à 2 chaussées",
           "Route empierr\ufffde": "Route empierrée", "D\ufffdpartementale": "Départementale"}
    rows = v2_raw.head(n).copy()
    for col in ("NATURE", "CL_ADMIN"):
        rows[col] = rows[col].replace(fix)
    for col in ("NOM_ITI", "TYP_ADRES"):  # free text, not read by the reader
        rows[col] = rows[col].str.replace("\ufffd", "e")
    assert not rows[["NATURE", "CL_ADMIN"]].apply(lambda c: c.str.contains("\ufffd")).any().any()
    return rows


@needs_v2
def test_latin1_dbf_with_a_cpg_saying_utf8(tmp_path, v2_raw):
    rows = _v2_rows_clean(v2_raw)
    path = tmp_path / "ROUTE.shp"
    pyogrio.write_dataframe(rows, path, encoding="ISO-8859-1")
    path.with_suffix(".cpg").write_text("UTF-8")  # the lie
    assert b"Route \xe0 1 chauss\xe9e" in path.with_suffix(".dbf").read_bytes()
    net = read_bdtopo(path)
    assert "ISO-8859-1" in net.source["encoding"]
    assert "Route à 1 chaussée" in set(net.edges["nature"])
    assert "text_repaired" not in net.source


@needs_v2
def test_utf8_dbf_with_a_cpg_saying_cp1252(tmp_path, v2_raw):
    rows = _v2_rows_clean(v2_raw)
    path = tmp_path / "ROUTE.shp"
    pyogrio.write_dataframe(rows, path, encoding="UTF-8")
    path.with_suffix(".cpg").write_text("1252")
    net = read_bdtopo(path)
    assert net.source["encoding"].startswith("UTF-8")
    assert "Route à 1 chaussée" in set(net.edges["nature"])


# --- topology on hand-made gaps ---------------------------------------------------------------

@needs_v3
def test_sub_metre_gap_joined_and_counted(v3_raw):
    # two consecutive sections of BD FIFI TURIN; move the second one's start 0.3 m away
    two = v3_raw.set_index("cleabs").loc[["TRONROUT0000000040969374",
                                          "TRONROUT0000000040969348"]].reset_index()
    g = two.geometry.to_numpy().copy()
    coords = shapely.get_coordinates(g[1], include_z=True)
    coords[0, 0] += 0.3
    g[1] = shapely.linestrings(coords)
    two = two.set_geometry(gpd.GeoSeries(g, crs=two.crs))
    joined = network_from_bdtopo(two, tolerance_m=0.5)
    assert joined.source["n_endpoints_joined"] == 1 and joined.n_nodes == 3
    apart = network_from_bdtopo(two, tolerance_m=0.0)
    assert apart.source["n_endpoints_joined"] == 0 and apart.n_nodes == 4


@needs_v3
def test_vitesse_1_on_a_road_means_not_for_cars(v3_raw):
    # IGN's route-graph-generator maps vitesse_moyenne_vl = 1 to 0 (no car): on a road
    # nature too, the section is left out and counted
    two = v3_raw.set_index("cleabs").loc[["TRONROUT0000000040969374",
                                          "TRONROUT0000000040969348"]].reset_index()
    two.loc[1, "vitesse_moyenne_vl"] = 1
    net = network_from_bdtopo(two)
    assert net.source["excluded_by_reason"] == {"vitesse_moyenne_vl: 1": 1}
    assert list(net.edges["bdtopo_id"]) == ["TRONROUT0000000040969374"]


@needs_v2
def test_v2_motorway_natures_timed_as_type_autoroutier(v2_raw):
    # v2 "Autoroute" and "Quasi-autoroute" have no v3 counterpart of their own: timed as
    # "Type autoroutier" (IGN model, non-urban: 105 km/h)
    rows = _v2_rows_clean(v2_raw, 3)
    rows["NATURE"] = ["Autoroute", "Quasi-autoroute", "Route à 1 chaussée"]
    rows["IMPORTANCE"] = ["1", "1", "5"]
    e = network_from_bdtopo(rows).edges.drop_duplicates("seg").set_index("nature")
    assert e["speed_kmh"].to_dict() == {"Autoroute": 105.0, "Quasi-autoroute": 105.0,
                                        "Route à 1 chaussée": 35.0}


# --- bad input -------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(NetworkError, match="not found"):
        read_bdtopo(tmp_path / "nope.gpkg")


@needs_v3
def test_unknown_layer_lists_layers():
    with pytest.raises(NetworkError, match="no layer 'routes'.*troncon_de_route"):
        read_bdtopo(V3, layer="routes")


@needs_v3
def test_missing_v3_columns_named(tmp_path, v3_raw):
    path = tmp_path / "bad.gpkg"
    pyogrio.write_dataframe(v3_raw.head(20).drop(columns=["vitesse_moyenne_vl",
                                                          "acces_vehicule_leger"]),
                            path, layer="troncon_de_route")
    with pytest.raises(NetworkError,
                       match=r"BD TOPO v3 .*vitesse_moyenne_vl, acces_vehicule_leger missing"):
        read_bdtopo(path)


@needs_v2
def test_missing_v2_column_named(tmp_path, v2_raw):
    path = tmp_path / "ROUTE.shp"
    pyogrio.write_dataframe(_v2_rows_clean(v2_raw, 20).drop(columns=["SENS"]), path)
    with pytest.raises(NetworkError, match=r"BD TOPO v2 .*SENS missing"):
        read_bdtopo(path)


@needs_v3
def test_not_a_road_layer(tmp_path, v3_raw):
    path = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(v3_raw.head(5)[["cleabs", "geometry"]], path, layer="batiment")
    with pytest.raises(NetworkError, match="not a BD TOPO road layer"):
        read_bdtopo(path)


@needs_v3
def test_no_drivable_section(tmp_path, v3_raw):
    path = tmp_path / "paths.gpkg"
    pyogrio.write_dataframe(v3_raw[v3_raw["nature"] == "Sentier"].head(30), path,
                            layer="troncon_de_route")
    with pytest.raises(NetworkError, match=r"no drivable road section among 30.*Sentier"):
        read_bdtopo(path)


@needs_v3
def test_area_without_sections():
    with pytest.raises(NetworkError, match="no road section in the requested area"):
        read_bdtopo(V3, area=shapely.box(650000, 6860000, 651000, 6861000), margin_m=0.0)


def test_detect_schema_names_the_missing_columns():
    from territorial_geo.network import detect_schema

    assert detect_schema(["NATURE", "IMPORTANCE", "SENS", "ID"])[0] == "v2"
    assert detect_schema(["NATURE", "IMPORTANCE", "SENS", "VIT_MOY_VL", "ACCES_VL"])[0] == "v3"
    with pytest.raises(NetworkError, match="v3 Shapefile .*ACCES_VL missing"):
        detect_schema(["NATURE", "IMPORTANCE", "SENS", "VIT_MOY_VL"])
    with pytest.raises(NetworkError, match="v2 .*IMPORTANCE missing"):
        detect_schema(pd.Index(["NATURE", "SENS"]))
