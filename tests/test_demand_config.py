import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territorial_geo import config, demand
from territorial_geo.errors import ConfigError

from .conftest import ROOT

H = 35 * 52 / 12


def _demand(tele, solos, cfg=None, data_year=2018):
    cfg = cfg or config.DemandConfig()
    idx = pd.Index([f"0100{i}" for i in range(len(tele))])
    t = demand.seats_table(pd.Series(tele, index=idx, dtype=float),
                           pd.Series(solos, index=idx, dtype=float), data_year, cfg,
                           cfg.output_years)
    return demand.CommuneDemand(t.assign(teleworkers=tele), cfg.output_years)


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
    d = demand.commune_demand(artois.codes, config.DemandConfig(), data_dir=data_dir)
    t = d.table
    assert len(t) == 96
    for col in ["teleworkers", "solos_2018", "seats_total_2018", "seats_total_2025"]:
        assert np.isfinite(t[col]).all() and (t[col] >= 0).all()
    assert t["census_match"].all()
    assert any("ESTIMATE" in n for n in d.notes)
    assert any("ASSUMED" in n for n in d.notes)
    assert d.sources["solos"].startswith("FALLBACK ESTIMATE")
    assert 500 < t["teleworkers"].sum() < 3000


def test_real_demand_with_sirene(artois, data_dir):
    cfg = config.DemandConfig()
    cfg.solos.sirene_file = str(ROOT / "tests" / "fixtures" / "StockEtablissement_sample.csv")
    cfg.solos.sirene_year = 2024
    d = demand.commune_demand(artois.codes, cfg, data_dir=data_dir)
    assert d.table.loc["62045", "solos_data"] == 3
    assert d.table.loc["62045", "solos_2025"] == pytest.approx(3 * 1.06 ** (2025 - 2024))
    assert d.sources["solos"].startswith("SIRENE stock")


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
    assert config.DemandConfig().rates()["cadres"] == 0.30
    assert math.isclose(config.SeatsConfig().seat_hours_per_month, 151.666, rel_tol=1e-4)
