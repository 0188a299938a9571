"""Parameter paths of a study (``demand.seats.solos[1].usage_share``) and their ranges.

Scenario sweeps (:mod:`territorial_geo.scenarios`) set parameters by path; sensitivity and
Monte Carlo (:mod:`territorial_geo.uncertainty`) draw them within the low / central / high
ranges of :data:`territorial_geo.config.PARAMETER_RANGES` (central = the study's value).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from dataclasses import dataclass
from typing import Any

from territorial_geo.config import (
    DATA_YEAR_RULES,
    PARAMETER_RANGES,
    PRESET_RANGE,
    RANGE_SOURCES,
    TELEWORK_PRESETS,
    StudyConfig,
)
from territorial_geo.errors import ConfigError

#: Parameters taking one of a few values.
CHOICES: dict[str, tuple[Any, ...]] = {
    "demand.telework_preset": tuple(TELEWORK_PRESETS),
    "demand.solos.data_year_rule": DATA_YEAR_RULES,
    "demand.csp_year": (2011, 2016, 2022),
    "zoning.direction": ("to", "from"),
}
#: Zoning parameters a sweep may vary (each distinct combination is routed once).
ZONING_PATHS = ("zoning.budget_min", "zoning.direction", "zoning.market_towns")
#: Demand leaves a sweep may not vary (file names, lists).
_NOT_SWEPT = ("demand.solos.sirene_file", "demand.solos.sirene_year", "demand.solos.naf_codes",
              "demand.solos.bands", "demand.years", "demand.telework_rates",
              "demand.seats.teleworkers_rule")
_TOKEN = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+)\])?$")
_SHARES = ("usage_share", "share_of_users", "occupancy", "fallback_office_share")


def _leaves(obj: Any, prefix: str) -> list[str]:
    out = []
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        key = f"{prefix}.{f.name}"
        if dataclasses.is_dataclass(v):
            out += _leaves(v, key)
        elif isinstance(v, list) and v and dataclasses.is_dataclass(v[0]):
            for i, item in enumerate(v):
                # hours do not enter a "share of users" anchor (docs/method.md §5)
                unused = (".year", ".hours_per_month") if getattr(
                    item, "share_of_users", None) is not None else (".year",)
                out += [k for k in _leaves(item, f"{key}[{i}]")
                        if getattr(item, k.rsplit(".", 1)[1]) is not None
                        and not k.endswith(unused)]
        else:
            out.append(key)
    return out


def sweep_paths(cfg: StudyConfig) -> list[str]:
    """Every parameter path a scenario sweep may vary for this study."""
    demand = [k for k in _leaves(cfg.demand, "demand")
              if not any(k == n or k.startswith(n + ".") for n in _NOT_SWEPT)]
    return [*ZONING_PATHS, *demand]


def _steps(path: str) -> list[tuple[str, int | None]]:
    out = []
    for tok in path.split("."):
        m = _TOKEN.match(tok)
        if not m:
            raise ConfigError(f"parameter path {path!r}: bad part {tok!r}")
        out.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return out


def get_path(cfg: StudyConfig, path: str) -> Any:
    """The value at a parameter path (``demand.seats.solos[1].usage_share``)."""
    obj: Any = cfg
    for name, idx in _steps(path):
        obj = getattr(obj, name)
        if idx is not None:
            obj = obj[idx]
    return obj


def closest(path: str, known: list[str]) -> str:
    """``"; closest: a, b"`` (or ``""``) for an unknown name."""
    close = difflib.get_close_matches(path, known, n=3, cutoff=0.5)
    return f"; closest: {', '.join(close)}" if close else ""


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
    if path in CHOICES and out not in CHOICES[path]:
        names = [str(c) for c in CHOICES[path]]
        raise ConfigError(f"{path}: unknown value {value!r}{closest(str(value), names)} "
                          f"(valid: {', '.join(names)})")
    return out


def with_values(cfg: StudyConfig, values: dict[str, Any]) -> StudyConfig:
    """A validated copy of ``cfg`` with parameters set by path (values already parsed)."""
    new = copy.deepcopy(cfg)
    for path, value in values.items():
        steps = _steps(path)
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


@dataclass(frozen=True)
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
