"""The notes of the computing stages ("Estimations et hypothèses", input sources, supply
inventory) are structured messages (a catalogue key and its values) rendered in the
report's language; their English text stays what parameters.json and the CLI show."""

import pickle

import pandas as pd
import pytest

from territorial_geo import config, demand, exports, i18n, pipeline
from territorial_geo.i18n import Note, render
from territorial_geo.sources.cog import Harmonized

NNBSP = "\u202f"


def test_note_is_its_english_text_and_renders_french_numbers():
    n = Note("note_snap", median=12.0, max=2500.0, n_far=1, max_snap=2000.0, kmh=30.0)
    assert str(n) == render(n, "en")
    assert "farther than 2,000 m" in n and "at 30 km/h" in n
    fr = render(n, "fr")
    assert fr.startswith("Chefs-lieux accrochés au réseau : médiane 12 m, maximum 2" + NNBSP
                         + "500 m ; 1 à plus de 2" + NNBSP + "000 m")
    assert "30 km/h" in fr
    # a pickled note (a worker process's result) keeps its key and values
    back = pickle.loads(pickle.dumps(n))
    assert isinstance(back, Note) and render(back, "fr") == fr
    # a plain text passes through
    assert render("as it is", "fr") == "as it is"


@pytest.mark.parametrize(("spec", "value", "fr", "en"), [
    (",.1f", 1234.56, "1" + NNBSP + "234,6", "1,234.6"),
    (",.0f", 1234567, "1" + NNBSP + "234" + NNBSP + "567", "1,234,567"),
    ("+.1%", 0.123, "+12,3" + NNBSP + "%", "+12.3%"),
    (".2f", 3.14159, "3,14", "3.14"),
])
def test_localized_writes_french_and_english(spec, value, fr, en):
    assert i18n.localized(value, spec, "fr") == fr
    assert i18n.localized(value, spec, "en") == en


def test_number_is_localized_with_thousands():
    assert i18n.number(1234.56, "fr") == "1" + NNBSP + "234,6"
    assert i18n.number(1234.56, "en", digits=0) == "1,235"


def test_growth_note_french_way():
    g = demand.growth_note(2018, 2018, 0.06, "hold")
    assert g == "Solo count observed in 2018 (the base year), grown +6.0%/year after it."
    assert render(g, "fr") == ("Nombre d'indépendants observé en 2018 (l'année de base), "
                               "croissance de +6,0" + NNBSP + "% par an ensuite.")
    grown = demand.growth_note(2016, 2018, 0.10, "grow")
    assert "grown +10.0%/year to 2018 (x1.210" in grown
    assert "accru de +10,0" + NNBSP + "% par an jusqu'en 2018 (×1,210" in render(grown, "fr")
    back = demand.growth_note(2020, 2018, 0.10, "grow")
    assert "back-cast" in back and "rétropolé" in render(back, "fr")


def test_code_report_in_french():
    h = Harmonized(pd.DataFrame(), remapped={"01039": "01138"}, dropped=["99999"])
    assert h.report() == ("1 former code(s) merged into COG 2026 (01039->01138); "
                          "1 code(s) unknown in COG 2026 and dropped (99999)")
    assert render(h.report(), "fr") == (
        "1 ancien(s) code(s) fusionné(s) dans le COG 2026 (01039->01138) ; "
        "1 code(s) inconnu(s) du COG 2026 et écarté(s) (99999)")
    assert render(Harmonized(pd.DataFrame()).report(), "fr") == (
        "tous les codes correspondent au COG 2026")


@pytest.fixture(scope="module")
def artois_demand(artois, data_dir):
    return pipeline.commune_demand_from_data(artois.codes, config.DemandConfig(),
                                          data_dir=data_dir)


def test_demand_notes_and_sources_in_french(artois_demand):
    d = artois_demand
    assert all(isinstance(n, Note) for n in d.notes)
    en = "\n".join(d.notes + list(d.sources.values()))
    fr = "\n".join(render(n, "fr") for n in d.notes + list(d.sources.values()))
    # English as before for parameters.json and the CLI
    for phrase in ("Employed people by CSP are ESTIMATED", "ASSUMED rate of 0.05 per dwelling",
                   "Solo workers: FALLBACK ESTIMATE of the SIRENE count",
                   "1,357,000 registered micro-entrepreneurs for 1,012,000",
                   "Solo count observed in 2018"):
        assert phrase in en, phrase
    for phrase in ("FALLBACK", "ESTIMATED", "ASSUMED", "Solo", "Employed", "preset",
                   "former code", "per dwelling", "registered"):
        assert phrase not in fr, phrase
    # the same figures and sources, the French way
    for phrase in ("Les actifs occupés par CSP sont ESTIMÉS",
                   "taux SUPPOSÉ de 0,05 par logement",
                   "Indépendants : ESTIMATION DE REPLI du nombre SIRENE",
                   "part d'activités de bureau de 0,19 (plage 0,1 à 0,24, centrale 0,19",
                   "rapport SIRENE par non-salarié de 1,14 (plage 1 à 1,34",
                   f"ACOSS Stat'ur 289 : 1{NNBSP}357{NNBSP}000 micro-entrepreneurs inscrits "
                   f"pour 1{NNBSP}012{NNBSP}000",
                   "(ETGU18 - ETGZ18) / ETTOT18", "croissance de +6,0",
                   "jeu dares2004 : agri = 0 ; artis = 0 ; cadres = 0,3",
                   "ancien(s) code(s) fusionné(s) dans le COG 2026"):
        assert phrase in fr, phrase


def test_every_communes_column_has_a_header_in_words(artois_demand):
    cols = ["code", "nom", "in_territory", *artois_demand.table.columns, "population_2026", "zones",
            "exclusive_zone", "pole_dropped_from", "existing_seats", "min_time_to_town_min",
            "time_to_62045_min", "time_to_third_place_min", "nearest_third_place", "snap_m",
            "snap_far"]
    for lang in i18n.LANGS:
        heads = exports.commune_headers(cols, {"62045": "Aubigny-en-Artois"}, lang)
        assert [c for c in cols if c not in heads] == [], lang
    fr = exports.commune_headers(cols, {}, "fr")
    assert fr["census_match"] == "trouvée dans le recensement 2018"
    assert fr["users_total_2025"] == "usagers 2025 (estimation)"
