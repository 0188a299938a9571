"""Stage 4, demand: salaried teleworkers and solo workers turned into seats.

Per commune (METHOD.md §3-5)::

    employed_k   = actives_15_64 x share_k / sum(share_1..6)        (estimate, flagged)
    teleworkers  = sum_k rate_k x employed_k + rate_rs x secondary_residences
    solos(y)     = solos(data_year) x (1 + growth) ^ (y - data_year)
    solo seats   = solos(y) x usage(y) x hours(y) / (seat_hours x occupancy)
    tele seats   = solo seats x s / (1 - s)                 (anchor "share of users" s)
                 | teleworkers x usage x hours / (seat_hours x occupancy)  (anchor "usage")

with usage shares and hours interpolated linearly between anchor years and held beyond.
Per zone: sums over the zone's communes, the union, an exclusive allocation, the variant
without a competing pole, and the net of existing supply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territorial_geo import sources
from territorial_geo.config import DemandConfig, SeatsConfig, SoloAnchor, TeleworkerAnchor
from territorial_geo.sources import CSP_KEYS

SEGMENTS = ("solos", "teleworkers", "total")


@dataclass
class CommuneDemand:
    """Per-commune demand (a DataFrame indexed by code) and where each input came from."""

    table: pd.DataFrame
    years: list[int]
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def seats(self, segment: str, year: int) -> pd.Series:
        """Seats of one segment (``solos``, ``teleworkers``, ``total``) and year."""
        return self.table[f"seats_{segment}_{year}"]

    def long(self) -> pd.DataFrame:
        """Tidy table: ``code``, ``segment``, ``year``, ``users``, ``seats``."""
        rows = []
        for y in self.years:
            for seg in SEGMENTS:
                users = {"solos": f"solos_{y}", "teleworkers": "teleworkers"}.get(seg)
                rows.append(pd.DataFrame({
                    "code": self.table.index, "segment": seg, "year": y,
                    "users": self.table[users].to_numpy() if users else
                    (self.table[f"solos_{y}"] + self.table["teleworkers"]).to_numpy(),
                    "seats": self.table[f"seats_{seg}_{y}"].to_numpy(),
                }))
        return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------------------- pure functions


def employed_by_csp(actives: pd.Series, shares_pct: pd.DataFrame) -> pd.DataFrame:
    """Estimate employed people per CSP from actives 15-64 and CSP shares of the 15+.

    ``employed_k = actives x share_k / sum(share_1..6)``; communes whose shares sum to 0
    (or are missing) get 0.

    Parameters
    ----------
    actives
        Actives 15-64 per commune (census ``P18_ACT1564``).
    shares_pct
        Columns ``agri, artis, cadres, profint, employes, ouvriers`` (percent of the 15+).
    """
    s = shares_pct.reindex(actives.index)[list(CSP_KEYS)].fillna(0.0).clip(lower=0)
    total = s.sum(axis=1)
    frac = s.div(total.where(total > 0), axis=0).fillna(0.0)
    return frac.mul(actives.fillna(0.0), axis=0)


def teleworkers(
    employed: pd.DataFrame, secondary_residences: pd.Series, rates: dict[str, float],
    secondary_rate: float,
) -> pd.DataFrame:
    """Teleworkers per commune: ``sum_k rate_k x employed_k + rate_rs x secondary_res``.

    Returns columns ``tele_csp``, ``tele_rs``, ``teleworkers``.
    """
    r = pd.Series({k: float(rates.get(k, 0.0)) for k in CSP_KEYS})
    tele_csp = employed[list(CSP_KEYS)].mul(r, axis=1).sum(axis=1)
    tele_rs = secondary_residences.reindex(employed.index).fillna(0.0) * secondary_rate
    return pd.DataFrame({"tele_csp": tele_csp, "tele_rs": tele_rs,
                         "teleworkers": tele_csp + tele_rs})


def project(values: pd.Series | np.ndarray | float, from_year: int, to_year: int, growth: float):
    """Compound growth: ``values x (1 + growth) ^ (to_year - from_year)``."""
    return values * (1.0 + growth) ** (to_year - from_year)


def _interp(years: list[int], year: int) -> tuple[int, int, float]:
    """Bracketing anchor indices and weight of the second (held beyond the ends)."""
    order = np.argsort(years)
    ys = [years[i] for i in order]
    if year <= ys[0]:
        return order[0], order[0], 0.0
    if year >= ys[-1]:
        return order[-1], order[-1], 0.0
    j = int(np.searchsorted(ys, year, side="right"))
    a, b = ys[j - 1], ys[j]
    return order[j - 1], order[j], (year - a) / (b - a)


def solo_usage(anchors: list[SoloAnchor], year: int) -> tuple[float, float]:
    """Usage share and hours per month of solos at a year (linear between anchors)."""
    i, j, w = _interp([a.year for a in anchors], year)
    a, b = anchors[i], anchors[j]
    return (1 - w) * a.usage_share + w * b.usage_share, (1 - w) * a.hours_per_month + w * b.hours_per_month


def solo_seats(solos: pd.Series, seats: SeatsConfig, year: int) -> pd.Series:
    """Solo seats at a year from the solo count at that year."""
    share, hours = solo_usage(seats.solos, year)
    return solos * share * hours / (seats.seat_hours_per_month * seats.occupancy)


def _tele_rule(anchor: TeleworkerAnchor, tele: pd.Series, solo_s: pd.Series,
               seats: SeatsConfig) -> pd.Series:
    if anchor.share_of_users is not None:
        s = anchor.share_of_users
        return solo_s * s / (1.0 - s)
    return tele * anchor.usage_share * anchor.hours_per_month / (
        seats.seat_hours_per_month * seats.occupancy)


def teleworker_seats(tele: pd.Series, solo_s: pd.Series, seats: SeatsConfig, year: int) -> pd.Series:
    """Teleworker seats at a year: each bracketing anchor's rule, interpolated linearly."""
    i, j, w = _interp([a.year for a in seats.teleworkers], year)
    a = _tele_rule(seats.teleworkers[i], tele, solo_s, seats)
    if w == 0.0:
        return a
    b = _tele_rule(seats.teleworkers[j], tele, solo_s, seats)
    return (1 - w) * a + w * b


def seats_table(
    tele: pd.Series, solos_data: pd.Series, data_year: int, cfg: DemandConfig, years: list[int]
) -> pd.DataFrame:
    """Solos, and seats per segment for each year (columns ``seats_{segment}_{year}``)."""
    out = {}
    for y in years:
        solos_y = project(solos_data, data_year, y, cfg.solos.growth_rate)
        s = solo_seats(solos_y, cfg.seats, y)
        t = teleworker_seats(tele, s, cfg.seats, y)
        out[f"solos_{y}"] = solos_y
        out[f"seats_solos_{y}"] = s
        out[f"seats_teleworkers_{y}"] = t
        out[f"seats_total_{y}"] = s + t
    return pd.DataFrame(out, index=tele.index)


# ---------------------------------------------------------------------------- with real data


def commune_demand(
    codes: list[str],
    cfg: DemandConfig,
    *,
    data_dir: str | os.PathLike | None = None,
    names: pd.Series | None = None,
) -> CommuneDemand:
    """Teleworkers, solos and seats for a list of communes from the data directory.

    Inputs: census RP2018 counts (actives 15-64, secondary residences), CSP shares of the
    census year ``cfg.csp_year``, a SIRENE stock file when ``cfg.solos.sirene_file`` is set
    (else the labelled fallback: establishments with no employee in 2014 x an office share).

    Returns
    -------
    CommuneDemand
        ``table`` indexed by code; ``sources`` says where each input came from; ``notes``
        list the communes that did not match the census and every estimate made.
    """
    years = cfg.output_years
    census = sources.load_census(data_dir)
    shares = sources.load_csp_shares(cfg.csp_year, data_dir)
    idx = pd.Index(codes, name=None)
    cen = census.table.reindex(idx)
    notes: list[str] = []
    missing = idx[cen["P18_ACT1564"].isna()].tolist()
    if missing:
        notes.append(f"{len(missing)} commune(s) without a census RP2018 row, counted as 0: "
                     f"{', '.join(missing[:20])}")
    sh = shares.table.reindex(idx)
    missing_sh = idx[sh[list(CSP_KEYS)].isna().all(axis=1)].tolist()
    if missing_sh:
        notes.append(f"{len(missing_sh)} commune(s) without CSP shares ({cfg.csp_year}), "
                     f"no teleworker from CSP: {', '.join(missing_sh[:20])}")
    actives = cen["P18_ACT1564"].fillna(0.0)
    emp = employed_by_csp(actives, sh)
    notes.append(
        "Employed people by CSP are ESTIMATED: actives 15-64 (RP2018) x CSP share of the 15+ "
        f"population ({cfg.csp_year}) / sum of shares of CSP 1-6."
    )
    tw = teleworkers(emp, cen["P18_RSECOCC"].fillna(0.0), cfg.rates(), cfg.secondary_residence_rate)
    notes.append(
        f"Teleworkers from secondary residences use an ASSUMED rate of "
        f"{cfg.secondary_residence_rate} per dwelling (no published source)."
    )
    if cfg.solos.sirene_file:
        counts = sources.count_sirene_solos(cfg.solos.sirene_file, naf_codes=cfg.solos.naf_codes,
                                            bands=cfg.solos.bands, communes=codes)
        solos_data = counts["solos"].reindex(idx).fillna(0).astype(float)
        data_year = cfg.solos.sirene_year
        solo_source = f"SIRENE stock {cfg.solos.sirene_file} ({data_year})"
    else:
        est = sources.load_establishments_2014(data_dir).table.reindex(idx)
        solos_data = est["E14TS0ND"].fillna(0.0) * cfg.solos.fallback_office_share
        data_year = 2014
        solo_source = (
            "FALLBACK ESTIMATE: establishments with no employee in 2014 (INSEE) x an ASSUMED "
            f"office-activity share of {cfg.solos.fallback_office_share}; no SIRENE extract "
            "was supplied"
        )
        notes.append(f"Solo workers: {solo_source}.")
    table = pd.DataFrame(index=idx)
    if names is not None:
        table["nom"] = names.reindex(idx).to_numpy()
    table["census_match"] = ~idx.isin(missing)
    table["population_2018"] = cen["P18_POP"].fillna(0.0)
    table["actives_1564"] = actives
    table["secondary_residences"] = cen["P18_RSECOCC"].fillna(0.0)
    for k in CSP_KEYS:
        table[f"employed_{k}_est"] = emp[k]
    table = table.join(tw)
    table["solos_data"] = solos_data
    table["solos_data_year"] = data_year
    table["solos_source"] = "sirene" if cfg.solos.sirene_file else "fallback_estimate"
    table = table.join(seats_table(tw["teleworkers"], solos_data, data_year, cfg, years))
    src = {
        "census": f"INSEE RP2018 comparateur ({sources.CATALOG['census-rp2018'].vintage}); "
        + census.report(),
        "csp_shares": f"INSEE census {cfg.csp_year} CSP shares (ptod aggregation); "
        + shares.report(),
        "telework_rates": f"preset {cfg.telework_preset}: {cfg.rates()}",
        "solos": solo_source,
    }
    return CommuneDemand(table, years, src, notes)


# ---------------------------------------------------------------------------- per zone


def zone_table(
    demand: CommuneDemand,
    membership: dict[str, list[str]],
    exclusive: pd.Series,
    *,
    without_pole: dict[str, list[str]] | None = None,
    supply_seats: dict[str, float] | None = None,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Tidy seats per zone, segment and year, in five variants.

    Parameters
    ----------
    demand
        Per-commune demand.
    membership
        Zone (market-town code) -> member commune codes.
    exclusive
        Commune code -> its allocated zone (nearest market town).
    without_pole
        Zone -> members left after removing the communes within the budget of a competing
        pole (only zones that have a pole).
    supply_seats
        Zone -> existing third-place seats within the zone.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone`` (town code or ``all``), ``zone_name``, ``variant`` (``zone``,
        ``union``, ``exclusive``, ``without_pole``, ``net_of_supply``), ``segment``
        (``solos``, ``teleworkers``, ``total``), ``year``, ``seats``, ``n_communes``.
    """
    t = demand.table
    names = names or {}
    rows = []

    def add(zone: str, variant: str, codes: list[str]) -> None:
        codes = [c for c in codes if c in t.index]
        for y in demand.years:
            for seg in SEGMENTS:
                rows.append({"zone": zone, "zone_name": names.get(zone, zone), "variant": variant,
                             "segment": seg, "year": y,
                             "seats": float(t.loc[codes, f"seats_{seg}_{y}"].sum()),
                             "n_communes": len(codes)})

    for z, codes in membership.items():
        add(z, "zone", codes)
    union = sorted({c for codes in membership.values() for c in codes})
    add("all", "union", union)
    for z in membership:
        add(z, "exclusive", exclusive.index[exclusive == z].tolist())
    add("all", "exclusive", exclusive.index.tolist())
    for z, codes in (without_pole or {}).items():
        add(z, "without_pole", codes)
    out = pd.DataFrame(rows)
    if supply_seats is not None:
        net = out[(out["variant"] == "zone") & (out["segment"] == "total")].copy()
        net["variant"] = "net_of_supply"
        net["seats"] = net["seats"] - net["zone"].map(supply_seats).fillna(0.0)
        out = pd.concat([out, net], ignore_index=True)
    return out
