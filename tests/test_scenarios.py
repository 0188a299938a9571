"""Scenario sweeps, sensitivity and Monte Carlo uncertainty on seats (issue 11)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territorial_geo import (
    cli,
    config,
    demand,
    pipeline,
    scenarios,
    sources,
    study,
    uncertainty,
    zoning,
)
from territorial_geo.config import load_config
from territorial_geo.errors import ConfigError

from .conftest import ROOT

ARTOIS = ROOT / "examples" / "campagnes-artois.toml"
Q = ["seats_p10", "seats_p50", "seats_p90"]


@pytest.fixture(scope="module")
def plain(data_dir):
    cfg, keys = load_config(ARTOIS)
    return study.run_study(cfg, overridden=keys, data_dir=data_dir)


def _context(res):
    z = res.zones
    zi = uncertainty.zone_index(list(res.demand.table.index),
                                z.membership(territory_only=False),
                                z.exclusive(territory_only=False),
                                without_pole=res.pole_removed, territory_codes=res.territory.codes)
    supply = dict(zip(res.supply["zone"], res.supply["seats"], strict=True))
    return zi, supply


# ---------------------------------------------------------------------------- uncertainty


def test_central_median_within_interval(plain):
    zs = plain.zone_seats
    assert list(zs.columns[-3:]) == Q  # tidy layout kept, three columns added
    assert zs[Q].notna().all().all()
    assert (zs["seats_p10"] <= zs["seats_p50"] + 1e-9).all()
    assert (zs["seats_p50"] <= zs["seats_p90"] + 1e-9).all()
    # the interval has width, and the study's own (central) figure sits within it
    main = zs[zs["variant"].isin(["zone", "union"]) & (zs["segment"] == "total")]
    assert (main["seats_p90"] - main["seats_p10"] > 0.1 * main["seats"]).all()
    assert (main["seats_p10"] <= main["seats"]).all() and (main["seats"] <= main["seats_p90"]).all()


def test_fixing_every_parameter_gives_the_plain_seats(plain):
    cfg = copy.deepcopy(plain.config)
    cfg.uncertainty.ranges = config.fixed_ranges(cfg)
    cfg.validate()
    assert all(r.fixed for r in config.parameter_ranges(cfg))
    zi, supply = _context(plain)
    mc = uncertainty.monte_carlo(plain.demand.table, cfg, zi, years=plain.demand.years,
                                 supply_seats=supply, draws=200)
    out = uncertainty.add_intervals(plain.zone_seats[plain.zone_seats.columns[:-3]], mc)
    assert len(out) == len(plain.zone_seats)
    for q in Q:
        np.testing.assert_allclose(out[q], out["seats"], rtol=1e-9, atol=1e-9)


def test_monte_carlo_is_reproducible_with_the_seed(plain):
    zi, supply = _context(plain)
    cfg = plain.config
    run = [uncertainty.monte_carlo(plain.demand.table, cfg, zi, years=[2025], draws=300,
                                   seed=s, supply_seats=supply) for s in (7, 7, 8)]
    pd.testing.assert_frame_equal(run[0], run[1])
    assert not np.allclose(run[0]["seats_p50"], run[2]["seats_p50"])


@pytest.fixture(scope="module")
def inputs(plain, data_dir):
    codes = list(plain.demand.table.index)
    return codes, pipeline.load_demand_inputs(plain.config.demand, codes,
                                              data=sources.Datasets(data_dir))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_vectorised_engine_equals_the_demand_stage(plain, inputs, data):
    """Any point of the ranges: the Monte Carlo engine gives the demand stage's seats."""
    codes, inp = inputs
    cfg = plain.config
    point = {}
    for r in config.parameter_ranges(cfg):
        if r.kind == "choice":
            point[r.path] = data.draw(st.sampled_from([r.low, r.central, r.high]))
        else:
            point[r.path] = data.draw(st.floats(r.low, r.high, allow_nan=False))
    new = config.with_values(cfg, point)
    ref = demand.commune_demand(codes, new.demand, **inp)
    got = uncertainty.commune_seats(
        plain.demand.table, cfg.demand,
        {k: np.array([v], dtype=object if isinstance(v, str) else float) for k, v in point.items()},
        n=1, years=ref.years)
    for (seg, y), v in got.items():
        np.testing.assert_allclose(v[0], ref.seats(seg, y).to_numpy(), rtol=1e-9, atol=1e-12)


def test_sensitivity_low_and_high_are_the_stage_at_those_values(plain, inputs):
    codes, inp = inputs
    sens = plain.sensitivity
    s = sens[(sens["parameter"] == "demand.solos.fallback_office_share") & (sens["zone"] == "all")
             & (sens["variant"] == "union") & (sens["segment"] == "solos") & (sens["year"] == 2025)]
    assert len(s) == 1
    row = s.iloc[0]
    assert row["seats_low"] < row["seats_central"] < row["seats_high"]
    union = plain.zones.union(territory_only=False)
    low, _central, high = config.PARAMETER_RANGES["demand.solos.fallback_office_share"]
    for which, value in (("seats_low", low), ("seats_high", high)):
        cfg = config.with_values(plain.config, {"demand.solos.fallback_office_share": value})
        ref = demand.commune_demand(codes, cfg.demand, **inp)
        assert row[which] == pytest.approx(ref.seats("solos", 2025).loc[union].sum(), rel=1e-9)
    # every range has a source or says ASSUMPTION
    assert sens["source"].str.len().gt(10).all()


def test_bad_ranges_are_rejected_with_the_key_named(plain):
    cfg = copy.deepcopy(plain.config)
    cfg.uncertainty.ranges = {"demand.solos.growth_rate": [0.09, 0.03]}
    with pytest.raises(ConfigError, match=r"growth_rate: low 0.09 exceeds high 0.03"):
        cfg.validate()
    cfg.uncertainty.ranges = {"demand.solos.growth_rat": [0.03, 0.09]}
    with pytest.raises(ConfigError, match="closest: demand.solos.growth_rate"):
        cfg.validate()
    cfg.uncertainty.ranges = {"demand.telework_preset": ["dares2017", "insee2023"]}
    with pytest.raises(ConfigError, match="closest: insee2022"):
        cfg.validate()


# ---------------------------------------------------------------------------- sweeps


@pytest.fixture(scope="module")
def sweep_run(plain, data_dir):
    cfg = plain.config
    calls = {"zones": [], "network": 0, "inputs": 0}
    real_zones, real_net, real_inputs = (zoning.build_zones, pipeline.network_for,
                                         pipeline.load_demand_inputs)

    def zones(*a, **k):
        calls["zones"].append(k["budget_min"])
        return real_zones(*a, **k)

    def net(*a, **k):
        calls["network"] += 1
        return real_net(*a, **k)

    def inp(*a, **k):
        calls["inputs"] += 1
        return real_inputs(*a, **k)

    mp = pytest.MonkeyPatch()
    mp.setattr(zoning, "build_zones", zones)
    mp.setattr(pipeline, "network_for", net)
    mp.setattr(pipeline, "load_demand_inputs", inp)
    try:
        sw = scenarios.build_sweep(cfg, vary={"zoning.budget_min": ["8", "12"],
                                              "demand.telework_preset": ["dares2004", "dares2017"]},
                                   named=[("wide", {"zoning.budget_min": 15,
                                                    "demand.solos.growth_rate": 0.03})])
        res = scenarios.run_sweep(cfg, sw, data_dir=data_dir)
    finally:
        mp.undo()
    return res, calls


def test_sweep_shares_network_routing_and_inputs(sweep_run):
    res, calls = sweep_run
    assert len(res.sweep.scenarios) == 5
    assert calls["network"] == 1 and calls["inputs"] == 1 and res.inputs_loads == 1
    # one routing pass per distinct budget (10 for the study, 8, 12, 15), zones + Arras pole
    assert sorted(calls["zones"]) == [8, 8, 10, 10, 12, 12, 15, 15]
    assert res.routing_passes == 8
    assert res.demand_runs == 3  # dares2004, dares2017, growth 0.03
    t = res.table
    assert list(t.columns[:4]) == ["scenario", "zoning.budget_min", "demand.telework_preset",
                                   "demand.solos.growth_rate"]
    assert {"zone", "variant", "segment", "year", "seats"} <= set(t.columns)
    assert set(t["scenario"]) == {"s1", "s2", "s3", "s4", "wide"}
    wide = t[t["scenario"] == "wide"].iloc[0]
    assert wide["zoning.budget_min"] == 15 and wide["demand.telework_preset"] == "dares2004"


@pytest.mark.parametrize("scenario", ["s4", "wide"])
def test_each_scenario_equals_the_study_run_with_its_values(sweep_run, data_dir, scenario):
    res, _ = sweep_run
    vals = dict(res.sweep.scenarios)[scenario]
    cfg = config.with_values(res.config, vals)
    cfg.uncertainty.draws = 0
    ref = study.run_study(cfg, data_dir=data_dir).zone_seats
    got = res.table[res.table["scenario"] == scenario]
    key = ["zone", "variant", "segment", "year"]
    m = ref.merge(got, on=key, suffixes=("_ref", ""), validate="one_to_one")
    assert len(m) == len(ref) == len(got)
    np.testing.assert_allclose(m["seats"], m["seats_ref"], rtol=1e-9)
    assert (m["n_communes"] == m["n_communes_ref"]).all()


def test_sweep_bad_input_names_the_closest(plain):
    cfg = plain.config
    with pytest.raises(ConfigError, match="closest: demand.telework_preset"):
        scenarios.build_sweep(cfg, vary={"demand.telework_prest": ["dares2004"]})
    with pytest.raises(ConfigError, match="closest: dares2004"):
        scenarios.build_sweep(cfg, vary={"demand.telework_preset": ["dares2005"]})
    with pytest.raises(ConfigError, match="empty sweep"):
        scenarios.build_sweep(cfg)
    with pytest.raises(ConfigError, match="low 15 exceeds high 8"):
        scenarios.parse_vary("zoning.budget_min=15:8:1")
    assert scenarios.parse_vary("zoning.budget_min=8:12:2") == ("zoning.budget_min",
                                                                 ["8", "10", "12"])
    with pytest.raises(ConfigError, match="budget_min must be > 0"):
        scenarios.build_sweep(cfg, vary={"zoning.budget_min": ["0"]})
    with pytest.raises(ConfigError, match="not a float"):
        scenarios.build_sweep(cfg, vary={"zoning.budget_min": ["ten"]})


def test_scenarios_table_in_the_study_file(tmp_path):
    text = ARTOIS.read_text(encoding="utf-8") + (
        '\n[scenarios]\nvary = { "demand.telework_preset" = ["dares2004", "insee2022"], '
        '"zoning.budget_min" = [8, 10] }\n[[scenarios.named]]\nname = "low"\n'
        'values = { "demand.telework_preset" = "dares2017" }\n')
    f = tmp_path / "s.toml"
    f.write_text(text, encoding="utf-8")
    cfg, _ = load_config(f)
    sw = scenarios.sweep_from_config(cfg)
    assert [n for n, _ in sw.scenarios] == ["s1", "s2", "s3", "s4", "low"]
    assert sw.scenarios[1][1] == {"demand.telework_preset": "dares2004", "zoning.budget_min": 10.0}
    bad = f.with_name("bad.toml")
    bad.write_text(ARTOIS.read_text(encoding="utf-8")
                   + '\n[scenarios]\nvary = { "zoning.budget_min" = [] }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="empty sweep"):
        load_config(bad)
    bad.write_text(ARTOIS.read_text(encoding="utf-8")
                   + '\n[scenarios]\nvary = { "zoning.budget_mn" = [8] }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.toml: scenarios.vary: .*closest: zoning.budget_min"):
        load_config(bad)
    bad.write_text(ARTOIS.read_text(encoding="utf-8")
                   + '\n[[scenarios.named]]\nname = "x"\nvalues = { "demand.telework_preset" = '
                   '"insee2021" }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"scenarios.named 'x': .*closest: insee2022"):
        load_config(bad)


def test_cli_scenarios_bad_input_writes_nothing(data_dir, tmp_path, capsys):
    out = tmp_path / "sc"
    for vary, msg in (("demand.telework_prest=dares2004", "closest: demand.telework_preset"),
                      ("demand.telework_preset=dares2005", "closest: dares2004"),
                      ("zoning.budget_min=15:8:1", "exceeds")):
        rc = cli.main(["--data-dir", str(data_dir), "--quiet", "scenarios", str(ARTOIS),
                       "--vary", vary, "--out", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and msg in err and err.count("\n") == 1
    rc = cli.main(["--data-dir", str(data_dir), "--quiet", "scenarios", str(ARTOIS),
                   "--out", str(out)])
    assert rc == 2 and "empty sweep" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_cli_scenarios_writes_the_folder(data_dir, tmp_path):
    out = tmp_path / "sc"
    rc = cli.main(["--data-dir", str(data_dir), "--quiet", "scenarios", str(ARTOIS),
                   "--vary", "zoning.budget_min=8,12", "--named",
                   "low:demand.telework_preset=dares2017;demand.solos.growth_rate=0.03",
                   "--out", str(out)])
    assert rc == 0
    t = pd.read_csv(out / "scenarios.csv", dtype={"zone": str})
    assert set(t["scenario"]) == {"s1", "s2", "low"}
    towns = ["62045", "62063", "62279", "62649", "62820"]
    for z in [*towns, "all"]:
        assert (out / f"chart_{z}.png").stat().st_size > 5000
        assert (out / f"tornado_{z}.png").stat().st_size > 5000
    html = (out / "report.html").read_text(encoding="utf-8")
    # French by default (the message catalogue), English with --lang en (below)
    assert "<h2>Sensibilité</h2>" in html and "demand.telework_preset" in html
    assert "Sensitivity" not in html and "toutes (union)" in html
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_swept_horizon_year_keeps_every_scenario_in_the_report(data_dir, tmp_path, capsys):
    """Varying demand.horizon_year: each scenario is reported at its own horizon (the
    2030 scenario used to vanish from report.html, the charts and the CLI summary)."""
    out = tmp_path / "sc"
    rc = cli.main(["--data-dir", str(data_dir), "scenarios", str(ARTOIS), "--lang", "en",
                   "--vary", "demand.horizon_year=2025,2030", "--out", str(out)])
    assert rc == 0
    t = pd.read_csv(out / "scenarios.csv", dtype={"zone": str})
    union = t[(t["variant"] == "union") & (t["segment"] == "total")].set_index(
        ["scenario", "year"])["seats"]
    s1, s2 = union[("s1", 2025)], union[("s2", 2030)]
    assert s2 > s1  # solos grow, telework share is the horizon's
    summary = capsys.readouterr().out
    assert f"min {s1:.1f}, max {s2:.1f}" in summary
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Sensitivity</h2>" in html  # --lang en
    scen = html.split("Sensitivity")[0]  # the scenarios section, before the sensitivity
    for name, seats in (("s1", s1), ("s2", s2)):  # both scenarios, each at its horizon
        assert f">{name}<" in scen and f">{seats:.1f}<" in scen
