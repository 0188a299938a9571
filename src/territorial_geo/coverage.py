"""Stage 5, coverage: who lives within N minutes of a third place, and where to add sites.

* :func:`nearest_site_times`: drive time from every commune to its nearest site, in one
  multi-source Dijkstra pass (compiled kernel).
* :func:`coverage_shares`: share of population / teleworkers / solos within N minutes.
* :func:`select_sites`: maximal covering location (PySAL spopt ``MCLP`` with CBC) keeping
  existing sites, with a greedy heuristic and its optimality gap against the LP bound for
  large instances; :func:`set_cover` for the smallest set reaching a target share.
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
    t, idx = netmod.nearest_point_times(net, psnap, ssnap, direction="to")
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
    budget_s: float,
) -> np.ndarray:
    """Travel-time matrix demand x candidate (seconds, inf beyond the budget).

    Times run from each demand commune to the candidate (direction "to").
    """
    res = netmod.snapped_times(net, net.snap(candidate_points), net.snap(demand_points),
                               budget_s, reverse=True)
    m = np.full((len(demand_points), len(candidate_points)), np.inf)
    m[res["target"].to_numpy(), res["origin"].to_numpy()] = res["time_s"].to_numpy()
    return m


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
        ``"mclp-cbc"`` (optimal), ``"greedy"`` or ``"brute-force"``.
    gap
        Relative gap between the LP upper bound and the solution (0 when optimal).
    total
        Total demand weight.
    """

    chosen: list[str]
    curve: pd.DataFrame
    method: str
    gap: float
    total: float
    notes: list[str] = field(default_factory=list)

    @property
    def covered(self) -> float:
        """Demand covered with existing and chosen sites."""
        return float(self.curve["covered"].iloc[-1])


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
        chosen, method = [], "none"
    elif n_d * n_c <= max_exact_vars:
        chosen, method = _solve_spopt(cover, w, k, base, time_limit_s), "mclp-cbc"
    else:
        chosen, method = greedy_mclp(cover, w, k, base), "greedy"
    order, curve = _curve(cover, w, base, chosen, labels)
    val = float(curve["covered"].iloc[-1])
    gap = 0.0 if ub <= 0 or not np.isfinite(ub) else max(0.0, (ub - val) / ub)
    if method == "mclp-cbc":
        gap = 0.0  # CBC proved optimality; the LP bound only adds the integrality gap
    return SiteSelection(order, curve, method, gap, float(w.sum()), notes)


def _solve_spopt(cover: np.ndarray, w: np.ndarray, k: int, base: np.ndarray,
                 time_limit_s: float) -> list[int]:
    import pulp
    from spopt.locate import MCLP

    # demand already covered by existing sites weighs nothing for the new ones
    wf = np.where(base, 0.0, w)
    keep = wf > 0
    if not keep.any():
        return list(range(k))
    cost = np.where(cover[keep], 0.0, 2.0)
    model = MCLP.from_cost_matrix(cost, wf[keep], service_radius=1.0, p_facilities=k)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
    chosen = [j for j, v in enumerate(model.fac_vars) if v.value() is not None and v.value() > 0.5]
    # spopt may return fewer than k when extra sites add nothing; fill with the next best
    if len(chosen) < k:
        extra = [j for j in greedy_mclp(cover, w, cover.shape[1], base) if j not in chosen]
        chosen += extra[: k - len(chosen)]
    return chosen


def set_cover(
    cover: np.ndarray, weights: np.ndarray, target_share: float, *,
    labels: list[str] | None = None, existing_cover: np.ndarray | None = None,
) -> SiteSelection:
    """Smallest set of new sites reaching ``target_share`` of the demand.

    Solved exactly with CBC (minimise the number of sites subject to covered weight >=
    target); falls back to greedy if the solver fails.

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
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=60))
    if pulp.LpStatus[status] == "Optimal":
        chosen = [j for j in range(n_c) if x[j].value() and x[j].value() > 0.5]
        method = "set-cover-cbc"
    else:
        chosen, covered = [], base.copy()
        while float(w[covered].sum()) + 1e-9 < need:
            j = greedy_mclp(cover, w, 1, covered)[0]
            chosen.append(j)
            covered |= cover[:, j]
        method = "greedy"
    order, curve = _curve(cover, w, base, chosen, labels)
    return SiteSelection(order, curve, method, 0.0, total)

