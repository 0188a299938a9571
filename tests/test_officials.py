"""Outputs for elected officials: the message catalogue (French by default, English on
demand), the map's search, zone legend, print view and offline background in a real
browser, and the answers-first report with its PDF export."""

import json
import re
import string
import struct

import pandas as pd
import pytest

from territorial_geo import cli, i18n, report, sources
from territorial_geo.config import config_from_dict
from territorial_geo.errors import ConfigError

from .conftest import ROOT
from .test_study import CHROMIUM, _browser

TOWNS = {"62045": "Aubigny-en-Artois", "62063": "Avesnes-le-Comte", "62279": "Duisans",
         "62649": "Pas-en-Artois", "62820": "Tincques"}


@pytest.fixture(scope="module")
def web_data_dir(data_dir):
    """The data directory with Leaflet (the map inlines it: no network needed to open it)."""
    sources.fetch(["leaflet"], data_dir=data_dir, quiet=True)
    return data_dir


@pytest.fixture(scope="module")
def fr_out(web_data_dir, tmp_path_factory):
    """The reference study in the default language, with the PDF report when Chromium is
    installed."""
    out = tmp_path_factory.mktemp("officials") / "artois-fr"
    args = ["--data-dir", str(web_data_dir), "study",
            str(ROOT / "examples" / "campagnes-artois.toml"), "--out", str(out)]
    if CHROMIUM:
        args.append("--pdf")
    assert cli.main(args) == 0
    return out


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_catalogue_complete_in_both_languages():
    assert set(i18n.LANGS) == set(i18n.MESSAGES)
    keys = [set(m) for m in i18n.MESSAGES.values()]
    assert all(k == keys[0] for k in keys), set.symmetric_difference(*keys)
    for key in keys[0]:
        # the same placeholders, so that any language formats with the same fields
        assert _fields(i18n.MESSAGES["fr"][key]) == _fields(i18n.MESSAGES["en"][key]), key
        assert i18n.MESSAGES["fr"][key].strip(), key


def test_messages_and_numbers():
    assert i18n.messages("fr")("seats_year", year=2025) == "Places 2025"
    assert i18n.messages("en")("seats_year", year=2025) == "Seats 2025"
    assert i18n.number(1234.56, "fr") == "1\u202f234,6"
    assert i18n.number(1234.56, "en") == "1,234.6"
    with pytest.raises(ValueError, match="'de'"):
        i18n.messages("de")


def test_lang_in_study_file_is_validated():
    cfg, _ = config_from_dict({"output": {"lang": "en"}})
    assert cfg.output.lang == "en"
    assert config_from_dict({})[0].output.lang == "fr"
    with pytest.raises(ConfigError, match=r"output\.lang 'de'"):
        config_from_dict({"output": {"lang": "de"}})
    with pytest.raises(ConfigError, match=r"output\.lang must be a string"):
        config_from_dict({"output": {"lang": 3.5}})


def _english_only_fragments() -> set[str]:
    """Literal pieces of the English labels that no French label contains."""
    fr_all = "\n".join(i18n.MESSAGES["fr"].values())
    out = set()
    for key, en in i18n.MESSAGES["en"].items():
        if en == i18n.MESSAGES["fr"][key]:
            continue
        for lit, *_ in string.Formatter().parse(en):
            lit = re.sub(r"<[^>]+>", " ", lit)
            for piece in re.split(r"\s{2,}|[()\[\]:;,.]", lit):
                piece = piece.strip()
                if len(piece) >= 8 and re.search(r"[a-z]{3}", piece) and piece not in fr_all:
                    out.add(piece)
    return out


def _visible_text(page_html: str) -> str:
    page_html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page_html, flags=re.S)
    page_html = re.sub(r"<img [^>]*>", " ", page_html)  # file names in alt, pixels in src
    return page_html


def _script_labels(page_html: str) -> list[str]:
    """The labels inside the map's scripts (layer names, tooltip aliases and texts, popups):
    string literals with a space (data keys have none) and template literals."""
    out = []
    for script in re.findall(r"<script>(.*?)</script>", page_html, flags=re.S):
        if "Leaflet 1.9" in script[:200]:
            continue  # the inlined library
        for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', script):
            try:
                text = json.loads(f'"{lit}"')
            except ValueError:
                continue
            if " " in text:
                out.append(text)
        out += re.findall(r"`([^`]*)`", script)
    return out


def test_french_outputs_have_no_english_labels(fr_out):
    fragments = _english_only_fragments()
    assert len(fragments) > 50  # the check has teeth
    rep = (fr_out / "report.html").read_text(encoding="utf-8")
    # notes from the computing stages and the raw parameter / dataset tables (keys, values
    # and sources as parameters.json gives them) are not catalogue labels: leave them out
    rep_labels = re.sub(r"<div class='note'>.*?</div>", " ", rep, flags=re.S)
    rep_labels = re.sub(r'<table[^>]*class="dataframe t raw".*?</table>', " ", rep_labels,
                        flags=re.S)
    map_html = (fr_out / "map.html").read_text(encoding="utf-8")
    for where, text in (("report.html", _visible_text(rep_labels)),
                        ("map.html", _visible_text(map_html)),
                        ("map.html scripts", "\n".join(_script_labels(map_html)))):
        leftovers = sorted(f for f in fragments if f in text)
        assert leftovers == [], f"English labels in the French {where}: {leftovers}"
    assert "<html lang='fr'>" in rep
    assert "Places de travail par zone et par année" in rep


def test_report_answers_first(fr_out):
    rep = (fr_out / "report.html").read_text(encoding="utf-8")
    heads = re.findall(r"<h2[^>]*>([^<]+)</h2>", rep)
    order = [heads.index(h) for h in ("Places de travail par zone et par année", "Carte",
                                      "Zones et recouvrements", "Variante sans pôle concurrent",
                                      "Couverture", "Méthode et paramètres")]
    assert order == sorted(order), heads
    # the answer table: every zone and the union, one column per year, French numbers
    ans = rep[rep.index('class="dataframe t answer"'):]
    ans = ans[:ans.index("</table>")]
    for name in TOWNS.values():
        assert f"<th>{name}</th>" in ans
    assert "toutes (union)" in ans and "184,8" in ans and "38,6" in ans
    assert "@media print" in rep


def test_seats_answer_shows_intervals():
    zs = pd.DataFrame({
        "zone": ["a", "a", "all"], "zone_name": ["Duisans", "Duisans", "all"],
        "variant": ["zone", "zone", "union"], "segment": "total", "year": [2018, 2025, 2025],
        "seats": [26.5, 140.6, 173.8], "seats_p10": [20.0, 120.0, 150.0],
        "seats_p90": [30.0, 160.0, 200.0]})
    t = report.seats_answer(zs, lang="fr")
    assert t.loc["Duisans", "Places 2025"] == "140,6 [120,0 – 160,0]"
    assert t.loc["toutes (union)", "Places 2025"] == "173,8 [150,0 – 200,0]"
    t = report.seats_answer(zs.drop(columns=["seats_p10", "seats_p90"]), lang="en")
    assert t.loc["Duisans", "Seats 2025"] == "140.6"
    assert list(t.index) == ["Duisans", "all (union)"]


def test_segment_detail_names_the_union_in_the_report_language():
    """The detail table (variant x zone) calls the union's rows as the answer table does,
    not "all" (the zones.csv code) in a French report."""
    zs = pd.DataFrame({"variant": ["zone", "union", "exclusive"],
                       "zone_name": ["Duisans", "all", "all"], "segment": "total",
                       "year": 2025, "seats": [140.6, 173.8, 173.8]})
    p = zs.pivot_table(index=["variant", "zone_name"], columns=["segment", "year"],
                       values="seats", aggfunc="sum")
    html = report._table(report._translate_pivot(p, "fr"), lang="fr")
    assert "<th>all</th>" not in html and html.count("<th>toutes (union)</th>") == 2
    assert "<th>Duisans</th>" in html and "173,8" in html
    en = report._table(report._translate_pivot(p, "en"), lang="en")
    assert en.count("<th>all (union)</th>") == 2


def test_selection_shares_are_percentages_like_the_coverage():
    """The new-sites table gives the covered share as the coverage table does: the
    existing sites' 0.0392 reads "3,9 %" (it read "0,0" beside a coverage of 3,9 %)."""
    sel = pd.DataFrame({"step": [0, 1], "site": ["", "Savy-Berlette (62785)"],
                        "gain": [0.0, 15527.0], "covered": [1309.0, 16836.0],
                        "share": [0.0392, 0.5041], "method": "mclp-cbc",
                        "status": "optimal", "gap": [0.0, 0.0123], "bound": 29453.0})
    t = report.selection_answer(sel, lang="fr")
    assert list(t["part"]) == ["3,9 %", "50,4 %"] and list(t["écart"]) == ["0,0 %", "1,2 %"]
    assert list(t["couverts"]) == [1309.0, 16836.0]  # counts left to the table's format
    assert list(report.selection_answer(sel, lang="en")["share"]) == ["3.9 %", "50.4 %"]


def test_coverage_detail_reads_as_percent_and_whole_people():
    """The coverage detail gave shares as 0,039 and people as "1 309,000": shares now read
    in percent, minutes and people without decimals."""
    cov = pd.DataFrame({"group": ["all"], "minutes": [10.0], "covered_population": [1309.0],
                        "total_population": [33399.0], "share_population": [0.039193],
                        "level": ["territory"]})
    html = report._table(report._coverage_detail(cov), lang="fr", index=False)
    assert "<th>share_population (%)</th>" in html and "<td>3,9</td>" in html
    assert "<td>1309</td>" in html and "<td>10</td>" in html and ",000" not in html


@pytest.mark.browser
def test_pdf_report(fr_out):
    if CHROMIUM is None:
        pytest.skip("chromium not installed")
    pdf = (fr_out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert 3 <= len(re.findall(rb"/Type\s*/Page[^s]", pdf)) <= 12


def test_english_on_request(web_data_dir, tmp_path, capsys):
    study = tmp_path / "en.toml"
    text = (ROOT / "examples" / "campagnes-artois.toml").read_text(encoding="utf-8")
    text = text.replace("[supply]\n", '[supply]\nplanned = ["62045"]\n')
    text = text.replace('file = "campagnes-artois', f'file = "{ROOT / "examples"}/campagnes-artois')
    study.write_text(text + '\n[output]\nlang = "en"\nstatic_maps = false\nraster = false\n',
                     encoding="utf-8")
    out = tmp_path / "en"
    assert cli.main(["--data-dir", str(web_data_dir), "study", str(study), "--out",
                     str(out)]) == 0
    said = capsys.readouterr().out
    assert "seats 2025 (union, each commune once): 184.8" in said
    rep = (out / "report.html").read_text(encoding="utf-8")
    assert "<html lang='en'>" in rep and "Seats per zone and year" in rep
    assert "Places de travail" not in rep
    map_html = (out / "map.html").read_text(encoding="utf-8")
    assert "Search a commune" in map_html and "Planned: Aubigny-en-Artois" in map_html
    # --lang overrides the study file
    assert cli.main(["--data-dir", str(web_data_dir), "--quiet", "study", str(study),
                     "--out", str(out), "--lang", "fr"]) == 0
    assert "Places de travail par zone" in (out / "report.html").read_text(encoding="utf-8")
    map_html = (out / "map.html").read_text(encoding="utf-8")
    assert "Projet : Aubigny-en-Artois" in map_html and "Planned: " not in map_html


def _png(width=256, height=256) -> bytes:
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xdd\xee\xdd" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _open_map(p, exe, path, *, tiles: bool):
    b = p.chromium.launch(executable_path=exe, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])
    page = b.new_page(viewport={"width": 1300, "height": 900})
    log = {"errors": [], "console": [], "failed": []}
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("console", lambda m: m.type == "error" and log["console"].append(m.text))
    page.on("requestfailed", lambda r: log["failed"].append(r.url))
    tile = _png()
    if tiles:
        page.route("https://tile.openstreetmap.org/**", lambda r: r.fulfill(
            status=200, content_type="image/png", body=tile))
    page.route(re.compile(r"^https?://(?!tile\.openstreetmap\.org/).*"), lambda r: r.abort())
    if not tiles:
        page.route("https://tile.openstreetmap.org/**", lambda r: r.abort())
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers-overlays")
    page.wait_for_function("document.body.getAttribute('data-background')")
    return b, page, log


@pytest.mark.browser
def test_map_for_officials_offline(fr_out, tmp_path):
    pw, exe = _browser()
    with pw as p:
        b, page, log = _open_map(p, exe, fr_out / "map.html", tiles=False)
        # no tile server: the light background stays under the data
        assert page.evaluate("document.body.getAttribute('data-background')") == "offline"
        bg_paths = page.locator(".leaflet-tg-background-pane path").count()
        assert bg_paths >= 96 + 4  # commune outlines (territory and ring) and main roads
        assert page.locator(".leaflet-tg-background-pane .tg-label").count() == 96
        # the zone legend names the five market towns, each with its colour
        zones = page.locator(".tg-zone-legend .tg-zone[data-zone]")
        assert zones.count() == 5
        got = {zones.nth(i).get_attribute("data-zone"): zones.nth(i).inner_text()
               for i in range(5)}
        assert set(got) == set(TOWNS)
        assert all(TOWNS[c] in t for c, t in got.items())
        colours = {zones.nth(i).locator(".tg-swatch").evaluate(
            "e => getComputedStyle(e).borderTopColor") for i in range(5)}
        assert len(colours) == 5
        # search, accents and case ignored: the commune's popup opens with its minutes to
        # each market town and its seats
        page.fill("#tg-search", "  FREVIN capelle")
        page.press("#tg-search", "Enter")
        page.wait_for_selector(".leaflet-popup-content")
        txt = page.inner_text(".leaflet-popup-content")
        assert "Frévin-Capelle (62363)" in txt
        assert all(name in txt for name in TOWNS.values())
        assert "Places 2025" in txt and "min (dans la zone)" in txt
        page.screenshot(path=str(tmp_path / "search.png"))
        page.fill("#tg-search", "Paris")
        page.press("#tg-search", "Enter")
        assert page.inner_text("#tg-search-msg") == "Aucune commune de ce nom"
        page.locator(".leaflet-popup-close-button").click()
        # the legend of the choropleth shown is open, the others closed
        open_legends = page.locator("details.tg-legend[open]")
        assert open_legends.count() == 1
        assert "Salariés en télétravail" in open_legends.inner_text()
        # fullscreen on, then off
        page.click("#tg-fullscreen")
        page.wait_for_function("!!document.fullscreenElement")
        page.click("#tg-fullscreen")
        page.wait_for_function("!document.fullscreenElement")
        # print view: controls hidden, title and zone legend kept, the view on screen fitted
        # to the (smaller) paper, a PDF page renders
        m = page.evaluate("Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))")
        page.evaluate(f"window._screen = {m}.getBounds()")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.set_viewport_size({"width": 1062, "height": 733})  # A4 landscape, 8 mm margins
        page.emulate_media(media="print")
        page.wait_for_timeout(200)
        assert page.evaluate(f"{m}.getBounds().pad(0.001).contains(window._screen)")
        for sel in (".leaflet-control-layers", "#tg-search", "#tg-print"):
            assert not page.locator(sel).is_visible(), sel
        assert page.locator(".tg-zone-legend").is_visible()
        assert page.locator(".tg-title").is_visible()
        assert page.locator("details.tg-legend:not([open])").first.is_hidden()
        page.screenshot(path=str(tmp_path / "print.png"))
        pdf = page.pdf(landscape=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
        page.emulate_media(media="screen")
        assert page.locator("#tg-print").is_visible()
        b.close()
    assert log["errors"] == []
    # the only failure allowed: the tile probe, blocked here on purpose
    assert log["failed"] and all(u.startswith("https://tile.openstreetmap.org/")
                                 for u in log["failed"]), log["failed"]
    assert all(m.startswith("Failed to load resource") for m in log["console"]), log["console"]
    assert len(log["console"]) <= 2 * len(log["failed"])


@pytest.mark.browser
def test_map_uses_tiles_when_reachable(fr_out):
    pw, exe = _browser()
    with pw as p:
        b, page, log = _open_map(p, exe, fr_out / "map.html", tiles=True)
        assert page.evaluate("document.body.getAttribute('data-background')") == "tiles"
        page.wait_for_selector("img.leaflet-tile-loaded")
        # the offline background left the map (still offered in the layer control)
        assert page.locator(".leaflet-tg-background-pane path").count() == 0
        label = page.locator(".leaflet-control-layers-overlays label",
                             has_text="Fond hors ligne")
        assert not label.locator("input").is_checked()
        tiles = page.locator(".leaflet-control-layers-overlays label",
                             has_text="Fond OpenStreetMap (en ligne)")
        assert tiles.locator("input").is_checked()
        assert "© contributeurs OpenStreetMap" in page.inner_text(".leaflet-control-attribution")
        b.close()
    assert log["errors"] == [] and log["console"] == []
