"""Stage 5, coverage: who lives within N minutes of a third place, and where to add sites.

* :func:`nearest_site_times`: drive time from every commune to its nearest site, in one
  multi-source Dijkstra pass (compiled kernel).
* :func:`coverage_shares`: share of population / teleworkers / solos within N minutes.
* :func:`select_sites`: maximal covering location (spopt's ``MCLP`` model, built with pulp:
  :func:`mclp_problem`; solved by CBC) keeping
  existing sites, with a greedy heuristic for large instances; :func:`set_cover` for the
  smallest set reaching a target share. Both report how the solve ended
  (:data:`STATUSES`: optimal, time limit, not solved, greedy) and, unless optimality was
  proved, the gap to the bound of the LP relaxation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import network as netmod
from territorial_geo.errors import TerritorialGeoError


def nearest_site_times(
    net: netmod.RoadNetwork,
    points: gpd.GeoSeries,
    sites: gpd.GeoDataFrame,
    *,
    site_label: str = "name",
    engine=None,
) -> pd.DataFrame:
    """Drive time from each point (commune chef-lieu) to its nearest site.

    Parameters
    ----------
    net
        Road network.
    points
        Chef-lieu points indexed by commune code.
    sites
        Third places (points); ``site_label`` names them in the output.
    engine
        Routing engine (:mod:`territorial_geo.network.engine`; default the built-in one).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``time_s``, ``time_min`` (inf when unreachable),
        ``nearest_site`` (label), ``site_index`` (row of ``sites``, -1 when unreachable).

    Raises
    ------
    TerritorialGeoError
        No site given.
    """
    if len(sites) == 0:
        raise TerritorialGeoError("coverage needs at least one third place (none given)")
    ssnap = net.snap(sites.geometry)
    psnap = net.snap(points)
    t, idx = netmod.engine_of(engine, net).nearest_point_times(psnap, ssnap, direction="to")
    labels = sites[site_label].astype(str).to_numpy() if site_label in sites else np.asarray(
        sites.index.astype(str))
    return pd.DataFrame(
        {
            "time_s": t,
            "time_min": t / 60,
            "nearest_site": np.where(idx >= 0, labels[np.maximum(idx, 0)], None),
            "site_index": idx,
            "snap_m": psnap["snap_m"].to_numpy(),
        },
        index=points.index,
    )


def coverage_shares(
    times_min: pd.Series, weights: pd.DataFrame, minutes: list[float],
    *, groups: pd.Series | None = None,
) -> pd.DataFrame:
    """Share of each weight living within N minutes of a site.

    Parameters
    ----------
    times_min
        Minutes to the nearest site per commune.
    weights
        One column per measure (``population``, ``teleworkers``, ``solos``...).
    minutes
        Thresholds N.
    groups
        Optional grouping (EPCI, department) per commune: one row per group and N.

    Returns
    -------
    pandas.DataFrame
        ``group`` (``all`` without groups), ``minutes``, ``share_<measure>`` in [0, 1]
        (NaN when the measure sums to 0), ``covered_<measure>``, ``total_<measure>``.
    """
    w = weights.reindex(times_min.index).fillna(0.0)
    g = groups.reindex(times_min.index) if groups is not None else pd.Series("all", index=w.index)
    rows = []
    for n in sorted(minutes):
        inside = (times_min <= n).to_numpy()
        for key, sub in w.groupby(g.to_numpy()):
            mask = inside[w.index.get_indexer(sub.index)]
            row = {"group": key, "minutes": n}
            for c in w.columns:
                tot = float(sub[c].sum())
                cov = float(sub[c].to_numpy()[mask].sum())
                row[f"covered_{c}"] = cov
                row[f"total_{c}"] = tot
                row[f"share_{c}"] = cov / tot if tot > 0 else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def uncovered(times_min: pd.Series, weights: pd.DataFrame, minutes: float,
              names: pd.Series | None = None) -> pd.DataFrame:
    """Communes farther than ``minutes`` from any site, ranked by the first weight."""
    out = weights.reindex(times_min.index).fillna(0.0).copy()
    out["time_min"] = times_min
    if names is not None:
        out.insert(0, "nom", names.reindex(out.index))
    out = out[~(times_min <= minutes)]
    return out.sort_values(weights.columns[0], ascending=False)


def cover_matrix(
    net: netmod.RoadNetwork, demand_points: gpd.GeoSeries, candidate_points: gpd.GeoSeries,
    budget_s: float, *, engine=None,
) -> np.ndarray:
    """Travel-time matrix demand x candidate (seconds, inf beyond the budget).

    Times run from each demand commune to the candidate (direction "to"), computed by
    ``engine`` (:mod:`territorial_geo.network.engine`; default the built-in one).
    """
    res = netmod.engine_of(engine, net).snapped_times(
        net.snap(candidate_points), net.snap(demand_points), budget_s, reverse=True)
    m = np.full((len(demand_points), len(candidate_points)), np.inf)
    m[res["target"].to_numpy(), res["origin"].to_numpy()] = res["time_s"].to_numpy()
    return m


#: Solver status words reported with every site selection.
#: ``optimal``: CBC proved optimality (or the choice is trivial); ``time limit``: CBC was
#: stopped by its time limit, the best solution found is kept; ``not solved``: CBC ended
#: without a usable answer (greedy fallback); ``greedy``: the instance was too large for the
#: exact solver and the greedy heuristic was used.
STATUSES = ("optimal", "time limit", "not solved", "greedy")


@dataclass
class SiteSelection:
    """Chosen sites in order of marginal gain, with the coverage curve.

    Attributes
    ----------
    chosen
        Candidate labels in order of marginal gain.
    curve
        ``step`` (0 = existing sites only), ``site``, ``gain``, ``covered``, ``share``.
    method
        What produced the chosen set: ``"mclp-cbc"``, ``"set-cover-cbc"``, ``"greedy"`` or
        ``"none"`` (k = 0).
    status
        How the solve ended, one of :data:`STATUSES`.
    gap
        0 when ``status`` is ``"optimal"``; otherwise the relative gap between the solution
        and the bound of the LP relaxation (maximal covering: ``(bound - covered) / bound``;
        set covering: ``(n_sites - bound) / n_sites``), an upper limit on the distance to
        the optimum. NaN when the bound could not be computed.
    total
        Total demand weight.
    bound
        LP-relaxation bound: the most demand any k sites could cover (maximal covering), or
        the fewest sites that could reach the target (set covering, rounded up).
    notes
        Plain-language remarks (time limit hit, fallback used...).
    """

    chosen: list[str]
    curve: pd.DataFrame
    method: str
    status: str
    gap: float
    total: float
    bound: float = float("nan")
    notes: list[str] = field(default_factory=list)

    @property
    def covered(self) -> float:
        """Demand covered with existing and chosen sites."""
        return float(self.curve["covered"].iloc[-1])

    def table(self) -> pd.DataFrame:
        """The curve with ``method``, ``status``, ``gap`` and ``bound`` columns (the
        ``site_selection.csv`` layout)."""
        return self.curve.assign(method=self.method, status=self.status, gap=self.gap,
                                 bound=self.bound)


def _check_instance(cover: np.ndarray, weights: np.ndarray, k: int, n_cand: int) -> None:
    if n_cand == 0:
        raise TerritorialGeoError("site selection: no candidate site was given")
    if k > n_cand:
        raise TerritorialGeoError(
            f"site selection: k={k} is larger than the {n_cand} candidate site(s)")
    if k < 0:
        raise TerritorialGeoError(f"site selection: k must be >= 0, got {k}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise TerritorialGeoError("site selection: demand weights must be finite and >= 0")


def _curve(cover: np.ndarray, w: np.ndarray, base: np.ndarray, chosen_idx: list[int],
           labels: list[str]) -> tuple[list[str], pd.DataFrame]:
    """Order a set of chosen candidates by marginal gain and build the coverage curve."""
    covered = base.copy()
    remaining = list(chosen_idx)
    rows = [{"step": 0, "site": None, "gain": 0.0, "covered": float(w[covered].sum())}]
    order = []
    while remaining:
        gains = [float(w[cover[:, j] & ~covered].sum()) for j in remaining]
        b = int(np.argmax(gains))
        j = remaining.pop(b)
        covered |= cover[:, j]
        order.append(labels[j])
        rows.append({"step": len(order), "site": labels[j], "gain": gains[b],
                     "covered": float(w[covered].sum())})
    curve = pd.DataFrame(rows)
    tot = float(w.sum())
    curve["share"] = curve["covered"] / tot if tot > 0 else np.nan
    return order, curve


def greedy_mclp(cover: np.ndarray, w: np.ndarray, k: int, base: np.ndarray) -> list[int]:
    """Greedy maximal covering: add the candidate with the largest marginal gain k times."""
    covered = base.copy()
    chosen: list[int] = []
    for _ in range(k):
        gains = (cover & ~covered[:, None]).T.astype(float) @ w
        gains[chosen] = -1
        j = int(np.argmax(gains))
        if gains[j] < 0:
            break
        chosen.append(j)
        covered |= cover[:, j]
    return chosen


def lp_bound(cover: np.ndarray, w: np.ndarray, k: int, base: np.ndarray) -> float:
    """Upper bound of the MCLP optimum from its LP relaxation (HiGHS)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, hstack, identity

    free = ~base
    cov = cover[free]
    wf = w[free]
    n_d, n_c = cov.shape
    if n_d == 0:
        return float(w[base].sum())
    # variables: x_j (n_c), y_i (n_d); max sum w_i y_i ; y_i <= sum_j a_ij x_j ; sum x <= k
    c = np.r_[np.zeros(n_c), -wf]
    a = coo_matrix(-cov.astype(float))
    a_ub = hstack([a, identity(n_d)]).tocsr()
    b_ub = np.zeros(n_d)
    card = np.r_[np.ones(n_c), np.zeros(n_d)][None, :]
    from scipy.sparse import vstack

    a_ub = vstack([a_ub, card]).tocsr()
    b_ub = np.r_[b_ub, k]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    if res.status != 0:
        return float("inf")
    return float(-res.fun + w[base].sum())


def brute_force_mclp(cover: np.ndarray, w: np.ndarray, k: int, base: np.ndarray) -> list[int]:
    """Exact MCLP by enumeration (small instances and tests only)."""
    best, best_set = -1.0, []
    for combo in itertools.combinations(range(cover.shape[1]), k):
        cov = base | cover[:, list(combo)].any(axis=1) if combo else base
        val = float(w[cov].sum())
        if val > best + 1e-12:
            best, best_set = val, list(combo)
    return best_set


def select_sites(
    cover: np.ndarray,
    weights: np.ndarray,
    k: int,
    *,
    labels: list[str] | None = None,
    existing_cover: np.ndarray | None = None,
    max_exact_vars: int = 200_000,
    time_limit_s: float = 60.0,
) -> SiteSelection:
    """Choose k new sites maximising the demand covered (maximal covering location).

    Parameters
    ----------
    cover
        Boolean matrix demand x candidate: True when the candidate covers the demand point
        within the budget.
    weights
        Demand weight per demand point (population, teleworkers, solos or seats).
    k
        Number of new sites.
    labels
        Candidate names (default: positions).
    existing_cover
        Boolean per demand point already covered by existing sites (kept).
    max_exact_vars
        Above this instance size (demand x candidates) the greedy heuristic is used and its
        gap to the LP bound reported.
    time_limit_s
        CBC time limit. When it is hit the better of CBC's best solution and the greedy one
        is kept, ``status`` is ``"time limit"`` and ``gap`` is measured against the LP bound.

    Returns
    -------
    SiteSelection
    """
    cover = np.asarray(cover, dtype=bool)
    w = np.asarray(weights, dtype=float)
    n_d, n_c = cover.shape
    labels = labels or [str(j) for j in range(n_c)]
    _check_instance(cover, w, k, n_c)
    base = np.zeros(n_d, bool) if existing_cover is None else np.asarray(existing_cover, bool)
    notes = []
    if float(w.sum()) == 0:
        notes.append("all demand weights are zero: every choice covers 0")
    ub = lp_bound(cover, w, k, base)
    if k == 0:
        chosen, method, status = [], "none", "optimal"
    elif n_d * n_c <= max_exact_vars:
        chosen, status, why = _solve_mclp(cover, w, k, base, time_limit_s)
        method = "mclp-cbc"
        if status != "optimal":
            g = greedy_mclp(cover, w, k, base)
            if chosen is None or _value(cover, w, base, g) > _value(cover, w, base, chosen):
                chosen, method = g, "greedy"
            notes.append(f"{why}; kept the better of CBC's best solution and the greedy one "
                         f"({method}); gap measured against the LP-relaxation bound")
    else:
        chosen, method, status = greedy_mclp(cover, w, k, base), "greedy", "greedy"
        notes.append(f"{n_d} x {n_c} = {n_d * n_c} variables > max_exact_vars "
                     f"({max_exact_vars}): greedy heuristic, gap against the LP bound")
    order, curve = _curve(cover, w, base, chosen, labels)
    val = float(curve["covered"].iloc[-1])
    if status == "optimal":
        gap = 0.0
    elif not np.isfinite(ub):
        gap = float("nan")
    else:
        gap = max(0.0, (ub - val) / ub) if ub > 0 else 0.0
    return SiteSelection(order, curve, method, status, gap, float(w.sum()), ub, notes)


def _value(cover: np.ndarray, w: np.ndarray, base: np.ndarray, chosen: list[int]) -> float:
    return float(w[base | cover[:, list(chosen)].any(axis=1)].sum()) if chosen else float(
        w[base].sum())


def _cbc_status(prob, time_limit_s: float) -> tuple[str, str]:
    """Map pulp's status of a CBC run to one of :data:`STATUSES` and an explanation.

    pulp reports a run stopped by the time limit with an integer solution as status
    ``Optimal`` with ``sol_status`` ``IntegerFeasible``, and one stopped with no integer
    solution as ``Not Solved``; only ``sol_status`` ``Optimal`` is a proof of optimality.
    """
    import pulp

    if prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal:
        return "optimal", "CBC proved optimality"
    if prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionIntegerFeasible:
        return "time limit", (f"CBC stopped at its {time_limit_s:g} s time limit before "
                              "proving optimality")
    if prob.status == pulp.LpStatusNotSolved:
        return "time limit", (f"CBC stopped at its {time_limit_s:g} s time limit with no "
                              "integer solution")
    return "not solved", f"CBC ended with status {pulp.LpStatus.get(prob.status, prob.status)!r}"


def mclp_problem(cover: np.ndarray, weights: np.ndarray, k: int):
    """The maximal covering location problem as a pulp model, and its site variables.

    The formulation and every name are those of PySAL spopt's
    ``MCLP.from_cost_matrix(cost, weights, service_radius=1.0, p_facilities=k)`` (spopt
    0.6, ``spopt.locate.coverage``) with ``cost`` 0 where ``cover`` is True and 2 elsewhere:
    binary site variables ``x[j]``, binary demand variables ``y[i]``, maximise
    ``sum_i w_i y_i`` subject to ``sum_j a_ij x_j >= y_i`` for each demand point and
    ``sum_j x_j == k``. It is built here rather than by spopt because importing spopt
    (PySAL: libpysal, pointpats, scikit-learn) takes longer than solving the reference
    study; the same model text reaches CBC, so CBC returns the same solution.

    Returns
    -------
    tuple
        ``(problem, site_variables)``.
    """
    import pulp

    aij = np.asarray(cover, bool).astype(float)
    n_d, n_c = aij.shape
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x[{j}]", lowBound=0, upBound=1, cat=pulp.LpInteger)
         for j in range(n_c)]
    y = [pulp.LpVariable(f"y[{i}]", lowBound=0, upBound=1, cat=pulp.LpInteger)
         for i in range(n_d)]
    w = np.asarray(weights, float)
    prob += pulp.lpSum([w[i] * y[i] for i in range(n_d)]), "objective function"
    for i in range(n_d):
        prob += pulp.lpSum([aij[i][j] * x[j] for j in range(n_c)]) >= y[i]
    prob += pulp.lpSum(x) == k
    return prob, x


def _solve_mclp(cover: np.ndarray, w: np.ndarray, k: int, base: np.ndarray,
                time_limit_s: float) -> tuple[list[int] | None, str, str]:
    """Solve the MCLP (:func:`mclp_problem`) with CBC; return (chosen or None, status,
    explanation)."""
    import pulp

    # demand already covered by existing sites weighs nothing for the new ones
    wf = np.where(base, 0.0, w)
    keep = wf > 0
    if not keep.any():
        return list(range(k)), "optimal", "nothing left to cover: any choice is optimal"
    prob, sites = mclp_problem(cover[keep], wf[keep], k)
    try:
        prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
    except pulp.PulpSolverError as exc:
        return None, "not solved", f"CBC failed ({exc})"
    status, why = _cbc_status(prob, time_limit_s)
    if prob.status != pulp.LpStatusOptimal:
        return None, status, why
    chosen = [j for j, v in enumerate(sites) if v.value() is not None and v.value() > 0.5]
    # CBC may open fewer than k when extra sites add nothing; fill with the next best
    if len(chosen) < k:
        extra = [j for j in greedy_mclp(cover, w, cover.shape[1], base) if j not in chosen]
        chosen += extra[: k - len(chosen)]
    return chosen, status, why


def set_cover_lp_bound(cover: np.ndarray, w: np.ndarray, need: float, base: np.ndarray) -> float:
    """Lower bound on the number of new sites reaching ``need`` covered weight: the LP
    relaxation of the set-covering model (HiGHS), rounded up."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, hstack, identity, vstack

    free = ~base
    rest = need - float(w[base].sum())
    if rest <= 1e-9:
        return 0.0
    cov = cover[free].astype(float)
    wf = w[free]
    n_d, n_c = cov.shape
    # variables x_j (n_c), y_i (n_d): min sum x ; y_i <= sum_j a_ij x_j ; sum w_i y_i >= rest
    c = np.r_[np.ones(n_c), np.zeros(n_d)]
    a_ub = vstack([hstack([coo_matrix(-cov), identity(n_d)]),
                   np.r_[np.zeros(n_c), -wf][None, :]]).tocsr()
    b_ub = np.r_[np.zeros(n_d), -rest + 1e-9]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    if res.status != 0:
        return float("nan")
    return float(np.ceil(res.fun - 1e-6))


def set_cover(
    cover: np.ndarray, weights: np.ndarray, target_share: float, *,
    labels: list[str] | None = None, existing_cover: np.ndarray | None = None,
    time_limit_s: float = 60.0,
) -> SiteSelection:
    """Smallest set of new sites reaching ``target_share`` of the demand.

    Solved with CBC (minimise the number of sites subject to covered weight >= target);
    when CBC stops at ``time_limit_s`` the better of its solution and the greedy one is
    kept, ``status`` says ``"time limit"`` and ``gap`` is measured against the LP bound.

    Raises
    ------
    TerritorialGeoError
        When even all candidates cannot reach the target.
    """
    import pulp

    cover = np.asarray(cover, bool)
    w = np.asarray(weights, float)
    n_d, n_c = cover.shape
    labels = labels or [str(j) for j in range(n_c)]
    _check_instance(cover, w, 0, n_c)
    base = np.zeros(n_d, bool) if existing_cover is None else np.asarray(existing_cover, bool)
    total = float(w.sum())
    need = target_share * total
    best = float(w[base | cover.any(axis=1)].sum())
    if best + 1e-9 < need:
        raise TerritorialGeoError(
            f"set cover: even all {n_c} candidates cover {best / total:.1%} < target "
            f"{target_share:.1%}")
    prob = pulp.LpProblem("set_cover", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n_c)]
    y = [pulp.LpVariable(f"y{i}", lowBound=0, upBound=1) for i in range(n_d)]
    prob += pulp.lpSum(x)
    for i in range(n_d):
        if base[i]:
            prob += y[i] <= 1
        else:
            prob += y[i] <= pulp.lpSum(x[j] for j in np.flatnonzero(cover[i]))
    prob += pulp.lpSum(float(w[i]) * y[i] for i in range(n_d)) >= need - 1e-9
    notes = []
    try:
        prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
        status, why = _cbc_status(prob, time_limit_s)
    except pulp.PulpSolverError as exc:
        status, why = "not solved", f"CBC failed ({exc})"
    chosen = None
    if status != "not solved" and prob.status == pulp.LpStatusOptimal:
        chosen = [j for j in range(n_c) if x[j].value() and x[j].value() > 0.5]
    method = "set-cover-cbc"
    if status != "optimal":
        g, covered = [], base.copy()
        while float(w[covered].sum()) + 1e-9 < need:
            j = greedy_mclp(cover, w, 1, covered)[0]
            g.append(j)
            covered |= cover[:, j]
        if chosen is None or len(g) < len(chosen):
            chosen, method = g, "greedy"
        notes.append(f"{why}; kept the smaller of CBC's best solution and the greedy one "
                     f"({method}); gap measured against the LP-relaxation bound")
    lb = set_cover_lp_bound(cover, w, need, base)
    order, curve = _curve(cover, w, base, chosen, labels)
    if status == "optimal":
        gap = 0.0
    elif not np.isfinite(lb):
        gap = float("nan")
    else:
        gap = max(0.0, (len(chosen) - lb) / len(chosen)) if chosen else 0.0
    return SiteSelection(order, curve, method, status, gap, total, lb, notes)
