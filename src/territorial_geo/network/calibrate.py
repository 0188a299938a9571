"""Fit the approximate network's parameters to a detailed network the user has.

Over the communes whose chefs-lieux the detailed network covers:

1. for every pair of communes sharing a border (the approximate network's local links),
   the fastest route on the detailed network gives a time and a road length;
2. the **detour factor** is fitted on lengths (road length / crow-fly distance, robust
   least squares), since times alone cannot tell a longer road from a slower one;
3. the **open-road speed** and the **built-up stretch** of each group of density levels are
   fitted on times (robust non-linear least squares, :func:`scipy.optimize.least_squares`),
   with the link-time rule of :func:`~territorial_geo.network.approximate.link_times`;
4. the approximate network is rebuilt with the fitted parameters and compared with the
   detailed one on every pair within the budget (time errors) and on zone memberships
   (each covered chef-lieu taken as a zone centre, commune-to-centre direction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial_geo.errors import NetworkError
from territorial_geo.method import MARGIN_KM
from territorial_geo.network.approximate import (
    DENSITY_LEVELS,
    ApproxParams,
    _fill_density,
    build_approximate,
    commune_adjacency,
    half_link_s,
    link_times,
)
from territorial_geo.network.graph import RoadNetwork, same_segment_times
from territorial_geo.network.routing import snapped_times
from territorial_geo.sources import WORKING_CRS

#: Density-level groups fitted together by default: urban centres, small towns and urban
#: belts, rural bourgs and villages.
DEFAULT_GROUPS: tuple[tuple[int, ...], ...] = ((1, 2), (3, 4), (5, 6, 7))


def covered_codes(detailed: RoadNetwork, chefs_lieux: gpd.GeoDataFrame) -> pd.Index:
    """Chefs-lieux the detailed network covers: inside the convex hull of its nodes and
    within the snap threshold of one of its roads."""
    pts = chefs_lieux.geometry
    if pts.crs is not None and pts.crs != WORKING_CRS:
        pts = pts.to_crs(WORKING_CRS)
    if detailed.n_nodes < 3:
        return pd.Index([])
    hull = shapely.convex_hull(shapely.multipoints(
        np.c_[detailed.nodes["x"].to_numpy(), detailed.nodes["y"].to_numpy()]))
    inside = shapely.covers(hull, pts.to_numpy())
    pts = pts[inside]
    if len(pts) == 0:
        return pd.Index([])
    snap = detailed.snap(pts)
    return pd.Index(pts.index[~snap["far"].to_numpy()])


def _edge_table(net: RoadNetwork) -> pd.DataFrame:
    e = pd.DataFrame({"u": net.edges["u"].to_numpy(np.int64), "v": net.edges["v"].to_numpy(np.int64),
                      "t": net.edges["time_s"].to_numpy(float),
                      "len": net.edges["length_m"].to_numpy(float)})
    return e.sort_values("t", kind="stable").drop_duplicates(["u", "v"])


def fastest_pairs(
    net: RoadNetwork, points: gpd.GeoSeries, origin: np.ndarray, target: np.ndarray, *,
    limit_s: float = 3600.0, batch: int = 16,
) -> pd.DataFrame:
    """Time and road length of the fastest route between given pairs of points.

    Parameters
    ----------
    net
        Road network.
    points
        Points (EPSG:2154); pairs refer to their row positions.
    origin, target
        Row positions of the pairs (travel from origin to target).
    limit_s
        Pairs slower than this are dropped.

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``target``, ``time_s``, ``length_m`` (along the fastest route, snap
        legs included) for the pairs reached within the limit.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    snap = net.snap(points)
    n = net.n_nodes
    k = len(points)
    e = _edge_table(net)
    seg_len = net.edges.groupby("seg")["length_m"].first()
    slen = seg_len.reindex(snap["seg"].to_numpy()).to_numpy(float)
    frac = snap["frac"].to_numpy(float)
    sm = snap["snap_m"].to_numpy(float)
    out_n = np.vstack(snap["out_nodes"].to_numpy()).astype(np.int64)
    out_s = np.vstack(snap["out_s"].to_numpy())
    in_n = np.vstack(snap["in_nodes"].to_numpy()).astype(np.int64)
    in_s = np.vstack(snap["in_s"].to_numpy())
    # leaving: slot 0 to b along a->b ((1-frac) of the segment), slot 1 to a (frac)
    out_len = np.c_[sm + (1 - frac) * slen, sm + frac * slen]
    # arriving: slot 0 from a (frac), slot 1 from b (1-frac)
    in_len = np.c_[sm + frac * slen, sm + (1 - frac) * slen]
    pid = np.repeat(np.arange(k), 2)
    o_ok = out_n.ravel() >= 0
    i_ok = in_n.ravel() >= 0
    u = np.r_[e["u"].to_numpy(), n + pid[o_ok], in_n.ravel()[i_ok]]
    v = np.r_[e["v"].to_numpy(), out_n.ravel()[o_ok], n + k + pid[i_ok]]
    t = np.r_[e["t"].to_numpy(), out_s.ravel()[o_ok], in_s.ravel()[i_ok]]
    length = np.r_[e["len"].to_numpy(), out_len.ravel()[o_ok], in_len.ravel()[i_ok]]
    m = n + 2 * k
    dd = pd.DataFrame({"u": u, "v": v, "t": np.maximum(t, 1e-9), "len": length})
    dd = dd.sort_values("t", kind="stable").drop_duplicates(["u", "v"])
    graph = csr_matrix((dd["t"].to_numpy(), (dd["u"].to_numpy(), dd["v"].to_numpy())), shape=(m, m))
    key = dd["u"].to_numpy(np.int64) * m + dd["v"].to_numpy(np.int64)
    order = np.argsort(key)
    key, klen = key[order], dd["len"].to_numpy()[order]

    pairs = pd.DataFrame({"origin": np.asarray(origin, np.int64), "target": np.asarray(target, np.int64)})
    pairs = pairs[pairs["origin"] != pairs["target"]].drop_duplicates()
    out = []
    origins = np.unique(pairs["origin"].to_numpy())
    for s in range(0, len(origins), batch):
        ob = origins[s:s + batch]
        # scipy, not the numba kernel (kernel.py): the length along the fastest route needs
        # the predecessors, which the kernel does not keep; the kernel plus a walk back along
        # tight edges took 14.2 s instead of 1.6 s on the Artois pairs (issue 21)
        dist, pred = dijkstra(graph, directed=True, indices=n + ob, limit=limit_s,
                              return_predecessors=True)
        row_of = {o: r for r, o in enumerate(ob)}
        p = pairs[pairs["origin"].isin(ob)]
        rows = p["origin"].map(row_of).to_numpy()
        cur = (n + k + p["target"].to_numpy()).astype(np.int64)
        tt = dist[rows, cur]
        ok = np.isfinite(tt)
        rows, cur, tt, p = rows[ok], cur[ok], tt[ok], p[ok]
        acc = np.zeros(len(cur))
        active = np.ones(len(cur), bool)
        while active.any():
            prv = pred[rows[active], cur[active]].astype(np.int64)
            has = prv >= 0
            idx = np.flatnonzero(active)
            ek = prv[has] * m + cur[active][has]
            pos = np.searchsorted(key, ek)
            acc[idx[has]] += klen[pos]
            cur[idx[has]] = prv[has]
            active[idx[~has]] = False
        out.append(pd.DataFrame({"origin": p["origin"].to_numpy(), "target": p["target"].to_numpy(),
                                 "time_s": tt, "length_m": acc}))
    res = (pd.concat(out, ignore_index=True) if out else
           pd.DataFrame({"origin": [], "target": [], "time_s": [], "length_m": []}))
    # two points on one segment: the direct way along it may beat the graph
    direct = same_segment_times(snap, snap, origin_to_target=True, budget_s=limit_s)
    if len(direct) and len(res):
        d = direct.merge(res, on=["origin", "target"], suffixes=("_d", ""))
        better = d[d["time_s_d"] < d["time_s"] - 1e-9]
        if len(better):
            f = frac
            blen = (np.abs(f[better["origin"]] - f[better["target"]]) *
                    slen[better["origin"]] + sm[better["origin"]] + sm[better["target"]])
            upd = pd.DataFrame({"origin": better["origin"].to_numpy(),
                                "target": better["target"].to_numpy(),
                                "time_s": better["time_s_d"].to_numpy(), "length_m": blen})
            res = pd.concat([res.merge(upd[["origin", "target"]], how="left", indicator=True)
                             .query("_merge == 'left_only'").drop(columns="_merge"), upd],
                            ignore_index=True)
    return res.sort_values(["origin", "target"]).reset_index(drop=True)


def _group_params(x_speed: dict, x_built: dict, params0: ApproxParams, detour: float,
                  groups) -> ApproxParams:
    speeds = dict(params0.speed_kmh)
    built = dict(params0.builtup_m)
    for gi, g in enumerate(groups):
        for lev in g:
            if gi in x_speed:
                speeds[lev] = float(x_speed[gi])
            if gi in x_built:
                built[lev] = float(x_built[gi])
    return params0.replace(detour=float(detour), speed_kmh=speeds, builtup_m=built)


def fit_params(
    crow_m: np.ndarray, level_a: np.ndarray, level_b: np.ndarray, time_s: np.ndarray,
    length_m: np.ndarray, *, params0: ApproxParams | None = None,
    groups: tuple[tuple[int, ...], ...] = DEFAULT_GROUPS, fit_builtup: bool = True,
) -> tuple[ApproxParams, dict]:
    """Fit the detour factor (on lengths) and per-group speeds and built-up stretches (on
    times) to observed link times and lengths.

    Parameters
    ----------
    crow_m, level_a, level_b
        Crow-fly distance and density levels of each observed pair of chefs-lieux.
    time_s, length_m
        Fastest time and its road length on the detailed network.
    params0
        Starting point; parameters not fitted are kept from it.
    groups
        Density levels sharing one speed and one built-up stretch.
    fit_builtup
        Also fit the built-up stretches (else kept from ``params0``).

    Returns
    -------
    (ApproxParams, dict)
        Fitted parameters and fit details (per group: speed, built-up, pairs used).
    """
    from scipy.optimize import least_squares, lsq_linear
    params0 = params0 or ApproxParams()
    crow = np.asarray(crow_m, float)
    ok = (crow > 0) & np.isfinite(time_s) & np.isfinite(length_m)
    crow, la, lb = crow[ok], np.asarray(level_a)[ok], np.asarray(level_b)[ok]
    t, ln = np.asarray(time_s, float)[ok], np.asarray(length_m, float)[ok]
    if len(crow) < 3:
        raise NetworkError(f"calibration: only {len(crow)} pair(s) of neighbouring communes on the "
                           "detailed network; it must cover more of the area")
    flat = sorted(lev for g in groups for lev in g)
    if sorted(set(flat)) != flat or not set(flat) <= set(DENSITY_LEVELS):
        raise NetworkError(f"calibration groups must partition density levels 1..7, got {groups}")
    ratio = ln / crow
    det = least_squares(lambda f: ratio - f[0], x0=[float(np.median(ratio))], loss="soft_l1",
                        f_scale=0.05, bounds=([1.0], [5.0]))
    detour = float(det.x[0])
    g_of = {lev: gi for gi, g in enumerate(groups) for lev in g}
    ga = np.array([g_of[int(v)] for v in la])
    gb = np.array([g_of[int(v)] for v in lb])
    n_obs = {gi: int((ga == gi).sum() + (gb == gi).sum()) for gi in range(len(groups))}
    sp_g = [gi for gi in range(len(groups)) if n_obs[gi] > 0]
    bu_g = sp_g if fit_builtup else []
    half = detour * crow / 2
    u_pace = 3.6 / params0.urban_kmh  # s/m on the built-up stretch
    h_fixed = {gi: float(np.mean([params0.builtup_m[lev] for lev in groups[gi]])) for gi in sp_g}
    pace_lo, pace_hi = 3.6 / 150.0, 3.6 / 5.0

    def design(h: dict) -> tuple[np.ndarray, np.ndarray]:
        """Times are linear in the paces once the built-up stretches are fixed."""
        a_mat = np.zeros((len(t), len(sp_g)))
        const = np.full(len(t), params0.link_s)  # the per-link cost, kept from params0
        for col, gi in enumerate(sp_g):
            for g_end in (ga, gb):
                on = g_end == gi
                built = np.minimum(half[on], h[gi])
                const[on] += built * u_pace
                a_mat[on, col] += half[on] - built
        return a_mat, const

    def profile(h: dict) -> tuple[np.ndarray, float]:
        a_mat, const = design(h)
        sol = lsq_linear(a_mat, t - const, bounds=(pace_lo, pace_hi))
        return sol.x, float(np.sum((a_mat @ sol.x + const - t) ** 2))

    # built-up stretches by coordinate search over a grid (the problem is not convex in
    # them), paces solved exactly for each candidate
    h = dict(h_fixed)
    if bu_g:
        coarse = np.arange(0.0, 3001.0, 50.0)
        best = profile(h)[1]
        for _ in range(4):
            moved = False
            for gi in bu_g:
                for span, step in ((None, None), (50.0, 5.0), (5.0, 1.0)):
                    # coarse grid, then finer grids around the best value so far
                    grid_h = coarse if span is None else h[gi] + np.arange(-span, span + step / 2, step)
                    for cand in grid_h[grid_h >= 0]:
                        c = profile({**h, gi: float(cand)})[1]
                        if c < best - 1e-9:
                            best, h, moved = c, {**h, gi: float(cand)}, True
            if not moved:
                break
    paces, _ = profile(h)
    # robust polish of paces and stretches together (soft_l1: routes that leave the
    # neighbour link, e.g. through a faster road, weigh less)
    x0 = list(paces) + [h[gi] for gi in bu_g]
    lo = [pace_lo] * len(sp_g) + [0.0] * len(bu_g)
    hi = [pace_hi] * len(sp_g) + [5000.0] * len(bu_g)
    x0 = list(np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9))

    def unpack(x):
        sp_ = {gi: 3.6 / x[i] for i, gi in enumerate(sp_g)}
        bu_ = dict(zip(bu_g, x[len(sp_g):], strict=True)) if bu_g else {}
        return sp_, bu_

    def resid(x):
        sp_, bu_ = unpack(x)
        p = _group_params(sp_, bu_, params0, detour, groups)
        return link_times(crow, la, lb, p) - t

    res = least_squares(resid, x0=x0, loss="soft_l1", f_scale=30.0, bounds=(lo, hi),
                        x_scale=[1e-3] * len(sp_g) + [100.0] * len(bu_g))
    sp, bu = unpack(res.x)
    params = _group_params(sp, bu, params0, detour, groups)
    details = {
        "n_pairs": int(len(crow)),
        "detour": {"value": round(detour, 4), "median_ratio": round(float(np.median(ratio)), 4),
                   "p10_ratio": round(float(np.percentile(ratio, 10)), 4),
                   "p90_ratio": round(float(np.percentile(ratio, 90)), 4)},
        "groups": {
            "-".join(map(str, g)): {
                "levels": list(g),
                "n_link_ends": n_obs[gi],
                "speed_kmh": round(float(sp[gi]), 2) if gi in sp else None,
                "builtup_m": round(float(bu[gi]), 1) if gi in bu else None,
            }
            for gi, g in enumerate(groups)
        },
        "time_fit_converged": bool(res.success),
    }
    return params, details


def _stats(err: np.ndarray, rel: np.ndarray) -> dict:
    if len(err) == 0:
        return {"n": 0}
    return {"n": int(len(err)),
            "median_abs_s": round(float(np.median(np.abs(err))), 1),
            "p90_abs_s": round(float(np.percentile(np.abs(err), 90)), 1),
            "median_rel": round(float(np.median(np.abs(rel))), 4),
            "p90_rel": round(float(np.percentile(np.abs(rel), 90)), 4),
            "median_bias_s": round(float(np.median(err)), 1)}


def compare_networks(
    detailed: RoadNetwork, approx: RoadNetwork, points: gpd.GeoSeries, budget_s: float,
) -> dict:
    """Pair-time errors and zone-membership agreement of ``approx`` against ``detailed``.

    Every point is taken as a zone centre; a point is a member of a zone when its time *to*
    the centre is within ``budget_s``. Errors are over the pairs within the budget on the
    detailed network (approximate times searched up to three budgets; beyond counts as
    missing).
    """
    def table(net, limit):
        s = net.snap(points)
        r = snapped_times(net, s, s, limit, reverse=True)
        r = r[r["origin"] != r["target"]]
        return r.set_index(["origin", "target"])["time_s"]

    det = table(detailed, budget_s)
    app = table(approx, 3 * budget_s)
    both = det.to_frame("det").join(app.rename("app"), how="left")
    found = both["app"].notna()
    err = (both["app"] - both["det"])[found].to_numpy()
    rel = err / np.maximum(both["det"][found].to_numpy(), 1.0)
    in_det = set(det.index)
    in_app = set(app[app <= budget_s].index)
    inter = len(in_det & in_app)
    union = len(in_det | in_app)
    d_df = pd.DataFrame(sorted(in_det), columns=["origin", "target"], dtype=np.int64)
    a_df = pd.DataFrame(sorted(in_app), columns=["origin", "target"], dtype=np.int64)
    m = d_df.merge(a_df, on=["origin", "target"], how="outer", indicator=True)
    per_zone = (m["_merge"] == "both").groupby(m["origin"]).mean()
    per = per_zone.to_numpy()
    return {
        "budget_min": budget_s / 60,
        "n_points": int(len(points)),
        "pairs_within_budget_detailed": int(len(det)),
        "pairs_within_budget_approximate": int(len(in_app)),
        "pairs_missing_in_approximate": int((~found).sum()),
        "time_error": _stats(err, rel),
        "membership_jaccard": round(inter / union, 4) if union else 1.0,
        "membership_recall": round(inter / len(in_det), 4) if in_det else 1.0,
        "membership_precision": round(inter / len(in_app), 4) if in_app else 1.0,
        "zone_jaccard_median": round(float(np.median(per)), 4) if len(per) else 1.0,
    }


@dataclass
class CalibrationResult:
    """What :func:`calibrate` found.

    Attributes
    ----------
    params
        Fitted :class:`ApproxParams` (build the approximate network with them).
    params0
        Starting parameters.
    fit
        Fit details (pairs used, detour ratios, per-group speed and built-up stretch).
    before, after
        :func:`compare_networks` with ``params0`` and with the fitted parameters.
    budget_min
        Budget of the comparison.
    n_covered
        Chefs-lieux covered by the detailed network.
    detailed_source
        The detailed network's provenance.
    """

    params: ApproxParams
    params0: ApproxParams
    fit: dict
    before: dict
    after: dict
    budget_min: float
    n_covered: int
    detailed_source: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able result."""
        return {
            "budget_min": self.budget_min,
            "n_covered_communes": self.n_covered,
            "detailed": {k: v for k, v in self.detailed_source.items()
                         if isinstance(v, str | int | float | bool | None)},
            "fit": self.fit,
            "params": {k: v["value"] for k, v in self.params.to_dict().items()},
            "params0": {k: v["value"] for k, v in self.params0.to_dict().items()},
            "before": self.before,
            "after": self.after,
        }

    def summary(self) -> str:
        """A printable summary of the fit."""
        f = self.fit
        lines = [
            f"calibration on {self.n_covered} communes covered by the detailed network "
            f"({self.detailed_source.get('format', '?')}); {f['n_pairs']} neighbour pairs",
            f"  detour factor: {self.params0.detour:.3f} -> {f['detour']['value']:.3f} "
            f"(road/crow-fly ratio median {f['detour']['median_ratio']:.3f}, "
            f"p10-p90 {f['detour']['p10_ratio']:.2f}-{f['detour']['p90_ratio']:.2f})",
        ]
        for name, g in f["groups"].items():
            if g["speed_kmh"] is None:
                lines.append(f"  levels {name}: no pair, kept")
                continue
            lines.append(f"  levels {name}: speed {g['speed_kmh']:.1f} km/h, built-up stretch "
                         f"{g['builtup_m'] if g['builtup_m'] is not None else '-'} m "
                         f"({g['n_link_ends']} link ends)")
        for label, r in (("before", self.before), ("after", self.after)):
            te = r["time_error"]
            if te.get("n", 0) == 0:
                lines.append(f"  {label}: no pair within {self.budget_min:g} min")
                continue
            lines.append(
                f"  {label}: pair times within {self.budget_min:g} min (n={te['n']}): median |error| "
                f"{te['median_abs_s']:.0f} s ({te['median_rel']:.0%}), p90 {te['p90_abs_s']:.0f} s "
                f"({te['p90_rel']:.0%}), bias {te['median_bias_s']:+.0f} s; memberships: "
                f"Jaccard {r['membership_jaccard']:.2f}, recall {r['membership_recall']:.2f}, "
                f"precision {r['membership_precision']:.2f}")
        return "\n".join(lines)


def calibrate(
    detailed: RoadNetwork,
    communes: gpd.GeoDataFrame,
    chefs_lieux: gpd.GeoDataFrame,
    density: pd.Series,
    *,
    skeleton: RoadNetwork | None = None,
    budget_min: float = 10.0,
    params0: ApproxParams | None = None,
    groups: tuple[tuple[int, ...], ...] = DEFAULT_GROUPS,
    fit_builtup: bool = True,
    limit_min: float = 30.0,
) -> CalibrationResult:
    """Fit the approximate network's parameters to a detailed network.

    Parameters
    ----------
    detailed
        A detailed network (OSM, BD TOPO) covering part or all of the area.
    communes, chefs_lieux, density
        As for :func:`~territorial_geo.network.approximate.build_approximate`.
    skeleton
        Skeleton merged into the approximate network (for the before/after comparison).
    budget_min
        Budget of the comparison (pair errors and zone memberships).
    params0
        Starting parameters (:class:`ApproxParams` defaults).
    groups
        Density levels sharing one fitted speed and built-up stretch.
    fit_builtup
        Fit the built-up stretches too.
    limit_min
        Neighbour pairs slower than this on the detailed network are left out of the fit.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    NetworkError
        Fewer than three neighbour pairs covered, or a non-positive budget.
    """
    if not budget_min > 0:
        raise NetworkError(f"budget_min must be positive, got {budget_min}")
    params0 = params0 or ApproxParams()
    if communes.crs is not None and communes.crs != WORKING_CRS:
        communes = communes.to_crs(WORKING_CRS)
    cl = chefs_lieux.to_crs(WORKING_CRS) if chefs_lieux.crs not in (None, WORKING_CRS) else chefs_lieux
    cl = cl.reindex(communes.index).dropna(subset=["geometry"])
    cov = covered_codes(detailed, cl)
    if len(cov) < 2:
        raise NetworkError(
            f"calibration: the detailed network ({detailed.source.get('path', 'given')}) covers "
            f"{len(cov)} chef(s)-lieu(x) of the {len(communes)} communes given; pass the area it covers")
    adj = commune_adjacency(communes, min_shared_m=params0.min_shared_border_m)
    level, _ = _fill_density(pd.Index(communes.index), density, adj)
    lev = pd.Series(level, index=communes.index)
    ca, cb = adj["code_a"].to_numpy(), adj["code_b"].to_numpy()
    keep = np.isin(ca, cov) & np.isin(cb, cov)
    ca, cb = ca[keep], cb[keep]
    pts = cl.geometry.loc[cov]
    pos = pd.Series(np.arange(len(cov)), index=cov)
    o = np.r_[pos[ca].to_numpy(), pos[cb].to_numpy()]
    t = np.r_[pos[cb].to_numpy(), pos[ca].to_numpy()]
    obs = fastest_pairs(detailed, pts, o, t, limit_s=limit_min * 60)
    xy = shapely.get_coordinates(pts.to_numpy())
    crow = np.hypot(*(xy[obs["origin"]] - xy[obs["target"]]).T)
    codes = np.asarray(cov)
    params, fit = fit_params(crow, lev[codes[obs["origin"]]].to_numpy(),
                             lev[codes[obs["target"]]].to_numpy(), obs["time_s"].to_numpy(),
                             obs["length_m"].to_numpy(), params0=params0, groups=groups,
                             fit_builtup=fit_builtup)
    budget_s = budget_min * 60
    before = compare_networks(detailed, build_approximate(communes, cl, density, skeleton=skeleton,
                                                          params=params0), pts, budget_s)
    after = compare_networks(detailed, build_approximate(communes, cl, density, skeleton=skeleton,
                                                         params=params), pts, budget_s)
    return CalibrationResult(params=params, params0=params0, fit=fit, before=before, after=after,
                             budget_min=float(budget_min), n_covered=int(len(cov)),
                             detailed_source=dict(detailed.source))


# ---------------------------------------------------------------------------------------
# Reference-table mode: fit to a router's times between chefs-lieux (OSRM, INSEE Metric...)
# ---------------------------------------------------------------------------------------

#: Fewest communes a reference table must cover to fit anything.
MIN_REFERENCE_COMMUNES = 30

#: Shift (seconds) of the per-link cost before taking its log in the fit (it may be 0).
_SHIFT_S = 20.0

#: Zone budget of the Jaccard figure (minutes).
JACCARD_BUDGET_MIN = 10.0

#: Parameters the reference-table fit adjusts by default (see :func:`fit_reference`).
REFERENCE_FIT: tuple[str, ...] = (
    "speed:1-2", "speed:3-4", "speed:5-7", "urban_kmh", "link_s", "skeleton:motorway",
    "skeleton:trunk", "skeleton:secondary",
)


@dataclass
class ReferenceTable:
    """A router's times between communes, codes remapped to the current geography.

    Attributes
    ----------
    pairs
        ``origin``, ``destination`` (5-character COG codes), ``duration_s`` (origin !=
        destination).
    path
        The file read.
    remapped
        Former code -> current code, for codes merged since the table's geography.
    n_rows
        Rows read (before remapping and de-duplication).
    """

    pairs: pd.DataFrame
    path: str
    remapped: dict[str, str] = field(default_factory=dict)
    n_rows: int = 0

    @property
    def codes(self) -> pd.Index:
        """Communes the table covers (sorted)."""
        return pd.Index(sorted(set(self.pairs["origin"]) | set(self.pairs["destination"])))


def read_reference_table(
    path, *, known: pd.Index, mapping: dict[str, str] | None = None,
    min_communes: int = MIN_REFERENCE_COMMUNES,
) -> ReferenceTable:
    """Read a CSV of ``origin, destination, duration_s`` between chefs-lieux.

    Parameters
    ----------
    path
        CSV file (optionally gzipped); extra columns are ignored.
    known
        Current commune codes (COG 2026).
    mapping
        Former code -> current code (:func:`territorial_geo.sources.cog.code_mapping`);
        a pair whose two codes merged into one commune is dropped, and when two former
        communes map to one, the pair of the commune that kept its code is kept.
    min_communes
        Fewest communes the table must cover.

    Raises
    ------
    DataFormatError
        Missing file, missing column, non-numeric or negative duration, unknown code, or
        fewer than ``min_communes`` communes (the message names the file and what to do).
    """
    from pathlib import Path

    from territorial_geo.codes import normalize_codes
    from territorial_geo.errors import DataFormatError

    p = Path(path)
    if not p.is_file():
        raise DataFormatError(f"reference table {p} not found: give a CSV of origin, "
                              "destination, duration_s between commune codes")
    try:
        df = pd.read_csv(p, dtype=str)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"reference table {p}: not a readable CSV ({exc})") from exc
    need = ["origin", "destination", "duration_s"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise DataFormatError(f"reference table {p}: column(s) {', '.join(miss)} missing "
                              f"(found {', '.join(map(str, df.columns[:6]))}); expected "
                              "origin, destination, duration_s")
    dur = pd.to_numeric(df["duration_s"], errors="coerce")
    if dur.isna().any():
        row = int(np.flatnonzero(dur.isna().to_numpy())[0])
        raise DataFormatError(f"reference table {p}: duration_s is not a number on data row "
                              f"{row + 1} ({df['duration_s'].iloc[row]!r}); fix or remove it")
    if (dur < 0).any():
        row = int(np.flatnonzero((dur < 0).to_numpy())[0])
        raise DataFormatError(f"reference table {p}: negative duration_s {dur.iloc[row]} on data "
                              f"row {row + 1}; durations are seconds >= 0")
    mapping = mapping or {}
    o = normalize_codes(df["origin"].fillna(""), source=f"reference table {p}, column origin")
    d = normalize_codes(df["destination"].fillna(""),
                        source=f"reference table {p}, column destination")
    known_set = set(known)
    raw = pd.Index(pd.unique(pd.concat([o, d]).astype(str)))
    new = pd.Series([mapping.get(c, c) for c in raw], index=raw)
    unknown = [c for c in raw if new[c] not in known_set]
    if unknown:
        raise DataFormatError(
            f"reference table {p}: {len(unknown)} unknown commune code(s) ({', '.join(unknown[:5])}"
            "); codes must be 5-character INSEE codes of the official geography (COG)")
    remapped = {c: str(new[c]) for c in raw if new[c] != c}
    out = pd.DataFrame({"origin": new.reindex(o.astype(str)).to_numpy(),
                        "destination": new.reindex(d.astype(str)).to_numpy(),
                        "duration_s": dur.to_numpy(float),
                        "_kept": (~o.isin(list(remapped)) & ~d.isin(list(remapped))).to_numpy()})
    out = out[out["origin"] != out["destination"]]
    out = (out.sort_values("_kept", ascending=False, kind="stable")
           .drop_duplicates(["origin", "destination"]).drop(columns="_kept")
           .sort_values(["origin", "destination"]).reset_index(drop=True))
    tab = ReferenceTable(out, str(p), remapped, int(len(df)))
    if len(tab.codes) < min_communes:
        raise DataFormatError(
            f"reference table {p} covers {len(tab.codes)} commune(s); at least {min_communes} "
            "are needed to fit and check the approximate network: give a larger table")
    return tab


def reference_times(net: RoadNetwork, points: gpd.GeoSeries, *, limit_s: float) -> pd.DataFrame:
    """Times on ``net`` between every ordered pair of ``points`` (indexed by code), each
    point snapped the way the engine snaps any point.

    Returns ``origin``, ``destination`` (codes), ``time_s`` for the pairs within ``limit_s``.
    """
    s = net.snap(points)
    r = snapped_times(net, s, s, limit_s, reverse=False)
    r = r[r["origin"] != r["target"]]
    codes = np.asarray(points.index.astype(str))
    return pd.DataFrame({"origin": codes[r["origin"].to_numpy()],
                         "destination": codes[r["target"].to_numpy()],
                         "time_s": r["time_s"].to_numpy(float)})


def reference_metrics(
    ours: pd.DataFrame, reference: pd.DataFrame, codes, *, budget_min: float = JACCARD_BUDGET_MIN,
) -> dict:
    """How our times agree with a reference router's on the pairs within ``codes``.

    Parameters
    ----------
    ours
        ``origin``, ``destination``, ``time_s`` (:func:`reference_times`; a pair missing
        is slower than the search limit: counted as infinitely slow).
    reference
        ``origin``, ``destination``, ``duration_s`` (:class:`ReferenceTable` ``pairs``).
    codes
        The evaluation set: only pairs with both communes in it count.
    budget_min
        Zone budget of the Jaccard figure.

    Returns
    -------
    dict
        ``n_communes``, ``n_pairs``, ``median_ratio`` (ours / reference), ``p10_ratio``,
        ``p90_ratio``, ``median_abs_log_ratio`` over the pairs with a positive reference
        time; ``jaccard_mean``: for each origin commune of the set, A = communes of the set
        (the origin itself excluded) the reference reaches within the budget, B = the
        same with our times, Jaccard |A ∩ B| / |A ∪ B| (1 when both are empty), averaged
        over origins; ``zone_size_reference`` and ``zone_size_ours``: mean |A| and |B|.
    """
    codes = pd.Index(codes)
    ref = reference[reference["origin"].isin(codes) & reference["destination"].isin(codes)]
    ref = ref[ref["origin"] != ref["destination"]]
    m = ref.merge(ours, on=["origin", "destination"], how="left")
    t = m["time_s"].fillna(np.inf).to_numpy(float)
    r = m["duration_s"].to_numpy(float)
    pos = r > 0
    ratio = t[pos] / r[pos]
    lr = np.abs(np.log(ratio))
    budget = budget_min * 60
    a = r <= budget
    b = t <= budget
    grp = pd.DataFrame({"o": m["origin"].to_numpy(), "i": a & b, "u": a | b, "a": a, "b": b})
    per = grp.groupby("o")[["i", "u", "a", "b"]].sum().reindex(codes, fill_value=0)
    jac = np.where(per["u"] > 0, per["i"] / per["u"].where(per["u"] > 0, 1), 1.0)
    return {
        "n_communes": int(len(codes)),
        "n_pairs": int(len(m)),
        "n_missing": int((~np.isfinite(t)).sum()),
        "median_ratio": round(float(np.median(ratio)), 4),
        "p10_ratio": round(float(np.percentile(ratio, 10)), 4),
        "p90_ratio": round(float(np.percentile(ratio, 90)), 4),
        "median_abs_log_ratio": round(float(np.median(lr)), 4),
        "jaccard_mean": round(float(np.mean(jac)), 4),
        "zone_size_reference": round(float(per["a"].mean()), 2),
        "zone_size_ours": round(float(per["b"].mean()), 2),
        "budget_min": float(budget_min),
    }


def _param_value(params: ApproxParams, name: str) -> float:
    kind, _, what = name.partition(":")
    if kind == "speed":
        levels = [int(v) for v in _levels(what)]
        return float(np.mean([params.speed_kmh[lev] for lev in levels]))
    if kind == "skeleton":
        return float(params.skeleton_kmh.get(what, 80.0))
    return float(getattr(params, name))


def _levels(what: str) -> list[int]:
    lo, _, hi = what.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def apply_fit_values(params: ApproxParams, values: dict[str, float]) -> ApproxParams:
    """``params`` with fitted values set: ``speed:A-B`` (open-road speed of density levels
    A..B), ``skeleton:CLASS`` (skeleton class speed), or a scalar field (``link_s``,
    ``urban_kmh``, ``detour``)."""
    speeds = dict(params.speed_kmh)
    sk = dict(params.skeleton_kmh)
    other = {}
    for name, v in values.items():
        kind, _, what = name.partition(":")
        if kind == "speed":
            for lev in _levels(what):
                speeds[lev] = float(v)
        elif kind == "skeleton":
            sk[what] = float(v)
        else:
            other[name] = float(v)
    return params.replace(speed_kmh=speeds, skeleton_kmh=sk, **other)


def fit_reference(
    reference: pd.DataFrame,
    points: gpd.GeoSeries,
    build,
    fit_codes,
    *,
    params0: ApproxParams | None = None,
    names: tuple[str, ...] = REFERENCE_FIT,
    short_min: float = 20.0,
    short_weight: float = 8.0,
    max_evals: int = 80,
) -> tuple[ApproxParams, dict]:
    """Fit approximate-network parameters to a reference router's times.

    The objective is the log ratio ours / reference over every ordered pair of
    ``fit_codes`` (robust ``soft_l1`` loss), pairs shorter than ``short_min`` minutes on
    the reference weighing ``short_weight`` times more (they decide zone memberships).
    Times are not linear in the parameters (routes change with them), so the fit rebuilds
    and reroutes the network at every evaluation (:func:`scipy.optimize.least_squares`
    with finite differences on log parameters).

    Parameters
    ----------
    reference
        ``origin``, ``destination``, ``duration_s`` (:class:`ReferenceTable` ``pairs``).
    points
        Chef-lieu points (EPSG:2154) indexed by code, covering ``fit_codes``.
    build
        ``build(params) -> RoadNetwork``: the approximate network of the area.
    fit_codes
        Communes whose pairs are fitted (keep the others to check the fit).
    params0
        Starting point; parameters not in ``names`` are kept.
    names
        Parameters fitted (see :func:`apply_fit_values`).
    max_evals
        Evaluations of the objective (``max_nfev`` of :func:`scipy.optimize.least_squares`;
        each also costs one build per fitted parameter for the finite-difference gradient).

    Returns
    -------
    (ApproxParams, dict)
        Fitted parameters and details (start and fitted values, evaluations, cost).
    """
    from scipy.optimize import least_squares
    params0 = params0 or ApproxParams()
    fit_codes = pd.Index(fit_codes)
    ref = reference[reference["origin"].isin(fit_codes) & reference["destination"].isin(fit_codes)]
    ref = ref[(ref["origin"] != ref["destination"]) & (ref["duration_s"] > 0)]
    if len(ref) < 10:
        raise NetworkError(f"reference fit: only {len(ref)} pair(s) among the fitted communes")
    pts = points.reindex(fit_codes).dropna()
    r = ref["duration_s"].to_numpy(float)
    w = np.where(r < short_min * 60, np.sqrt(short_weight), 1.0)
    limit = float(r.max()) * 3
    # log parameters (relative steps); a cost in seconds may be 0: shifted by _SHIFT_S first
    shift = np.array([_SHIFT_S if n == "link_s" else 0.0 for n in names])
    x0 = np.log([_param_value(params0, n) for n in names] + shift)
    evals = {"n": 0}

    def values_of(x) -> dict[str, float]:
        return dict(zip(names, np.exp(x) - shift, strict=True))

    def times(x):
        p = apply_fit_values(params0, values_of(x))
        evals["n"] += 1
        ours = reference_times(build(p), pts, limit_s=limit)
        t = ref.merge(ours, on=["origin", "destination"], how="left")["time_s"].to_numpy(float)
        return np.log(np.nan_to_num(t, nan=limit) / r) * w

    lo = np.log(np.where(shift > 0, shift, 5.0))  # 5 km/h, or a cost of 0 s
    hi = np.log(200.0 + shift)
    x0 = np.clip(x0, lo + 1e-6, hi - 1e-6)
    res = least_squares(times, x0=x0, loss="soft_l1", f_scale=0.1, diff_step=0.03,
                        bounds=(lo, hi), max_nfev=max_evals, xtol=1e-3, ftol=1e-4)
    values = values_of(res.x)
    params = apply_fit_values(params0, values)
    details = {
        "fitted": {n: round(float(v), 2) for n, v in values.items()},
        "start": {n: round(_param_value(params0, n), 2) for n in names},
        "n_fit_communes": int(len(pts)),
        "n_fit_pairs": int(len(ref)),
        "short_min": short_min,
        "short_weight": short_weight,
        "network_builds": int(evals["n"]),
        "cost": round(float(res.cost), 3),
        "converged": bool(res.success),
    }
    return params, details


def area_split(points: gpd.GeoSeries, *, square_km: float = 20.0, offset_km: float = 0.0,
               axis: str = "x") -> tuple[pd.Index, pd.Index]:
    """Split communes by area: squares of ``square_km`` in Lambert-93, whole columns of
    squares alternately kept for the fit (even columns) and held back (odd columns).

    Parameters
    ----------
    points
        Points indexed by commune code.
    square_km
        Width of a column.
    offset_km
        Shift of the column edges (the same columns moved by ``offset_km``: another split
        of the same communes, for cross-validation).
    axis
        ``"x"``: columns (edges at constant x); ``"y"``: rows (edges at constant y).

    Returns
    -------
    (pandas.Index, pandas.Index)
        ``(fit_codes, held_codes)``; swapping them gives the other fold.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"area_split: axis must be 'x' or 'y', got {axis!r}")
    pts = points.to_crs(WORKING_CRS) if points.crs not in (None, WORKING_CRS) else points
    coord = shapely.get_x if axis == "x" else shapely.get_y
    col = np.floor((coord(pts.to_numpy()) + offset_km * 1000) / (square_km * 1000)).astype(np.int64)
    odd = (col % 2) == 1
    return pd.Index(pts.index[~odd]), pd.Index(pts.index[odd])


@dataclass
class ReferenceCalibration:
    """What :func:`calibrate_reference` found.

    Attributes
    ----------
    params, params0
        Fitted and starting :class:`ApproxParams`.
    fit
        :func:`fit_reference` details.
    before, after
        ``{"fit": metrics, "held": metrics}`` (:func:`reference_metrics`) with ``params0``
        and with the fitted parameters.
    table
        The reference table's path, rows, communes and remapped codes.
    split
        How the communes were split (``square_km``, communes fitted and held back).
    """

    params: ApproxParams
    params0: ApproxParams
    fit: dict
    before: dict
    after: dict
    table: dict
    split: dict

    def to_dict(self) -> dict:
        """JSON-able result (parameters as ``[zoning.approximate]`` takes them)."""
        return {"reference": self.table, "split": self.split, "fit": self.fit,
                "params": {k: v["value"] for k, v in self.params.to_dict().items()},
                "before": self.before, "after": self.after}

    def summary(self) -> str:
        """A printable summary: fitted values and residuals on fitted and held-back communes."""
        t = self.table
        lines = [f"reference table {t['path']}: {t['n_pairs']} pairs between {t['n_communes']} "
                 f"communes ({len(t['remapped'])} code(s) remapped to COG 2026"
                 + (f": {', '.join(f'{a}->{b}' for a, b in list(t['remapped'].items())[:5])}"
                    if t["remapped"] else "") + ")",
                 f"  split by area ({self.split['square_km']:g} km squares, alternate columns): "
                 f"{self.split['n_fit']} communes fitted, {self.split['n_held']} held back"]
        for n, v in self.fit["fitted"].items():
            lines.append(f"  {n:20s} {self.fit['start'][n]:8.2f} -> {v:8.2f}")
        for label, r in (("before", self.before), ("after", self.after)):
            for part in ("fit", "held"):
                m = r[part]
                lines.append(
                    f"  {label:6s} {part:4s}: median ratio {m['median_ratio']:.3f} (p10 "
                    f"{m['p10_ratio']:.2f}, p90 {m['p90_ratio']:.2f}), median |log ratio| "
                    f"{m['median_abs_log_ratio']:.3f}, {m['budget_min']:g}-min zone Jaccard "
                    f"{m['jaccard_mean']:.3f} (zone size {m['zone_size_ours']:.1f} vs "
                    f"{m['zone_size_reference']:.1f})")
        return "\n".join(lines)


def calibrate_reference(
    table: ReferenceTable,
    points: gpd.GeoSeries,
    communes: gpd.GeoDataFrame,
    chefs_lieux: gpd.GeoDataFrame,
    density: pd.Series,
    *,
    skeleton: RoadNetwork | None = None,
    params0: ApproxParams | None = None,
    names: tuple[str, ...] = REFERENCE_FIT,
    square_km: float = 20.0,
    max_evals: int = 80,
) -> ReferenceCalibration:
    """Fit the approximate network to a reference table and check it on held-back communes.

    Parameters
    ----------
    table
        :func:`read_reference_table`.
    points
        Chef-lieu points of the table's communes (indexed by code; EPSG:2154 or 4326).
    communes, chefs_lieux, density
        Inputs of :func:`~territorial_geo.network.approximate.build_approximate` covering
        the table's communes and a margin.
    skeleton
        Classified-road skeleton of the area (``None``: local links only).
    params0
        Starting parameters (defaults when ``None``).
    names
        Parameters fitted (:func:`apply_fit_values`).
    square_km
        Size of the squares of the area split (:func:`area_split`).
    max_evals
        Evaluations of the fit's objective (see :func:`fit_reference`).

    Raises
    ------
    NetworkError
        Points missing for the table's communes, or too few pairs on one side of the split.
    """
    params0 = params0 or ApproxParams()
    pts = points.to_crs(WORKING_CRS) if points.crs not in (None, WORKING_CRS) else points
    pts = pts[~pts.index.duplicated()]
    miss = [c for c in table.codes if c not in pts.index]
    if miss:
        raise NetworkError(f"reference table {table.path}: no chef-lieu point for commune(s) "
                           f"{', '.join(miss[:5])}")
    pts = pts.reindex(table.codes)
    fit_codes, held_codes = area_split(pts, square_km=square_km)
    if min(len(fit_codes), len(held_codes)) < 2:
        raise NetworkError(f"reference table {table.path}: its communes lie in too few "
                           f"{square_km:g} km squares to hold some back; give a wider table")

    def build(p: ApproxParams) -> RoadNetwork:
        return build_approximate(communes, chefs_lieux, density, skeleton=skeleton, params=p)

    limit = float(table.pairs["duration_s"].max()) * 3

    def metrics(p: ApproxParams) -> dict:
        ours = reference_times(build(p), pts, limit_s=limit)
        return {"fit": reference_metrics(ours, table.pairs, fit_codes),
                "held": reference_metrics(ours, table.pairs, held_codes)}

    params, fit = fit_reference(table.pairs, pts, build, fit_codes, params0=params0, names=names,
                                max_evals=max_evals)
    return ReferenceCalibration(
        params=params, params0=params0, fit=fit, before=metrics(params0), after=metrics(params),
        table={"path": table.path, "n_rows": table.n_rows, "n_pairs": int(len(table.pairs)),
               "n_communes": int(len(table.codes)), "remapped": table.remapped},
        split={"square_km": square_km, "n_fit": int(len(fit_codes)), "n_held": int(len(held_codes)),
               "held_codes": list(map(str, held_codes))})


def read_reference_points(path, *, mapping: dict[str, str] | None = None) -> gpd.GeoSeries:
    """Points a reference router was queried with: CSV ``code, lon, lat`` (WGS84).

    Codes are moved to the current geography with ``mapping``; when several former
    communes map to one, the point of the commune that kept its code wins.

    Returns
    -------
    geopandas.GeoSeries
        Points in EPSG:2154 indexed by current code.

    Raises
    ------
    DataFormatError
        Missing file or columns (the message names the file).
    """
    from pathlib import Path

    from territorial_geo.codes import normalize_codes
    from territorial_geo.errors import DataFormatError

    p = Path(path)
    if not p.is_file():
        raise DataFormatError(f"points file {p} not found: give a CSV of code, lon, lat")
    raw = pd.read_csv(p, dtype={"code": str})
    if not {"code", "lon", "lat"} <= set(raw.columns):
        raise DataFormatError(f"points file {p}: columns code, lon, lat needed "
                              f"(found {', '.join(map(str, raw.columns[:6]))})")
    old = normalize_codes(raw["code"], source=str(p))
    mapping = mapping or {}
    new = old.map(lambda c: mapping.get(c, c))
    pts = gpd.GeoSeries(gpd.points_from_xy(raw["lon"], raw["lat"]), index=new.to_numpy(),
                        crs="EPSG:4326").to_crs(WORKING_CRS)
    kept = (old == new).to_numpy()
    order = np.argsort(~kept, kind="stable")  # communes that kept their code first
    pts = pts.iloc[order]
    return pts[~pts.index.duplicated()]


def params_of(net: RoadNetwork) -> ApproxParams:
    """The :class:`ApproxParams` an approximate network was built with (its ``source``)."""
    old = net.source.get("parameters") or {}
    if not old:
        raise NetworkError("not an approximate network: no parameters in its source")
    return ApproxParams(**{k: (tuple(v["value"]) if isinstance(v["value"], list) else v["value"])
                           for k, v in old.items()})


def retime(net: RoadNetwork, params: ApproxParams) -> RoadNetwork:
    """An approximate network retimed with other parameters, without rebuilding it.

    Local links are retimed exactly (:func:`link_times` of their crow-fly length and
    levels); the leg of an access link is retimed, its part along the skeleton segment
    kept; skeleton edges get ``length / skeleton_kmh`` plus their village crossings
    (``crossed_m`` at ``urban_kmh`` instead of the class speed). A quick stand-in for :func:`build_approximate` while searching
    parameters that do not change the network's shape (speeds, ``link_s``); rebuild for the
    exact network.
    """
    p_old = params_of(net)
    e = net.edges.copy(deep=False)
    link = e["link"].astype(str).to_numpy()
    t = e["time_s"].to_numpy(float).copy()
    crow = pd.to_numeric(e["crow_m"], errors="coerce").to_numpy(float)
    lu = np.nan_to_num(pd.to_numeric(e["level_u"], errors="coerce").to_numpy(float), nan=6)
    lv = np.nan_to_num(pd.to_numeric(e["level_v"], errors="coerce").to_numpy(float), nan=6)
    loc = link == "local"
    t[loc] = np.maximum(link_times(crow[loc], lu[loc].astype(int), lv[loc].astype(int), params),
                        1e-3)
    acc = link == "access"
    if acc.any():
        la = lu[acc].astype(int)
        leg = lambda p: half_link_s(p.detour * crow[acc], la, p) + p.link_s  # noqa: E731
        t[acc] = np.maximum(t[acc] - leg(p_old) + leg(params), 1e-3)
    sk = link == "skeleton"
    kmh = e["highway"].map(params.skeleton_kmh).to_numpy(dtype=float) * net.profile.factor
    on = sk & np.isfinite(kmh)
    crossed = pd.to_numeric(e["crossed_m"], errors="coerce").fillna(0.0).to_numpy(float)
    pen = np.maximum(crossed[on] * (3.6 / params.urban_kmh - 3.6 / kmh[on]), 0.0)
    t[on] = e["length_m"].to_numpy(float)[on] / (kmh[on] / 3.6) + pen
    e["time_s"] = t
    e["speed_kmh"] = e["length_m"].to_numpy(float) / t * 3.6
    src = dict(net.source)
    src["parameters"] = params.to_dict()
    src["retimed"] = True
    return RoadNetwork(net.nodes, e, net.profile, src)


def fit_skeleton_to_destination(
    net: RoadNetwork,
    points: gpd.GeoSeries,
    destination: gpd.GeoSeries,
    reference_s: pd.Series,
    fit_codes,
    *,
    params0: ApproxParams | None = None,
    names: tuple[str, ...] = ("skeleton:motorway", "skeleton:trunk"),
    max_evals: int = 40,
) -> tuple[ApproxParams, dict]:
    """Fit parameters to a router's times from many communes to one place.

    Long trips ride the skeleton, so a national table of times to one destination (e.g.
    every commune's OSRM time to Paris) pins its class speeds, and those of the dense
    communes around big cities. The network is retimed (:func:`retime`), not rebuilt, at
    each evaluation; the objective is the log ratio ours / reference over ``fit_codes``
    (robust ``soft_l1`` loss).

    Parameters
    ----------
    net
        Approximate network (built once, with the other parameters as wanted).
    points
        Chef-lieu points indexed by code (EPSG:2154).
    destination
        One point (the destination's chef-lieu).
    reference_s
        Reference seconds from each code to the destination.
    fit_codes
        Codes fitted (hold others back by area to check the fit).
    params0
        Starting point (the parameters ``net`` was built with, unless given).
    names
        Parameters fitted (:func:`apply_fit_values`).

    Returns
    -------
    (ApproxParams, dict)
        Fitted parameters and details.
    """
    from scipy.optimize import least_squares

    from territorial_geo.network.routing import nearest_point_times

    params0 = params0 or params_of(net)
    codes = pd.Index(fit_codes).intersection(points.index).intersection(reference_s.index)
    ref = reference_s.reindex(codes).to_numpy(float)
    ok = ref > 0
    codes, ref = codes[ok], ref[ok]
    if len(codes) < MIN_REFERENCE_COMMUNES:
        raise NetworkError(f"skeleton fit: only {len(codes)} communes with a reference time")
    pts = points.reindex(codes)
    evals = {"n": 0}

    def times(x):
        n2 = retime(net, apply_fit_values(params0, dict(zip(names, np.exp(x), strict=True))))
        evals["n"] += 1
        t, _ = nearest_point_times(n2, n2.snap(pts), n2.snap(destination), direction="to")
        return np.log(np.where(np.isfinite(t), t, 10 * ref) / ref)

    if any(n == "link_s" for n in names):
        raise NetworkError("fit_skeleton_to_destination fits speeds only")
    x0 = np.log([_param_value(params0, n) for n in names])
    res = least_squares(times, x0=x0, loss="soft_l1", f_scale=0.1, diff_step=0.02,
                        bounds=(np.log(5.0), np.log(140.0)), max_nfev=max_evals,
                        xtol=1e-3, ftol=1e-4)
    values = dict(zip(names, np.exp(res.x), strict=True))
    details = {"fitted": {n: round(float(v), 2) for n, v in values.items()},
               "start": {n: round(_param_value(params0, n), 2) for n in names},
               "n_fit_communes": int(len(codes)), "evaluations": int(evals["n"]),
               "converged": bool(res.success)}
    return apply_fit_values(params0, values), details


@dataclass
class ReferenceInputs:
    """A reference table with what the approximate network of its area needs.

    Attributes
    ----------
    table
        :func:`read_reference_table`.
    points
        Points of the table's communes (EPSG:2154, by code): the router's query points
        when given, else the chefs-lieux.
    communes, chefs_lieux, density
        Inputs of :func:`build_approximate` for the communes' area plus the margin.
    skeleton
        Classified-road skeleton of that area (``None`` when not asked for).
    """

    table: ReferenceTable
    points: gpd.GeoSeries
    communes: gpd.GeoDataFrame
    chefs_lieux: gpd.GeoDataFrame
    density: pd.Series
    skeleton: RoadNetwork | None

    def build(self, params: ApproxParams) -> RoadNetwork:
        """The approximate network of the area with ``params``."""
        return build_approximate(self.communes, self.chefs_lieux, self.density,
                                 skeleton=self.skeleton, params=params)


def reference_inputs(
    table_path, *, points_path=None, data_dir=None, margin_m: float = MARGIN_KM * 1000,
    skeleton: str | None = "roads-france",
) -> ReferenceInputs:
    """Read a reference table (and its points) and the approximate network's inputs around it.

    Parameters
    ----------
    table_path
        CSV of ``origin, destination, duration_s`` (:func:`read_reference_table`).
    points_path
        CSV of ``code, lon, lat`` (:func:`read_reference_points`); the chefs-lieux when
        ``None``.
    data_dir
        Data directory (communes, chefs-lieux, density grid, skeleton, code mapping).
    margin_m
        Communes within this distance of the table's points are part of the network.
    skeleton
        Network spec of the skeleton (``None`` or ``""`` for none).
    """
    from territorial_geo import sources
    from territorial_geo.network.approximate import area_frames
    from territorial_geo.network.load import load_network, parse_network_spec
    from territorial_geo.sources.cog import code_mapping

    data = sources.Datasets(data_dir)
    com = data.communes()
    mapping = code_mapping(data_dir)
    table = read_reference_table(table_path, known=com.index, mapping=mapping)
    cl = data.chefs_lieux()
    if points_path:
        points = read_reference_points(points_path, mapping=mapping)
    else:
        points = cl.geometry
    points = points.reindex(table.codes).dropna()
    area = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(points.to_numpy())))
    c2, cl2, dens = area_frames(area, communes=com, chefs_lieux=cl, density=data.density_grid(),
                                margin_m=margin_m)
    sk = None
    if skeleton:
        sk = load_network(parse_network_spec(skeleton), area=area, margin_m=margin_m,
                          data_dir=data_dir)
    return ReferenceInputs(table, points, c2, cl2, dens, sk)
