"""One pipeline (issue 21): the study, a sweep at one scenario, the batch for one EPCI and
the CLI's coverage command chain the same stages, so one study file gives them the same
figures: market towns, union seats per segment and year, and shares covered."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from territorial_geo import batch, cli, scenarios, sources, study
from territorial_geo.config import load_config

ARTOIS = "200069482"

#: A study file every entry point can run as it is: market towns from the density grid
#: (as the batch takes them), the CGET inventory, no pole, no planned site.
STUDY = f"""
name = "Campagnes de l'Artois"
territory = "{ARTOIS}"
ring_km = 15

[zoning]
auto_towns = true
budget_min = 10
bands = [5, 10, 15, 20]
network = "approximate"

[demand]
base_year = 2018
horizon_year = 2025
telework_preset = "dares2004"

[coverage]
minutes = [10, 15, 20]
sites = "existing"
k = 0

[uncertainty]
draws = 0
"""


@pytest.fixture(scope="module")
def runs(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("one-pipeline")
    path = d / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    cfg, keys = load_config(path)
    res = study.run_study(cfg, overridden=keys, data_dir=data_dir)
    sw = scenarios.build_sweep(cfg, named=[("same", {"demand.solos.growth_rate":
                                                     cfg.demand.solos.growth_rate})])
    sweep = scenarios.run_sweep(cfg, sw, data_dir=data_dir)
    epcis = batch.select_epcis(ARTOIS, epci=sources.load_epci(data_dir),
                               commune_list=sources.load_commune_list(data_dir))
    bt = batch.run_batch(cfg, epcis, d / "batch", data_dir=data_dir, progress=None,
                         write=False)
    return {"cfg": cfg, "path": path, "study": res, "sweep": sweep,
            "batch": bt.table.set_index("siren").loc[ARTOIS]}


def _union(zone_seats: pd.DataFrame) -> pd.Series:
    u = zone_seats[zone_seats["variant"] == "union"]
    return u.set_index(["segment", "year"])["seats"].sort_index()


def test_study_and_batch_take_the_same_market_towns(runs):
    towns = runs["batch"]["market_towns"].split(";")
    assert list(runs["study"].zones.zone_codes) == towns
    assert len(towns) == 5  # the CC has five communes on density levels 4-5 or more


def test_study_sweep_and_batch_give_the_same_union_seats(runs):
    ref = _union(runs["study"].zone_seats)
    assert len(ref) >= 6 and (ref > 0).all()
    sw = runs["sweep"].table
    got = _union(sw[sw["scenario"] == "same"])
    pd.testing.assert_series_equal(got, ref, check_exact=False, rtol=1e-12)
    row = runs["batch"]
    for (seg, year), v in ref.items():
        assert row[f"seats_{seg}_{year}"] == pytest.approx(v, rel=1e-12), (seg, year)


def test_study_batch_and_cli_coverage_give_the_same_shares(runs, data_dir, capsys):
    cov = runs["study"].coverage
    ref = cov[cov["level"] == "territory"].set_index("minutes")
    assert cli.main(["--data-dir", str(data_dir), "coverage", "--study", str(runs["path"]),
                     "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    row = runs["batch"]
    assert out["n_sites"] == int((runs["study"].sites["status"] == "existing").sum())
    for m in (10.0, 15.0, 20.0):
        share = ref.loc[m, "share_population"]
        assert out["share_population_within"][f"{m:g}"] == pytest.approx(share, rel=1e-12)
        assert out["share_teleworkers_within"][f"{m:g}"] == pytest.approx(
            ref.loc[m, "share_teleworkers"], rel=1e-12)
        assert row[f"share_population_{m:g}min"] == pytest.approx(share, rel=1e-12)
    # the shares are not trivially 0 or 1 (third places exist within 20 min, not everywhere)
    assert 0 < ref.loc[20.0, "share_population"] < 1


def test_run_study_chains_each_stage_once_in_order(runs, data_dir, monkeypatch):
    from territorial_geo import pipeline

    calls = []
    for name in ("load_inputs", "zones_stage", "demand_stage", "supply_stage", "seats_stage",
                 "coverage_stage", "selection_stage"):
        real = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name,
                            lambda *a, _real=real, _name=name, **k: calls.append(_name)
                            or _real(*a, **k))
    study.run_study(runs["cfg"], data_dir=data_dir)
    assert calls == ["load_inputs", "zones_stage", "demand_stage", "supply_stage",
                     "seats_stage", "coverage_stage", "selection_stage"]


def test_stages_read_no_file_once_inputs_are_loaded(runs, data_dir, monkeypatch):
    """Downloads, caches and reads happen in load_inputs only: with every reader broken
    afterwards, the study's stages still run and give the same seats."""
    import geopandas as gpd
    import pyogrio

    from territorial_geo import pipeline

    inputs = pipeline.load_inputs(runs["cfg"], sources.Datasets(data_dir))

    def no_io(*_a, **_k):
        raise AssertionError("a stage read a file")

    for mod, name in ((pd, "read_csv"), (pd, "read_parquet"), (pd, "read_excel"),
                      (gpd, "read_file"), (gpd, "read_parquet"), (pyogrio, "read_dataframe"),
                      (sources.Datasets, "_get"), (sources, "resolve_data_dir")):
        monkeypatch.setattr(mod, name, no_io)
    res = study.run_study(runs["cfg"], inputs=inputs)
    pd.testing.assert_series_equal(_union(res.zone_seats), _union(runs["study"].zone_seats))
