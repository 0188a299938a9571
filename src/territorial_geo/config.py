"""Typed study configuration loaded from TOML, with every default's source.

A study file overrides any parameter of the method (``docs/method.md``). The models below
are pydantic dataclasses: each field declares its type, its bounds and its choices once
(``Literal`` of the lists in :mod:`territorial_geo.method`); unknown keys and impossible
values are rejected with one line naming the key (``demand.seats.solos[1].usage_share``)
and, for an unknown key or choice, the closest valid name.

This module is a leaf: it imports nothing from the package but :mod:`territorial_geo.errors`
and :mod:`territorial_geo.method`. Objects of other layers are built from a configuration
by those layers (:func:`territorial_geo.network.speed_profile`,
:func:`territorial_geo.network.approx_params`, :func:`territorial_geo.demand.telework_rates`).

Parameter paths (``demand.seats.solos[1].usage_share``) address single values: scenario
sweeps (:mod:`territorial_geo.scenarios`) set them, sensitivity and Monte Carlo
(:mod:`territorial_geo.uncertainty`) draw them within the low / central / high ranges of
:data:`PARAMETER_RANGES` (central = the study's value).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import os
import re
import tomllib
import typing
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, Strict, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from territorial_geo.errors import ConfigError, NetworkError
from territorial_geo.method import (
    BANDS_MIN,
    BUDGET_MIN,
    CANDIDATES,
    CSP_KEYS,
    CSP_YEARS,
    CSV_DIALECTS,
    DATA_YEAR_RULES,
    DEFAULT_SOURCES,
    DIRECTIONS,
    ENGINES,
    LANGS,
    MARGIN_KM,
    MAX_SNAP_M,
    OSRM_CAR_HIGHWAY_KMH,
    OSRM_CAR_ONCOMING_TURN_S,
    OSRM_CAR_SPEED_REDUCTION,
    OSRM_CAR_TRAFFIC_SIGNAL_S,
    OSRM_CAR_TURN_BIAS,
    OSRM_CAR_TURN_PENALTY_S,
    OSRM_CAR_U_TURN_S,
    PARAMETER_RANGES,
    POLE_RULES,
    PRESET_RANGE,
    PRESET_SOURCES,
    RANGE_SOURCES,
    RING_KM,
    SITES,
    SNAP_KMH,
    SOLO_BANDS,
    SPEED_MODELS,
    STUDY_NAF_CODES,
    TELEWORK_PRESETS,
    TELEWORKER_RULES,
    WEIGHTS,
    check_engine_network,
)

__all__ = [
    "CANDIDATES", "CSV_DIALECTS", "DATA_YEAR_RULES", "DEFAULT_SOURCES", "DIRECTIONS",
    "ENGINES", "LANGS", "PARAMETER_RANGES", "POLE_RULES", "PRESET_RANGE", "PRESET_SOURCES",
    "RANGE_SOURCES", "SITES", "SPEED_MODELS", "TELEWORK_PRESETS", "WEIGHTS", "ZONING_PATHS",
    "CoverageConfig", "DemandConfig", "NamedScenario", "OutputConfig", "PoleConfig", "Range",
    "ScenariosConfig", "SeatsConfig", "SoloAnchor", "SolosConfig", "StudyConfig",
    "SupplyConfig", "TeleworkerAnchor", "UncertaintyConfig", "ZoningConfig", "check_path",
    "check_scenarios", "choices", "closest", "config_from_dict", "fixed_ranges", "flatten",
    "get_path", "load_config", "parameter_ranges", "parse_value", "path_steps", "range_paths",
    "sweep_paths", "with_values",
]

# ---------------------------------------------------------------------------- field types


def _number_to_text(v: Any) -> Any:
    """TOML integers where text is expected (``market_towns = [62045]``) become text."""
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


#: A number (an integer is taken as a float; true/false and text are refused).
Num = Annotated[float, Strict()]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Text = Annotated[str, Strict(), BeforeValidator(_number_to_text)]
Positive = Annotated[Num, Field(gt=0)]
NonNeg = Annotated[Num, Field(ge=0)]
Share = Annotated[Num, Field(ge=0, le=1)]
#: A year as a table key (``teleworkers_rule = {"2018" = ...}``).
YearKey = Annotated[str, Field(pattern=r"^\d+$")]


def _model(cls: type) -> type:
    """A pydantic dataclass refusing unknown keys, whose constructor (``SoloAnchor(2018,
    1.5)``, :func:`dataclasses.replace`) raises :class:`ConfigError` like a study file."""
    cls = dataclass(config=ConfigDict(extra="forbid"))(cls)
    init = cls.__init__
    names = [f.name for f in dataclasses.fields(cls) if f.init]

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        try:  # positional values by name: errors name the field, not its position
            init(self, **dict(zip(names, args, strict=False)), **kwargs)
        except ValidationError as exc:
            raise ConfigError(_first(type(self), exc, "")) from None

    cls.__init__ = __init__
    return cls


class _Validated:
    """Re-validation of a configuration changed in place (``cfg.zoning.budget_min = 0``)."""

    def validate(self, where: str = ""):
        """Check every value again; raise :class:`ConfigError` naming the key.

        Parameters
        ----------
        where
            Key of this table in the study file (``"demand"``), prefixed to the keys named.

        Returns
        -------
        The configuration itself (unchanged).
        """
        _build(type(self), dataclasses.asdict(self), where)
        return self


@_model
class ZoningConfig(_Validated):
    """Drive-time zoning parameters (docs/method.md §2).

    The speed and junction fields (``speeds`` to ``traffic_signal_s``) set the speed
    profile of the network (:func:`territorial_geo.network.speed_profile`); their defaults
    are OSRM car.lua's (:mod:`territorial_geo.method`). ``budget_min`` may not exceed the
    widest of ``bands`` (a zone's members are reported by band).
    """

    market_towns: list[Text] = field(default_factory=list)
    budget_min: Positive = BUDGET_MIN
    bands: list[Positive] = field(default_factory=lambda: list(BANDS_MIN))
    direction: Literal[DIRECTIONS] = "to"
    network: Text = "approximate"
    #: Routing engine: ``builtin`` (the project's Dijkstra on ``network``) or ``osrm`` (OSRM
    #: through osrm-bindings; OpenStreetMap networks only).
    engine: Literal[ENGINES] = "builtin"
    #: OSRM profile (a ``.lua`` file) for ``engine = "osrm"``; empty: OSRM's stock car.lua.
    osrm_profile: Text = ""
    #: ``engine = "osrm"``: side (m) of the cells of the isochrone / raster sample points
    #: (one node asked per cell; docs/method.md §2.6.6).
    osrm_sample_m: Positive = 1000.0
    margin_km: NonNeg = MARGIN_KM
    speeds: dict[str, Positive] = field(default_factory=dict)
    speed_factor: Positive = 1.0
    snap_kmh: Positive = SNAP_KMH
    max_snap_m: NonNeg = MAX_SNAP_M
    speed_model: Literal[SPEED_MODELS] = "osrm-car"
    speed_reduction: Positive = OSRM_CAR_SPEED_REDUCTION
    junction_costs: Bool = True
    turn_penalty_s: NonNeg = OSRM_CAR_TURN_PENALTY_S
    turn_bias: Positive = OSRM_CAR_TURN_BIAS
    u_turn_s: NonNeg = OSRM_CAR_U_TURN_S
    oncoming_turn_s: NonNeg = OSRM_CAR_ONCOMING_TURN_S
    traffic_signal_s: NonNeg = OSRM_CAR_TRAFFIC_SIGNAL_S
    edge_buffer_m: Num = 150.0
    auto_towns: Bool = False
    #: ``[zoning.approximate]``: overrides of the approximate network's parameters, checked
    #: when the network is built (:func:`territorial_geo.network.approx_params`).
    approximate: dict[str, Any] = field(default_factory=dict)

    @model_validator(mode="after")
    def _budget_within_bands(self):
        if self.bands and self.budget_min > max(self.bands):
            widest = max(self.bands)
            raise ValueError(
                f"@budget_min = {self.budget_min:g} is above the widest band ({widest:g} min "
                f"in @bands): lower @budget_min to {widest:g} or less, or add a band of at "
                f"least {self.budget_min:g} to @bands")
        try:
            check_engine_network(self.engine, self.network)
        except NetworkError as exc:
            raise ValueError(f"@engine: {exc}") from None
        return self


@_model
class SolosConfig(_Validated):
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

    naf_codes: list[Text] = field(default_factory=lambda: list(STUDY_NAF_CODES))
    bands: list[Text] = field(default_factory=lambda: list(SOLO_BANDS))
    growth_rate: Annotated[Num, Field(gt=-1)] = 0.06
    data_year_rule: Literal[DATA_YEAR_RULES] = "hold"
    sirene_file: Text = ""
    sirene_year: Int = 0
    fallback_office_share: Share = PARAMETER_RANGES["demand.solos.fallback_office_share"][1]
    fallback_sirene_ratio: Positive = PARAMETER_RANGES["demand.solos.fallback_sirene_ratio"][1]

    @model_validator(mode="after")
    def _year_with_file(self):
        if self.sirene_file and not self.sirene_year:
            raise ValueError("@sirene_year is required with @sirene_file (the year of the "
                             "SIRENE stock)")
        return self


@_model
class SoloAnchor(_Validated):
    """Solo usage at a given year."""

    year: Int
    usage_share: Share
    hours_per_month: NonNeg = 35.0


@_model
class TeleworkerAnchor(_Validated):
    """Teleworker usage at a given year: either a share of all users or a usage share."""

    year: Int
    share_of_users: Annotated[Num, Field(ge=0, lt=1)] | None = None
    usage_share: Share | None = None
    hours_per_month: NonNeg = 35.0

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.share_of_users is None) == (self.usage_share is None):
            raise ValueError("@: give exactly one of share_of_users or usage_share")
        return self


#: Which anchors a teleworker rule uses (``teleworkers_rule``).
_RULE_FIELD = dict(zip(TELEWORKER_RULES, ("share_of_users", "usage_share"), strict=True))


@_model
class SeatsConfig(_Validated):
    """Seats from users (docs/method.md §5)."""

    seat_hours_per_month: Positive = 35 * 52 / 12
    occupancy: Annotated[Num, Field(gt=0, le=1)] = 1.0
    solos: Annotated[list[SoloAnchor], Field(min_length=1)] = field(
        default_factory=lambda: [SoloAnchor(2018, 0.25, 35.0), SoloAnchor(2025, 0.30, 35.0)]
    )
    teleworkers: Annotated[list[TeleworkerAnchor], Field(min_length=1)] = field(
        default_factory=lambda: [
            TeleworkerAnchor(2018, share_of_users=0.20),
            TeleworkerAnchor(2025, usage_share=0.11, hours_per_month=35.0),
        ]
    )
    #: Year -> teleworker rule for that year (``"share_of_users"`` or
    #: ``"share_of_teleworkers"``): only the anchors of that kind are used (interpolated and
    #: held as usual). Years not listed follow their anchors (docs/method.md §5).
    teleworkers_rule: dict[YearKey, Literal[TELEWORKER_RULES]] = field(default_factory=dict)

    @model_validator(mode="after")
    def _anchors(self):
        for year, rule in self.teleworkers_rule.items():
            kind = _RULE_FIELD[rule]
            if not any(getattr(a, kind) is not None for a in self.teleworkers):
                raise ValueError(f"@teleworkers_rule.{year} = {rule!r}: no @teleworkers anchor "
                                 f"gives {kind}")
        for name, anchors in (("solos", self.solos), ("teleworkers", self.teleworkers)):
            years = [a.year for a in anchors]
            if len(set(years)) != len(years):
                raise ValueError(f"@{name}: a year is given twice ({years})")
        return self


@_model
class DemandConfig(_Validated):
    """Demand model (docs/method.md §3-5)."""

    base_year: Int = 2018
    horizon_year: Int = 2025
    years: list[Int] = field(default_factory=list)
    telework_preset: Literal[tuple(TELEWORK_PRESETS)] = "dares2004"
    telework_rates: dict[Literal[CSP_KEYS], Share] = field(default_factory=dict)
    secondary_residence_rate: NonNeg = 0.05
    csp_year: Literal[CSP_YEARS] = 2016
    solos: SolosConfig = field(default_factory=SolosConfig)
    seats: SeatsConfig = field(default_factory=SeatsConfig)

    @property
    def output_years(self) -> list[int]:
        """Years reported: base, horizon and any extra year, sorted."""
        return sorted({self.base_year, self.horizon_year, *self.years})

    @model_validator(mode="after")
    def _years(self):
        if self.horizon_year < self.base_year:
            raise ValueError(f"@horizon_year ({self.horizon_year}) is before base_year "
                             f"({self.base_year})")
        for i, y in enumerate(self.years):
            if y < self.base_year:
                raise ValueError(f"@years[{i}] = {y} is before base_year {self.base_year}")
        return self


@_model
class PoleConfig(_Validated):
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

    zone: Text
    pole: Text
    rule: Literal[POLE_RULES] = "closer_to_pole"


@_model
class SupplyConfig(_Validated):
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

    use_cget: Bool = True
    file: Text = ""
    seats_per_site: NonNeg = 10.0
    site_seats: dict[str, NonNeg] = field(default_factory=dict)
    planned: list[Text] = field(default_factory=list)


@_model
class CoverageConfig(_Validated):
    """Coverage and site selection (docs/method.md §6)."""

    minutes: list[Positive] = field(default_factory=lambda: [10.0, 20.0])
    sites: Literal[SITES] = "both"
    k: Annotated[Int, Field(ge=0)] = 3
    candidates: Literal[CANDIDATES] = "density"
    candidate_list: list[Text] = field(default_factory=list)
    weight: Literal[WEIGHTS] = "population"
    budget_min: Positive = 10.0


@_model
class OutputConfig(_Validated):
    """Outputs."""

    raster_cell_m: Positive = 200.0
    static_maps: Bool = True
    raster: Bool = True
    #: Language of the map, report, PNG maps and CLI summary: ``"fr"`` (default) or ``"en"``.
    lang: Literal[LANGS] = "fr"
    #: CSV dialect of the tables: ``"standard"`` (``,``, decimal point, UTF-8) or
    #: ``"excel-fr"`` (``;``, decimal comma, UTF-8 with BOM: French Excel opens it in columns).
    csv_dialect: Literal[CSV_DIALECTS] = "standard"
    #: Write ``study.xlsx`` (the answer tables, headers in ``lang``).
    excel: Bool = True
    #: Write ``study.qgs`` (a QGIS project of the GeoPackages, styled like the web map).
    qgis: Bool = True
    #: Reuse the charts and maps an earlier run drew from equal inputs with the same code
    #: (``<data dir>/cache/renders``); false: draw everything.
    render_cache: Bool = True


@_model
class NamedScenario(_Validated):
    """A named scenario of a sweep: parameter path -> value (``[[scenarios.named]]``)."""

    name: Text
    values: dict[str, Any] = field(default_factory=dict)


@_model
class ScenariosConfig(_Validated):
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

    @model_validator(mode="after")
    def _sweeps(self):
        for k, v in self.vary.items():
            if not v:
                raise ValueError(f"@vary.{k}: no value (an empty sweep)")
        names = [n.name for n in self.named]
        if len(set(names)) != len(names):
            raise ValueError(f"@named: a name is given twice ({names})")
        return self


@_model
class UncertaintyConfig(_Validated):
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

    draws: Annotated[Int, Field(ge=0)] = 1000
    seed: Int = 2018
    ranges: dict[str, list[Any]] = field(default_factory=dict)


@_model
class StudyConfig(_Validated):
    """A whole study: territory, zoning, demand, competition, supply, coverage, outputs."""

    name: Text = "Study"
    territory: Text = "200069482"
    ring_km: NonNeg = RING_KM
    zoning: ZoningConfig = field(default_factory=ZoningConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    poles: list[PoleConfig] = field(default_factory=list)
    supply: SupplyConfig = field(default_factory=SupplyConfig)
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    scenarios: ScenariosConfig = field(default_factory=ScenariosConfig)
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)
    source_file: Text = ""

    @model_validator(mode="after")
    def _paths(self):
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


# ---------------------------------------------------------------------------- errors


def _key(loc: tuple, where: str = "") -> str:
    """``("demand", "seats", "solos", 1, "usage_share")`` -> ``demand.seats.solos[1].usage_share``."""
    out = where
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}" if out else str(part)
    return out


def _field_type(cls: type, loc: tuple) -> Any:
    """The declared type at ``loc`` below the model ``cls`` (list items and table values
    followed, ``X | None`` unwrapped)."""
    tp: Any = cls
    for part in loc:
        while typing.get_origin(tp) is Annotated:
            tp = typing.get_args(tp)[0]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if dataclasses.is_dataclass(tp):
            tp = typing.get_type_hints(tp, include_extras=True).get(part, Any)
        elif typing.get_origin(tp) in (list, dict):
            tp = args[-1]
        elif len(args) == 1:  # X | None
            tp = _field_type(args[0], (part,))
        else:
            return Any
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def closest(name: str, known: list[str]) -> str:
    """``"; closest: a, b"`` (or ``""``) for an unknown name."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f"; closest: {', '.join(close)}" if close else ""


_UNKNOWN = ("unexpected_keyword_argument", "extra_forbidden")
_KINDS = {"float_type": "a number", "int_type": "an integer", "bool_type": "true or false",
          "string_type": "a string", "list_type": "a list", "dict_type": "a table",
          "dataclass_type": "a table", "dataclass_exact_type": "a table"}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
           "less_than_equal": "<="}


def _message(cls: type, err: dict, where: str) -> str:
    """One line for one pydantic error, naming the full key."""
    loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
    key = _key(loc, where)
    if kind in _UNKNOWN:
        parent = _field_type(cls, loc[:-1])
        known = sorted(f.name for f in dataclasses.fields(parent) if f.init)
        return (f"unknown key {key}{closest(str(loc[-1]), known)}; known here: "
                f"{', '.join(known)}")
    if kind == "literal_error" and loc and loc[-1] == "[key]":  # a table's key
        names = [str(c) for c in typing.get_args(typing.get_args(_field_type(cls, loc[:-2]))[0])]
        return (f"{key}: unknown name {value!r}{closest(str(value), names)}; known here: "
                f"{', '.join(names)}")
    if kind == "literal_error":
        allowed = typing.get_args(_field_type(cls, loc))
        names = [str(c) for c in allowed]
        if all(isinstance(c, str) for c in allowed) and not isinstance(value, str):
            return f"{key} must be a string, got {value!r}"
        return f"{key} must be one of {', '.join(names)}, got {value!r}{closest(str(value), names)}"
    if kind in _KINDS:
        return f"{key} must be {_KINDS[kind]}, got {value!r}"
    if kind in _BOUNDS:
        (bound,) = err["ctx"].values()
        return f"{key} must be {_BOUNDS[kind]} {bound:g}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"{key}: the key must be a year (\"2018\" = \"...\")"
    if kind == "too_short":
        return f"{key} needs at least one entry"
    if kind == "missing":
        return f"{key} is required"
    if kind == "value_error":
        text = str(err["ctx"]["error"])
        return text.replace("@:", f"{key}:").replace("@", f"{key}." if key else "")
    return f"{key}: {err['msg']}"


def _build(cls: type, data: dict, where: str = "") -> Any:
    """Validate ``data`` as a ``cls``; the first error as one :class:`ConfigError` line."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'study'} must be a table, got {data!r}")
    try:
        return cls.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(_first(cls, exc, where)) from None


def _first(cls: type, exc: ValidationError, where: str) -> str:
    """The line of the first error, an unknown key first (a misspelt key also leaves its
    field missing)."""
    errors = exc.errors()
    unknown = [e for e in errors if e["type"] in _UNKNOWN]
    return _message(cls, (unknown or errors)[0], where)


# ---------------------------------------------------------------------------- flattening


def flatten(obj: Any, prefix: str = "", *, tables: bool = True, keep: tuple[str, ...] = (),
            nodes: bool = False, items: bool = False) -> dict[str, Any]:
    """Dotted key -> value of every parameter of a configuration or of a plain table.

    Parameters
    ----------
    obj
        A configuration object (its tables are followed) or a dict (a study file's data).
    prefix
        Key of ``obj`` (``"demand"``), prefixed to every key.
    tables
        Follow dict-valued parameters too (``demand.telework_rates.cadres``), except the
        names in ``keep``; else a dict is one value.
    nodes
        Keep the key of every table as well as its leaves (the keys a study file set).
    items
        Lists of configuration objects give one key per item and field
        (``demand.seats.solos[1].usage_share``); else the list is one value (items as
        dicts).

    Returns
    -------
    dict
        In the order of the fields / keys.
    """
    out: dict[str, Any] = {}
    if dataclasses.is_dataclass(obj):
        pairs = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    else:
        pairs = list(obj.items())
    for name, v in pairs:
        key = f"{prefix}.{name}" if prefix else str(name)
        if dataclasses.is_dataclass(v) or (isinstance(v, dict) and tables and name not in keep):
            if nodes:
                out[key] = v
            out.update(flatten(v, key, tables=tables, keep=keep, nodes=nodes, items=items))
        elif isinstance(v, list) and v and dataclasses.is_dataclass(v[0]):
            if items:
                for i, item in enumerate(v):
                    out.update(flatten(item, f"{key}[{i}]", tables=tables, keep=keep,
                                       nodes=nodes, items=items))
            else:
                out[key] = [dataclasses.asdict(x) for x in v]
        else:
            out[key] = v
    return out


# ---------------------------------------------------------------------------- parameter paths

#: Zoning parameters a sweep may vary (each distinct combination is routed once).
ZONING_PATHS = ("zoning.budget_min", "zoning.direction", "zoning.market_towns")
#: Demand leaves a sweep may not vary (file names, lists).
_NOT_SWEPT = ("demand.solos.sirene_file", "demand.solos.sirene_year", "demand.solos.naf_codes",
              "demand.solos.bands", "demand.years", "demand.telework_rates",
              "demand.seats.teleworkers_rule")
_TOKEN = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+)\])?$")
_SHARES = ("usage_share", "share_of_users", "occupancy", "fallback_office_share")


def path_steps(path: str) -> list[tuple[str, int | None]]:
    """``"demand.seats.solos[1].usage_share"`` -> ``[("demand", None), ..., ("solos", 1),
    ("usage_share", None)]``.

    Raises
    ------
    ConfigError
        A part that is not a name or ``name[index]``.
    """
    out = []
    for tok in path.split("."):
        m = _TOKEN.match(tok)
        if not m:
            raise ConfigError(f"parameter path {path!r}: bad part {tok!r}")
        out.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return out


def choices(path: str) -> tuple[Any, ...] | None:
    """The values a parameter path may take (its declared ``Literal``), else ``None``."""
    loc = [p for name, idx in path_steps(path) for p in (name, idx) if p is not None]
    tp = _field_type(StudyConfig, tuple(loc))
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def sweep_paths(cfg: StudyConfig) -> list[str]:
    """Every parameter path a scenario sweep may vary for this study."""
    flat = flatten(cfg.demand, "demand", tables=False, items=True)
    demand = []
    for k, v in flat.items():
        if v is None or any(k == n or k.startswith(n + ".") for n in _NOT_SWEPT):
            continue
        item, _, name = k.rpartition(".")
        # hours do not enter a "share of users" anchor (docs/method.md §5)
        if name == "year" and item.endswith("]"):
            continue
        if name == "hours_per_month" and flat.get(f"{item}.share_of_users") is not None:
            continue
        demand.append(k)
    return [*ZONING_PATHS, *demand]


def get_path(cfg: StudyConfig, path: str) -> Any:
    """The value at a parameter path (``demand.seats.solos[1].usage_share``)."""
    obj: Any = cfg
    for name, idx in path_steps(path):
        obj = getattr(obj, name)
        if idx is not None:
            obj = obj[idx]
    return obj


def check_path(cfg: StudyConfig, path: str, known: list[str] | None = None) -> None:
    """Raise :class:`ConfigError` naming the closest valid paths for an unknown one."""
    known = sweep_paths(cfg) if known is None else known
    if path not in known:
        raise ConfigError(f"unknown parameter path {path!r}{closest(path, known)} "
                          f"(valid: {', '.join(known)})")


def parse_value(cfg: StudyConfig, path: str, value: Any) -> Any:
    """A value for ``path`` of the right type, from text (command line) or TOML.

    Raises
    ------
    ConfigError
        A value of the wrong type, or not one of the choices (closest ones named).
    """
    cur = get_path(cfg, path)
    try:
        if isinstance(cur, list):
            out: Any = (list(value) if isinstance(value, list)
                        else [v.strip() for v in str(value).split("+") if v.strip()])
        elif isinstance(cur, bool):
            raise ConfigError(f"{path}: a switch cannot be swept")
        elif isinstance(cur, int):
            if isinstance(value, float) and value != int(value):
                raise ValueError
            out = int(value)
        elif isinstance(cur, float):
            out = float(value)
        else:
            out = str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {value!r} is not a {type(cur).__name__}") from None
    allowed = choices(path)
    if allowed is not None and out not in allowed:
        names = [str(c) for c in allowed]
        raise ConfigError(f"{path}: unknown value {value!r}{closest(str(value), names)} "
                          f"(valid: {', '.join(names)})")
    return out


def with_values(cfg: StudyConfig, values: dict[str, Any]) -> StudyConfig:
    """A validated copy of ``cfg`` with parameters set by path (values already parsed)."""
    new = copy.deepcopy(cfg)
    for path, value in values.items():
        steps = path_steps(path)
        obj: Any = new
        for name, idx in steps[:-1]:
            obj = getattr(obj, name)
            if idx is not None:
                obj = obj[idx]
        name, idx = steps[-1]
        if idx is not None:
            getattr(obj, name)[idx] = value
        else:
            setattr(obj, name, value)
    try:
        return new.validate()
    except ConfigError as exc:
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        raise ConfigError(f"scenario {shown}: {exc}") from None


# ---------------------------------------------------------------------------- ranges


@dataclasses.dataclass(frozen=True)
class Range:
    """Low / central / high of one uncertain parameter (``kind`` ``number`` or ``choice``)."""

    path: str
    low: Any
    central: Any
    high: Any
    source: str
    kind: str = "number"

    @property
    def fixed(self) -> bool:
        """True when the range has zero width."""
        return self.low == self.central == self.high


def range_paths() -> list[str]:
    """Every path that has a range (:data:`PARAMETER_RANGES` and the telework preset)."""
    return ["demand.telework_preset", *PARAMETER_RANGES]


def parameter_ranges(cfg: StudyConfig) -> list[Range]:
    """The ranges that apply to a study, central = the study's value.

    A default range whose central value differs from the study's is scaled to it (said in
    ``source``); ``uncertainty.ranges`` replaces a range by ``[low, high]``. Paths absent
    from the study (an anchor it does not have) and the solo fallback's ratios when a
    SIRENE file is given are left out.

    Raises
    ------
    ConfigError
        An unknown path in ``uncertainty.ranges`` (closest named), a low above its high, a
        central value outside ``[low, high]``, an unknown preset.
    """
    over = cfg.uncertainty.ranges
    known = range_paths()
    for path in over:
        if path not in known:
            raise ConfigError(f"uncertainty.ranges: unknown parameter path {path!r}"
                              f"{closest(path, known)} (valid: {', '.join(known)})")
    out = [_preset_range(cfg, over.get("demand.telework_preset"))]
    for path, (lo, mid, hi) in PARAMETER_RANGES.items():
        if path.startswith("demand.solos.fallback_") and cfg.demand.solos.sirene_file:
            continue
        try:
            central = get_path(cfg, path)
        except (IndexError, AttributeError):
            continue
        if central is None:
            continue
        central = float(central)
        src = RANGE_SOURCES.get(path, "ASSUMPTION")
        key = f"uncertainty.ranges.{path}"
        if path in over:
            v = over[path]
            if (not isinstance(v, list) or len(v) != 2
                    or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)):
                raise ConfigError(f"{key} must be [low, high] (two numbers), got {v!r}")
            lo, hi = float(v[0]), float(v[1])
            if lo > hi:
                raise ConfigError(f"{key}: low {lo:g} exceeds high {hi:g}")
            if not lo <= central <= hi:
                raise ConfigError(f"{key}: the study's value {central:g} is outside "
                                  f"[{lo:g}, {hi:g}]")
            src = f"study file {key} (method range: {src})"
        elif central != mid:
            f = central / mid if mid else 1.0
            lo, hi = min(lo * f, central), max(hi * f, central)
            src = f"{src} (scaled to the study's value {central:g})"
        if path.endswith(_SHARES):
            hi = min(hi, 0.99 if path.endswith("share_of_users") else 1.0)
            lo = max(lo, 0.0)
        out.append(Range(path, lo, central, hi, src))
    return out


def _preset_range(cfg: StudyConfig, over: Any) -> Range:
    central = cfg.demand.telework_preset
    path = "demand.telework_preset"
    if over is None:
        lo, hi = PRESET_RANGE[0], PRESET_RANGE[2]
        return Range(path, lo, central, hi, RANGE_SOURCES[path], "choice")
    if not isinstance(over, list) or len(over) != 2:
        raise ConfigError(f"uncertainty.ranges.{path} must be [low preset, high preset], "
                          f"got {over!r}")
    for v in over:
        parse_value(cfg, path, v)
    return Range(path, over[0], central, over[1], f"study file uncertainty.ranges.{path}",
                 "choice")


def fixed_ranges(cfg: StudyConfig) -> dict[str, list[Any]]:
    """``uncertainty.ranges`` fixing every parameter at the study's value (zero width)."""
    return {r.path: [r.central, r.central] for r in parameter_ranges(cfg)}


def check_scenarios(cfg: StudyConfig) -> None:
    """Check the study file's ``[scenarios]`` table: known paths, values of the right type
    and among the choices (each error names ``scenarios.vary.PATH`` or the scenario)."""
    known = sweep_paths(cfg)
    for path, values in cfg.scenarios.vary.items():
        try:
            check_path(cfg, path, known)
            for v in values:
                parse_value(cfg, path, v)
        except ConfigError as exc:
            raise ConfigError(f"scenarios.vary: {exc}") from None
    for n in cfg.scenarios.named:
        if not n.values:
            raise ConfigError(f"scenarios.named {n.name!r}: no value set")
        try:
            for path, v in n.values.items():
                check_path(cfg, path, known)
                parse_value(cfg, path, v)
        except ConfigError as exc:
            raise ConfigError(f"scenarios.named {n.name!r}: {exc}") from None


# ---------------------------------------------------------------------------- loading


def config_from_dict(data: dict, *, source_file: str = "") -> tuple[StudyConfig, set[str]]:
    """Build and validate a :class:`StudyConfig` from a dict; return it and the keys set."""
    cfg = _build(StudyConfig, dict(data))
    cfg.source_file = source_file
    cfg.zoning.speeds = {**OSRM_CAR_HIGHWAY_KMH, **cfg.zoning.speeds}
    return cfg, set(flatten(data, nodes=True))


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
