"""End-to-end: the study command on the mirror data, and the map in a real browser."""

import json
import os
import shutil

import pandas as pd
import pytest

from territorial_geo import cli, i18n

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def artois_out(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "campagnes-artois"
    rc = cli.main(["--data-dir", str(data_dir), "--quiet", "study",
                   str(ROOT / "examples" / "campagnes-artois.toml"), "--out", str(out)])
    assert rc == 0
    return out


def test_study_files(artois_out):
    for f in ["zones.gpkg", "communes.csv", "zones.csv", "overlap.csv", "parameters.json",
              "map.html", "report.html", "drive_time.tif", "map_seats_2025.png",
              "communes.gpkg", "coverage.csv"]:
        assert (artois_out / f).is_file(), f
    assert not list(artois_out.parent.glob(".campagnes-artois.*"))  # no leftovers


def test_study_contents(artois_out):
    communes = pd.read_csv(artois_out / "communes.csv", dtype={"code": str})
    # the territory's 96 communes and every member of a zone outside it (Arras...)
    assert communes["in_territory"].sum() == 96 and len(communes) > 96
    assert communes["code"].str.len().eq(5).all()
    towns = ["62045", "62063", "62279", "62649", "62820"]
    zones = pd.read_csv(artois_out / "zones.csv", dtype={"zone": str})
    assert set(zones.loc[zones["variant"] == "zone", "zone"]) == set(towns)
    assert {"zone", "variant", "segment", "year", "seats"} <= set(zones.columns)
    assert set(zones["variant"]) == {"zone", "union", "exclusive", "without_pole", "net_of_supply",
                                     "territory_residents"}
    assert zones["seats"].notna().all() and (zones.query("variant != 'net_of_supply'")["seats"] >= 0).all()
    for t in towns:
        assert t in communes.loc[communes["zones"].fillna("").str.contains(t), "code"].tolist()
    for y in (2018, 2025):
        sel = zones[(zones["segment"] == "total") & (zones["year"] == y)]
        union = sel[sel["variant"] == "union"]["seats"].iloc[0]
        excl = sel[(sel["variant"] == "exclusive") & (sel["zone"] == "all")]["seats"].iloc[0]
        assert union == pytest.approx(excl, rel=1e-6)
        assert union <= sel[sel["variant"] == "zone"]["seats"].sum() + 1e-9
    duisans = zones[(zones["zone"] == "62279") & (zones["segment"] == "total") & (zones["year"] == 2025)]
    assert (duisans.set_index("variant")["seats"]["without_pole"]
            <= duisans.set_index("variant")["seats"]["zone"])
    ov = pd.read_csv(artois_out / "overlap.csv", dtype=str, index_col=0)
    assert list(ov.index) == towns and list(ov.columns) == towns
    params = json.loads((artois_out / "parameters.json").read_text())
    assert params["parameters"]["zoning"]["budget_min"] == 10
    assert "ASSUMPTION" in params["sources"]["demand.secondary_residence_rate"]
    assert params["input_sources"]["solos"].startswith("FALLBACK ESTIMATE")
    import geopandas as gpd

    polys = gpd.read_file(artois_out / "zones.gpkg", layer="zones")
    assert polys.crs.to_epsg() == 2154 and len(polys) == 5 * 4
    import rasterio

    with rasterio.open(artois_out / "drive_time.tif") as r:
        assert r.crs.to_epsg() == 2154 and r.count == 2
        band = r.read(1)
        assert (band[band >= 0] < 120).all()


def test_duisans_zone_counts_members_outside_the_territory(artois_out):
    """Issue 9: a zone's seats count every member, wherever it lives (Dainville, Marœuil...,
    outside the EPCI, are within 10 minutes of Duisans, 62279). Arras (62041) is not: 12 min
    away on the approximate network fitted to OSRM (7.8 min on the legal limits, issue 18);
    the communes within 10 minutes of it leave the "without the pole" variant."""
    zones = pd.read_csv(artois_out / "zones.csv", dtype={"zone": str})
    members = pd.read_csv(artois_out / "zone_members.csv", dtype={"zone": str, "code": str})
    duisans = members[members["zone"] == "62279"].set_index("code")
    assert "62041" not in duisans.index
    outside = duisans[~duisans["in_territory"]]
    assert len(outside) >= 2 and (outside["seats_total_2025"] > 0).all()
    assert str(duisans.loc["62279", "kept_without_pole"]) == "True"  # the town never is
    tot = zones[(zones["zone"] == "62279") & (zones["segment"] == "total")
                & (zones["year"] == 2025)].set_index("variant")
    assert tot.loc["zone", "seats"] == pytest.approx(duisans["seats_total_2025"].sum(), abs=1e-3)
    assert tot.loc["zone", "n_communes"] == len(duisans)
    # the seats outside the territory are the zone minus its residents
    assert tot.loc["zone", "seats"] - tot.loc["territory_residents", "seats"] == pytest.approx(
        outside["seats_total_2025"].sum(), abs=1e-3)
    kept = duisans[duisans["kept_without_pole"].astype(str) == "True"]
    dropped = duisans[duisans["kept_without_pole"].astype(str) == "False"]
    # members near Arras leave the "without the pole" variant, the others stay (some of
    # them outside the territory)
    assert len(dropped) >= 1 and (~kept["in_territory"]).any()
    assert tot.loc["without_pole", "seats"] == pytest.approx(kept["seats_total_2025"].sum(),
                                                             abs=1e-3)
    assert tot.loc["without_pole", "seats"] == pytest.approx(
        tot.loc["zone", "seats"] - dropped["seats_total_2025"].sum(), abs=1e-3)
    ov = pd.read_csv(artois_out / "overlap.csv", dtype={"zone": str}).set_index("zone")
    ov_t = pd.read_csv(artois_out / "overlap_territory.csv", dtype={"zone": str}).set_index("zone")
    assert ov.loc["62279", "62279"] == len(duisans)
    assert ov_t.loc["62279", "62279"] == duisans["in_territory"].sum() < len(duisans)
    params = json.loads((artois_out / "parameters.json").read_text())
    assert params["demand_rules_by_year"]["2025"]["teleworkers"] == "anchor 2025 (usage)"
    assert "observed in 2018 (the base year)" in params["input_sources"]["solos_growth"]
    assert "overlap_territory.csv" in (artois_out / "report.html").read_text()


def _communes(artois_out):
    c = pd.read_csv(artois_out / "communes.csv", dtype={
        "code": str, "zones": str, "exclusive_zone": str, "pole_dropped_from": str})
    for col in ("zones", "exclusive_zone", "pole_dropped_from"):
        c[col] = c[col].fillna("")
    return c


def test_every_zone_recomputed_from_communes_csv(artois_out):
    """Issue 19: a planner recomputes every zone's seats, solos, teleworkers and users, in
    every variant, segment and year, from communes.csv alone (no other file)."""
    c = _communes(artois_out)
    zones = pd.read_csv(artois_out / "zones.csv", dtype={"zone": str})
    member = {z: c["zones"].str.split(";").apply(lambda v, z=z: z in v) for z in
              zones.loc[zones["variant"] == "zone", "zone"].unique()}
    anywhere = c["zones"] != ""

    def mask(variant: str, zone: str) -> pd.Series:
        if variant == "union":
            return anywhere
        if variant == "exclusive":
            return anywhere if zone == "all" else c["exclusive_zone"] == zone
        if variant == "territory_residents":
            return c["in_territory"] & (anywhere if zone == "all" else member[zone])
        if variant == "without_pole":
            return member[zone] & ~c["pole_dropped_from"].str.split(";").apply(
                lambda v: zone in v)
        return member[zone]  # zone, net_of_supply

    checked = set()
    for r in zones.itertuples():
        m = mask(r.variant, r.zone)
        seats = c.loc[m, f"seats_{r.segment}_{r.year}"].sum()
        if r.variant == "net_of_supply":
            seats -= c.loc[m, "existing_seats"].sum()
        assert r.seats == pytest.approx(seats, abs=0.01), r
        assert r.n_communes == m.sum(), r
        assert r.teleworkers == pytest.approx(c.loc[m, "teleworkers"].sum(), abs=0.01), r
        assert r.solos == pytest.approx(c.loc[m, f"solos_{r.year}"].sum(), abs=0.01), r
        assert r.users == pytest.approx(c.loc[m, f"users_{r.segment}_{r.year}"].sum(),
                                        abs=0.01), r
        checked.add(r.variant)
    assert checked == {"zone", "union", "exclusive", "without_pole", "net_of_supply",
                       "territory_residents"}
    # teleworkers by CSP add up; each figure says where it came from
    csp = c[[f"tele_{k}" for k in ("agri", "artis", "cadres", "profint", "employes",
                                   "ouvriers")]].sum(axis=1)
    assert (csp - c["tele_csp"]).abs().max() < 1e-3
    assert {"census_match", "csp_shares_found", "solos_source",
            "services_share_weight"} <= set(c.columns)
    # members outside the territory are rows too, with their times to the market towns
    outside = c[~c["in_territory"]]
    assert len(outside) > 0 and (outside["min_time_to_town_min"] > 0).all()
    # no commune with non-salaried jobs is left without solo workers (issue 19: 46 were)
    assert (c.loc[c["non_salaried_2018"] > 0, "solos_data"] > 0).all()


def test_pole_variant_keeps_the_town_and_lists_the_dropped(artois_out):
    """Issue 19: the variant without Arras never drops Duisans; the dropped communes are
    listed with their times, each closer to Arras than to Duisans."""
    d = pd.read_csv(artois_out / "pole_dropped.csv", dtype={"zone": str, "code": str,
                                                            "pole": str})
    assert set(d["zone"]) == {"62279"} and set(d["pole"]) == {"62041"}
    assert set(d["rule"]) == {"closer_to_pole"}
    assert "62279" not in set(d["code"]) and len(d) > 0
    assert (d["time_to_pole_min"] < d["time_to_town_min"]).all()
    assert not d["market_town"].any()
    c = _communes(artois_out).set_index("code")
    assert set(c.index[c["pole_dropped_from"] == "62279"]) == set(d["code"])
    rep = (artois_out / "report.html").read_text(encoding="utf-8")
    part = rep[rep.index("Communes retirées sans le pôle concurrent"):]
    assert "Arras" in part and "le bourg-centre n&#x27;est jamais retiré" in part


def test_report_shows_counts_residents_and_the_teleworker_rule(artois_out):
    """Issue 19: the French report gives the persons behind the seats, the residents beside
    everyone, and why teleworker seats jump from 2018 to 2025."""
    rep = (artois_out / "report.html").read_text(encoding="utf-8")
    ans = rep[rep.index('class="dataframe t answer"'):]
    ans = ans[:ans.index("</table>")]
    assert "dont résidents 2018" in ans and "dont résidents 2025" in ans
    zones = pd.read_csv(artois_out / "zones.csv", dtype={"zone": str})
    res = zones[(zones["variant"] == "territory_residents") & (zones["zone"] == "all")
                & (zones["segment"] == "total") & (zones["year"] == 2025)].iloc[0]
    assert i18n.number(res["seats"], "fr") in ans
    assert "Les personnes derrière les places" in rep
    union = zones[(zones["variant"] == "union") & (zones["segment"] == "total")
                  & (zones["year"] == 2025)].iloc[0]
    assert i18n.number(union["solos"], "fr") in rep and i18n.number(union["users"], "fr") in rep
    assert "la règle change de sens" in rep
    rules = pd.read_csv(artois_out / "teleworker_rules.csv", dtype={"zone": str})
    u = rules[(rules["zone"] == "all") & (rules["year"] == 2018)].set_index("rule")
    # 2018 under the 2025 rule: 11 % of the teleworkers, 35 h a month, one seat 151.67 h
    tele = zones[(zones["variant"] == "union") & (zones["year"] == 2018)].iloc[0]["teleworkers"]
    assert u.loc["share_of_teleworkers", "seats_teleworkers"] == pytest.approx(
        tele * 0.11 * 35 / (35 * 52 / 12), rel=1e-3)
    assert i18n.number(u.loc["share_of_teleworkers", "seats_teleworkers"], "fr") in rep
    assert (artois_out / "tornado_union_2018.png").stat().st_size > 5000
    sens = pd.read_csv(artois_out / "sensitivity.csv", dtype={"zone": str})
    s18 = sens[(sens["zone"] == "all") & (sens["variant"] == "union")
               & (sens["segment"] == "total") & (sens["year"] == 2018)].set_index("parameter")
    # what moves 2018: the solo count and the 2018 share of users, not the telework rates
    assert s18.loc["demand.seats.teleworkers[0].share_of_users", "swing"] > 0
    assert s18.loc["demand.solos.fallback_sirene_ratio", "swing"] > 0
    assert s18.loc["demand.telework_preset", "swing"] == 0


def test_example_sites_with_their_own_seats(artois_out):
    """Issue 19: the reference study's two Arras sites carry their seats (8 and 20); the
    others take the seats_per_site ASSUMPTION, and third_places.csv says which."""
    tp = pd.read_csv(artois_out / "third_places.csv", dtype={"id": str, "code": str})
    t = tp.set_index("name")
    assert t.loc["MIXTE co-working", "seats"] == 8
    assert t.loc["Foyer numérique", "seats"] == 20
    assert t.loc["Foyer numérique", "code"] == "62041"
    assert set(t.loc[["MIXTE co-working", "Foyer numérique"], "seats_source"]) == {
        "supply file (seats column)"}
    assert (t.drop(["MIXTE co-working", "Foyer numérique"])["seats_source"]
            == "ASSUMPTION (seats_per_site)").all()
    # a zone's existing seats are the seats of the sites in its member communes
    supply = pd.read_csv(artois_out / "supply.csv", dtype={"zone": str}).set_index("zone")
    c = _communes(artois_out)
    for zone in ("62045", "62063", "62279", "62649", "62820"):
        members = c.loc[c["zones"].str.split(";").apply(lambda v, z=zone: z in v), "code"]
        assert supply.loc[zone, "seats"] == pytest.approx(
            tp.loc[tp["code"].isin(members), "seats"].sum()), zone


def test_study_uncertainty_outputs(artois_out):
    """Issue 11: zones.csv keeps its tidy layout and gains the Monte Carlo median and 80 %
    interval; the report and the map popups show them."""
    zones = pd.read_csv(artois_out / "zones.csv", dtype={"zone": str})
    q = ["seats_p10", "seats_p50", "seats_p90"]
    assert list(zones.columns[-3:]) == q and zones[q].notna().all().all()
    assert list(zones.columns[:5]) == ["zone", "zone_name", "variant", "segment", "year"]
    assert ((zones["seats_p10"] <= zones["seats_p50"]) & (zones["seats_p50"] <= zones["seats_p90"])).all()
    report = (artois_out / "report.html").read_text(encoding="utf-8")
    # the report is in French by default (issue 12): French headings and numbers
    assert "Incertitude et sensibilité" in report and "seats_p90" in report
    assert "demand.telework_preset" in report.split("Incertitude et sensibilité")[1]
    union = zones[(zones["variant"] == "union") & (zones["segment"] == "total")
                  & (zones["year"] == 2025)].iloc[0]
    assert i18n.number(union["seats_p90"], "fr") in report
    duisans = zones[(zones["zone"] == "62279") & (zones["variant"] == "zone")
                    & (zones["segment"] == "total") & (zones["year"] == 2025)].iloc[0]
    page = (artois_out / "map.html").read_text(encoding="utf-8")
    lo, hi = (i18n.number(duisans[c], "fr") for c in ("seats_p10", "seats_p90"))
    assert f"intervalle à 80 % : {lo} – {hi}" in page.replace("\\u0026", "&")
    sens = pd.read_csv(artois_out / "sensitivity.csv", dtype={"zone": str})
    assert {"parameter", "seats_low", "seats_high", "swing", "source"} <= set(sens.columns)
    for z in ("union", "62045", "62063", "62279", "62649", "62820"):
        assert (artois_out / f"tornado_{z}.png").stat().st_size > 5000


def test_mormal_study(data_dir, tmp_path):
    out = tmp_path / "mormal"
    rc = cli.main(["--data-dir", str(data_dir), "--quiet", "study",
                   str(ROOT / "examples" / "pays-de-mormal.toml"), "--out", str(out)])
    assert rc == 0
    communes = pd.read_csv(out / "communes.csv", dtype={"code": str})
    assert communes["in_territory"].sum() == 52  # and the zone members outside it
    zones = pd.read_csv(out / "zones.csv", dtype={"zone": str})
    assert set(zones["year"]) == {2018, 2025, 2030}
    tp = pd.read_csv(out / "third_places.csv")
    assert "La verrière" in tp["name"].tolist()


def test_bad_study_file_is_clear(tmp_path, data_dir, capsys):
    p = tmp_path / "bad.toml"
    p.write_text("name='x'\n[demand]\nbase_yaer = 2018\n")
    rc = cli.main(["--data-dir", str(data_dir), "study", str(p), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "demand.base_yaer" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_coverage_cli_json(data_dir, capsys):
    rc = cli.main(["--data-dir", str(data_dir), "coverage", "200043321", "--minutes", "10,20",
                   "--sites", "existing", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    s = out["share_population_within"]
    assert set(s) == {"10", "20"} and 0 < s["10"] <= s["20"] <= 1


def test_site_selection_cli(data_dir, capsys):
    rc = cli.main(["--data-dir", str(data_dir), "site-selection", "200069482", "--k", "2",
                   "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["chosen"]) == 2
    cov = [r["covered"] for r in out["curve"]]
    assert cov == sorted(cov)


def test_site_selection_among_automatic_market_towns(data_dir, tmp_path, capsys):
    # no market towns named, zoning.auto_towns: candidates are the density-grid towns
    f = tmp_path / "auto.toml"
    f.write_text('territory = "200069482"\n[zoning]\nauto_towns = true\n', encoding="utf-8")
    rc = cli.main(["--data-dir", str(data_dir), "site-selection", "--study", str(f),
                   "--candidates", "towns", "--k", "1", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    # the chosen site is one of the automatic towns (the territory's first five candidate
    # towns of the density grid); which one covers most depends on the drive times: Savy-
    # Berlette (bourg rural, 62785) on the network fitted to OSRM, Avesnes-le-Comte (62063)
    # on the legal limits (issue 18)
    from territorial_geo import sources, territory, zoning

    terr = territory.from_epci("200069482", data_dir=data_dir)
    auto = zoning.default_market_towns(terr, sources.Datasets(data_dir).density_grid()["dens"])
    assert len(out["chosen"]) == 1 and out["chosen"][0][-6:-1] in auto
    assert out["chosen"] == ["Savy-Berlette (62785)"] and out["status"] == "optimal"


def _browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    return sync_playwright(), CHROMIUM


def _offline_page(p, exe: str, *, width: int = 1300):
    """Headless chromium with one page that records page errors and aborts every non-file
    request (offline and deterministic: no tile server in CI, and a slow DNS failure must
    not stall the page). Returns ``(browser, page, errors)``."""
    b = p.chromium.launch(executable_path=exe, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])
    page = b.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
               else r.abort())
    return b, page, errors


@pytest.mark.browser
def test_map_in_real_browser(artois_out, tmp_path):
    pw, exe = _browser()
    with pw as p:
        b, page, errors = _offline_page(p, exe)
        page.goto((artois_out / "map.html").as_uri())
        page.wait_for_selector(".leaflet-control-layers-overlays", state="attached")
        page.hover(".leaflet-control-layers")  # the collapsed layer control opens
        overlays = page.locator(".leaflet-control-layers-overlays label")
        labels = [overlays.nth(i).inner_text().strip() for i in range(overlays.count())]
        assert sum(lbl.startswith("Zone") and lbl.endswith("10 min") for lbl in labels) == 5
        # themes are radio buttons: one at a time
        themes = page.locator(".leaflet-control-layers-base label")
        assert any("Places 2025" in themes.nth(i).inner_text() for i in range(themes.count()))
        assert "Bourgs-centres" in labels and any("Tiers-lieux" in lbl for lbl in labels)
        # 5 market towns + third places (Arras' MIXTE co-working lies in the ring)
        markers = page.locator("path.leaflet-interactive").count()
        assert markers > 96
        before = page.locator("path.leaflet-interactive").count()
        page.locator(".leaflet-control-layers-overlays label", has_text="Zone Duisans (62279)").locator(
            "input").click()
        after = page.locator("path.leaflet-interactive").count()
        assert after == before - 1  # the Duisans 10-min isochrone left the map
        page.screenshot(path=str(tmp_path / "map.png"))
        assert (tmp_path / "map.png").stat().st_size > 10_000
        page.goto((artois_out / "report.html").as_uri())
        assert "Places de travail par zone" in page.content()
        assert page.locator("img").count() >= 5
        b.close()
    assert errors == []
