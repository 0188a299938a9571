"""Uncertainty on seats: seeded Monte Carlo over the parameter ranges, and one-at-a-time
sensitivity (tornado charts).

The demand stage's own formulas (:func:`territorial_geo.demand.solos_at`,
:func:`~territorial_geo.demand.solo_seats`, :func:`~territorial_geo.demand.teleworker_seats`)
are evaluated once for every draw at the same time: each uncertain parameter becomes a
column of draws (shape ``(draws, 1)``) broadcast against the communes (``(1, communes)``),
so 1,000 draws cost a few matrix products. Zone sums are a product with a 0/1 membership
matrix (one column per zone and variant of :func:`territorial_geo.demand.zone_table`).

Draws: a triangular distribution on ``[low, high]`` with its mode at the study's value for
numbers, and the low, central or high preset with equal probability for the telework
preset (an ASSUMPTION: the ranges say what is plausible, not how likely).
"""

from __future__ import annotations

import copy
import dataclasses
import io
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from territorial_geo import demand as dm
from territorial_geo.config import (
    DemandConfig,
    Range,
    SeatsConfig,
    StudyConfig,
    parameter_ranges,
    path_steps,
)
from territorial_geo.maps import default_style
from territorial_geo.sources import CSP_KEYS, atomic_write

if TYPE_CHECKING:  # annotations only (the outputs import this module)
    from territorial_geo.outputs.rendercache import RenderCache

#: Quantiles reported: the median and the 80 % interval.
QUANTILES = {"seats_p10": 0.10, "seats_p50": 0.50, "seats_p90": 0.90}
KEY = ["zone", "variant", "segment", "year"]


def draw(ranges: list[Range], n: int, *, seed: int) -> dict[str, np.ndarray]:
    """``n`` seeded draws of every parameter (path -> array of ``n`` values).

    Numbers: triangular on ``[low, high]`` with mode ``central`` (constant when the range
    has zero width); choices: low, central or high with equal probability.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for r in ranges:
        if r.kind == "choice":
            opts = np.array([r.low, r.central, r.high], dtype=object)
            out[r.path] = opts[rng.integers(0, 3, n)]
        elif r.low == r.high:
            out[r.path] = np.full(n, float(r.central))
        else:
            out[r.path] = rng.triangular(r.low, r.central, r.high, n)
    return out


def _seats_config(seats: SeatsConfig, values: dict[str, np.ndarray]) -> SeatsConfig:
    """A copy of ``seats`` whose drawn parameters are ``(draws, 1)`` arrays."""
    new = copy.deepcopy(seats)
    for path, v in values.items():
        if not path.startswith("demand.seats."):
            continue
        obj: Any = new
        steps = path_steps(path)[2:]
        for name, idx in steps[:-1]:
            obj = getattr(obj, name)
            if idx is not None:
                obj = obj[idx]
        setattr(obj, steps[-1][0], np.asarray(v, float).reshape(-1, 1))
    return new


def commune_seats(
    table: pd.DataFrame, cfg: DemandConfig, values: dict[str, np.ndarray], *, n: int,
    years: list[int],
) -> dict[tuple[str, int], np.ndarray]:
    """Seats per draw and commune, for every segment and year.

    Parameters
    ----------
    table
        ``CommuneDemand.table`` of the plain study (its estimated employed people by CSP,
        secondary residences, solo count or fallback inputs).
    cfg
        The study's demand parameters (central values).
    values
        Parameter path -> ``n`` drawn values (paths not given keep the study's value).
    n
        Number of draws.
    years
        Years to compute.

    Returns
    -------
    dict
        ``(segment, year)`` -> array ``(n, communes)`` in the order of ``table``.
    """
    def col(path: str, default: float) -> np.ndarray:
        v = values.get(path)
        return np.full((n, 1), float(default)) if v is None else np.asarray(v, float).reshape(n, 1)

    emp = table[[f"employed_{k}_est" for k in CSP_KEYS]].to_numpy(float)
    presets = values.get("demand.telework_preset")
    if presets is None:
        presets = np.full(n, cfg.telework_preset, dtype=object)
    tele_csp = np.empty((n, len(table)))
    for name in pd.unique(presets):
        rates = dm.telework_rates(dataclasses.replace(cfg, telework_preset=name))
        tele_csp[presets == name] = emp @ np.array([rates.get(k, 0.0) for k in CSP_KEYS])
    tele = tele_csp + col("demand.secondary_residence_rate", cfg.secondary_residence_rate) * \
        table["secondary_residences"].to_numpy(float)
    if (table["solos_source"] == "fallback_estimate").all():
        base = table["non_salaried_2018"].to_numpy(float) * table["services_share_2018"].to_numpy(float)
        solos_data = base * col("demand.solos.fallback_office_share",
                                cfg.solos.fallback_office_share) * col(
            "demand.solos.fallback_sirene_ratio", cfg.solos.fallback_sirene_ratio)
    else:
        solos_data = np.broadcast_to(table["solos_data"].to_numpy(float), (n, len(table)))
    data_year = int(table["solos_data_year"].iloc[0]) if len(table) else cfg.base_year
    growth = col("demand.solos.growth_rate", cfg.solos.growth_rate)
    seats = _seats_config(cfg.seats, values)
    out = {}
    for y in years:
        solos_y = dm.solos_at(solos_data, y, data_year=data_year, base_year=cfg.base_year,
                              growth_rate=growth, rule=cfg.solos.data_year_rule)
        s = np.broadcast_to(dm.solo_seats(solos_y, seats, y), (n, len(table)))
        t = np.broadcast_to(dm.teleworker_seats(tele, s, seats, y, dm.year_rule(cfg.seats, y)),
                            (n, len(table)))
        out[(dm.SOLOS, y)], out[(dm.TELEWORKERS, y)], out[(dm.TOTAL, y)] = s, t, s + t
    return out


@dataclass
class ZoneIndex:
    """The (zone, variant) sums of :func:`territorial_geo.demand.zone_table` as a 0/1 matrix
    (communes x sums); ``keys`` has columns ``zone``, ``variant``."""

    codes: list[str]
    keys: pd.DataFrame
    matrix: np.ndarray


def zone_index(
    codes: list[str], membership: dict[str, list[str]], exclusive: pd.Series, *,
    without_pole: dict[str, list[str]] | None = None, territory_codes: list[str] | None = None,
) -> ZoneIndex:
    """The zone sums of :func:`territorial_geo.demand.zone_table` (same arguments, same
    variants except ``net_of_supply``) over communes ``codes``."""
    pos = {c: i for i, c in enumerate(codes)}
    keys, cols = [], []

    def add(zone: str, variant: str, members: list[str]) -> None:
        v = np.zeros(len(codes))
        v[[pos[c] for c in members]] = 1.0
        keys.append((zone, variant))
        cols.append(v)

    for zone, variant, members in dm.variant_members(membership, exclusive,
                                                     without_pole=without_pole,
                                                     territory_codes=territory_codes):
        add(zone, variant, members)
    return ZoneIndex(list(codes), pd.DataFrame(keys, columns=["zone", "variant"]),
                     np.column_stack(cols) if cols else np.zeros((len(codes), 0)))


def zone_draws(seats: dict[tuple[str, int], np.ndarray], zi: ZoneIndex) -> dict:
    """``(segment, year)`` -> zone sums per draw, ``(draws, sums)``."""
    return {k: v @ zi.matrix for k, v in seats.items()}


def _net(df: pd.DataFrame, supply_seats: dict[str, float] | None, cols: list[str]) -> pd.DataFrame:
    """Add the ``net_of_supply`` rows: zone totals minus existing seats."""
    if supply_seats is None:
        return df
    net = df[(df["variant"] == dm.ZONE) & (df["segment"] == dm.TOTAL)].copy()
    net["variant"] = dm.NET_OF_SUPPLY
    minus = net["zone"].map(supply_seats).fillna(0.0).to_numpy()
    for c in cols:
        net[c] = net[c] - minus
    return pd.concat([df, net], ignore_index=True)


def quantiles(draws: dict, zi: ZoneIndex, *,
              supply_seats: dict[str, float] | None = None) -> pd.DataFrame:
    """Median and 80 % interval of every zone sum: ``zone``, ``variant``, ``segment``,
    ``year``, ``seats_p10``, ``seats_p50``, ``seats_p90``."""
    parts = []
    qs = list(QUANTILES.values())
    for (seg, y), v in draws.items():
        q = np.quantile(v, qs, axis=0)
        part = zi.keys.assign(segment=seg, year=y)
        for i, name in enumerate(QUANTILES):
            part[name] = q[i]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return _net(out, supply_seats, list(QUANTILES))


def monte_carlo(
    table: pd.DataFrame, cfg: StudyConfig, zi: ZoneIndex, *, years: list[int],
    supply_seats: dict[str, float] | None = None, draws: int | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Seeded Monte Carlo over the study's parameter ranges (:func:`parameter_ranges`):
    the table of :func:`quantiles`. ``draws`` and ``seed`` default to ``[uncertainty]``."""
    n = cfg.uncertainty.draws if draws is None else draws
    values = draw(parameter_ranges(cfg), n, seed=cfg.uncertainty.seed if seed is None else seed)
    seats = commune_seats(table.loc[zi.codes], cfg.demand, values, n=n, years=years)
    return quantiles(zone_draws(seats, zi), zi, supply_seats=supply_seats)


def add_intervals(zone_seats: pd.DataFrame, mc: pd.DataFrame) -> pd.DataFrame:
    """``zone_seats`` (tidy, as :func:`territorial_geo.demand.zone_table`) with the columns
    ``seats_p10``, ``seats_p50``, ``seats_p90`` of :func:`monte_carlo`, rows kept in order."""
    out = zone_seats.merge(mc, on=KEY, how="left", validate="one_to_one")
    return out[[*zone_seats.columns, *QUANTILES]]


def sensitivity(
    table: pd.DataFrame, cfg: StudyConfig, zi: ZoneIndex, *, years: list[int],
    supply_seats: dict[str, float] | None = None,
) -> pd.DataFrame:
    """One-at-a-time sensitivity: every parameter at its low then its high, the others at
    the study's value.

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``low``, ``central``, ``high``, ``source``, ``zone``, ``variant``,
        ``segment``, ``year``, ``seats_low``, ``seats_central``, ``seats_high``, ``swing``
        (``|high - low|``), sorted by swing within each zone, variant, segment and year.
    """
    ranges = [r for r in parameter_ranges(cfg) if not r.fixed]
    n = 1 + 2 * len(ranges)
    values: dict[str, np.ndarray] = {}
    for i, r in enumerate(ranges):
        v = np.array([r.central] * n, dtype=object if r.kind == "choice" else float)
        v[1 + 2 * i], v[2 + 2 * i] = r.low, r.high
        values[r.path] = v
    seats = commune_seats(table.loc[zi.codes], cfg.demand, values, n=n, years=years)
    sums = zone_draws(seats, zi)
    if not ranges or not sums:
        return pd.DataFrame(columns=["parameter", "low", "central", "high", "source", *KEY,
                                     "seats_low", "seats_central", "seats_high", "swing"])
    # one block of rows (the zone sums) per (segment, year) and parameter, in that order
    m, k = len(zi.keys), len(ranges)
    blocks = len(sums) * k

    def per_block(values: list) -> np.ndarray:
        return np.repeat(np.array(values, dtype=object), m)

    def per_param(f) -> np.ndarray:
        return per_block([f(r) for r in ranges] * len(sums))

    out = pd.DataFrame({
        "zone": np.tile(zi.keys["zone"].to_numpy(dtype=object), blocks),
        "variant": np.tile(zi.keys["variant"].to_numpy(dtype=object), blocks),
        "parameter": per_param(lambda r: r.path),
        "low": per_param(lambda r: str(r.low)),
        "central": per_param(lambda r: str(r.central)),
        "high": per_param(lambda r: str(r.high)),
        "source": per_param(lambda r: r.source),
        "segment": per_block([seg for seg, _ in sums for _ in ranges]),
        "year": np.repeat(np.array([y for _, y in sums for _ in ranges], dtype=np.int64), m),
        "seats_low": np.concatenate([v[1 + 2 * i] for v in sums.values() for i in range(k)]),
        "seats_central": np.concatenate([v[0] for v in sums.values() for _ in range(k)]),
        "seats_high": np.concatenate([v[2 + 2 * i] for v in sums.values() for i in range(k)]),
    })
    out = _net(out, supply_seats, ["seats_low", "seats_central", "seats_high"])
    out["swing"] = (out["seats_high"] - out["seats_low"]).abs()
    out = out.sort_values([*KEY, "swing"], ascending=[True] * 4 + [False], kind="stable")
    return out[["parameter", "low", "central", "high", "source", *KEY, "seats_low",
                "seats_central", "seats_high", "swing"]].reset_index(drop=True)


def tornado_chart(sens: pd.DataFrame, path: str | Path, *, zone: str, variant: str,
                  year: int, title: str, segment: str = dm.TOTAL, lang: str = "fr",
                  cache: RenderCache | None = None) -> Path:
    """A tornado chart (PNG, written atomically) of one zone sum: a bar per parameter from
    its low to its high, largest swing on top, around the study's value; axis labels in
    ``lang`` (:mod:`territorial_geo.i18n`). With a ``cache``
    (:class:`~territorial_geo.outputs.rendercache.RenderCache`), the PNG drawn earlier from
    the same rows, title and language is reused."""
    s = sens[(sens["zone"] == zone) & (sens["variant"] == variant)
             & (sens["segment"] == segment) & (sens["year"] == year)]
    s = s.sort_values("swing", ascending=True)
    draw = partial(_tornado_png, s, year=year, title=title, segment=segment, lang=lang)
    png = (cache.get("tornado", (s, year, title, segment, lang), draw) if cache is not None
           else draw())
    return atomic_write(Path(path), lambda tmp: tmp.write_bytes(png))


@default_style
def _tornado_png(s: pd.DataFrame, *, year: int, title: str, segment: str, lang: str) -> bytes:
    import matplotlib

    from territorial_geo.i18n import messages, number

    _ = messages(lang)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    central = float(s["seats_central"].iloc[0]) if len(s) else 0.0
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(s), 3) + 1.2))
    y = np.arange(len(s))
    lo, hi = s["seats_low"].to_numpy(), s["seats_high"].to_numpy()
    ax.barh(y, lo - central, left=central, color="#d95f02", label=_("tornado_low"))
    ax.barh(y, hi - central, left=central, color="#1b9e77", label=_("tornado_high"))
    ax.axvline(central, color="#333", lw=1)
    from territorial_geo.i18n import param_label
    from territorial_geo.report import value_text

    # the parameter in words (the key is in the report's sensitivity table)
    ax.set_yticks(y, [f"{param_label(p, lang)} ({value_text(a, lang)} / {value_text(b, lang)})"
                      for p, a, b in zip(s["parameter"], s["low"], s["high"], strict=True)],
                  fontsize=8)
    ax.set_xlabel(_("tornado_xlabel", year=year, segment=segment,
                    central=number(central, lang)))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def study_uncertainty(
    dem: dm.CommuneDemand, cfg: StudyConfig, zone_seats: pd.DataFrame,
    membership: dict[str, list[str]], exclusive: pd.Series, *,
    without_pole: dict[str, list[str]] | None = None, territory_codes: list[str] | None = None,
    supply_seats: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For the runner: ``zone_seats`` with the Monte Carlo columns, and the sensitivity
    table (arguments as :func:`territorial_geo.demand.zone_table`)."""
    zi = zone_index(list(dem.table.index), membership, exclusive, without_pole=without_pole,
                    territory_codes=territory_codes)
    mc = monte_carlo(dem.table, cfg, zi, years=dem.years, supply_seats=supply_seats)
    sens = sensitivity(dem.table, cfg, zi, years=dem.years, supply_seats=supply_seats)
    names = dict(zip(zone_seats["zone"], zone_seats["zone_name"], strict=False))
    sens.insert(sens.columns.get_loc("zone") + 1, "zone_name", sens["zone"].map(names))
    return add_intervals(zone_seats, mc), sens
