"""Stage 4, demand: salaried teleworkers and solo workers turned into seats.

Per commune (docs/method.md §3-5)::

    employed_k   = actives_15_64 x share_k / sum(share_1..6)        (estimate, flagged)
    teleworkers  = sum_k rate_k x employed_k + rate_rs x secondary_residences
    solos(data)  = SIRENE count (demand.solos.sirene_file)
                 | non_salaried_2018 x services_share x office_share   (labelled fallback)
    solos(y)     = solos(data) x (1 + growth) ^ (y - base_year)      (data_year_rule "hold")
                 | solos(data) x (1 + growth) ^ (y - data_year)      (data_year_rule "grow")
    solo seats   = solos(y) x usage(y) x hours(y) / (seat_hours x occupancy)
    tele seats   = solo seats x s / (1 - s)                 (anchor "share of users" s)
                 | teleworkers x usage x hours / (seat_hours x occupancy)  (anchor "usage")

Anchor parameters (usage share and hours, or share of users) are interpolated linearly
between two anchors of the same kind and held beyond the ends; between teleworker anchors
of different kinds the seats are interpolated (see :func:`teleworker_seats`).

Per zone: sums over **every** member commune of the zone, wherever it lives (catchments
cross the territory's border), the union, an exclusive allocation, the variant without a
competing pole, the net of existing supply, and the seats living in the territory.
The stage reads no file: the runner passes the loaded input tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territorial_geo import sources
from territorial_geo.config import (
    PARAMETER_RANGES,
    TELEWORK_PRESETS,
    DemandConfig,
    SeatsConfig,
    SoloAnchor,
    TeleworkerAnchor,
)
from territorial_geo.errors import ConfigError, DataFormatError, DataMissingError
from territorial_geo.i18n import Note
from territorial_geo.sources import CSP_KEYS

#: Demand segments (the ``segment`` column of :func:`zone_table`): independent workers,
#: salaried teleworkers, and their sum.
SOLOS, TELEWORKERS, TOTAL = "solos", "teleworkers", "total"
SEGMENTS = (SOLOS, TELEWORKERS, TOTAL)
#: Variants of :func:`zone_table` (the ``variant`` column; its docstring says what each sums).
ZONE, UNION, EXCLUSIVE, WITHOUT_POLE, NET_OF_SUPPLY, TERRITORY_RESIDENTS = (
    "zone", "union", "exclusive", "without_pole", "net_of_supply", "territory_residents")
VARIANTS = (ZONE, UNION, EXCLUSIVE, WITHOUT_POLE, NET_OF_SUPPLY, TERRITORY_RESIDENTS)
#: The ``zone`` of rows summing every zone (variants ``union``, ``exclusive``,
#: ``territory_residents``).
ALL_ZONES = "all"


@dataclass
class CommuneDemand:
    """Per-commune demand (a DataFrame indexed by code) and where each input came from.

    ``rules`` maps each year to the interpolation rule that gave each segment's seats.
    """

    table: pd.DataFrame
    years: list[int]
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rules: dict[int, dict[str, str]] = field(default_factory=dict)

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


def telework_rates(cfg: DemandConfig) -> dict[str, float]:
    """Telework rate per CSP of a study: its preset
    (:data:`~territorial_geo.method.TELEWORK_PRESETS`), then its explicit ``telework_rates``;
    farmers and craftspeople 0 unless set."""
    return {"agri": 0.0, "artis": 0.0, **TELEWORK_PRESETS[cfg.telework_preset],
            **cfg.telework_rates}


def teleworkers(
    employed: pd.DataFrame, secondary_residences: pd.Series, rates: dict[str, float],
    secondary_rate: float,
) -> pd.DataFrame:
    """Teleworkers per commune: ``sum_k rate_k x employed_k + rate_rs x secondary_res``.

    Returns columns ``tele_{csp}`` (one per CSP of :data:`CSP_KEYS`), ``tele_csp`` (their
    sum), ``tele_rs``, ``teleworkers``.
    """
    r = pd.Series({k: float(rates.get(k, 0.0)) for k in CSP_KEYS})
    by_csp = employed[list(CSP_KEYS)].mul(r, axis=1)
    tele_csp = by_csp.sum(axis=1)
    tele_rs = secondary_residences.reindex(employed.index).fillna(0.0) * secondary_rate
    out = by_csp.add_prefix("tele_")
    out["tele_csp"] = tele_csp
    out["tele_rs"] = tele_rs
    out["teleworkers"] = tele_csp + tele_rs
    return out


def project(values: pd.Series | np.ndarray | float, from_year: int, to_year: int, growth: float):
    """Compound growth: ``values x (1 + growth) ^ (to_year - from_year)``."""
    return values * (1.0 + growth) ** (to_year - from_year)


def solos_at(
    count: pd.Series | np.ndarray | float,
    year: int,
    *,
    data_year: int,
    base_year: int,
    growth_rate: float,
    rule: str = "hold",
):
    """Solo workers at ``year`` from a count observed in ``data_year``.

    ``rule`` says what happens when the data year is not the base year:

    ``"hold"`` (docs/method.md §4: growth applies after the base year)
        the count stands for the base year: ``count x (1 + g) ^ (year - base_year)``;
    ``"grow"``
        the count is grown (or back-cast) from its own year:
        ``count x (1 + g) ^ (year - data_year)``.

    With ``data_year == base_year`` both rules agree.
    """
    if rule == "hold":
        return project(count, base_year, year, growth_rate)
    if rule == "grow":
        return project(count, data_year, year, growth_rate)
    raise ConfigError(f"demand.solos.data_year_rule must be 'hold' or 'grow', got {rule!r}")


def growth_note(data_year: int, base_year: int, growth_rate: float, rule: str) -> Note:
    """One sentence saying how the solo count was carried from its data year to the years
    (a :class:`~territorial_geo.i18n.Note`: English as a string, any language rendered)."""
    if data_year == base_year:
        return Note("growth_base", year=data_year, g=growth_rate)
    if rule == "hold":
        return Note("growth_hold", year=data_year, base=base_year, g=growth_rate)
    factor = (1.0 + growth_rate) ** (base_year - data_year)
    verb = Note("verb_grown" if base_year > data_year else "verb_back_cast")
    return Note("growth_grow", year=data_year, base=base_year, g=growth_rate, verb=verb,
                factor=factor)


#: Census 2018 comparateur variables read by :func:`fallback_solos` (INSEE labels in
#: :data:`territorial_geo.sources.CENSUS_LABELS`).
FALLBACK_COLUMNS = ("P18_EMPLT", "P18_EMPLT_SAL", "ETTOT18", "ETGU18", "ETGZ18")
FALLBACK_YEAR = 2018
#: Bounds of the prior strength ``k`` (establishments) of :func:`prior_strength`.
PRIOR_BOUNDS = (1.0, 1000.0)


def prior_strength(services: pd.Series, total: pd.Series) -> tuple[float, float]:
    """National services share ``p`` and prior strength ``k`` of the smoothed share.

    The commune's count of establishments in services other than commerce is treated as a
    beta-binomial draw out of its establishments; ``p`` is the pooled share and ``k`` the
    beta's ``alpha + beta``, from the method of moments (intra-class correlation
    ``rho = 1 / (k + 1)``, Kleinman 1973) over the communes that have an establishment.
    On the whole comparateur (34,868 communes) ``p`` = 0.477 and ``k`` = 10.5
    establishments. ``k`` is clipped to :data:`PRIOR_BOUNDS` (no over-dispersion gives the
    upper bound: every commune near ``p``).

    Returns
    -------
    (float, float)
        ``p`` and ``k``; ``(0, PRIOR_BOUNDS[1])`` when no row has an establishment.
    """
    ok = (total > 0) & services.notna()
    n = total[ok].astype(float)
    x = services[ok].astype(float).clip(upper=n)
    if not len(n):
        return 0.0, PRIOR_BOUNDS[1]
    p = float(x.sum() / n.sum())
    if len(n) < 2 or p <= 0 or p >= 1:
        return p, PRIOR_BOUNDS[1]
    share = x / n
    s = float((n * (share - p) ** 2).sum())
    sw, sw2 = float(n.sum()), float((n ** 2).sum())
    denom = sw - sw2 / sw - (len(n) - 1)
    rho = (s / (p * (1 - p)) - (len(n) - 1)) / denom if denom > 0 else 0.0
    k = (1 - rho) / rho if rho > 0 else PRIOR_BOUNDS[1]
    return p, float(np.clip(k, *PRIOR_BOUNDS))


def fallback_solos(
    census: pd.DataFrame, codes: list[str], office_share: float, sirene_ratio: float = 1.0,
    *, prior: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Solo workers in 2018 estimated from the census 2018 comparateur (no SIRENE extract),
    aimed at what SIRENE counts: active establishments with fewer than 3 employees in the
    office-activity NAF list.

    Per commune::

        non_salaried = P18_EMPLT - P18_EMPLT_SAL
        services     = (ETGU18 - ETGZ18 + k x p) / (ETTOT18 + k)      (smoothed share)
        solos        = non_salaried x services x office_share x sirene_ratio

    ``P18_EMPLT`` "Emplois au LT en 2018" minus ``P18_EMPLT_SAL`` "Emplois salariés au LT en
    2018" is the number of people whose main job in the commune is not salaried (RP2018).
    ``ETGU18`` "Établissements actifs du commerce, transports et services divers" minus
    ``ETGZ18`` "dont commerce et réparation automobile" over ``ETTOT18`` "Total des
    établissements actifs fin 2018" is the commune's share of *employer* establishments in
    services other than commerce (NAF H-N and R-U; Flores 2018). A commune with few
    establishments says little about that share: it is shrunk towards the pooled share
    ``p`` of every row of ``census`` with the weight ``ETTOT18 / (ETTOT18 + k)``
    (:func:`prior_strength`; an empirical-Bayes estimate). The estimate is continuous in
    every input: a commune with non-salaried jobs never gets 0, and one with no
    establishment gets ``p``, the limit of a commune with few.

    ``office_share`` turns non-salaried workers in services into non-salaried workers in
    office-type activities (INSEE counts; ``demand.solos.fallback_office_share``);
    ``sirene_ratio`` turns those persons into the SIRENE count the study's list would give
    (``demand.solos.fallback_sirene_ratio``: registered but economically inactive
    micro-entrepreneurs are in SIRENE, not in INSEE's non-salaried).

    Parameters
    ----------
    census
        The comparateur by code (``sources.load_census``): :data:`FALLBACK_COLUMNS`; the
        pooled share and ``k`` are taken over all its rows (pass the national file).
    codes
        Communes to estimate (missing rows give 0).
    office_share, sirene_ratio
        The two ratios above.
    prior
        ``(p, k)`` instead of :func:`prior_strength` over ``census``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``codes``: ``non_salaried_2018``, ``establishments_2018``,
        ``services_establishments_2018``, ``services_share`` (smoothed),
        ``services_share_weight`` (weight of the commune's own share, 0 = pooled share
        only), ``solos``; ``attrs`` holds ``p`` and ``k``.
    """
    missing = [c for c in FALLBACK_COLUMNS if c not in census.columns]
    if missing:
        raise DataFormatError(f"demand input census: missing column(s) {missing} needed by the "
                              "solo-worker fallback (INSEE comparateur RP2018)")
    tot_all = census["ETTOT18"].astype(float)
    serv_all = (census["ETGU18"] - census["ETGZ18"]).astype(float).clip(lower=0)
    p, k = prior_strength(serv_all, tot_all) if prior is None else prior
    c = census.reindex(pd.Index(codes))
    ctot = c["ETTOT18"].astype(float).clip(lower=0).fillna(0.0)
    cserv = (c["ETGU18"] - c["ETGZ18"]).astype(float).clip(lower=0).fillna(0.0)
    cserv = np.minimum(cserv, ctot)
    share = (cserv + k * p) / (ctot + k)
    nonsal = (c["P18_EMPLT"] - c["P18_EMPLT_SAL"]).astype(float).clip(lower=0).fillna(0.0)
    out = pd.DataFrame({
        "non_salaried_2018": nonsal,
        "establishments_2018": ctot,
        "services_establishments_2018": cserv,
        "services_share": share,
        "services_share_weight": ctot / (ctot + k),
        "solos": nonsal * share * office_share * sirene_ratio,
    }, index=pd.Index(codes))
    out.attrs.update(p=p, k=k)
    return out


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


#: Teleworker rules a year may be computed with (``demand.seats.teleworkers_rule``):
#: ``share_of_users`` (teleworkers are a share s of all third-place users, the 2018 anchor)
#: and ``share_of_teleworkers`` (a share u of teleworkers use one, the 2025 anchor).
TELEWORKER_RULES = ("share_of_users", "share_of_teleworkers")


def _kind(anchor: TeleworkerAnchor) -> str:
    return "share_of_users" if anchor.share_of_users is not None else "usage"


def _rule_kind(rule: str) -> str:
    return "share_of_users" if rule == "share_of_users" else "usage"


def _tele_from_share(s: float, solo_s: pd.Series) -> pd.Series:
    return solo_s * s / (1.0 - s)


def _tele_from_usage(share: float, hours: float, tele: pd.Series, seats: SeatsConfig,
                     users: bool = False) -> pd.Series:
    if users:
        return tele * share
    return tele * share * hours / (seats.seat_hours_per_month * seats.occupancy)


def _tele_rule(anchor: TeleworkerAnchor, tele: pd.Series, solo_s: pd.Series,
               seats: SeatsConfig, users: bool = False) -> pd.Series:
    if anchor.share_of_users is not None:
        return _tele_from_share(anchor.share_of_users, solo_s)
    return _tele_from_usage(anchor.usage_share, anchor.hours_per_month, tele, seats, users)


def rule_anchors(seats: SeatsConfig, rule: str | None) -> list[TeleworkerAnchor]:
    """The teleworker anchors a rule uses: all of them (``None``, each year by its anchors'
    kinds) or those of one kind (:data:`TELEWORKER_RULES`).

    Raises
    ------
    ConfigError
        An unknown rule, or no anchor of its kind.
    """
    if rule is None:
        return list(seats.teleworkers)
    if rule not in TELEWORKER_RULES:
        raise ConfigError(f"demand.seats.teleworkers_rule: unknown rule {rule!r} "
                          f"(one of {', '.join(TELEWORKER_RULES)})")
    out = [a for a in seats.teleworkers if _kind(a) == _rule_kind(rule)]
    if not out:
        raise ConfigError(f"demand.seats.teleworkers_rule {rule!r}: no [[demand.seats."
                          f"teleworkers]] anchor gives {'share_of_users' if rule == 'share_of_users' else 'usage_share'}")
    return out


def teleworker_seats(tele: pd.Series, solo_s: pd.Series, seats: SeatsConfig, year: int,
                     rule: str | None = None, *, users: bool = False) -> pd.Series:
    """Teleworker seats at a year (docs/method.md §5).

    At an anchor year, or beyond the first / last anchor (held), the anchor's rule applies:
    ``share_of_users`` s gives ``solo seats x s / (1 - s)``; a ``usage_share`` u with
    ``hours_per_month`` h gives ``teleworkers x u x h / (seat_hours x occupancy)``.

    Between two anchors of the **same kind** the anchor parameters are interpolated linearly
    (s, or u and h), as solo usage is, then the rule is applied. Between anchors of
    **different kinds** (a share of users in 2018, a usage share in 2025) no parameter is
    common to both, so each anchor's seats are computed for the year and the *seats* are
    interpolated. :func:`interpolation_rules` says which rule applied to each year.

    ``rule`` (:data:`TELEWORKER_RULES`) keeps the anchors of one kind only, interpolated
    and held the same way: ``"share_of_teleworkers"`` in 2018 says what 2018 would be under
    the 2025 rule. With ``users=True`` the same rules give third-place *users* (persons):
    ``solo_s`` is then the solo users, and a usage anchor gives ``teleworkers x u``.
    """
    anchors = rule_anchors(seats, rule)
    i, j, w = _interp([a.year for a in anchors], year)
    a, b = anchors[i], anchors[j]
    if w == 0.0:
        return _tele_rule(a, tele, solo_s, seats, users)
    if _kind(a) == _kind(b) == "share_of_users":
        return _tele_from_share((1 - w) * a.share_of_users + w * b.share_of_users, solo_s)
    if _kind(a) == _kind(b) == "usage":
        return _tele_from_usage((1 - w) * a.usage_share + w * b.usage_share,
                                (1 - w) * a.hours_per_month + w * b.hours_per_month, tele, seats,
                                users)
    return ((1 - w) * _tele_rule(a, tele, solo_s, seats, users)
            + w * _tele_rule(b, tele, solo_s, seats, users))


def _anchor_rule(kind: str, anchors: list, i: int, j: int, w: float, year: int) -> str:
    a, b = anchors[i], anchors[j]
    if w == 0.0:
        where = "anchor" if a.year == year else f"held from the {a.year} anchor"
        return f"{where} {a.year} ({kind(a)})"
    if kind(a) == kind(b):
        return (f"{kind(a)} parameters interpolated between {a.year} and {b.year} "
                f"(weight {w:.4f} on {b.year})")
    return (f"seats interpolated between the {a.year} anchor ({kind(a)}) and the {b.year} "
            f"anchor ({kind(b)}) (weight {w:.4f} on {b.year}): anchors of different kinds")


def year_rule(seats: SeatsConfig, year: int) -> str | None:
    """The teleworker rule a study asks for in ``year`` (``None``: the anchors' own)."""
    return seats.teleworkers_rule.get(str(year))


def interpolation_rules(seats: SeatsConfig, years: list[int]) -> dict[int, dict[str, str]]:
    """Which rule gave each segment's seats in each year (written to ``parameters.json``)."""
    out: dict[int, dict[str, str]] = {}
    for y in years:
        i, j, w = _interp([a.year for a in seats.solos], y)
        solo = _anchor_rule(lambda _a: "usage", seats.solos, i, j, w, y)
        rule = year_rule(seats, y)
        anchors = rule_anchors(seats, rule)
        i, j, w = _interp([a.year for a in anchors], y)
        tele = _anchor_rule(_kind, anchors, i, j, w, y)
        if rule is not None:
            tele += f"; demand.seats.teleworkers_rule = {rule!r} for {y}"
        out[y] = {"solos": solo, "teleworkers": tele}
    return out


def seats_table(
    tele: pd.Series, solos_data: pd.Series, data_year: int, cfg: DemandConfig, years: list[int],
    *, rule: str | None = None,
) -> pd.DataFrame:
    """Solos, users and seats per segment for each year (columns ``solos_{year}``,
    ``users_{segment}_{year}``, ``seats_{segment}_{year}``).

    The solo count of ``data_year`` is carried to each year by :func:`solos_at` with
    ``cfg.solos.data_year_rule``, ``cfg.solos.growth_rate`` and ``cfg.base_year``. The
    teleworker rule of each year is ``rule`` when given, else the study's
    ``demand.seats.teleworkers_rule`` for that year, else the anchors' own.
    """
    out = {}
    for y in years:
        solos_y = solos_at(solos_data, y, data_year=data_year, base_year=cfg.base_year,
                           growth_rate=cfg.solos.growth_rate, rule=cfg.solos.data_year_rule)
        r = rule or year_rule(cfg.seats, y)
        s = solo_seats(solos_y, cfg.seats, y)
        t = teleworker_seats(tele, s, cfg.seats, y, r)
        su = solos_y * solo_usage(cfg.seats.solos, y)[0]
        tu = teleworker_seats(tele, su, cfg.seats, y, r, users=True)
        out[f"solos_{y}"] = solos_y
        out[f"users_solos_{y}"] = su
        out[f"users_teleworkers_{y}"] = tu
        out[f"users_total_{y}"] = su + tu
        out[f"seats_solos_{y}"] = s
        out[f"seats_teleworkers_{y}"] = t
        out[f"seats_total_{y}"] = s + t
    return pd.DataFrame(out, index=tele.index)


# ---------------------------------------------------------------------------- with real data


def _frame(x: sources.Harmonized | pd.DataFrame, what: str, columns: list[str]) -> tuple[pd.DataFrame, str]:
    """The table of a loaded input (and its harmonisation report), columns checked."""
    if isinstance(x, sources.Harmonized):
        table, rep = x.table, x.report()
    elif isinstance(x, pd.DataFrame):
        table, rep = x, ""
    else:
        raise DataFormatError(f"demand input {what}: expected a DataFrame, got {type(x).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataFormatError(f"demand input {what}: missing column(s) {missing}")
    return table, rep


def commune_demand(
    codes: list[str],
    cfg: DemandConfig,
    *,
    census: sources.Harmonized | pd.DataFrame,
    csp_shares: sources.Harmonized | pd.DataFrame,
    sirene_counts: pd.DataFrame | None = None,
    names: pd.Series | None = None,
) -> CommuneDemand:
    """Teleworkers, solos and seats for a list of communes, from loaded input tables.

    The stage reads no file: the runner (:mod:`territorial_geo.study`) loads each dataset
    once and passes the frames (``pipeline.load_demand_inputs`` does it for a configuration).

    Parameters
    ----------
    codes
        Communes to compute; for a study, the territory's communes and every commune within
        any zone's largest band (catchments cross the territory's border).
    cfg
        Demand parameters.
    census
        Census RP2018 comparateur by code (``sources.load_census``): ``P18_POP``,
        ``P18_ACT1564``, ``P18_RSECOCC``, and, for the labelled solo-worker fallback used
        when ``cfg.solos.sirene_file`` is empty, :data:`FALLBACK_COLUMNS`
        (:func:`fallback_solos`).
    csp_shares
        CSP shares (%) of the 15+ by code for ``cfg.csp_year`` (``sources.load_csp_shares``).
    sirene_counts
        Solo counts by code from the SIRENE stock (``sources.count_sirene_solos``, column
        ``solos``), required when ``cfg.solos.sirene_file`` is set.
    names
        Commune names by code (optional column ``nom``).

    Returns
    -------
    CommuneDemand
        ``table`` indexed by code; ``sources`` says where each input came from; ``notes``
        list the communes that did not match the census and every estimate made; ``rules``
        which interpolation rule gave each year's seats.

    Raises
    ------
    DataFormatError
        An input table without the columns named above.
    DataMissingError
        The solo source the configuration asks for was not passed.
    """
    years = cfg.output_years
    cen, census_rep = _frame(census, "census", ["P18_POP", "P18_ACT1564", "P18_RSECOCC"])
    cen_all = cen
    shares, shares_rep = _frame(csp_shares, f"CSP shares {cfg.csp_year}", list(CSP_KEYS))
    idx = pd.Index(codes, name=None)
    cen = cen.reindex(idx)
    notes: list[str] = []
    missing = idx[cen["P18_ACT1564"].isna()].tolist()
    if missing:
        notes.append(Note("note_census_missing", n=len(missing), codes=missing[:20]))
    sh = shares.reindex(idx)
    missing_sh = idx[sh[list(CSP_KEYS)].isna().all(axis=1)].tolist()
    if missing_sh:
        notes.append(Note("note_csp_missing", n=len(missing_sh), year=cfg.csp_year,
                          codes=missing_sh[:20]))
    actives = cen["P18_ACT1564"].fillna(0.0)
    emp = employed_by_csp(actives, sh)
    notes.append(Note("note_employed_est", year=cfg.csp_year))
    tw = teleworkers(emp, cen["P18_RSECOCC"].fillna(0.0), telework_rates(cfg), cfg.secondary_residence_rate)
    notes.append(Note("note_secondary_rate", rate=cfg.secondary_residence_rate))
    if cfg.solos.sirene_file:
        if sirene_counts is None:
            raise DataMissingError(
                f"demand.solos.sirene_file = {cfg.solos.sirene_file!r} is set but no SIRENE "
                "counts were passed (load them with sources.count_sirene_solos)")
        counts, _ = _frame(sirene_counts, "SIRENE counts", ["solos"])
        solos_data = counts["solos"].reindex(idx).fillna(0).astype(float)
        data_year = cfg.solos.sirene_year
        solo_source = Note("src_solos_sirene", file=cfg.solos.sirene_file, year=data_year)
    else:
        share = cfg.solos.fallback_office_share
        ratio = cfg.solos.fallback_sirene_ratio
        fb = fallback_solos(cen_all, list(idx), share, ratio)
        solos_data = fb["solos"]
        data_year = FALLBACK_YEAR
        low, central, high = PARAMETER_RANGES["demand.solos.fallback_office_share"]
        rlow, rcentral, rhigh = PARAMETER_RANGES["demand.solos.fallback_sirene_ratio"]
        # ACOSS Stat'ur 289 (end 2018): registered and economically active micro-entrepreneurs
        solo_source = Note(
            "src_solos_fallback", p=fb.attrs["p"], k=fb.attrs["k"], share=share, low=low,
            central=central, high=high, ratio=ratio, rlow=rlow, rcentral=rcentral, rhigh=rhigh,
            registered=1_357_000, active=1_012_000)
        notes.append(Note("note_solos", source=solo_source))
        n_none = int((fb["services_share_weight"] == 0).sum())
        if n_none:
            notes.append(Note("note_fallback_none", n=n_none))
    growth = growth_note(data_year, cfg.base_year, cfg.solos.growth_rate, cfg.solos.data_year_rule)
    notes.append(growth)
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
    table["csp_shares_found"] = ~idx.isin(missing_sh)
    if not cfg.solos.sirene_file:
        table["non_salaried_2018"] = fb["non_salaried_2018"]
        table["establishments_2018"] = fb["establishments_2018"]
        table["services_establishments_2018"] = fb["services_establishments_2018"]
        table["services_share_2018"] = fb["services_share"]
        table["services_share_weight"] = fb["services_share_weight"]
    table["solos_data"] = solos_data
    table["solos_data_year"] = data_year
    table["solos_source"] = "sirene" if cfg.solos.sirene_file else "fallback_estimate"
    table["solos_data_year_rule"] = cfg.solos.data_year_rule
    table = table.join(seats_table(tw["teleworkers"], solos_data, data_year, cfg, years))
    src = {
        "census": Note("src_census_text", vintage=sources.CATALOG["census-rp2018"].vintage,
                       report=Note("then", text=census_rep) if census_rep else ""),
        "csp_shares": Note("src_csp_text", year=cfg.csp_year,
                           report=Note("then", text=shares_rep) if shares_rep else ""),
        "telework_rates": Note("src_rates_text", preset=cfg.telework_preset,
                                rates=telework_rates(cfg)),
        "solos": solo_source,
        "solos_growth": growth,
    }
    return CommuneDemand(table, years, src, notes, interpolation_rules(cfg.seats, years))


# ---------------------------------------------------------------------------- per zone


def variant_members(
    membership: dict[str, list[str]],
    exclusive: pd.Series,
    *,
    without_pole: dict[str, list[str]] | None = None,
    territory_codes: list[str] | None = None,
) -> list[tuple[str, str, list[str]]]:
    """The communes each row of :func:`zone_table` sums, every variant but ``net_of_supply``.

    Parameters
    ----------
    membership, exclusive, without_pole, territory_codes
        As in :func:`zone_table`.

    Returns
    -------
    list of (str, str, list of str)
        ``(zone, variant, member codes)`` in the table's row order: ``zone`` per zone, the
        ``union`` (zone :data:`ALL_ZONES`), ``exclusive`` per zone and for all, ``without_pole``
        per zone that has a pole, and with ``territory_codes`` the ``territory_residents`` per
        zone and for all.
    """
    out = [(z, ZONE, list(codes)) for z, codes in membership.items()]
    union = sorted({c for codes in membership.values() for c in codes})
    out.append((ALL_ZONES, UNION, union))
    out += [(z, EXCLUSIVE, exclusive.index[exclusive == z].tolist()) for z in membership]
    out.append((ALL_ZONES, EXCLUSIVE, exclusive.index.tolist()))
    out += [(z, WITHOUT_POLE, list(codes)) for z, codes in (without_pole or {}).items()]
    if territory_codes is not None:
        inside = set(territory_codes)
        out += [(z, TERRITORY_RESIDENTS, [c for c in codes if c in inside])
                for z, codes in membership.items()]
        out.append((ALL_ZONES, TERRITORY_RESIDENTS, [c for c in union if c in inside]))
    return out


def zone_table(
    demand: CommuneDemand,
    membership: dict[str, list[str]],
    exclusive: pd.Series,
    *,
    without_pole: dict[str, list[str]] | None = None,
    supply_seats: dict[str, float] | None = None,
    names: dict[str, str] | None = None,
    territory_codes: list[str] | None = None,
) -> pd.DataFrame:
    """Tidy seats per zone, segment and year, in up to six variants.

    Every member commune counts, wherever it lives: pass the full membership
    (``Zones.membership(territory_only=False)``) and demand computed for all members.

    Parameters
    ----------
    demand
        Per-commune demand; it must hold every commune listed in ``membership``,
        ``exclusive`` and ``without_pole``.
    membership
        Zone (market-town code) -> member commune codes.
    exclusive
        Commune code -> its allocated zone (nearest market town).
    without_pole
        Zone -> members left after removing the communes within the budget of a competing
        pole (only zones that have a pole).
    supply_seats
        Zone -> existing third-place seats within the zone.
    names
        Zone code -> display name.
    territory_codes
        The territory's own communes: adds the ``territory_residents`` variant (per zone and
        for the union), the seats of the members living in the territory, with
        ``share_of_zone`` their share of the zone's (or union's) seats.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone`` (town code or ``all``), ``zone_name``, ``variant`` (``zone``,
        ``union``, ``exclusive``, ``without_pole``, ``net_of_supply``,
        ``territory_residents``), ``segment`` (``solos``, ``teleworkers``, ``total``),
        ``year``, ``seats``, ``n_communes``, ``share_of_zone`` (``territory_residents``
        rows only, NaN elsewhere; NaN too when the zone has no seat), then the persons
        behind the seats: ``teleworkers`` (salaried teleworkers living in the communes,
        users or not), ``solos`` (solo workers that year), ``users`` (third-place users of
        the row's segment that year: solos x usage share, teleworkers by the year's rule,
        their sum for ``total``).

    Raises
    ------
    DataMissingError
        A member commune has no demand row (nothing is dropped silently).
    """
    t = demand.table
    names = names or {}
    rows = []

    def add(zone: str, variant: str, codes: list[str]) -> None:
        lacking = [c for c in codes if c not in t.index]
        if lacking:
            raise DataMissingError(
                f"zone {zone} ({variant}): no demand computed for member commune(s) "
                f"{lacking[:10]}; compute demand for every member of every zone "
                "(Zones.within(..., territory_only=False))")
        codes = list(codes)
        sub = t.loc[codes]

        def persons(col: str) -> float:  # NaN for a table without the count
            return float(sub[col].sum()) if col in sub else np.nan

        for y in demand.years:
            for seg in SEGMENTS:
                rows.append({"zone": zone, "zone_name": names.get(zone, zone), "variant": variant,
                             "segment": seg, "year": y,
                             "seats": float(sub[f"seats_{seg}_{y}"].sum()),
                             "n_communes": len(codes), "share_of_zone": np.nan,
                             "teleworkers": persons("teleworkers"),
                             "solos": persons(f"solos_{y}"),
                             "users": persons(f"users_{seg}_{y}")})

    for zone, variant, codes in variant_members(membership, exclusive, without_pole=without_pole,
                                                territory_codes=territory_codes):
        add(zone, variant, codes)
    out = pd.DataFrame(rows)
    if territory_codes is not None:
        key = ["zone", "segment", "year"]
        whole = out[out["variant"].isin([ZONE, UNION])].set_index(key)["seats"]
        res = out["variant"] == TERRITORY_RESIDENTS
        denom = whole.reindex(pd.MultiIndex.from_frame(out.loc[res, key])).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            out.loc[res, "share_of_zone"] = np.where(denom > 0, out.loc[res, "seats"] / denom,
                                                     np.nan)
    if supply_seats is not None:
        net = out[(out["variant"] == ZONE) & (out["segment"] == TOTAL)].copy()
        net["variant"] = NET_OF_SUPPLY
        net["seats"] = net["seats"] - net["zone"].map(supply_seats).fillna(0.0)
        out = pd.concat([out, net], ignore_index=True)
    return out


def study_rule(seats: SeatsConfig, year: int) -> str:
    """The teleworker rule that gave a year's seats: ``share_of_users``,
    ``share_of_teleworkers`` or ``interpolated`` (between anchors of different kinds)."""
    rule = year_rule(seats, year)
    if rule is not None:
        return rule
    i, j, w = _interp([a.year for a in seats.teleworkers], year)
    kinds = {_kind(seats.teleworkers[i]), _kind(seats.teleworkers[j])}
    if w > 0 and len(kinds) > 1:
        return "interpolated"
    return "share_of_users" if kinds == {"share_of_users"} else "share_of_teleworkers"


def rule_comparison(
    demand: CommuneDemand, cfg: DemandConfig, membership: dict[str, list[str]], *,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Teleworker seats and users of each zone and of the union under each teleworker rule
    of :data:`TELEWORKER_RULES` the anchors allow, every year: what 2018 would be under the
    2025 rule, and the reverse (docs/method.md §5).

    Returns
    -------
    pandas.DataFrame
        ``zone`` (town code or ``all``), ``zone_name``, ``year``, ``rule``, ``study_rule``
        (the rule the study used that year, :func:`study_rule`), ``users_teleworkers``,
        ``seats_teleworkers``, ``seats_total``.
    """
    t = demand.table
    names = names or {}
    data_year = int(t["solos_data_year"].iloc[0]) if len(t) else cfg.base_year
    groups = {**membership, "all": sorted({c for m in membership.values() for c in m})}
    rows = []
    for rule in TELEWORKER_RULES:
        try:
            rule_anchors(cfg.seats, rule)
        except ConfigError:
            continue
        st = seats_table(t["teleworkers"], t["solos_data"], data_year, cfg, demand.years,
                         rule=rule)
        for z, codes in groups.items():
            sub = st.loc[codes]
            for y in demand.years:
                rows.append({"zone": z, "zone_name": names.get(z, "all" if z == "all" else z),
                             "year": y, "rule": rule, "study_rule": study_rule(cfg.seats, y),
                             "users_teleworkers": float(sub[f"users_teleworkers_{y}"].sum()),
                             "seats_teleworkers": float(sub[f"seats_teleworkers_{y}"].sum()),
                             "seats_total": float(sub[f"seats_total_{y}"].sum())})
    return pd.DataFrame(rows)
