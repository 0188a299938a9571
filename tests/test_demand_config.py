import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territorial_geo import config, demand, i18n, pipeline, sources, supply
from territorial_geo.errors import ConfigError, DataFormatError, DataMissingError

from .conftest import ROOT

H = 35 * 52 / 12


def _demand(tele, solos, cfg=None, data_year=2018):
    cfg = cfg or config.DemandConfig()
    idx = pd.Index([f"0100{i}" for i in range(len(tele))])
    t = demand.seats_table(pd.Series(tele, index=idx, dtype=float),
                           pd.Series(solos, index=idx, dtype=float), data_year, cfg,
                           cfg.output_years)
    return demand.CommuneDemand(t.assign(teleworkers=tele), cfg.output_years,
                                rules=demand.interpolation_rules(cfg.seats, cfg.output_years))


def test_hand_computed_seats():
    # 100 solos in 2018, 400 teleworkers, default parameters
    d = _demand([400.0], [100.0])
    row = d.table.iloc[0]
    assert row["seats_solos_2018"] == pytest.approx(100 * 0.25 * 35 / H)  # 5.769...
    assert row["seats_solos_2018"] == pytest.approx(5.7692, abs=1e-4)
    assert row["seats_teleworkers_2018"] == pytest.approx(row["seats_solos_2018"] * 20 / 80)
    solos_2025 = 100 * 1.06 ** 7
    assert row["solos_2025"] == pytest.approx(solos_2025)
    assert row["seats_solos_2025"] == pytest.approx(solos_2025 * 0.30 * 35 / H)
    assert row["seats_teleworkers_2025"] == pytest.approx(400 * 0.11 * 35 / H)  # 10.154
    assert row["seats_total_2025"] == pytest.approx(row["seats_solos_2025"] + 400 * 0.11 * 35 / H)


def test_occupancy_target_needs_more_seats():
    # a target occupancy of 80 %: the same hours need 1/0.8 = 1.25 times the seats
    cfg = config.DemandConfig(seats=config.SeatsConfig(occupancy=0.8))
    row = _demand([400.0], [100.0], cfg).table.iloc[0]
    assert row["seats_solos_2018"] == pytest.approx(100 * 0.25 * 35 / (H * 0.8))  # 7.2115
    assert row["seats_teleworkers_2025"] == pytest.approx(400 * 0.11 * 35 / (H * 0.8))


def test_employed_and_teleworkers_by_hand():
    actives = pd.Series([1000.0], index=["62045"])
    shares = pd.DataFrame({"agri": [5.0], "artis": [5.0], "cadres": [10.0], "profint": [20.0],
                           "employes": [30.0], "ouvriers": [30.0]}, index=["62045"])
    emp = demand.employed_by_csp(actives, shares)
    assert emp.loc["62045", "cadres"] == pytest.approx(100.0)
    assert emp.sum(axis=1).iloc[0] == pytest.approx(1000.0)
    tw = demand.teleworkers(emp, pd.Series([40.0], index=["62045"]),
                            config.TELEWORK_PRESETS["dares2004"], 0.05)
    # 0.30*100 + 0.11*200 + 0.039*300 + 0 + 0.05*40
    assert tw.loc["62045", "teleworkers"] == pytest.approx(30 + 22 + 11.7 + 2.0)


def test_interpolation_and_hold():
    cfg = config.DemandConfig(years=[2021, 2030])
    d = _demand([400.0], [100.0], cfg)
    share, hours = demand.solo_usage(cfg.seats.solos, 2021)
    assert share == pytest.approx(0.25 + 3 / 7 * 0.05)
    assert demand.solo_usage(cfg.seats.solos, 2030)[0] == 0.30
    assert demand.solo_usage(cfg.seats.solos, 2010)[0] == 0.25
    w = 3 / 7
    s21 = d.table["seats_solos_2021"].iloc[0]
    expected = (1 - w) * s21 * 0.25 + w * 400 * 0.11 * 35 / H
    assert d.table["seats_teleworkers_2021"].iloc[0] == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 5000), min_size=1, max_size=6), st.data())
def test_invariants(tele, data):
    solos = data.draw(st.lists(st.floats(0, 500), min_size=len(tele), max_size=len(tele)))
    d = _demand(tele, solos)
    t = d.table
    ratio_expected = 1.06 ** 7 * 30 / 25
    mask = t["seats_solos_2018"] > 0
    assert np.allclose(t.loc[mask, "seats_solos_2025"] / t.loc[mask, "seats_solos_2018"],
                       ratio_expected)
    assert np.allclose(t["seats_teleworkers_2018"], t["seats_solos_2018"] * 20 / 80)
    assert (t.filter(like="seats_") >= 0).all().all()
    zero = _demand([0.0] * len(tele), [0.0] * len(tele)).table
    assert (zero.filter(like="seats_") == 0).all().all()
    # monotone in the usage shares and rates
    cfg = config.DemandConfig()
    cfg.seats.solos[1].usage_share = 0.40
    cfg.seats.teleworkers[1].usage_share = 0.20
    more = _demand(tele, solos, cfg).table
    assert (more["seats_total_2025"] >= t["seats_total_2025"] - 1e-9).all()
    # zones: union <= sum of zones, exclusive sums to union
    codes = list(t.index)
    k = data.draw(st.integers(1, 3))
    membership = {f"z{i}": sorted(set(data.draw(st.lists(st.sampled_from(codes), min_size=1))))
                  for i in range(k)}
    union = sorted({c for v in membership.values() for c in v})
    excl = pd.Series({c: next(z for z, v in membership.items() if c in v) for c in union})
    zt = demand.zone_table(d, membership, excl)
    for y in d.years:
        sel = (zt["segment"] == "total") & (zt["year"] == y)
        zsum = zt[sel & (zt["variant"] == "zone")]["seats"].sum()
        u = zt[sel & (zt["variant"] == "union")]["seats"].iloc[0]
        ex = zt[sel & (zt["variant"] == "exclusive") & (zt["zone"] != "all")]["seats"].sum()
        assert u <= zsum + 1e-9
        assert ex == pytest.approx(u)


def test_real_artois_demand(artois, data_dir):
    d = pipeline.commune_demand_from_data(artois.codes, config.DemandConfig(), data_dir=data_dir)
    t = d.table
    assert len(t) == 96
    for col in ["teleworkers", "solos_2018", "seats_total_2018", "seats_total_2025"]:
        assert np.isfinite(t[col]).all() and (t[col] >= 0).all()
    assert t["census_match"].all()
    assert any("ESTIMATE" in n for n in d.notes)
    assert any("ASSUMED" in n for n in d.notes)
    assert d.sources["solos"].startswith("FALLBACK ESTIMATE")
    assert "2018 comparateur" in d.sources["solos"]
    assert (t["solos_data_year"] == 2018).all()
    assert 500 < t["teleworkers"].sum() < 3000


def test_real_demand_with_sirene(artois, data_dir):
    cfg = config.DemandConfig()
    cfg.solos.sirene_file = str(ROOT / "tests" / "fixtures" / "StockEtablissement_sample.csv")
    cfg.solos.sirene_year = 2024
    d = pipeline.commune_demand_from_data(artois.codes, cfg, data_dir=data_dir)
    assert d.table.loc["62045", "solos_data"] == 3
    # default rule "hold": the 2024 count stands for 2018, grown after 2018
    assert d.table.loc["62045", "solos_2018"] == pytest.approx(3)
    assert d.table.loc["62045", "solos_2025"] == pytest.approx(3 * 1.06 ** (2025 - 2018))
    assert d.sources["solos"].startswith("SIRENE stock")
    assert "HELD" in d.sources["solos_growth"]
    cfg.solos.data_year_rule = "grow"
    d = pipeline.commune_demand_from_data(artois.codes, cfg, data_dir=data_dir)
    assert d.table.loc["62045", "solos_2025"] == pytest.approx(3 * 1.06 ** (2025 - 2024))
    assert d.table.loc["62045", "solos_2018"] == pytest.approx(3 * 1.06 ** (2018 - 2024))


def test_config_examples_load():
    for name in ("campagnes-artois", "pays-de-mormal"):
        cfg, keys = config.load_config(ROOT / "examples" / f"{name}.toml")
        assert cfg.zoning.market_towns
        assert "zoning.market_towns" in keys
    prov = cfg.provenance(keys)
    assert "ASSUMPTION" in prov["demand.secondary_residence_rate"]


@pytest.mark.parametrize(
    "data,key",
    [({"zoning": {"budget_mn": 10}}, "zoning.budget_mn"),
     ({"demand": {"seats": {"solos": [{"year": 2018, "usage_share": 1.5}]}}},
      "demand.seats.solos[0].usage_share"),
     ({"demand": {"secondary_residence_rate": -0.1}}, "demand.secondary_residence_rate"),
     ({"demand": {"years": [2010]}}, "demand.years[0]"),
     ({"demand": {"horizon_year": 2010}}, "demand.horizon_year"),
     ({"demand": {"telework_preset": "dares1999"}}, "demand.telework_preset"),
     ({"demand": {"telework_rates": {"cadres": 2}}}, "demand.telework_rates.cadres"),
     ({"zoning": {"budget_min": 0}}, "zoning.budget_min"),
     ({"demand": {"seats": {"teleworkers": [{"year": 2018}]}}}, "demand.seats.teleworkers[0]"),
     ({"zoning": {"bands": "ten"}}, "zoning.bands")],
)
def test_config_rejects(data, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        config.config_from_dict(data)


def test_config_file_errors(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("name = 'x'\n[zoning\n")
    with pytest.raises(ConfigError, match="bad.toml: invalid TOML"):
        config.load_config(p)
    with pytest.raises(ConfigError, match="not found"):
        config.load_config(tmp_path / "missing.toml")


def test_presets_are_sourced():
    for name in config.TELEWORK_PRESETS:
        assert name in config.PRESET_SOURCES
    assert demand.telework_rates(config.DemandConfig())["cadres"] == 0.30
    assert math.isclose(config.SeatsConfig().seat_hours_per_month, 151.666, rel_tol=1e-4)


# ---------------------------------------------------------------- interpolation (issue 13, 5)


def _seats_cfg(tele_anchors, solo_anchors=None, years=(2018, 2028)):
    cfg = config.DemandConfig(base_year=2018, horizon_year=2028, years=list(years))
    cfg.solos.growth_rate = 0.0
    cfg.seats.teleworkers = tele_anchors
    cfg.seats.solos = solo_anchors or [config.SoloAnchor(2018, 0.25, 35.0),
                                       config.SoloAnchor(2028, 0.35, 35.0)]
    cfg.validate("demand")
    return cfg


def test_interpolation_same_kind_share_of_users():
    # s = 0.20 in 2018, 0.40 in 2028: in 2023 s = 0.30, tele seats = solo seats x 0.3 / 0.7
    cfg = _seats_cfg([config.TeleworkerAnchor(2018, share_of_users=0.20),
                      config.TeleworkerAnchor(2028, share_of_users=0.40)], years=[2023])
    d = _demand([0.0], [100.0], cfg)
    solo_2023 = 100 * 0.30 * 35 / H   # solo usage 25 % -> 35 %: 30 % in 2023
    assert d.table["seats_solos_2023"].iloc[0] == pytest.approx(solo_2023)
    assert d.table["seats_teleworkers_2023"].iloc[0] == pytest.approx(solo_2023 * 0.3 / 0.7)
    # not the average of the anchors' seats (0.5 x 0.25 + 0.5 x 0.6667 = 0.4583 x solo)
    assert d.table["seats_teleworkers_2023"].iloc[0] == pytest.approx(solo_2023 * 0.428571,
                                                                     rel=1e-5)
    assert "interpolated between 2018 and 2028" in d.rules[2023]["teleworkers"]
    assert "share_of_users parameters" in d.rules[2023]["teleworkers"]


def test_interpolation_same_kind_usage():
    # usage 10 % x 20 h in 2018, 30 % x 40 h in 2028: in 2023 20 % x 30 h = 6 h per teleworker
    cfg = _seats_cfg([config.TeleworkerAnchor(2018, usage_share=0.10, hours_per_month=20.0),
                      config.TeleworkerAnchor(2028, usage_share=0.30, hours_per_month=40.0)],
                     years=[2023])
    d = _demand([1000.0], [0.0], cfg)
    assert d.table["seats_teleworkers_2023"].iloc[0] == pytest.approx(1000 * 6 / H)
    assert d.table["seats_teleworkers_2023"].iloc[0] == pytest.approx(39.5604, abs=1e-4)
    # the anchors themselves
    assert d.table["seats_teleworkers_2018"].iloc[0] == pytest.approx(1000 * 2 / H)
    assert d.table["seats_teleworkers_2028"].iloc[0] == pytest.approx(1000 * 12 / H)
    assert d.rules[2018]["teleworkers"] == "anchor 2018 (usage)"


def test_same_anchors_give_the_same_seats_for_both_segments():
    # issue 13: same anchors, same counts -> solo and teleworker seats agree in every year
    anchors = [(2018, 0.10, 20.0), (2028, 0.30, 40.0)]
    cfg = _seats_cfg([config.TeleworkerAnchor(y, usage_share=u, hours_per_month=h)
                      for y, u, h in anchors],
                     [config.SoloAnchor(y, u, h) for y, u, h in anchors],
                     years=[2020, 2023, 2026])
    d = _demand([500.0], [500.0], cfg)
    for y in cfg.output_years:
        assert d.table[f"seats_teleworkers_{y}"].iloc[0] == pytest.approx(
            d.table[f"seats_solos_{y}"].iloc[0])


def test_interpolation_different_kinds_interpolates_seats():
    # 2018: teleworkers are 20 % of users; 2028: 11 % of teleworkers x 35 h
    cfg = _seats_cfg([config.TeleworkerAnchor(2018, share_of_users=0.20),
                      config.TeleworkerAnchor(2028, usage_share=0.11, hours_per_month=35.0)],
                     years=[2021])
    d = _demand([400.0], [100.0], cfg)
    solo_2021 = 100 * 0.28 * 35 / H   # solo usage 25 % -> 35 %: 28 % in 2021
    expected = 0.7 * solo_2021 * 0.25 + 0.3 * 400 * 0.11 * 35 / H
    assert d.table["seats_teleworkers_2021"].iloc[0] == pytest.approx(expected)
    assert d.table["seats_teleworkers_2021"].iloc[0] == pytest.approx(4.1769, abs=1e-4)
    assert d.rules[2021]["teleworkers"].startswith("seats interpolated between the 2018 anchor "
                                                   "(share_of_users) and the 2028 anchor (usage)")
    assert "0.3000" in d.rules[2021]["teleworkers"]
    assert "usage parameters interpolated" in d.rules[2021]["solos"]


def test_interpolation_rules_held_beyond_anchors():
    seats = config.SeatsConfig()
    r = demand.interpolation_rules(seats, [2018, 2025, 2030])
    assert r[2018] == {"solos": "anchor 2018 (usage)", "teleworkers": "anchor 2018 (share_of_users)"}
    assert r[2030]["teleworkers"] == "held from the 2025 anchor 2025 (usage)"


# ---------------------------------------------------------------- growth base (issue 13, 6)


@pytest.mark.parametrize("rule,data_year,s2018,s2025", [
    ("hold", 2014, 100.0, 150.3630),   # 100 x 1.06^7
    ("grow", 2014, 126.2477, 189.8299),  # 100 x 1.06^4, 100 x 1.06^11
    ("hold", 2024, 100.0, 150.3630),
    ("grow", 2024, 70.4961, 106.0),     # 100 x 1.06^-6, 100 x 1.06^1
    ("hold", 2018, 100.0, 150.3630),
    ("grow", 2018, 100.0, 150.3630),
])
def test_growth_base_rule(rule, data_year, s2018, s2025):
    cfg = config.DemandConfig()
    cfg.solos.data_year_rule = rule
    d = _demand([0.0], [100.0], cfg, data_year=data_year)
    assert d.table["solos_2018"].iloc[0] == pytest.approx(s2018, abs=1e-4)
    assert d.table["solos_2025"].iloc[0] == pytest.approx(s2025, abs=1e-4)


def test_growth_note_says_the_rule():
    assert "HELD as the 2018" in demand.growth_note(2014, 2018, 0.06, "hold")
    n = demand.growth_note(2014, 2018, 0.06, "grow")
    assert "grown +6.0%/year to 2018 (x1.262" in n
    assert "back-cast" in demand.growth_note(2024, 2018, 0.06, "grow")
    with pytest.raises(ConfigError, match="data_year_rule"):
        config.config_from_dict({"demand": {"solos": {"data_year_rule": "compound"}}})
    with pytest.raises(ConfigError, match="data_year_rule"):
        demand.solos_at(1.0, 2020, data_year=2014, base_year=2018, growth_rate=0.06, rule="x")
    assert config.DemandConfig().solos.data_year_rule == "hold"
    assert "docs/method.md" in config.DEFAULT_SOURCES["demand.solos.data_year_rule"]


# ---------------------------------------------------------------- pure stage (I/O at the edges)


def _inputs():
    # rows in the comparateur's schema (base_cc_comparateur.CSV columns, values by hand)
    census = pd.DataFrame({
        "P18_POP": [500.0, 80.0, 300.0], "P18_ACT1564": [200.0, 30.0, 120.0],
        "P18_RSECOCC": [10.0, 0.0, 0.0],
        "P18_EMPLT": [120.0, 10.0, 50.0], "P18_EMPLT_SAL": [100.0, 0.0, 45.0],
        "ETTOT18": [10.0, 0.0, 30.0], "ETGU18": [6.0, 0.0, 10.0], "ETGZ18": [2.0, 0.0, 4.0],
    }, index=["62001", "62003", "62004"])
    shares = pd.DataFrame({"agri": [0.0], "artis": [0.0], "cadres": [25.0], "profint": [25.0],
                           "employes": [25.0], "ouvriers": [25.0]}, index=["62001"])
    return census, shares


def test_commune_demand_from_frames_by_hand():
    census, shares = _inputs()
    d = demand.commune_demand(["62001", "62002"], config.DemandConfig(), census=census,
                              csp_shares=shares)
    t = d.table
    # 50 employed per CSP 3-6: 0.30x50 + 0.11x50 + 0.039x50 + 0 + 0.05 x 10 secondary res.
    assert t.loc["62001", "teleworkers"] == pytest.approx(15 + 5.5 + 1.95 + 0.5)
    assert t.loc["62002", "teleworkers"] == 0.0
    # fallback: (120 - 100) non-salaried x smoothed services share x 0.19 office share x
    # 1.14 SIRENE ratio; the rows pool to p = (4 + 6) / (10 + 30) = 0.25 and k = 22.33
    # (test_prior_strength_by_hand): share (4 + 22.33 x 0.25) / (10 + 22.33) = 0.2964
    k = 0.6 / 14
    k = (1 - k) / k
    share = (4 + k * 0.25) / (10 + k)
    assert share == pytest.approx(0.2964, abs=1e-4)
    solos = 20 * share * 0.19 * 1.14
    assert t.loc["62001", "non_salaried_2018"] == 20.0
    assert t.loc["62001", "services_share_2018"] == pytest.approx(share)
    assert t.loc["62001", "solos_data"] == pytest.approx(solos)
    assert t.loc["62002", "solos_data"] == 0.0  # no census row
    # 2018 is the base year: no growth to 2018, +6 %/year after it
    assert (t["solos_data_year"] == 2018).all()
    assert t.loc["62001", "solos_2018"] == pytest.approx(solos)
    assert t.loc["62001", "solos_2025"] == pytest.approx(solos * 1.06 ** 7)
    assert t.loc["62001", "seats_solos_2018"] == pytest.approx(solos * 0.25 * 35 / H)
    # users: 25 % of the solos in 2018; teleworkers are 20 % of users (20/80 of solo users)
    assert t.loc["62001", "users_solos_2018"] == pytest.approx(solos * 0.25)
    assert t.loc["62001", "users_teleworkers_2018"] == pytest.approx(solos * 0.25 * 0.25)
    # 2025: 11 % of the teleworkers
    assert t.loc["62001", "users_teleworkers_2025"] == pytest.approx(
        0.11 * t.loc["62001", "teleworkers"])
    assert not t.loc["62002", "census_match"]
    assert any("62002" in n for n in d.notes)
    assert d.sources["solos_growth"].startswith("Solo count observed in 2018 (the base year)")
    assert d.sources["solos"].startswith("FALLBACK ESTIMATE of the SIRENE count")
    assert "2018 comparateur: P18_EMPLT - P18_EMPLT_SAL" in d.sources["solos"]
    assert "(ETGU18 - ETGZ18) / ETTOT18" in d.sources["solos"]
    assert "office-activity share of 0.19 (range 0.1-0.24" in d.sources["solos"]
    assert "SIRENE-per-non-salaried ratio of 1.14 (range 1-1.34" in d.sources["solos"]
    assert "ACOSS Stat'ur 289" in d.sources["solos"]
    assert d.rules[2025]["teleworkers"] == "anchor 2025 (usage)"


def test_prior_strength_by_hand():
    census, _ = _inputs()
    serv = census["ETGU18"] - census["ETGZ18"]
    p, k = demand.prior_strength(serv, census["ETTOT18"])
    # pooled share (4 + 6) / (10 + 30) = 0.25 (62003 has no establishment: left out);
    # S = 10 x (0.4 - 0.25)^2 + 30 x (0.2 - 0.25)^2 = 0.3; S / (p (1 - p)) = 1.6;
    # rho = (1.6 - 1) / (40 - 1000 / 40 - 1) = 0.6 / 14; k = (1 - rho) / rho = 22.33
    assert p == pytest.approx(0.25)
    assert k == pytest.approx((1 - 0.6 / 14) / (0.6 / 14))
    # identical shares everywhere: no over-dispersion, k at its upper bound
    same = pd.Series([2.0, 4.0, 8.0])
    assert demand.prior_strength(same, same * 2)[1] == demand.PRIOR_BOUNDS[1]


def test_fallback_solos_by_hand():
    census, _ = _inputs()
    fb = demand.fallback_solos(census, ["62001", "62003", "62004", "62002"], 0.5, 2.0,
                               prior=(0.25, 10.0))
    # 62003 has no establishment: the pooled share 0.25 (weight of its own share 0);
    # its 10 non-salaried jobs give 10 x 0.25 x 0.5 x 2.0
    assert fb.loc["62003", "services_share"] == pytest.approx(0.25)
    assert fb.loc["62003", "services_share_weight"] == 0.0
    assert fb.loc["62003", "solos"] == pytest.approx(2.5)
    # 62004: (50 - 45) x (6 + 10 x 0.25) / (30 + 10) x 0.5 x 2.0 = 1.0625
    assert fb.loc["62004", "solos"] == pytest.approx(5 * 8.5 / 40)
    assert fb.loc["62001", "services_share_weight"] == pytest.approx(10 / 20)
    assert fb.loc["62001", "solos"] == pytest.approx(20 * 6.5 / 20)
    assert fb.loc["62002", "solos"] == 0.0
    # the ratios are labelled assumptions whose central value is the default
    low, central, high = config.PARAMETER_RANGES["demand.solos.fallback_office_share"]
    assert low < central < high
    assert config.SolosConfig().fallback_office_share == central
    src = config.DEFAULT_SOURCES["demand.solos.fallback_office_share"]
    assert src.startswith(f"ASSUMPTION (range {low:.2f} / {central:.2f} / {high:.2f})")
    low, central, high = config.PARAMETER_RANGES["demand.solos.fallback_sirene_ratio"]
    assert config.SolosConfig().fallback_sirene_ratio == central
    # 1 + 0.42 x (1,357,000 / 1,012,000 - 1) and the two ends named in the source
    assert central == pytest.approx(1 + 0.42 * (1_357_000 / 1_012_000 - 1), abs=5e-3)
    assert high == pytest.approx(1_357_000 / 1_012_000, abs=5e-3)
    assert "ACOSS" in config.DEFAULT_SOURCES["demand.solos.fallback_sirene_ratio"]


def test_fallback_solos_has_no_cliff():
    # no zero where non-salaried jobs exist, even with no service establishment, and no
    # jump at "no establishment": a commune with a vanishing count of establishments tends
    # to the commune with none
    census = pd.DataFrame({
        "P18_EMPLT": [30.0, 30.0, 30.0, 30.0], "P18_EMPLT_SAL": [20.0, 20.0, 20.0, 20.0],
        "ETTOT18": [5.0, 0.0, 1e-9, 40.0], "ETGU18": [2.0, 0.0, 0.0, 30.0],
        "ETGZ18": [2.0, 0.0, 0.0, 10.0],
    }, index=["62001", "62002", "62003", "62004"])
    fb = demand.fallback_solos(census, list(census.index), 0.2, 1.0)
    assert (fb["solos"] > 0).all()  # 62001: employer establishments, none in services
    assert fb.loc["62003", "solos"] == pytest.approx(fb.loc["62002", "solos"], rel=1e-6)
    # more service establishments never lower the estimate (monotone, bounded by the shares)
    more = census.assign(ETGU18=census["ETGU18"] + [1.0, 0.0, 0.0, 1.0])
    fb2 = demand.fallback_solos(more, list(census.index), 0.2, 1.0,
                                prior=(fb.attrs["p"], fb.attrs["k"]))
    assert (fb2["solos"] >= fb["solos"] - 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.floats(0.01, 500)),
                min_size=2, max_size=8))
def test_fallback_solos_positive_wherever_non_salaried(rows):
    # every commune with non-salaried jobs gets solos, whatever its establishments
    tot = [float(a + b) for a, b, _ in rows]
    census = pd.DataFrame({
        "P18_EMPLT": [n + 5.0 for *_, n in rows], "P18_EMPLT_SAL": [5.0] * len(rows),
        "ETTOT18": tot, "ETGU18": [float(b) for _, b, _ in rows], "ETGZ18": [0.0] * len(rows),
    }, index=[f"62{i:03d}" for i in range(len(rows))])
    census.loc["62999"] = [10.0, 0.0, 10.0, 5.0, 0.0]  # the pool has a service share > 0
    fb = demand.fallback_solos(census, list(census.index), 0.2, 1.14)
    assert (fb["solos"] > 0).all()
    share = fb["services_share"]
    assert ((share > 0) & (share <= 1)).all()


def test_real_artois_fallback_by_hand(data_dir):
    # Aubigny-en-Artois (62045) in base_cc_comparateur.CSV: P18_EMPLT 1068.642329,
    # P18_EMPLT_SAL 976.968685, ETTOT18 66, ETGU18 43, ETGZ18 13
    census = sources.load_census(data_dir)
    fb = demand.fallback_solos(census.table, ["62045"], 0.2)
    p, k = fb.attrs["p"], fb.attrs["k"]
    # the pooled national share and the prior strength of the whole comparateur
    assert p == pytest.approx(0.4768, abs=1e-4)
    assert k == pytest.approx(10.5, abs=0.05)
    assert fb.loc["62045", "solos"] == pytest.approx(
        (1068.642329 - 976.968685) * (43 - 13 + k * p) / (66 + k) * 0.2, rel=1e-6)
    # the central office share is re-derived on the whole file: INSEE's 361,000 non-salaried
    # in office-type activities (end 2017) over the national fallback base (shares 1)
    base = demand.fallback_solos(census.table, list(census.table.index), 1.0)["solos"].sum()
    assert base == pytest.approx(1_887_600, rel=1e-4)
    central = config.PARAMETER_RANGES["demand.solos.fallback_office_share"][1]
    assert 361_000 / base == pytest.approx(central, abs=5e-3)


def test_commune_demand_bad_inputs():
    census, shares = _inputs()
    with pytest.raises(DataFormatError, match="census.*P18_RSECOCC"):
        demand.commune_demand(["62001"], config.DemandConfig(),
                              census=census.drop(columns="P18_RSECOCC"), csp_shares=shares)
    with pytest.raises(DataFormatError, match="ETGZ18.*solo-worker fallback"):
        demand.commune_demand(["62001"], config.DemandConfig(),
                              census=census.drop(columns="ETGZ18"), csp_shares=shares)
    cfg = config.DemandConfig()
    cfg.solos.sirene_file, cfg.solos.sirene_year = "stock.csv", 2024
    with pytest.raises(DataMissingError, match="count_sirene_solos"):
        demand.commune_demand(["62001"], cfg, census=census, csp_shares=shares)
    # a SIRENE count replaces the fallback, which then needs no establishment column
    d = demand.commune_demand(["62001"], cfg, census=census.drop(columns="ETGZ18"),
                              csp_shares=shares,
                              sirene_counts=pd.DataFrame({"solos": [7]}, index=["62001"]))
    assert d.table.loc["62001", "solos_2018"] == 7
    assert "non_salaried_2018" not in d.table


def test_teleworker_rule_per_year():
    """Issue 19: a year may be computed under the other teleworker rule: 2018 under the 2025
    rule (11 % of the teleworkers, 35 h a month) and the reverse."""
    census, shares = _inputs()
    cfg, _ = config.config_from_dict({"demand": {"seats": {"teleworkers_rule": {
        "2018": "share_of_teleworkers", "2025": "share_of_users"}}}})
    d = demand.commune_demand(["62001"], cfg.demand, census=census, csp_shares=shares)
    t = d.table.loc["62001"]
    assert t["seats_teleworkers_2018"] == pytest.approx(t["teleworkers"] * 0.11 * 35 / H)
    assert t["users_teleworkers_2018"] == pytest.approx(t["teleworkers"] * 0.11)
    # 2025 under the 2018 rule: 20 % of the users (held from the 2018 anchor)
    assert t["seats_teleworkers_2025"] == pytest.approx(t["seats_solos_2025"] * 0.2 / 0.8)
    assert "teleworkers_rule = 'share_of_teleworkers' for 2018" in d.rules[2018]["teleworkers"]
    assert demand.study_rule(cfg.demand.seats, 2018) == "share_of_teleworkers"
    plain = config.DemandConfig()
    assert demand.study_rule(plain.seats, 2018) == "share_of_users"
    assert demand.study_rule(plain.seats, 2025) == "share_of_teleworkers"
    assert demand.study_rule(plain.seats, 2021) == "interpolated"
    # the comparison table: both rules, every year, the union and each zone
    base = demand.commune_demand(["62001"], plain, census=census, csp_shares=shares)
    cmp_ = demand.rule_comparison(base, plain, {"62001": ["62001"]}).set_index(
        ["zone", "year", "rule"])
    assert cmp_.loc[("all", 2018, "share_of_teleworkers"), "seats_teleworkers"] == \
        pytest.approx(t["seats_teleworkers_2018"])
    assert cmp_.loc[("all", 2018, "share_of_users"), "seats_teleworkers"] == pytest.approx(
        base.table.loc["62001", "seats_teleworkers_2018"])
    assert cmp_.loc[("all", 2018, "share_of_users"), "study_rule"] == "share_of_users"
    for bad, msg in [({"2018": "half"}, r"teleworkers_rule\.2018 must be"),
                     ({"next": "share_of_users"}, "must be a year")]:
        with pytest.raises(ConfigError, match=msg):
            config.config_from_dict({"demand": {"seats": {"teleworkers_rule": bad}}})
    with pytest.raises(ConfigError, match="no demand.seats.teleworkers anchor gives usage"):
        config.config_from_dict({"demand": {"seats": {
            "teleworkers": [{"year": 2018, "share_of_users": 0.2}],
            "teleworkers_rule": {"2018": "share_of_teleworkers"}}}})


def test_pole_rule_is_validated():
    cfg, _ = config.config_from_dict({"poles": [{"zone": "62279", "pole": "62041"}]})
    assert cfg.poles[0].rule == "closer_to_pole"
    with pytest.raises(ConfigError, match=r"poles\[0\]\.rule must be one of"):
        config.config_from_dict({"poles": [{"zone": "62279", "pole": "62041",
                                            "rule": "nearest"}]})


def test_supply_file_seats_column(data_dir):
    """Issue 19: a seats column of the supply file wins over seats_per_site, and
    supply.site_seats over both; each site says where its figure came from."""
    from territorial_geo.sources.third_places import load_third_places

    tp = load_third_places(data_dir, path=ROOT / "examples" / "campagnes-artois-tiers-lieux.csv")
    t = tp.set_index("name")
    assert t.loc["MIXTE co-working", "seats"] == 8 and t.loc["Foyer numérique", "seats"] == 20
    assert np.isnan(t.loc["Cybercoin", "seats"])
    sup = config.SupplyConfig(seats_per_site=10.0, site_seats={"878": 3.0})
    seats, src = supply.site_seats(tp, sup)
    got = dict(zip(tp["name"], zip(seats, src, strict=True), strict=True))
    assert got["MIXTE co-working"] == (8.0, "supply file (seats column)")
    assert got["Cybercoin"] == (10.0, "ASSUMPTION (seats_per_site)")
    assert got["CoopConnexion"] == (3.0, "study file (supply.site_seats)")


def test_supply_file_negative_seats(data_dir, tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text("ID,NOM_TL,INSEECOM,TYPO,LAT,LONG,seats\n1,A,62041,coworking,50.29,2.78,-4\n",
                 encoding="utf-8")
    from territorial_geo.sources.third_places import load_third_places

    with pytest.raises(DataFormatError, match="sites.csv:seats: negative seat"):
        load_third_places(data_dir, path=p)


def test_supply_file_read_beside_the_study_file(data_dir, tmp_path, monkeypatch):
    """A relative supply.file is found beside the study file, whatever the current folder
    (the example study names its CSV so)."""
    import shutil

    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "campagnes-artois-tiers-lieux.csv", folder / "sites.csv")
    cfg, _ = config.config_from_dict({"supply": {"file": "sites.csv"}},
                                     source_file=str(folder / "s.toml"))
    monkeypatch.chdir(tmp_path)  # not the study's folder
    inv, label = supply.supply_inventory(cfg, data_dir)
    assert label == "study file supply.file = sites.csv (read as UTF-8, ','-separated)"
    assert i18n.render(label, "fr") == ("fichier de l'étude supply.file = sites.csv (lu en "
                                        "UTF-8, séparateur « , »)")
    assert set(inv["name"]) >= {"MIXTE co-working", "Foyer numérique"}
    cfg.source_file = ""
    with pytest.raises(DataMissingError, match="sites.csv not found"):
        supply.supply_inventory(cfg, data_dir)
