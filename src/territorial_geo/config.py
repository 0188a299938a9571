"""Typed study configuration loaded from TOML, with every default's source.

A study file overrides any parameter of the method (``docs/method.md``); unknown keys and
impossible values are rejected with the key named (``demand.seats.solos[1].usage_share``).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from territorial_geo.errors import ConfigError
from territorial_geo.i18n import LANGS
from territorial_geo.network import DEFAULT_HIGHWAY_KMH
from territorial_geo.network.carprofile import (
    OSRM_CAR_ONCOMING_TURN_S,
    OSRM_CAR_SPEED_REDUCTION,
    OSRM_CAR_TRAFFIC_SIGNAL_S,
    OSRM_CAR_TURN_BIAS,
    OSRM_CAR_TURN_PENALTY_S,
    OSRM_CAR_U_TURN_S,
)
from territorial_geo.sources import SOLO_BANDS, STUDY_NAF_CODES

#: Telework rate presets: share of employed people of each CSP who telework.
TELEWORK_PRESETS: dict[str, dict[str, float]] = {
    "dares2004": {"cadres": 0.30, "profint": 0.11, "employes": 0.039, "ouvriers": 0.0},
    "dares2004-home": {"cadres": 0.10, "profint": 0.02, "employes": 0.009, "ouvriers": 0.0},
    "dares2017": {"cadres": 0.111, "profint": 0.032, "employes": 0.014, "ouvriers": 0.002},
    "dares2017-occasional": {"cadres": 0.151, "profint": 0.056, "employes": 0.012,
                             "ouvriers": 0.002},
    "insee2022": {"cadres": 0.522, "profint": 0.194, "employes": 0.085, "ouvriers": 0.002},
}
PRESET_SOURCES: dict[str, str] = {
    "dares2004": "INSEE EPCV May 2004, DARES Premières Synthèses 51.3 (Dec. 2004): home + "
    "nomadic telework",
    "dares2004-home": "INSEE EPCV May 2004, DARES Premières Synthèses 51.3: home telework only",
    "dares2017": "DARES Analyses 2019-051: regular telework (>= 1 day a week), 2017",
    "dares2017-occasional": "DARES Analyses 2019-051: occasional telework, 2017",
    "insee2022": "INSEE Enquête Emploi 2022",
}

#: Provenance of every default (``docs/method.md`` §8); shown next to the value in every output.
DEFAULT_SOURCES: dict[str, str] = {
    "zoning.budget_min": "reference study (10-minute zones)",
    "zoning.direction": "docs/method.md §2: towards the bourg",
    "zoning.speeds": "OSRM car.lua v26.x speeds.highway (osrm-bindings 26.10): motorway 90, "
    "trunk 85, primary 65, secondary 55, tertiary 40, residential 25 (docs/method.md §2)",
    "zoning.speed_model": "docs/method.md §2: OSRM car.lua v26.x way rules (tagged maxspeed x "
    "speed_reduction, surface caps); 'legal' = the former legal-limit model",
    "zoning.speed_reduction": "OSRM car.lua v26.x speed_reduction",
    "zoning.junction_costs": "docs/method.md §2: OSRM car.lua v26.x process_turn on an "
    "edge-based graph (detailed networks)",
    "zoning.turn_penalty_s": "OSRM car.lua v26.x turn_penalty",
    "zoning.turn_bias": "OSRM car.lua v26.x turn_bias",
    "zoning.u_turn_s": "OSRM car.lua v26.x properties.u_turn_penalty",
    "zoning.oncoming_turn_s": "OSRM car.lua v26.x oncoming_turn_penalty",
    "zoning.traffic_signal_s": "OSRM lib/obstacles.lua v26.x traffic_signals duration",
    "zoning.snap_kmh": "docs/method.md §2 (assumption: low speed on local roads)",
    "zoning.max_snap_m": "docs/method.md §2",
    "zoning.network": "approximate network when no detailed network is named: speeds and "
    "per-link cost fitted to OSRM car times (neocarto/rspatial osrm/data 2021: Isère matrix and "
    "times to Paris; docs/method.md §2.6.7); every parameter and its source in "
    "parameters.json network.params",
    "zoning.osrm_sample_m": "ASSUMPTION: cost/precision trade-off of OSRM's isochrone "
    "sample points (docs/method.md §2.6.6)",
    "zoning.engine": "built-in engine (docs/method.md §2); 'osrm' computes the times with "
    "OSRM (osrm-bindings, stock car.lua profile unless zoning.osrm_profile is set)",
    "demand.telework_preset": "see preset source",
    "demand.secondary_residence_rate": "ASSUMPTION: no published source (docs/method.md §3)",
    "demand.csp_year": "census year of CSP shares closest to the base year",
    "demand.solos.naf_codes": "reference study's office-activity list (docs/method.md §4)",
    "demand.solos.bands": "SIRENE bands NN, 00, 01 (< 3 employees)",
    "demand.solos.growth_rate": "reference study (+6 %/year)",
    "demand.solos.data_year_rule": "docs/method.md §4: growth applies after the base year, so a "
    "count from another year is held at the base year ('hold'); 'grow' compounds from the "
    "data year instead",
    "demand.solos.fallback_office_share": "ASSUMPTION (range 0.10 / 0.19 / 0.24): share of "
    "office-type activities among non-salaried workers in services other than commerce, set "
    "so that the fallback's national total matches INSEE's count of non-salaried workers at "
    "end 2017 in information-communication (82,000), management consulting (112,000), "
    "architecture-engineering (73,000) and other specialised activities (94,000) (Insee "
    "Références 'Emploi et revenus des indépendants' 2020, fiche 'Services aux entreprises et "
    "services mixtes', figure 1): 361,000 / 1,887,600 (the national sum over the communes of "
    "the census 2018 comparateur of non-salaried jobs x the smoothed services share) = 0.19; "
    "low 0.10 counts consulting and architecture-engineering only (185,000), high 0.24 adds "
    "legal and accounting activities (90,000); supply a SIRENE extract to replace it",
    "demand.solos.fallback_sirene_ratio": "derived from ACOSS Stat'ur n° 289 (July 2019, "
    "'Les auto-entrepreneurs fin 2018'): 1,357,000 micro-entrepreneurs administratively active "
    "(registered, so counted by SIRENE) for 1,012,000 economically active (counted by INSEE "
    "as non-salaried), ratio 1.34; micro-entrepreneurs are 42 % of the non-salaried (same "
    "source), so 1 + 0.42 x 0.34 = 1.14 SIRENE establishments per non-salaried worker; range "
    "1.00 (no registered-but-inactive entrepreneur) to 1.34 (all solos micro-entrepreneurs). "
    "ASSUMPTION beyond that: SAS presidents (salaried, yet SIRENE establishments) and "
    "non-salaried workers with several establishments are not counted",
    "demand.seats.seat_hours_per_month": "35 h x 52 / 12 (one full-time seat)",
    "demand.seats.occupancy": "docs/method.md §5",
    "demand.seats.solos": "CDC / consultancy (25 % in 2018, 30 % in 2025, 35 h/month)",
    "demand.seats.teleworkers": "CDC, Externalités des télécentres (2014): 20 % of users in "
    "2018; 11 % of teleworkers, 35 h/month in 2025",
    "supply.seats_per_site": "ASSUMPTION: CGET 2019 gives no seat counts (a seats column of "
    "supply.file, or supply.site_seats, wins)",
    "poles.rule": "docs/method.md §6.1: members closer in time to the pole than to the market "
    "town are dropped ('closer_to_pole'); the market town is never dropped",
}


#: Low / central / high values of uncertain parameters for scenario and sensitivity work
#: (issue 11); the central value is the default, each range's source is in DEFAULT_SOURCES.
PARAMETER_RANGES: dict[str, tuple[float, float, float]] = {
    "demand.solos.fallback_office_share": (0.10, 0.19, 0.24),
    "demand.solos.fallback_sirene_ratio": (1.0, 1.14, 1.34),
    "demand.secondary_residence_rate": (0.0, 0.05, 0.10),
    "demand.solos.growth_rate": (0.03, 0.06, 0.09),
    "demand.seats.occupancy": (0.8, 1.0, 1.0),
    "demand.seats.solos[0].usage_share": (0.20, 0.25, 0.30),
    "demand.seats.solos[1].usage_share": (0.25, 0.30, 0.35),
    "demand.seats.solos[1].hours_per_month": (20.0, 35.0, 50.0),
    "demand.seats.teleworkers[0].share_of_users": (0.15, 0.20, 0.25),
    "demand.seats.teleworkers[1].usage_share": (0.08, 0.11, 0.14),
    "demand.seats.teleworkers[1].hours_per_month": (20.0, 35.0, 50.0),
}
#: Low / central / high telework-rate preset (a choice, not a number): the 2017 regular
#: telework rates (DARES 2019), the reference study's 2004 rates, the 2022 rates (INSEE).
PRESET_RANGE: tuple[str, str, str] = ("dares2017", "dares2004", "insee2022")

#: Source of each range of :data:`PARAMETER_RANGES` and :data:`PRESET_RANGE` (issue 11).
RANGE_SOURCES: dict[str, str] = {
    "demand.telework_preset": "sourced presets: DARES 2019-051 (2017 regular telework, low), "
    "DARES 2004 (reference study, central), INSEE Enquête Emploi 2022 (high)",
    "demand.solos.fallback_office_share": "INSEE Références 2020 non-salaried counts by "
    "activity (see demand.solos.fallback_office_share)",
    "demand.secondary_residence_rate": "ASSUMPTION: no published source; 0 (nobody in a "
    "secondary residence teleworks there) to 0.10, twice the engine's default 0.05 (itself "
    "an ASSUMPTION)",
    "demand.solos.fallback_sirene_ratio": "ACOSS Stat'ur 289 (see "
    "demand.solos.fallback_sirene_ratio)",
    "demand.solos.growth_rate": "ASSUMPTION: the reference study's +6 %/year, +/- half",
    "demand.seats.occupancy": "ASSUMPTION: full use of a seat's hours (1.0) down to 20 % idle",
    "demand.seats.solos[0].usage_share": "ASSUMPTION: CDC / consultancy 25 % +/- 5 points",
    "demand.seats.solos[1].usage_share": "ASSUMPTION: CDC / consultancy 30 % +/- 5 points",
    "demand.seats.solos[1].hours_per_month": "ASSUMPTION: CDC 35 h/month, 20 to 50 h",
    "demand.seats.teleworkers[0].share_of_users": "ASSUMPTION: CDC 2014 (20 % of users) "
    "+/- 5 points",
    "demand.seats.teleworkers[1].usage_share": "ASSUMPTION: CDC 11 % of teleworkers +/- 3 "
    "points",
    "demand.seats.teleworkers[1].hours_per_month": "ASSUMPTION: CDC 35 h/month, 20 to 50 h",
}


@dataclass
class ZoningConfig:
    """Drive-time zoning parameters (docs/method.md §2)."""

    market_towns: list[str] = field(default_factory=list)
    budget_min: float = 10.0
    bands: list[float] = field(default_factory=lambda: [5.0, 10.0, 15.0, 20.0])
    direction: str = "to"
    network: str = "approximate"
    #: Routing engine: ``builtin`` (the project's Dijkstra on ``network``) or ``osrm`` (OSRM
    #: through osrm-bindings; OpenStreetMap networks only).
    engine: str = "builtin"
    #: OSRM profile (a ``.lua`` file) for ``engine = "osrm"``; empty: OSRM's stock car.lua.
    osrm_profile: str = ""
    #: ``engine = "osrm"``: side (m) of the cells of the isochrone / raster sample points
    #: (one node asked per cell; docs/method.md §2.6.6).
    osrm_sample_m: float = 1000.0
    margin_km: float = 25.0
    speeds: dict[str, float] = field(default_factory=dict)
    speed_factor: float = 1.0
    snap_kmh: float = 30.0
    max_snap_m: float = 2000.0
    speed_model: str = "osrm-car"
    speed_reduction: float = OSRM_CAR_SPEED_REDUCTION
    junction_costs: bool = True
    turn_penalty_s: float = OSRM_CAR_TURN_PENALTY_S
    turn_bias: float = OSRM_CAR_TURN_BIAS
    u_turn_s: float = OSRM_CAR_U_TURN_S
    oncoming_turn_s: float = OSRM_CAR_ONCOMING_TURN_S
    traffic_signal_s: float = OSRM_CAR_TRAFFIC_SIGNAL_S
    edge_buffer_m: float = 150.0
    auto_towns: bool = False
    approximate: dict[str, Any] = field(default_factory=dict)

    def speed_profile(self, where: str = "zoning"):
        """The :class:`~territorial_geo.network.graph.SpeedProfile` these settings give
        (class speeds, speed model, junction costs, snap settings)."""
        from territorial_geo.errors import NetworkError
        from territorial_geo.network import SpeedProfile, legal_profile

        try:
            profile = SpeedProfile(
                highway_kmh=dict(self.speeds), factor=self.speed_factor, snap_kmh=self.snap_kmh,
                max_snap_m=self.max_snap_m, speed_reduction=self.speed_reduction,
                turns=self.junction_costs, turn_penalty_s=self.turn_penalty_s,
                turn_bias=self.turn_bias, u_turn_s=self.u_turn_s,
                oncoming_turn_s=self.oncoming_turn_s, traffic_signal_s=self.traffic_signal_s)
        except NetworkError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        if self.speed_model == "legal":
            return dataclasses.replace(legal_profile(profile), turns=self.junction_costs)
        if self.speed_model != "osrm-car":
            raise ConfigError(f"{where}.speed_model must be 'osrm-car' or 'legal', got "
                              f"{self.speed_model!r}")
        return profile

    def approx_params(self, where: str = "zoning"):
        """:class:`~territorial_geo.network.approximate.ApproxParams` with the study file's
        ``[zoning.approximate]`` overrides (tables such as ``speed_kmh`` merged by level)."""
        import dataclasses as dc

        from territorial_geo.errors import NetworkError
        from territorial_geo.network.approximate import ApproxParams

        base = ApproxParams()
        names = {f.name for f in dc.fields(ApproxParams)}
        unknown = sorted(set(self.approximate) - names)
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(f'{where}.approximate.{u}' for u in unknown)}"
                              f"; known here: {', '.join(sorted(names))}")
        changes = {}
        for k, v in self.approximate.items():
            cur = getattr(base, k)
            if isinstance(cur, dict):
                if not isinstance(v, dict):
                    raise ConfigError(f"{where}.approximate.{k} must be a table (by density "
                                      "level, or by highway class for skeleton_kmh)")
                keyed = str if k == "skeleton_kmh" else int  # by highway class, else by level
                try:
                    changes[k] = {**cur, **{keyed(kk): vv for kk, vv in v.items()}}
                except ValueError as exc:
                    raise ConfigError(f"{where}.approximate.{k}: keys must be density levels "
                                      f"1..7 ({exc})") from exc
            elif isinstance(cur, tuple):
                changes[k] = tuple(v)
            else:
                changes[k] = v
        try:
            return dc.replace(base, **changes)
        except (NetworkError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}.approximate: {exc}") from exc

    def validate(self, where: str) -> None:
        _positive(self.budget_min, f"{where}.budget_min")
        if self.approximate:
            self.approx_params(where)
        for i, b in enumerate(self.bands):
            _positive(b, f"{where}.bands[{i}]")
        if self.direction not in ("to", "from"):
            raise ConfigError(f"{where}.direction must be 'to' or 'from', got {self.direction!r}")
        for k, v in self.speeds.items():
            _positive(v, f"{where}.speeds.{k}")
        _positive(self.speed_factor, f"{where}.speed_factor")
        _positive(self.snap_kmh, f"{where}.snap_kmh")
        self.speed_profile(where)
        _positive(self.osrm_sample_m, f"{where}.osrm_sample_m")
        from territorial_geo.errors import NetworkError
        from territorial_geo.network.engine import check_engine_network

        try:
            check_engine_network(self.engine, self.network)
        except NetworkError as exc:
            raise ConfigError(f"{where}.engine: {exc}") from exc


#: Rules for a solo count whose data year differs from the base year (``data_year_rule``).
DATA_YEAR_RULES = ("hold", "grow")


@dataclass
class SolosConfig:
    """Solo workers from SIRENE (docs/method.md §4).

    Attributes
    ----------
    growth_rate
        Yearly growth of the solo population (default +6 %).
    data_year_rule
        What to do when the solo count's data year (the SIRENE stock's ``sirene_year``, or
        2018 for the census fallback) differs from ``demand.base_year``:

        ``"hold"`` (default, docs/method.md §4: growth applies after the base year)
            the count is taken as the base-year count, and grown from the base year:
            ``solos(y) = count x (1 + growth) ^ (y - base_year)``;
        ``"grow"``
            the count is grown (or back-cast) from its data year:
            ``solos(y) = count x (1 + growth) ^ (y - data_year)``.
    fallback_office_share
        Without a SIRENE extract, solos are ESTIMATED from the census 2018 comparateur as
        non-salaried jobs x the share of services other than commerce x this share
        (:func:`territorial_geo.demand.fallback_solos`); an ASSUMPTION whose range is in
        :data:`PARAMETER_RANGES`.
    fallback_sirene_ratio
        SIRENE establishments (active, < 3 employees, office NAF list) per non-salaried
        worker in office activities, turning the census estimate into the SIRENE quantity
        (source and range in :data:`DEFAULT_SOURCES` and :data:`PARAMETER_RANGES`).
    """

    naf_codes: list[str] = field(default_factory=lambda: list(STUDY_NAF_CODES))
    bands: list[str] = field(default_factory=lambda: list(SOLO_BANDS))
    growth_rate: float = 0.06
    data_year_rule: str = "hold"
    sirene_file: str = ""
    sirene_year: int = 0
    fallback_office_share: float = PARAMETER_RANGES["demand.solos.fallback_office_share"][1]
    fallback_sirene_ratio: float = PARAMETER_RANGES["demand.solos.fallback_sirene_ratio"][1]

    def validate(self, where: str) -> None:
        if self.growth_rate <= -1:
            raise ConfigError(f"{where}.growth_rate must be > -1, got {self.growth_rate}")
        if self.data_year_rule not in DATA_YEAR_RULES:
            raise ConfigError(f"{where}.data_year_rule must be 'hold' or 'grow', got "
                              f"{self.data_year_rule!r}")
        _share(self.fallback_office_share, f"{where}.fallback_office_share")
        _positive(self.fallback_sirene_ratio, f"{where}.fallback_sirene_ratio")
        if self.sirene_file and not self.sirene_year:
            raise ConfigError(f"{where}.sirene_year is required with sirene_file "
                              "(the year of the SIRENE stock)")


@dataclass
class SoloAnchor:
    """Solo usage at a given year."""

    year: int
    usage_share: float
    hours_per_month: float = 35.0


@dataclass
class TeleworkerAnchor:
    """Teleworker usage at a given year: either a share of all users or a usage share."""

    year: int
    share_of_users: float | None = None
    usage_share: float | None = None
    hours_per_month: float = 35.0


@dataclass
class SeatsConfig:
    """Seats from users (docs/method.md §5)."""

    seat_hours_per_month: float = 35 * 52 / 12
    occupancy: float = 1.0
    solos: list[SoloAnchor] = field(
        default_factory=lambda: [SoloAnchor(2018, 0.25, 35.0), SoloAnchor(2025, 0.30, 35.0)]
    )
    teleworkers: list[TeleworkerAnchor] = field(
        default_factory=lambda: [
            TeleworkerAnchor(2018, share_of_users=0.20),
            TeleworkerAnchor(2025, usage_share=0.11, hours_per_month=35.0),
        ]
    )
    #: Year -> teleworker rule for that year (``"share_of_users"`` or
    #: ``"share_of_teleworkers"``): only the anchors of that kind are used (interpolated and
    #: held as usual). Years not listed follow their anchors (docs/method.md §5).
    teleworkers_rule: dict[str, str] = field(default_factory=dict)

    def validate(self, where: str) -> None:
        _positive(self.seat_hours_per_month, f"{where}.seat_hours_per_month")
        if not 0 < self.occupancy <= 1:
            raise ConfigError(f"{where}.occupancy must be in (0, 1], got {self.occupancy}")
        if not self.solos:
            raise ConfigError(f"{where}.solos needs at least one year")
        if not self.teleworkers:
            raise ConfigError(f"{where}.teleworkers needs at least one year")
        for i, a in enumerate(self.solos):
            _share(a.usage_share, f"{where}.solos[{i}].usage_share")
            _nonneg(a.hours_per_month, f"{where}.solos[{i}].hours_per_month")
        for i, a in enumerate(self.teleworkers):
            w = f"{where}.teleworkers[{i}]"
            if (a.share_of_users is None) == (a.usage_share is None):
                raise ConfigError(f"{w}: give exactly one of share_of_users or usage_share")
            if a.share_of_users is not None:
                _share(a.share_of_users, f"{w}.share_of_users")
                if a.share_of_users >= 1:
                    raise ConfigError(f"{w}.share_of_users must be < 1")
            if a.usage_share is not None:
                _share(a.usage_share, f"{w}.usage_share")
            _nonneg(a.hours_per_month, f"{w}.hours_per_month")
        for year, rule in self.teleworkers_rule.items():
            key = f"{where}.teleworkers_rule.{year}"
            if not str(year).isdigit():
                raise ConfigError(f"{key}: the key must be a year (\"2018\" = \"...\")")
            kinds = {"share_of_users": "share_of_users", "share_of_teleworkers": "usage_share"}
            if rule not in kinds:
                raise ConfigError(f"{key} must be 'share_of_users' or 'share_of_teleworkers', "
                                  f"got {rule!r}")
            if not any(getattr(a, kinds[rule]) is not None for a in self.teleworkers):
                raise ConfigError(f"{key} = {rule!r}: no {where}.teleworkers anchor gives "
                                  f"{kinds[rule]}")
        for name, anchors in (("solos", self.solos), ("teleworkers", self.teleworkers)):
            years = [a.year for a in anchors]
            if len(set(years)) != len(years):
                raise ConfigError(f"{where}.{name}: a year is given twice ({years})")


@dataclass
class DemandConfig:
    """Demand model (docs/method.md §3-5)."""

    base_year: int = 2018
    horizon_year: int = 2025
    years: list[int] = field(default_factory=list)
    telework_preset: str = "dares2004"
    telework_rates: dict[str, float] = field(default_factory=dict)
    secondary_residence_rate: float = 0.05
    csp_year: int = 2016
    solos: SolosConfig = field(default_factory=SolosConfig)
    seats: SeatsConfig = field(default_factory=SeatsConfig)

    @property
    def output_years(self) -> list[int]:
        """Years reported: base, horizon and any extra year, sorted."""
        return sorted({self.base_year, self.horizon_year, *self.years})

    def rates(self) -> dict[str, float]:
        """Telework rate per CSP (preset, then explicit overrides)."""
        r = {"agri": 0.0, "artis": 0.0, **TELEWORK_PRESETS[self.telework_preset]}
        r.update(self.telework_rates)
        return r

    def validate(self, where: str) -> None:
        if self.telework_preset not in TELEWORK_PRESETS:
            raise ConfigError(
                f"{where}.telework_preset {self.telework_preset!r} unknown; presets: "
                f"{', '.join(TELEWORK_PRESETS)}"
            )
        for k, v in self.telework_rates.items():
            if k not in ("agri", "artis", "cadres", "profint", "employes", "ouvriers"):
                raise ConfigError(f"{where}.telework_rates.{k}: unknown CSP (agri, artis, "
                                  "cadres, profint, employes, ouvriers)")
            _share(v, f"{where}.telework_rates.{k}")
        _nonneg(self.secondary_residence_rate, f"{where}.secondary_residence_rate")
        if self.horizon_year < self.base_year:
            raise ConfigError(f"{where}.horizon_year ({self.horizon_year}) is before "
                              f"base_year ({self.base_year})")
        for i, y in enumerate(self.years):
            if y < self.base_year:
                raise ConfigError(f"{where}.years[{i}] = {y} is before base_year {self.base_year}")
        if self.csp_year not in (2011, 2016, 2022):
            raise ConfigError(f"{where}.csp_year must be 2011, 2016 or 2022")
        self.solos.validate(f"{where}.solos")
        self.seats.validate(f"{where}.seats")


#: Rules of the variant without a competing pole (``[[poles]] rule``).
POLE_RULES = ("closer_to_pole", "within_budget")


@dataclass
class PoleConfig:
    """A competing pole inside a zone (e.g. Arras for Duisans).

    Attributes
    ----------
    rule
        Which members the ``without_pole`` variant drops (docs/method.md §6.1); the market
        town itself is never dropped:

        ``"closer_to_pole"`` (default)
            members closer in time to the pole than to the market town;
        ``"within_budget"``
            every member within the budget of the pole (the literal rule).
    """

    zone: str
    pole: str
    rule: str = "closer_to_pole"

    def validate(self, where: str) -> None:
        if self.rule not in POLE_RULES:
            raise ConfigError(f"{where}.rule must be one of {', '.join(POLE_RULES)}, got "
                              f"{self.rule!r}")


@dataclass
class SupplyConfig:
    """Existing and planned third places.

    Attributes
    ----------
    use_cget
        Take the existing third places from the CGET 2019 inventory (dataset
        ``third-places``); when it cannot be obtained the study still runs and says so.
    file
        A CSV of existing third places in the CGET layout (``ID``, ``NOM_TL``, ``INSEECOM``,
        ``TYPO``, ``LAT``, ``LONG``; optional ``seats``), used instead of the CGET dataset
        (a relative path is read beside the study file when it is there, else from the
        current directory).
    """

    use_cget: bool = True
    file: str = ""
    seats_per_site: float = 10.0
    site_seats: dict[str, float] = field(default_factory=dict)
    planned: list[str] = field(default_factory=list)

    def validate(self, where: str) -> None:
        _nonneg(self.seats_per_site, f"{where}.seats_per_site")
        for k, v in self.site_seats.items():
            _nonneg(v, f"{where}.site_seats.{k}")


@dataclass
class CoverageConfig:
    """Coverage and site selection (docs/method.md §6)."""

    minutes: list[float] = field(default_factory=lambda: [10.0, 20.0])
    sites: str = "both"
    k: int = 3
    candidates: str = "density"
    candidate_list: list[str] = field(default_factory=list)
    weight: str = "population"
    budget_min: float = 10.0

    def validate(self, where: str) -> None:
        for i, m in enumerate(self.minutes):
            _positive(m, f"{where}.minutes[{i}]")
        if self.sites not in ("existing", "planned", "both"):
            raise ConfigError(f"{where}.sites must be existing, planned or both")
        if self.k < 0:
            raise ConfigError(f"{where}.k must be >= 0")
        if self.candidates not in ("density", "towns", "list", "all"):
            raise ConfigError(f"{where}.candidates must be density, towns, list or all")
        if self.weight not in ("population", "teleworkers", "solos", "seats"):
            raise ConfigError(f"{where}.weight must be population, teleworkers, solos or seats")
        _positive(self.budget_min, f"{where}.budget_min")


@dataclass
class OutputConfig:
    """Outputs."""

    raster_cell_m: float = 200.0
    static_maps: bool = True
    raster: bool = True
    #: Language of the map, report, PNG maps and CLI summary: ``"fr"`` (default) or ``"en"``.
    lang: str = "fr"
    #: CSV dialect of the tables: ``"standard"`` (``,``, decimal point, UTF-8) or
    #: ``"excel-fr"`` (``;``, decimal comma, UTF-8 with BOM: French Excel opens it in columns).
    csv_dialect: str = "standard"
    #: Write ``study.xlsx`` (the answer tables, headers in ``lang``).
    excel: bool = True
    #: Write ``study.qgs`` (a QGIS project of the GeoPackages, styled like the web map).
    qgis: bool = True

    def validate(self, where: str) -> None:
        _positive(self.raster_cell_m, f"{where}.raster_cell_m")
        if self.lang not in LANGS:
            raise ConfigError(f"{where}.lang {self.lang!r} unknown; one of: {', '.join(LANGS)}")
        if self.csv_dialect not in ("standard", "excel-fr"):
            raise ConfigError(f"{where}.csv_dialect {self.csv_dialect!r} unknown; one of: "
                              "standard, excel-fr")


@dataclass
class NamedScenario:
    """A named scenario of a sweep: parameter path -> value (``[[scenarios.named]]``)."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenariosConfig:
    """Scenario sweeps (``territorial-geo scenarios``; :mod:`territorial_geo.scenarios`).

    Attributes
    ----------
    vary
        Parameter path -> values; every combination is a scenario
        (``vary = {"zoning.budget_min" = [8, 10, 12]}``).
    named
        Named scenarios, each setting a few parameters (added to the combinations).
    """

    vary: dict[str, list[Any]] = field(default_factory=dict)
    named: list[NamedScenario] = field(default_factory=list)

    def validate(self, where: str) -> None:
        for k, v in self.vary.items():
            if not v:
                raise ConfigError(f"{where}.vary.{k}: no value (an empty sweep)")
        names = [n.name for n in self.named]
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}.named: a name is given twice ({names})")


@dataclass
class UncertaintyConfig:
    """Monte Carlo over the parameter ranges (:mod:`territorial_geo.uncertainty`).

    Attributes
    ----------
    draws
        Number of draws (0: no uncertainty columns).
    seed
        Random seed (the same seed gives the same intervals).
    ranges
        Parameter path -> ``[low, high]`` replacing the range of :data:`PARAMETER_RANGES`
        (central = the study's value; ``[v, v]`` fixes it); for ``demand.telework_preset``
        two preset names.
    """

    draws: int = 1000
    seed: int = 2018
    ranges: dict[str, list[Any]] = field(default_factory=dict)

    def validate(self, where: str) -> None:
        if self.draws < 0:
            raise ConfigError(f"{where}.draws must be >= 0, got {self.draws}")


@dataclass
class StudyConfig:
    """A whole study: territory, zoning, demand, competition, supply, coverage, outputs."""

    name: str = "Study"
    territory: str = "200069482"
    ring_km: float = 15.0
    zoning: ZoningConfig = field(default_factory=ZoningConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    poles: list[PoleConfig] = field(default_factory=list)
    supply: SupplyConfig = field(default_factory=SupplyConfig)
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    scenarios: ScenariosConfig = field(default_factory=ScenariosConfig)
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)
    source_file: str = ""

    def validate(self) -> StudyConfig:
        """Check every value; raise :class:`ConfigError` naming the key."""
        _nonneg(self.ring_km, "ring_km")
        self.zoning.validate("zoning")
        self.demand.validate("demand")
        for i, p in enumerate(self.poles):
            p.validate(f"poles[{i}]")
        self.supply.validate("supply")
        self.coverage.validate("coverage")
        self.output.validate("output")
        self.scenarios.validate("scenarios")
        self.uncertainty.validate("uncertainty")
        from territorial_geo.params import check_scenarios, parameter_ranges

        parameter_ranges(self)  # unknown path, low above high: the key named
        check_scenarios(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Every parameter as plain data."""
        return dataclasses.asdict(self)

    def provenance(self, overridden: set[str] | None = None) -> dict[str, str]:
        """Source of each sourced parameter; study-file overrides say so."""
        out = dict(DEFAULT_SOURCES)
        out["demand.telework_preset"] = PRESET_SOURCES[self.demand.telework_preset]
        if self.demand.telework_rates:
            out["demand.telework_rates"] = "study file (explicit rates)"
        for key in overridden or set():
            for k in list(out):
                if k == key or key.startswith(k + "."):
                    where = f"study file {self.source_file}".strip()
                    if not out[k].startswith(where):
                        out[k] = f"{where} (method default: {out[k]})"
        return out


def _positive(v: float, key: str) -> None:
    if not (isinstance(v, int | float) and v > 0):
        raise ConfigError(f"{key} must be > 0, got {v!r}")


def _nonneg(v: float, key: str) -> None:
    if not (isinstance(v, int | float) and v >= 0):
        raise ConfigError(f"{key} must be >= 0, got {v!r}")


def _share(v: float, key: str) -> None:
    if not (isinstance(v, int | float) and 0 <= v <= 1):
        raise ConfigError(f"{key} must be a share between 0 and 1, got {v!r}")


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, key)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a table, got {value!r}")
        return _build(tp, value, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return [_convert(args[0], v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a table, got {value!r}")
        return {str(k): _convert(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if tp is str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return value
    return value


def _build(cls: type, data: dict, where: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(
            f"unknown key(s) {', '.join(prefix + u for u in unknown)}; "
            f"known here: {', '.join(sorted(names))}"
        )
    kwargs = {}
    for k, v in data.items():
        kwargs[k] = _convert(hints[k], v, f"{where}.{k}" if where else k)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where or 'study'}: {exc}") from exc


def _flatten_keys(data: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in data.items():
        key = f"{prefix}{k}"
        out.add(key)
        if isinstance(v, dict):
            out |= _flatten_keys(v, key + ".")
    return out


def config_from_dict(data: dict, *, source_file: str = "") -> tuple[StudyConfig, set[str]]:
    """Build and validate a :class:`StudyConfig` from a dict; return it and the keys set."""
    data = dict(data)
    cfg = _build(StudyConfig, data, "")
    cfg.source_file = source_file
    cfg.zoning.speeds = {**DEFAULT_HIGHWAY_KMH, **cfg.zoning.speeds}
    cfg.validate()
    return cfg, _flatten_keys(data)


def load_config(path: str | os.PathLike) -> tuple[StudyConfig, set[str]]:
    """Load a study TOML file.

    Returns
    -------
    (StudyConfig, set of str)
        The validated configuration and the dotted keys the file set (for provenance).

    Raises
    ------
    ConfigError
        File missing, invalid TOML, unknown key or impossible value (key named).
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"study file {p} not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML ({exc})") from exc
    try:
        return config_from_dict(data, source_file=str(p))
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
