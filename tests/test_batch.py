"""Batch studies on Dask: serial and Dask runs agree, resume, error rows, a killed worker,
national coverage, and the batch map in a real browser (a few EPCIs, mirror data)."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import pandas as pd
import pytest

from territorial_geo import batch, cli, sources
from territorial_geo.config import load_config
from territorial_geo.errors import TerritorialGeoError, UnknownPlaceError

from .conftest import ROOT
from .test_study import _browser, _offline_page

STUDY = ROOT / "examples" / "campagnes-artois.toml"
ARTOIS, EVIAN, CHAMONIX, VIMEU = "200069482", "200071967", "200023372", "200070944"
#: Chamonix's 4 communes are on density levels 3 and 6: no market town (an error row)
SMALL = f"{ARTOIS},{EVIAN},{CHAMONIX}"


@pytest.fixture(scope="module")
def cfg():
    return load_config(STUDY)[0]


@pytest.fixture(scope="module")
def frames(data_dir):
    return {"epci": sources.load_epci(data_dir), "commune_list": sources.load_commune_list(data_dir)}


@pytest.fixture(scope="module")
def serial_out(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "serial"
    rc = cli.main(["--data-dir", str(data_dir), "--quiet", "batch", str(STUDY), "--epcis", SMALL,
                   "--out", str(out), "--workers", "0"])
    assert rc == 0
    return out


@pytest.fixture(scope="module")
def client():
    c = batch.make_client(workers=2)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


def _table(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"siren": str, "partition": str}).drop(columns="time_s")


def test_select_epcis(frames):
    hdf = batch.select_epcis("region:32", **frames)
    assert len(hdf) == 90 and hdf["siren"].is_unique
    assert set(hdf["partition"]) == {"02", "59", "60", "62", "80"}
    dep = batch.select_epcis("dep:62", **frames)
    assert set(dep["siren"]) < set(hdf["siren"]) and ARTOIS in set(dep["siren"])
    # an EPCI straddling départements belongs to the one holding most of its communes
    for r in dep.itertuples():
        deps = pd.Series([m[:2] for m in r.members]).value_counts()
        assert deps.index[0] == "62" or deps.iloc[0] == deps.get("62")
    lst = batch.select_epcis(f"{EVIAN},{ARTOIS}", **frames)
    assert list(lst["siren"]) == [ARTOIS, EVIAN] and list(lst["partition"]) == ["62", "74"]
    with pytest.raises(UnknownPlaceError, match="123"):
        batch.select_epcis("123", **frames)
    with pytest.raises(UnknownPlaceError, match="region"):
        batch.select_epcis("region:99", **frames)


def test_task_groups_cover_each_epci_once(frames):
    hdf = batch.select_epcis("region:32", **frames)
    groups = batch.task_groups(hdf, 8)
    sirens = [s for g in groups.values() for s in g["siren"]]
    assert sorted(sirens) == sorted(hdf["siren"])  # none lost, none twice
    assert max(len(g) for g in groups.values()) <= 8
    for name, g in groups.items():
        assert set(g["partition"]) == {name.split("-")[0]}  # a task stays in its département
    n62 = int((hdf["partition"] == "62").sum())
    assert sorted(k for k in groups if k.startswith("62")) == [
        f"62-{i}" for i in range(1, -(-n62 // 8) + 1)]
    assert list(batch.task_groups(hdf, 100)) == ["02", "59", "60", "62", "80"]


def test_outputs_and_error_row(serial_out):
    t = _table(serial_out / "epcis.csv")
    assert list(t["siren"]) == sorted([ARTOIS, EVIAN, CHAMONIX])
    status = dict(zip(t["siren"], t["status"], strict=True))
    assert status == {ARTOIS: "ok", EVIAN: "ok", CHAMONIX: "error"}
    err = pd.read_csv(serial_out / "errors.csv", dtype={"siren": str})
    assert list(err["siren"]) == [CHAMONIX] and "no market town" in err["error"].iloc[0]
    a = t.set_index("siren").loc[ARTOIS]
    assert a["n_communes"] == 96 and a["n_zones"] == 5
    for col in ["seats_solos_2025", "seats_teleworkers_2025", "seats_total_2018",
                "share_population_10min", "share_population_20min", "uncovered_population"]:
        assert col in t
    assert a["seats_total_2025"] == pytest.approx(a["seats_solos_2025"] + a["seats_teleworkers_2025"])
    assert 0 <= a["share_population_10min"] <= a["share_population_20min"] <= 1
    ok = t[t["status"] == "ok"]
    # no CGET third place lies within these EPCIs' 10-minute zones on the approximate network
    # fitted to OSRM (issue 18; on the legal limits the zones reached one): supply counted, 0
    assert (ok["supply_seats"] == 0).all() and (ok["supply_sites"] == 0).all()
    assert ok["unmet_seats_2025"].to_numpy() == pytest.approx(
        (ok["seats_total_2025"] - ok["supply_seats"]).to_numpy())
    rank = pd.read_csv(serial_out / "ranking.csv", dtype={"siren": str})
    assert list(rank["siren"]) == list(t[t["status"] == "ok"].sort_values(
        "unmet_seats_2025", ascending=False)["siren"])
    import geopandas as gpd

    for f in ("epcis.parquet", "epcis.gpkg"):
        g = gpd.read_file(serial_out / f) if f.endswith("gpkg") else gpd.read_parquet(serial_out / f)
        assert sorted(g["siren"].astype(str)) == sorted(t["siren"]) and g.crs.to_epsg() == 2154
    assert (serial_out / "map.png").stat().st_size > 10_000
    assert sorted(p.name for p in (serial_out / "partitions").iterdir()) == [
        "62.done", "62.parquet", "74.done", "74.parquet"]


def test_dask_equals_serial(serial_out, client, cfg, frames, data_dir, tmp_path):
    epcis = batch.select_epcis(SMALL, **frames)
    res = batch.run_batch(cfg, epcis, tmp_path / "dask", client=client, data_dir=data_dir)
    assert sorted(res.computed) == ["62", "74"]
    pd.testing.assert_frame_equal(_table(tmp_path / "dask" / "epcis.csv"),
                                  _table(serial_out / "epcis.csv"))
    assert {t["pid"] for t in res.tasks} != {os.getpid()}  # ran in the worker processes


def test_resume_skips_done_and_never_reads_partial(serial_out, cfg, frames, data_dir, tmp_path,
                                                  capsys):
    out = tmp_path / "resume"
    shutil.copytree(serial_out, out)
    parts = out / "partitions"
    # 74 stopped half-way: a partial data file, no marker
    (parts / "74.done").unlink()
    (parts / "74.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(TerritorialGeoError, match="not finished"):
        batch.read_partitions(out, ["62", "74"])
    epcis = batch.select_epcis(SMALL, **frames)
    lines: list[str] = []
    res = batch.run_batch(cfg, epcis, out, data_dir=data_dir, progress=lines.append)
    assert res.computed == ["74"] and res.skipped == ["62"]
    # progress goes to the callback only (nothing printed): the resumed task, then 74 (Évian,
    # Chamonix)
    assert lines[0] == "resuming: 1 partition(s) already done (62)"
    assert lines[1].startswith("task 74 done: 1/1 tasks, 2/2 EPCIs")
    assert len(lines) == 2 and capsys.readouterr() == ("", "")
    pd.testing.assert_frame_equal(_table(out / "epcis.csv"), _table(serial_out / "epcis.csv"))
    # a marker written for another template is not taken as done
    import dataclasses

    other = dataclasses.replace(cfg, ring_km=cfg.ring_km + 1)
    assert batch.template_key(other) != batch.template_key(cfg)
    res2 = batch.run_batch(other, epcis[epcis["partition"] == "62"], out, data_dir=data_dir,
                           write=False)
    assert res2.computed == ["62"]


def _parts(keys) -> list[str]:
    return [str(k) for k in keys if str(k).startswith("epci-partition-")]


def test_killed_worker_loses_no_epci(serial_out, client, cfg, frames, data_dir, tmp_path):
    epcis = batch.select_epcis(f"{SMALL},{VIMEU}", **frames)
    out = tmp_path / "killed"
    box: dict = {}
    th = threading.Thread(target=lambda: box.update(res=batch.run_batch(
        cfg, epcis, out, client=client, data_dir=data_dir)))
    pids = client.run(os.getpid)  # worker address -> process id
    th.start()
    victim = None
    deadline = time.time() + 60
    while victim is None and time.time() < deadline:
        # a worker running a partition task (not the national tables' task they wait on)
        busy = [w for w, ks in client.processing().items() if w in pids and _parts(ks)]
        if busy:
            time.sleep(0.5)  # mid-task: a task loads its network for a few seconds
            keys = _parts(client.processing().get(busy[0], ()))
            if keys:
                os.kill(pids[busy[0]], signal.SIGKILL)
                victim = (pids[busy[0]], str(keys[0]))
        time.sleep(0.05)
    th.join(timeout=300)
    assert victim is not None, "no worker was ever busy"
    res = box["res"]
    t = _table(out / "epcis.csv")
    assert t["siren"].is_unique and sorted(t["siren"]) == sorted(epcis["siren"])
    # the task running on the killed worker was run again by another process
    task = victim[1][len("epci-partition-"):].rsplit("-", 1)[0]
    rerun = [r for r in res.tasks if r["partition"] == task]
    assert len(rerun) == 1 and rerun[0]["pid"] != victim[0]
    ref = _table(serial_out / "epcis.csv")
    pd.testing.assert_frame_equal(t[t["siren"].isin(ref["siren"])].reset_index(drop=True), ref)
    assert t.set_index("siren").loc[VIMEU, "status"] == "ok"


def test_national_coverage_dask_equals_serial(client, cfg, data_dir):
    serial = batch.national_coverage(cfg, ["62", "80"], data_dir=data_dir)
    dask = batch.national_coverage(cfg, ["62", "80"], client=client, data_dir=data_dir)
    pd.testing.assert_frame_equal(serial.communes, dask.communes)
    pd.testing.assert_frame_equal(serial.departements, dask.departements)
    pd.testing.assert_frame_equal(serial.regions, dask.regions)
    c = serial.communes
    assert (c["error"] == "").all() and set(c["departement"]) == {"62", "80"}
    assert c["code"].str.len().eq(5).all() and set(c["region"]) == {"32"}
    reg = serial.regions.set_index("minutes")
    # shares grow with the threshold; the region's share is the population-weighted merge
    assert reg["share_population"].is_monotonic_increasing
    d = serial.departements
    for n in (10.0, 20.0, 30.0):
        sub = d[d["minutes"] == n]
        assert reg.loc[n, "covered_population"] == pytest.approx(sub["covered_population"].sum())
        assert reg.loc[n, "covered_population"] == pytest.approx(
            c.loc[c["minutes"] <= n, "population"].sum())


def test_coverage_tables_leave_failed_departements_out():
    import numpy as np

    com = pd.DataFrame({"code": ["62001", "62002", "2A001", "2A002"],
                        "departement": ["62", "62", "2A", "2A"], "region": ["32", "32", "94", "94"],
                        "population": [100.0, 300.0, 50.0, 50.0],
                        "minutes": [5.0, np.inf, np.nan, np.nan]})
    d = batch.coverage_tables(com, "departement", (10.0,)).set_index("departement")
    assert d.loc["62", "share_population"] == pytest.approx(0.25)  # unreachable: not covered
    assert np.isnan(d.loc["2A", "share_population"]) and d.loc["2A", "communes_without_result"] == 2
    allc = batch.coverage_tables(com.assign(country="FR"), "country", (10.0,)).iloc[0]
    assert allc["total_population"] == 400.0 and allc["share_population"] == pytest.approx(0.25)


@pytest.mark.browser
def test_batch_map_in_browser(serial_out):
    pw, exe = _browser()
    with pw as p:
        b, page, errors = _offline_page(p, exe, width=1200)
        page.goto((serial_out / "map.html").as_uri())
        page.wait_for_selector("path.leaflet-interactive")
        paths = page.locator("path.leaflet-interactive")
        assert paths.count() == 3  # one feature per EPCI
        fills = {paths.nth(i).get_attribute("fill") for i in range(3)}
        assert "#bbbbbb" in fills  # Chamonix (error) in grey
        texts = []
        for i in range(3):
            paths.nth(i).dispatch_event("click")
            page.wait_for_selector(".leaflet-popup-content")
            texts.append(page.locator(".leaflet-popup-content").last.inner_text())
        # French by default (the message catalogue)
        assert any("Campagnes de l'Artois" in t and "Places non couvertes 2025" in t
                   for t in texts)
        assert any("no market town" in t for t in texts)
        b.close()
    assert errors == []


def test_unreachable_scheduler_is_a_one_line_error(data_dir, monkeypatch, capsys, tmp_path):
    """--scheduler naming no running scheduler: exit 2 and one line, not a distributed
    traceback (port 1 on localhost refuses connections)."""
    monkeypatch.setattr(batch.driver, "SCHEDULER_TIMEOUT", "2s")
    rc = cli.main(["--data-dir", str(data_dir), "--quiet", "batch", str(STUDY), "--epcis", ARTOIS,
                   "--out", str(tmp_path / "b"), "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: --scheduler tcp://127.0.0.1:1: cannot reach") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_batch_row_equals_the_study_with_its_towns(serial_out, cfg, data_dir):
    """A planner comparing the batch with a study of the same EPCI (the batch's market
    towns, no pole) must read the same union seats, supply and coverage."""
    import dataclasses

    from territorial_geo import study

    row = _table(serial_out / "epcis.csv").set_index("siren").loc[ARTOIS]
    towns = row["market_towns"].split(";")
    c = batch.template(cfg)
    c = dataclasses.replace(c, zoning=dataclasses.replace(c.zoning, market_towns=towns,
                                                          auto_towns=False),
                            uncertainty=dataclasses.replace(c.uncertainty, draws=0))
    res = study.run_study(c, data_dir=data_dir)
    z = res.zone_seats
    union = z[z["variant"] == "union"].set_index(["segment", "year"])["seats"]
    for (seg, y), v in union.items():
        assert row[f"seats_{seg}_{y}"] == pytest.approx(v, abs=1e-3), (seg, y)
    assert row["n_zones"] == len(towns) == len(res.zones.zone_codes)
    cov = res.coverage
    terr = cov[cov["level"] == "territory"].set_index("minutes")["share_population"]
    for m in (10.0, 20.0):
        assert row[f"share_population_{m:g}min"] == pytest.approx(terr.loc[m], abs=1e-3)


def test_unmet_seats_are_net_of_the_supply_in_the_zones(cfg, data_dir):
    """An existing third place in a market town of the EPCI counts as supply in the zones,
    with its own seats, and the unmet potential is the union's seats minus that supply (no
    CGET site lies in these zones on the calibrated network, so one is put in a town)."""
    import dataclasses

    data = sources.Datasets(data_dir)
    nat = batch.national_frames(cfg, data)
    members = list(batch.select_epcis(ARTOIS, epci=sources.load_epci(data_dir),
                                      commune_list=sources.load_commune_list(data_dir))
                   .iloc[0]["members"])
    inputs = batch.load_partition(cfg, members, nat=nat, data_dir=data_dir)
    base = batch.epci_summary(cfg, ARTOIS, "CC des Campagnes de l'Artois", members, inputs)
    town = base["market_towns"].split(";")[0]
    site = nat["inventory"].iloc[[0]].copy()
    site["id"], site["code"], site["seats"] = "test-site", town, 12.0
    with_site = dataclasses.replace(inputs, inventory=pd.concat([nat["inventory"], site]))
    row = batch.epci_summary(cfg, ARTOIS, "CC des Campagnes de l'Artois", members, with_site)
    assert row["supply_sites"] == base["supply_sites"] + 1
    assert row["supply_seats"] == pytest.approx(base["supply_seats"] + 12.0)
    assert row["seats_total_2025"] == pytest.approx(base["seats_total_2025"])
    assert row["unmet_seats_2025"] == pytest.approx(row["seats_total_2025"] - row["supply_seats"])
    assert row["unmet_seats_2025"] == pytest.approx(base["unmet_seats_2025"] - 12.0)


def _epcis(spec: dict[str, list[int]]) -> pd.DataFrame:
    """EPCIs by hand: département -> member commune counts, SIRENs in that order."""
    rows = []
    for dep, sizes in spec.items():
        for i, n in enumerate(sizes):
            rows.append({"siren": f"{dep}{i:07d}", "name": f"{dep}-{i}", "partition": dep,
                         "members": [f"{dep}{i:01d}{j:03d}" for j in range(n)]})
    return pd.DataFrame(rows)


def test_makespan_is_the_longest_first_rule_by_hand():
    # 5 -> w1, 4 -> w2, 3 -> w2 (7), 3 -> w1 (8), 3 -> w2 (10); the best split is 9
    assert batch.makespan([3, 5, 3, 4, 3], 2) == 10
    assert batch.makespan([3, 5, 3, 4, 3], 1) == 18
    assert batch.makespan([3, 5], 4) == 5


def test_plan_tasks_cuts_only_while_the_run_gets_shorter(monkeypatch):
    monkeypatch.setattr(batch.plan, "TASK_COST_COMMUNES", 300.0)
    # A: 4 EPCIs of 300 communes (one task: 300 + 1200 = 1500); B: 1 EPCI of 100 (400)
    e = _epcis({"A": [300, 300, 300, 300], "B": [100]})
    one = batch.plan_tasks(e, workers=1)
    assert list(one) == ["A", "B"]  # one worker: every cut would only add a task's start
    two = batch.plan_tasks(e, workers=2)
    # [1500, 400] ends at 1500; A in two (900 each, 2 EPCIs) with B: 900 | 900 + 400 = 1300;
    # A in three (900, 600, 600) with B: 900 + 400 | 600 + 600 = 1300, not shorter: stop
    assert list(two) == ["A-1", "A-2", "B"]
    assert [list(g["siren"]) for g in two.values()] == [
        ["A0000000", "A0000001"], ["A0000002", "A0000003"], ["B0000000"]]
    assert [batch.task_cost(g) for g in two.values()] == [900.0, 900.0, 400.0]
    # the cap still cuts a département, whatever the workers; most expensive task first
    capped = batch.plan_tasks(_epcis({"A": [300, 300, 300, 300], "B": [900]}), workers=1,
                              epcis_per_task=3)
    assert list(capped) == ["B", "A-1", "A-2"]
    assert [len(g) for g in capped.values()] == [1, 2, 2]
    sirens = [s for g in batch.plan_tasks(e, workers=4).values() for s in g["siren"]]
    assert sorted(sirens) == sorted(e["siren"])  # none lost, none twice


def test_national_groups_read_each_table_once(monkeypatch, cfg):
    from territorial_geo import supply

    calls: list[str] = []

    class Fake:
        def __getattr__(self, name):
            return lambda *a: calls.append(name) or name

    monkeypatch.setattr(supply, "supply_inventory",
                        lambda c, data: (calls.append("inventory") or "inv", "label"))
    whole = batch.national_frames(cfg, Fake())
    assert sorted(calls) == sorted(["communes", "chefs_lieux", "density_grid", "census",
                                    "csp_shares", "inventory"])
    parts: dict = {}
    for group in batch.NATIONAL_GROUPS:
        calls.clear()
        got = batch.national_frames(cfg, Fake(), group)
        assert len(calls) == len(group)  # a group reads its own tables only
        assert not set(got) & set(parts)
        parts.update(got)
    assert parts == whole  # the groups' tasks together give every table
    with pytest.raises(TerritorialGeoError, match="unknown national table"):
        batch.national_frames(cfg, Fake(), ("communes", "roads"))
