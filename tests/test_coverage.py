import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territorial_geo import coverage as C
from territorial_geo.errors import TerritorialGeoError


def test_known_optimum_small_instance():
    # demand points 0..4; candidate A covers 0,1 ; B covers 1,2,3 ; C covers 4
    cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], bool)
    w = np.array([10, 1, 1, 1, 20.0])
    sel = C.select_sites(cover, w, 2, labels=["A", "B", "C"])
    assert sel.chosen == ["C", "A"]  # ordered by marginal gain
    assert sel.covered == 31
    assert sel.method == "mclp-cbc" and sel.status == "optimal" and sel.gap == 0
    assert sel.curve["covered"].tolist() == [0, 20, 31]
    # with point 4 already covered by an existing site, B is not better than A
    sel2 = C.select_sites(cover, w, 1, labels=["A", "B", "C"],
                          existing_cover=np.array([0, 0, 0, 0, 1], bool))
    assert sel2.chosen == ["A"] and sel2.covered == 31


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 12), st.integers(2, 6), st.integers(1, 3), st.integers(0, 10_000))
def test_mclp_optimal_and_greedy_not_better(n_d, n_c, k, seed):
    rng = np.random.default_rng(seed)
    k = min(k, n_c)
    cover = rng.random((n_d, n_c)) < 0.35
    w = rng.integers(0, 20, n_d).astype(float)
    base = rng.random(n_d) < 0.2
    sel = C.select_sites(cover, w, k, existing_cover=base)
    bf = C.brute_force_mclp(cover, w, k, base)
    best = w[base | cover[:, bf].any(axis=1)].sum()
    assert sel.covered == pytest.approx(best)
    assert sel.status == "optimal" and sel.gap == 0  # proved by CBC, matches brute force
    g = C.greedy_mclp(cover, w, k, base)
    assert w[base | cover[:, g].any(axis=1)].sum() <= best + 1e-9
    assert C.lp_bound(cover, w, k, base) >= best - 1e-6


def test_greedy_path_reports_gap():
    rng = np.random.default_rng(1)
    cover = rng.random((300, 40)) < 0.05
    w = rng.random(300) * 100
    sel = C.select_sites(cover, w, 5, max_exact_vars=10)
    assert sel.method == "greedy" and sel.status == "greedy"
    ub = C.lp_bound(cover, w, 5, np.zeros(300, bool))
    assert sel.bound == pytest.approx(ub)
    assert sel.gap == pytest.approx((ub - sel.covered) / ub)
    assert 0 <= sel.gap < 0.5


# A triangle of communes 0, 1, 2 (each pair covered by one candidate) and an isolated
# commune 3 covered by a fourth candidate, weight 1 each. With k = 2 any two sites cover 3
# communes; the LP relaxation opens every candidate by half and covers 3.5: gap 0.5 / 3.5.
TRIANGLE = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], bool)


def _stopped_cbc(status, sol_status, incumbent=None):
    """A CBC that solves, then reports what pulp reports when the time limit stops it
    (optionally with a worse incumbent: the candidates ``incumbent`` open)."""
    import pulp

    class StoppedCBC(pulp.PULP_CBC_CMD):
        def actualSolve(self, lp, **kw):
            super().actualSolve(lp, **kw)
            if incumbent is not None:
                for v in lp.variables():
                    # site variables: spopt's x_<j>_, set_cover's x<j>
                    m = re.fullmatch(r"x_?(\d+)_?", v.name)
                    if m:
                        v.varValue = float(int(m.group(1)) in incumbent)
            lp.assignStatus(status, sol_status)
            return status

    return StoppedCBC


def test_lp_bound_of_the_triangle_by_hand():
    assert C.lp_bound(TRIANGLE, np.ones(4), 2, np.zeros(4, bool)) == pytest.approx(3.5)
    assert C.brute_force_mclp(TRIANGLE, np.ones(4), 2, np.zeros(4, bool)) == [0, 1]


def test_time_limit_with_a_solution_is_not_called_optimal(monkeypatch):
    import pulp

    # pulp's status when CBC stops on time with an incumbent: Optimal + IntegerFeasible
    monkeypatch.setattr(pulp, "PULP_CBC_CMD", _stopped_cbc(pulp.LpStatusOptimal,
                                                          pulp.LpSolutionIntegerFeasible))
    sel = C.select_sites(TRIANGLE, np.ones(4), 2, time_limit_s=7)
    assert sel.status == "time limit"
    assert sel.covered == 3
    assert sel.bound == pytest.approx(3.5)
    assert sel.gap == pytest.approx(0.5 / 3.5)
    assert any("7 s time limit" in n for n in sel.notes)
    t = sel.table()
    assert set(t["status"]) == {"time limit"} and t["gap"].iloc[0] == pytest.approx(1 / 7)


def test_time_limit_without_solution_falls_back_to_greedy(monkeypatch):
    import pulp

    monkeypatch.setattr(pulp, "PULP_CBC_CMD", _stopped_cbc(pulp.LpStatusNotSolved,
                                                          pulp.LpSolutionNoSolutionFound))
    sel = C.select_sites(TRIANGLE, np.ones(4), 2)
    assert (sel.status, sel.method) == ("time limit", "greedy")
    assert sel.covered == 3 and sel.gap == pytest.approx(1 / 7)
    monkeypatch.setattr(pulp, "PULP_CBC_CMD", _stopped_cbc(pulp.LpStatusUndefined,
                                                          pulp.LpSolutionNoSolutionFound))
    sel = C.select_sites(TRIANGLE, np.ones(4), 2)
    assert (sel.status, sel.method) == ("not solved", "greedy")


def test_time_limit_keeps_greedy_when_it_beats_the_incumbent(monkeypatch):
    import pulp

    # CBC "stopped" holding A + B (covers 13); greedy finds C then A (covers 31), which
    # is the LP bound here (x_C = 1, x_A = 1 is the LP optimum): gap 0, still "time limit"
    cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], bool)
    w = np.array([10, 1, 1, 1, 20.0])
    monkeypatch.setattr(pulp, "PULP_CBC_CMD", _stopped_cbc(
        pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible, incumbent={0, 1}))
    sel = C.select_sites(cover, w, 2, labels=["A", "B", "C"])
    assert (sel.status, sel.method) == ("time limit", "greedy")
    assert sel.chosen == ["C", "A"] and sel.covered == 31
    assert sel.bound == pytest.approx(31) and sel.gap == pytest.approx(0)


def test_real_cbc_stopped_by_a_tiny_time_limit():
    # 1,500 demand points x 400 candidates, k = 15: CBC needs minutes to prove optimality
    # (measured: not proved after 200 s); with a 1 s limit it must say so.
    rng = np.random.default_rng(0)
    cover = rng.random((1500, 400)) < 0.015
    w = rng.integers(1, 100, 1500).astype(float)
    sel = C.select_sites(cover, w, 15, time_limit_s=1, max_exact_vars=10**6)
    ub = C.lp_bound(cover, w, 15, np.zeros(1500, bool))
    assert sel.status == "time limit"
    assert sel.bound == pytest.approx(ub)
    assert sel.gap == pytest.approx((ub - sel.covered) / ub) and sel.gap > 0
    g = C.greedy_mclp(cover, w, 15, np.zeros(1500, bool))
    assert sel.covered >= w[cover[:, g].any(axis=1)].sum()  # the better of CBC and greedy


def test_set_cover_time_limit_is_reported(monkeypatch):
    import pulp

    cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], bool)
    w = np.array([10, 1, 1, 1, 20.0])
    sel = C.set_cover(cover, w, 0.9, labels=["A", "B", "C"])
    assert sel.status == "optimal" and sel.gap == 0 and sel.bound == 2
    monkeypatch.setattr(pulp, "PULP_CBC_CMD", _stopped_cbc(pulp.LpStatusOptimal,
                                                          pulp.LpSolutionIntegerFeasible))
    sel = C.set_cover(cover, w, 0.9, labels=["A", "B", "C"])
    assert sel.status == "time limit" and sorted(sel.chosen) == ["A", "C"]
    assert sel.bound == 2 and sel.gap == 0  # C alone covers 20 < 29.7: at least 2 sites
    # stopped holding all three sites: greedy's two (C, A) are kept
    monkeypatch.setattr(pulp, "PULP_CBC_CMD", _stopped_cbc(
        pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible, incumbent={0, 1, 2}))
    sel = C.set_cover(cover, w, 0.9, labels=["A", "B", "C"])
    assert (sel.status, sel.method, sel.chosen) == ("time limit", "greedy", ["C", "A"])


def test_set_cover_smallest():
    cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], bool)
    w = np.array([10, 1, 1, 1, 20.0])
    sel = C.set_cover(cover, w, 0.9, labels=["A", "B", "C"])
    assert sorted(sel.chosen) == ["A", "C"]
    with pytest.raises(TerritorialGeoError, match="cover"):
        C.set_cover(cover[:, :1], w, 0.9)


def test_bad_site_selection_inputs():
    cover = np.ones((3, 2), bool)
    with pytest.raises(TerritorialGeoError, match="no candidate"):
        C.select_sites(np.ones((3, 0), bool), np.ones(3), 1)
    with pytest.raises(TerritorialGeoError, match="larger than"):
        C.select_sites(cover, np.ones(3), 3)
    sel = C.select_sites(cover, np.zeros(3), 1)
    assert sel.covered == 0 and sel.notes


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 60), min_size=1, max_size=20), st.data())
def test_shares_bounded_and_monotone(times, data):
    w = data.draw(st.lists(st.floats(0, 1000), min_size=len(times), max_size=len(times)))
    idx = [f"{i:05d}" for i in range(len(times))]
    sh = C.coverage_shares(pd.Series(times, index=idx), pd.DataFrame({"population": w}, index=idx),
                           [5, 10, 20, 30])
    s = sh["share_population"].dropna().to_numpy()
    assert ((s >= 0) & (s <= 1 + 1e-12)).all()
    assert (np.diff(s) >= -1e-12).all()


def test_mormal_coverage_with_la_verriere(data_dir):
    from territorial_geo import network, sources, territory

    t = territory.from_epci("200043321", data_dir=data_dir)
    net = network.read_pbf(sources.dataset_path("roads-hdf", data_dir), area=t.outline,
                           cache_dir=data_dir / "cache" / "networks")
    tp = sources.load_third_places(data_dir)
    verriere = tp[tp["name"] == "La verrière"]
    assert len(verriere) == 1
    times = C.nearest_site_times(net, t.chefs_lieux.loc[t.codes].geometry, verriere)
    assert times.loc["59481", "time_min"] < 3  # Le Quesnoy itself
    sh = C.coverage_shares(times["time_min"], t.communes[["population"]], [10, 20])
    s10, s20 = sh["share_population"].tolist()
    assert 0 < s10 < s20 <= 1
    # Le Quesnoy alone holds ~4,900 of the ~48,000 inhabitants
    assert s10 > t.communes.loc["59481", "population"] / t.population


def _lp_text(prob, tmp_path, name):
    path = tmp_path / f"{name}.lp"
    prob.writeLP(str(path))
    return path.read_text()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mclp_problem_is_spopts_model_word_for_word(tmp_path, seed):
    """The model CBC receives is the one spopt's MCLP.from_cost_matrix builds (same
    variables, objective, constraints and names), so the solution is the same."""
    spopt_locate = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(seed)
    cover = rng.random((12, 5)) < 0.3
    w = rng.integers(0, 50, 12).astype(float) + rng.random(12)
    ours, sites = C.mclp_problem(cover, w, 2)
    theirs = spopt_locate.MCLP.from_cost_matrix(np.where(cover, 0.0, 2.0), w,
                                                service_radius=1.0, p_facilities=2)
    assert _lp_text(ours, tmp_path, "ours") == _lp_text(theirs.problem, tmp_path, "theirs")
    assert [v.name for v in sites] == [v.name for v in theirs.fac_vars]


def test_mclp_problem_covers_by_hand():
    # demand 0 covered by site 1 only, demand 1 by sites 0 and 1; one site: site 1 (w 3 + 4)
    prob, sites = C.mclp_problem(np.array([[0, 1], [1, 1]], bool), np.array([3.0, 4.0]), 1)
    import pulp

    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    assert [v.value() for v in sites] == [0, 1]
    assert pulp.value(prob.objective) == 7
