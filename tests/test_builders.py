"""Builders: official layouts (small hand-written fixtures, served from file:// URLs) in,
the loaders' files out, with values checked by hand."""

from __future__ import annotations

import gzip
import json
import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import shape

from territorial_geo import sources
from territorial_geo.errors import DataFormatError

from .official_layouts import (
    density_zip,
    feature,
    geojson_gz,
    iris_2022_csv_zip,
    iris_xls_zip,
    write_xls,
)


def square(x0, y0, d=0.02):
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]}


def pt(x, y):
    return {"type": "Point", "coordinates": [x, y]}


@pytest.fixture
def commune_sources(tmp_path):
    """Three communes of the official list (one with a misplaced town hall) + Paris 1er."""
    d = tmp_path / "official"
    contours = geojson_gz(d / "communes-50m.geojson.gz", [
        feature({"code": "62041", "nom": "Arras", "departement": "62", "region": "32",
                 "epci": "200033579"}, square(2.74, 50.28)),
        feature({"code": "62045", "nom": "Athies", "departement": "62", "region": "32",
                 "epci": "200033579"}, square(2.84, 50.30)),
        feature({"code": "2A004", "nom": "Ajaccio", "departement": "2A", "region": "94",
                 "epci": "242010056"}, square(8.70, 41.92)),
        # an arrondissement: carries `commune`, must not become a commune
        feature({"code": "75101", "nom": "Paris 1er", "departement": "75", "region": "11",
                 "commune": "75056"}, square(2.33, 48.86, 0.01)),
    ])
    mairies = geojson_gz(d / "mairies.geojson.gz", [
        feature({"commune": "62041", "nom": "Arras", "type": "mairie"}, pt(2.75, 50.29)),
        # 1 degree east of Athies: far outside its polygon -> replaced by an interior point
        feature({"commune": "62045", "nom": "Athies", "type": "mairie"}, pt(3.85, 50.31)),
        feature({"commune": "2A004", "nom": "Ajaccio", "type": "mairie"}, pt(8.71, 41.93)),
    ])
    clist = d / "communes.json"
    clist.write_text(json.dumps([
        {"code": "62041", "nom": "Arras", "type": "commune-actuelle", "zone": "metro",
         "departement": "62", "region": "32", "population": 42875},
        {"code": "62045", "nom": "Athies", "type": "commune-actuelle", "zone": "metro",
         "departement": "62", "region": "32", "population": 1011},
        {"code": "2A004", "nom": "Ajaccio", "type": "commune-actuelle", "zone": "metro",
         "departement": "2A", "region": "94", "population": 74299},
        {"code": "98735", "nom": "Papeete", "type": "commune-actuelle", "zone": "com",
         "departement": "987", "region": None, "population": 26926},
        {"code": "62006", "nom": "Ancienne", "type": "commune-deleguee", "chefLieu": "62041",
         "departement": "62", "region": "32"},
    ]), encoding="utf-8")
    epci = d / "epci.json"
    epci.write_text(json.dumps([
        {"code": "200033579", "nom": "CU d'Arras", "type": "CU",
         "membres": [{"code": "62041"}, {"code": "62045"}]},
        {"code": "242010056", "nom": "CA du Pays Ajaccien", "type": "CA",
         "membres": [{"code": "2A004"}]},
    ]), encoding="utf-8")
    return {"contours": contours, "mairies": mairies, "communes-list": clist, "epci": epci}


def test_build_communes_from_etalab_contours(tmp_path, commune_sources):
    s = commune_sources
    out = tmp_path / "communes.gpkg"
    sources.build_communes_gpkg(s["contours"], s["mairies"], s["communes-list"], s["epci"], out)
    c = gpd.read_file(out, layer="communes").set_index("code")
    assert sorted(c.index) == ["2A004", "62041", "62045"]  # no arrondissement, no COM
    assert c.loc["62041", "population"] == 42875.0  # from the official list
    assert c.loc["62045", "epci_nom"] == "CU d'Arras"
    assert c.loc["2A004", "epci_siren"] == "242010056"
    cl = gpd.read_file(out, layer="chefs_lieux").set_index("code")
    assert cl.loc["62041", "source"] == "mairie"
    assert (cl.loc["62041", "geometry"].x, cl.loc["62041", "geometry"].y) == pytest.approx((2.75, 50.29))
    assert cl.loc["62045", "source"] == "interior"
    assert shape(square(2.84, 50.30)).contains(cl.loc["62045", "geometry"])


def test_build_communes_mairie_distance_rule(tmp_path, commune_sources):
    """A town hall 100 m outside its commune is kept, one 300 m outside is not (200 m rule)."""
    s = commune_sources
    east = 2.74 + 0.02  # Arras square's east edge; 1e-3 deg of longitude at 50.3 N ~ 71 m
    for dx, expected in ((100 / 71_000, "mairie"), (300 / 71_000, "interior")):
        feats = json.loads(gzip.decompress(s["mairies"].read_bytes()))["features"]
        feats[0]["geometry"] = pt(east + dx, 50.29)
        m = geojson_gz(tmp_path / "m.geojson.gz", feats)
        out = tmp_path / f"c{expected}.gpkg"
        sources.build_communes_gpkg(s["contours"], m, s["communes-list"], s["epci"], out)
        assert gpd.read_file(out, layer="chefs_lieux").set_index("code").loc["62041", "source"] \
            == expected


def test_build_communes_refuses_other_cog_edition(tmp_path, commune_sources):
    s = commune_sources
    rows = json.loads(s["communes-list"].read_text())
    rows.append({"code": "62063", "nom": "Avesnes", "type": "commune-actuelle", "zone": "metro",
                 "departement": "62", "population": 900})
    s["communes-list"].write_text(json.dumps(rows))
    with pytest.raises(DataFormatError, match=r"1 current commune.*62063"):
        sources.build_communes_gpkg(s["contours"], s["mairies"], s["communes-list"], s["epci"],
                                    tmp_path / "x.gpkg")


def test_fetch_builds_communes_once_from_file_urls(tmp_path, commune_sources, monkeypatch,
                                                   capsys):
    """Issue 13 defect 7: a locally built communes file is present on the next run, not
    fetched again; a changed file is rebuilt. Progress goes to the callback only (issue 21)."""
    monkeypatch.chdir(tmp_path)
    urls = {k: v.as_uri() for k, v in commune_sources.items() if k in ("communes-list", "epci")}
    urls["communes"] = {"contours": commune_sources["contours"].as_uri(),
                        "mairies": commune_sources["mairies"].as_uri()}
    d = tmp_path / "data"
    said: list[str] = []
    res = sources.fetch(["communes"], data_dir=d, mirror=False, urls=urls, progress=said.append)
    assert [(r.name, r.action) for r in res] == [
        ("communes-list", "downloaded"), ("epci", "downloaded"), ("communes", "built")]
    assert [m.split(" from ")[0] for m in said] == [
        f"communes: building {sources.CATALOG['communes'].path}"]
    assert capsys.readouterr().out == ""
    again = sources.fetch(["communes"], data_dir=d, mirror=False, urls=urls)
    assert [r.action for r in again] == ["present", "present", "present"]
    st = sources.status(d).set_index("dataset")
    assert st.loc["communes", "checksum"] == "recorded" and st.loc["communes", "checksum_ok"]
    assert st.loc["communes", "origin"] == "built"
    with open(d / sources.CATALOG["communes"].path, "ab") as fh:
        fh.write(b"\0")  # damaged after the build
    assert sources.status(d).set_index("dataset").loc["communes", "checksum"] == "mismatch"
    third = sources.fetch(["communes"], data_dir=d, mirror=False, urls=urls)
    assert third[-1].action == "built"
    assert sources.load_communes(d).loc["62041", "nom"] == "Arras"


IRIS22 = ["IRIS", "COM", "TYP_IRIS", "LAB_IRIS", "P22_POP", "C22_POP15P",
          "C22_POP15P_STAT_GSEC11_21", "C22_POP15P_STAT_GSEC12_22", "C22_POP15P_STAT_GSEC13_23",
          "C22_POP15P_STAT_GSEC14_24", "C22_POP15P_STAT_GSEC15_25", "C22_POP15P_STAT_GSEC16_26",
          "C22_POP15P_STAT_GSEC32", "C22_POP15P_STAT_GSEC40"]
IRIS16 = ["IRIS", "REG", "DEP", "UU2010", "COM", "LIBCOM", "TRIRIS", "GRD_QUART", "LIBIRIS",
          "TYP_IRIS", "MODIF_IRIS", "LAB_IRIS", "P16_POP", "C16_POP15P", *(
              f"C16_POP15P_CS{k}" for k in range(1, 9))]


def iris_files(tmp_path):
    # 2022: Arras split into 2 IRIS (cadres 10/100 and 90/300 -> 100/400 = 25 %);
    # Athies one IRIS with 0 people aged 15+ (share undefined)
    f22 = iris_2022_csv_zip(tmp_path / "base-ic-evol-struct-pop-2022_csv.zip", IRIS22, [
        ["620410101", "62041", "H", "1", "160.5", "100", 1, 2, 10, 20, 30, 7, 20, 10],
        ["620410102", "62041", "H", "1", "350", "300", 0, 8, 90, 60, 62, 20, 50, 10],
        ["620450000", "62045", "Z", "5", "0", "0", 0, 0, 0, 0, 0, 0, 0, 0],
    ])
    # 2016 (PCS 2003, .xls): commune code written without its leading zero
    f16 = iris_xls_zip(tmp_path / "base-ic-evol-struct-pop-2016.zip", 2016, IRIS16, [
        ["010010000", "84", "01", "01000", "1001", "L'Abergement", "", "", "", "Z", "00", "5",
         767.0, 600.0, 30.0, 12.0, 60.0, 90.0, 100.0, 108.0, 150.0, 50.0],
    ])
    return f22, f16


def test_build_csp_shares_from_iris_files(tmp_path):
    f22, f16 = iris_files(tmp_path)
    out = tmp_path / "csp.parquet"
    sources.build_csp_shares({2022: f22, 2016: f16}, out)
    df = pd.read_parquet(out).set_index("COM")
    assert df.loc["62041", "dsp_csp_cadres_pct_22"] == pytest.approx(25.0)
    assert df.loc["62041", "dsp_csp_agri_pct_22"] == pytest.approx(0.25)  # 1/400
    assert df.loc["62041", "P22_POP"] == pytest.approx(510.5)
    assert df.loc["62041", "n_iris"] == 2
    assert math.isnan(df.loc["62045", "dsp_csp_ouvriers_pct_22"])
    assert df.loc["01001", "dsp_csp_cadres_pct_16"] == pytest.approx(10.0)  # CS3 60/600
    assert df.loc["01001", "dsp_csp_inactifs_pct_16"] == pytest.approx(50 / 6)
    assert "97501" not in df.index  # the overseas collectivities' file is not read
    assert df.loc["01001", "P16_POP"] == 767.0


def test_csp_shares_wrong_file_names_the_missing_variable(tmp_path):
    bad = iris_2022_csv_zip(tmp_path / "x.zip", IRIS22[:-1], [["620410101", "62041", "H", "1",
                                                             "1", "1", 0, 0, 0, 0, 0, 0, 0]])
    with pytest.raises(DataFormatError, match="C22_POP15P_STAT_GSEC40"):
        sources.build_csp_shares({2022: bad}, tmp_path / "o.parquet")


DENS_HEADER = ["CODGEO", "LIBGEO", "DENS", "LIBDENS", "PMUN13", "P1", "P2", "P3", "P4", "P5",
               "P6", "P7"]


def test_build_density_grid_picks_the_edition(tmp_path, data_dir):
    z = density_zip(tmp_path / "grille_densite_7_niveaux_2015-2020.zip", {
        # the 2016 sheet comes first in the zip: the builder must pick the edition by name
        2016: ([h.replace("13", "14") for h in DENS_HEADER],
               [[1001, "L'Abergement-Clémenciat", 5, "Bourgs ruraux", 770, 0, 0, 0, 0, 90, 10, 0]]),
        2015: (DENS_HEADER, [[1001, "L'Abergement-Clémenciat", 6, "Rural à habitat dispersé",
                              767, 0, 0, 0, 0, 0, 78.6, 21.4],
                             ["2A004", "Ajaccio", 2, "Centres urbains intermédiaires", 67507,
                              0, 80, 0, 0, 0, 20, 0]]),
    })
    out = tmp_path / "grid.csv"
    sources.build_density_grid(z, out)
    raw = sources.read_csv(out, sep=";", engine="c")
    assert raw["CODGEO"].tolist() == ["01001", "2A004"]
    assert raw["DENS"].tolist() == ["6", "2"]  # the 2015 edition, not 2016
    # and through fetch from a file:// URL, then the loader, on the real commune list
    d = tmp_path / "data"
    sources.fetch(["communes-list"], data_dir=d, mirror=data_dir)
    sources.fetch(["density-grid"], data_dir=d, mirror=False,
                  urls={"density-grid": z.as_uri()})
    g = sources.load_density_grid(d)
    assert g.loc["01001", "dens"] == 6 and g.loc["2A004", "dens"] == 2


def test_density_grid_rejects_levels_outside_1_to_7(tmp_path):
    z = density_zip(tmp_path / "g.zip", {2015: (DENS_HEADER, [[1001, "x", 9, "?", 1, 0, 0, 0,
                                                               0, 0, 0, 0]])})
    with pytest.raises(DataFormatError, match="DENS outside 1..7"):
        sources.build_density_grid(z, tmp_path / "o.csv")


def naf_files(tmp_path):
    s = write_xls(tmp_path / "naf2008_5_niveaux.xls", ["NIV5", "NIV4", "NIV3", "NIV2", "NIV1"], [
        ["70.22Z", "70.22", "70.2", "70", "M"],
        ["01.11Z", "01.11", "01.1", "01", "A"],
    ], sheet="naf2008_5_niveaux")
    labels = {
        1: [["SECTION A", "Agriculture, sylviculture et pêche"],
            ["SECTION M", "Activités spécialisées, scientifiques et techniques"]],
        2: [["01", "Culture et production animale"], ["70", "Activités des sièges sociaux"]],
        3: [["01.1", "Cultures non permanentes"], ["70.2", "Conseil de gestion"]],
        4: [["01.11", "Culture de céréales"], ["70.22", "Conseil pour les affaires"]],
        5: [["01.11Z", "Culture de céréales"],
            ["70.22Z", "Conseil pour les affaires et autres conseils de gestion"]],
    }
    paths = {k: write_xls(tmp_path / f"naf2008_liste_n{k}.xls", ["Code", "Libellé"], rows,
                          title_rows=(f"Liste des niveaux {k}",))
             for k, rows in labels.items()}
    return s, paths


def test_build_naf_joins_structure_and_labels(tmp_path):
    s, labels = naf_files(tmp_path)
    out = tmp_path / "naf.csv"
    sources.build_naf(s, labels, out)
    df = pd.read_csv(out, dtype=str).set_index("NIV5")
    assert df.loc["70.22Z", "LIB_NIV5"] == "Conseil pour les affaires et autres conseils de gestion"
    assert df.loc["70.22Z", "LIB_NIV1"] == "Activités spécialisées, scientifiques et techniques"
    assert df.loc["01.11Z", "NIV2"] == "01"  # leading zero kept
    labels[5] = write_xls(tmp_path / "n5bis.xls", ["Code", "Libellé"], [["01.11Z", "x"]])
    with pytest.raises(DataFormatError, match="70.22Z"):
        sources.build_naf(s, labels, tmp_path / "o.csv")


def test_employee_bands_transcription_matches_the_pinned_edition(tmp_path, data_dir):
    out = tmp_path / "bands.csv"
    sources.build_employee_bands(out)
    assert sources.sha256_of(out) == sources.CATALOG["sirene-bands"].sha256
    # the built file is recognised as the pinned edition by fetch
    res = sources.fetch(["sirene-bands"], data_dir=tmp_path / "d", mirror=False)
    assert res[0].action == "built"
    assert sources.status(tmp_path / "d").set_index("dataset").loc["sirene-bands", "checksum"] \
        == "pinned"


def test_every_builder_named_in_the_catalog_exists():
    named = {d.official.builder for d in sources.CATALOG.values()
             if d.official and d.official.builder not in (None, "npm-pack")}
    assert named == set(sources.BUILDERS)

