"""Scenario sweeps: a study run for every combination of a few parameters (or a named list).

``territorial-geo scenarios STUDY.toml --vary demand.telework_preset=dares2004,dares2017
--vary zoning.budget_min=8,10,12,15`` (or a ``[scenarios]`` table in the study file).

Nothing is computed twice: the territory, the road network, the third-place inventory and
the demand inputs are loaded once; the zones are routed once per distinct zoning
(market towns, budget, direction) and shared by every scenario that has it; the demand
stage runs once per distinct demand configuration. Outputs (``write_sweep``, one folder
written atomically): ``scenarios.csv`` (tidy: ``scenario``, one column per varied path,
``zone``, ``zone_name``, ``variant``, ``segment``, ``year``, ``seats``, ``n_communes``),
a comparison chart per zone (``chart_<zone>.png``), the study's one-at-a-time sensitivity
(``sensitivity.csv``, ``tornado_<zone>.png``), ``scenarios.json`` and ``report.html``.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territorial_geo import demand, pipeline, report, sources, study, uncertainty
from territorial_geo.config import (
    ZONING_PATHS,
    StudyConfig,
    check_path,
    parse_value,
    sweep_paths,
    with_values,
)
from territorial_geo.errors import ConfigError
from territorial_geo.i18n import messages
from territorial_geo.maps import default_style
from territorial_geo.outputs.rendercache import RenderCache

#: Most scenarios a sweep may hold (a guard against a typo multiplying lists).
MAX_SCENARIOS = 2000


@dataclass
class Sweep:
    """The scenarios of a sweep.

    Attributes
    ----------
    paths
        Varied parameter paths (one column each in ``scenarios.csv``).
    scenarios
        ``(name, {path: value})`` in order; a path a named scenario leaves out keeps the
        study's value.
    """

    paths: list[str]
    scenarios: list[tuple[str, dict[str, Any]]]


def parse_vary(text: str) -> tuple[str, list[str]]:
    """``PATH=V1,V2,...`` or ``PATH=LOW:HIGH:STEP`` (numbers, both ends included).

    Raises
    ------
    ConfigError
        No ``=``, an empty value, a low above its high, a step <= 0.
    """
    path, sep, rest = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ConfigError(f"--vary {text!r}: expected PATH=V1,V2 (e.g. zoning.budget_min=8,10,12)")
    if rest.count(":") == 2 and "," not in rest:
        try:
            lo, hi, step = (float(x) for x in rest.split(":"))
        except ValueError:
            raise ConfigError(f"--vary {text!r}: LOW:HIGH:STEP must be numbers") from None
        if lo > hi:
            raise ConfigError(f"--vary {path}: low {lo:g} exceeds high {hi:g}")
        if step <= 0:
            raise ConfigError(f"--vary {path}: step must be > 0, got {step:g}")
        n = int(np.floor((hi - lo) / step + 1e-9)) + 1
        return path, [f"{lo + i * step:g}" for i in range(n)]
    values = [v.strip() for v in rest.split(",")]
    if not all(values):
        raise ConfigError(f"--vary {path}: empty value in {rest!r} (use V1,V2,V3)")
    return path, values


def parse_named(text: str) -> tuple[str, dict[str, str]]:
    """``NAME:PATH=V;PATH=V`` -> name and values."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or "=" not in rest:
        raise ConfigError(f"--named {text!r}: expected NAME:PATH=VALUE;PATH=VALUE")
    values = {}
    for part in rest.split(";"):
        k, s, v = part.partition("=")
        if not s or not k.strip() or not v.strip():
            raise ConfigError(f"--named {name}: expected PATH=VALUE, got {part!r}")
        values[k.strip()] = v.strip()
    return name.strip(), values


def build_sweep(
    cfg: StudyConfig, *, vary: dict[str, list[Any]] | None = None,
    named: list[tuple[str, dict[str, Any]]] | None = None,
) -> Sweep:
    """Every combination of ``vary`` (then the ``named`` scenarios), each checked.

    Parameters
    ----------
    cfg
        The study (central values).
    vary
        Path -> values (text or typed); every combination is a scenario ``s01``, ``s02``...
    named
        ``(name, {path: value})`` scenarios added after the combinations.

    Raises
    ------
    ConfigError
        An empty sweep, an unknown path or value (closest valid ones named), a path given
        twice, a scenario whose configuration is impossible (key named).
    """
    vary = dict(vary or {})
    named = list(named or [])
    if not vary and not named:
        raise ConfigError("empty sweep: give --vary PATH=V1,V2 (or --named), or a "
                          "[scenarios] table in the study file; paths: "
                          + ", ".join(sweep_paths(cfg)))
    known = sweep_paths(cfg)
    parsed: dict[str, list[Any]] = {}
    for path, values in vary.items():
        check_path(cfg, path, known)
        if not values:
            raise ConfigError(f"{path}: no value (an empty sweep)")
        vals = [parse_value(cfg, path, v) for v in values]
        if len({json.dumps(v) for v in vals}) != len(vals):
            raise ConfigError(f"{path}: a value is given twice ({values})")
        parsed[path] = vals
    n = int(np.prod([len(v) for v in parsed.values()])) if parsed else 0
    if n + len(named) > MAX_SCENARIOS:
        raise ConfigError(f"{n + len(named)} scenarios: more than {MAX_SCENARIOS}")
    out: list[tuple[str, dict[str, Any]]] = []
    width = len(str(n))
    for i, combo in enumerate(itertools.product(*parsed.values())):
        out.append((f"s{i + 1:0{width}d}", dict(zip(parsed, combo, strict=True))))
    paths = list(parsed)
    seen = {name for name, _ in out}
    for name, values in named:
        if name in seen:
            raise ConfigError(f"scenario name {name!r} given twice")
        seen.add(name)
        vals = {}
        for path, v in values.items():
            check_path(cfg, path, known)
            vals[path] = parse_value(cfg, path, v)
            if path not in paths:
                paths.append(path)
        out.append((name, vals))
    for _name, vals in out:  # every scenario must be a valid study
        with_values(cfg, vals)
    return Sweep(paths, out)


def sweep_from_config(cfg: StudyConfig) -> Sweep:
    """The sweep of the study file's ``[scenarios]`` table."""
    return build_sweep(cfg, vary=cfg.scenarios.vary,
                       named=[(n.name, n.values) for n in cfg.scenarios.named])


@dataclass
class SweepResult:
    """A sweep's seats and what it cost.

    ``routing_passes`` counts the zonings routed (market-town zones and competing-pole
    zones); ``demand_runs`` the demand stage runs; ``inputs_loads`` the demand-input loads.
    """

    config: StudyConfig
    sweep: Sweep
    table: pd.DataFrame
    sensitivity: pd.DataFrame
    territory_name: str
    timings: dict[str, float] = field(default_factory=dict)
    routing_passes: int = 0
    demand_runs: int = 0
    inputs_loads: int = 0
    #: Each scenario's horizon year (``demand.horizon_year`` may be swept).
    horizons: dict[str, int] = field(default_factory=dict)
    #: Folder of the render cache (:class:`~territorial_geo.outputs.rendercache.RenderCache`;
    #: None: every chart drawn).
    render_cache: Path | None = None

    def at_horizon(self) -> pd.DataFrame:
        """The table's rows at each scenario's own horizon year."""
        t = self.table
        y = t["scenario"].map(self.horizons).fillna(self.config.demand.horizon_year)
        return t[t["year"] == y]

    def horizon_label(self) -> str:
        """The horizon year, or a phrase when the sweep varies it."""
        ys = set(self.horizons.values()) or {self.config.demand.horizon_year}
        return str(ys.pop()) if len(ys) == 1 else "at each scenario's horizon year"


def _zoning_key(c: StudyConfig) -> tuple:
    z = c.zoning
    return (tuple(z.market_towns), float(z.budget_min), tuple(z.bands or ()), z.direction)


def run_sweep(
    cfg: StudyConfig, sweep: Sweep, *, data_dir: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    inputs: pipeline.StudyInputs | None = None,
) -> SweepResult:
    """Run every scenario of ``sweep`` (in memory) through the study's stages
    (:mod:`territorial_geo.pipeline`), sharing what does not change.

    Parameters
    ----------
    inputs
        The study's inputs (:func:`pipeline.load_inputs`), read here when not given.

    Returns
    -------
    SweepResult
        ``table``: tidy seats per scenario (columns in the module docstring);
        ``sensitivity``: the study's one-at-a-time sensitivity.
    """
    say = progress or (lambda _m: None)
    lap = study.Laps()
    configs = [(name, vals, with_values(cfg, vals)) for name, vals in sweep.scenarios]
    data = sources.Datasets(data_dir)  # each dataset read once for the whole sweep
    if inputs is None:
        inputs = pipeline.load_inputs(cfg, data, progress=say, laps=lap)
    terr = inputs.territory
    lap("inputs")
    zonings: dict[tuple, pipeline.ZoneResult] = {}
    supplies: dict[tuple, pipeline.SupplyResult] = {}
    passes = 0
    for c in [cfg] + [c for _, _, c in configs]:
        key = _zoning_key(c)
        if key in zonings:
            continue
        z = c.zoning
        towns = pipeline.resolve_towns(z, terr, inputs.density, data=data)
        say(f"zones: {len(towns)} towns, {z.budget_min:g} min, direction {z.direction}")
        zr = pipeline.zones_stage(inputs, zoning_cfg=z, towns=towns, polygons=False)
        passes += 1 + len(zr.without_pole)
        zonings[key] = zr
        supplies[key] = pipeline.supply_stage(inputs, zr)
    lap("zones")
    codes = set(terr.codes)
    for zr in zonings.values():
        codes |= set(zr.demand_codes)
    codes_l = sorted(codes)
    def inputs_key(d) -> tuple:
        return (d.csp_year, d.solos.sirene_file, tuple(d.solos.naf_codes), tuple(d.solos.bands))

    # the study's own demand inputs were read with the other inputs (SIRENE counted over
    # the territory and its ring, where every zone member lies)
    loaded: dict[tuple, dict] = {inputs_key(cfg.demand): inputs.demand_inputs}
    demands: dict[str, demand.CommuneDemand] = {}
    rows = []
    sens = None
    for name, vals, c in [("", {}, cfg), *configs]:
        d = c.demand
        ikey = inputs_key(d)
        if ikey not in loaded:
            say(f"demand inputs (census, CSP {d.csp_year})")
            loaded[ikey] = pipeline.load_demand_inputs(d, terr.all_codes, data=data)
        dkey = json.dumps(asdict(d), sort_keys=True, default=str)
        if dkey not in demands:
            demands[dkey] = pipeline.demand_stage(inputs, demand_cfg=d, codes=codes_l,
                                                  demand_inputs=loaded[ikey])
        dem = demands[dkey]
        key = _zoning_key(c)
        if not name:  # the study itself: the sensitivity
            sens = pipeline.seats_stage(inputs, zonings[key], dem, supplies[key],
                                        uncertainty_draws=False, sensitivity=True,
                                        rules=False).sensitivity
            continue
        zt = pipeline.seats_stage(inputs, zonings[key], dem, supplies[key], cfg=c,
                                  uncertainty_draws=False, rules=False).zone_seats
        zt.insert(0, "scenario", name)
        for i, path in enumerate(sweep.paths):
            v = vals.get(path, _current(cfg, path))
            zt.insert(1 + i, path, "+".join(v) if isinstance(v, list) else v)
        rows.append(zt.drop(columns="share_of_zone"))
    lap("demand")
    table = pd.concat(rows, ignore_index=True)
    return SweepResult(cfg, sweep, table, sens, terr.name, lap.timings, passes, len(demands),
                       len(loaded), {n: c.demand.horizon_year for n, _, c in configs},
                       inputs.render_cache)


def _cell(v: Any) -> str:
    """A varied value as written in scenarios.csv (towns joined with '+', numbers %g)."""
    if isinstance(v, list):
        return "+".join(map(str, v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def _current(cfg: StudyConfig, path: str) -> Any:
    from territorial_geo.config import get_path

    return get_path(cfg, path)


# ---------------------------------------------------------------------------- outputs


def _horizon(res: SweepResult, zone: str) -> pd.DataFrame:
    t = res.at_horizon()
    variant = demand.UNION if zone == demand.ALL_ZONES else demand.ZONE
    return t[(t["zone"] == zone) & (t["variant"] == variant) & (t["segment"] == demand.TOTAL)]


def comparison_chart(res: SweepResult, zone: str, path: str | Path, *,
                     cache: RenderCache | None = None) -> Path:
    """Seats at the horizon year per scenario for one zone (``all``: the union), PNG
    written atomically: a line per combination of the other varied parameters against the
    first one, or a bar per scenario when the sweep has named scenarios. With a ``cache``,
    the chart drawn earlier from the same rows and labels is reused."""
    lang = res.config.output.lang
    sub = _horizon(res, zone)
    args = (sub, zone, list(res.sweep.paths), res.horizon_label(), res.config.name, lang)
    png = (cache.get("sweep_chart", args, lambda: _comparison_png(*args)) if cache is not None
           else _comparison_png(*args))
    return sources.atomic_write(Path(path), lambda tmp: tmp.write_bytes(png))


@default_style
def _comparison_png(sub: pd.DataFrame, zone: str, paths: list[str], horizon: str, name: str,
                    lang: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _ = messages(lang)
    zname = _("sweep_union") if zone == "all" else f"{sub['zone_name'].iloc[0]} ({zone})"
    fig, ax = plt.subplots(figsize=(8, 4.5))
    product = paths and all(n.startswith("s") and n[1:].isdigit() for n in sub["scenario"])
    if product:
        first, others = paths[0], paths[1:]
        xs = list(dict.fromkeys(sub[first].astype(str)))
        groups = sub.groupby(others, sort=False) if others else [((), sub)]
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{p.split('.')[-1]}={k}" for p, k in zip(others, key,
                                                                         strict=True))
            pos = [xs.index(v) for v in g[first].astype(str)]
            ax.plot(pos, g["seats"], marker="o", label=label or _("sweep_seats"))
        ax.set_xticks(range(len(xs)), xs)
        ax.set_xlabel(first)
        if others:
            ax.legend(fontsize=7, ncol=2)
    else:
        ax.bar(range(len(sub)), sub["seats"], color="#1b9e77")
        ax.set_xticks(range(len(sub)), sub["scenario"], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(_("sweep_ylabel", year=horizon))
    ax.set_title(f"{name}: {zname}", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def write_sweep(res: SweepResult, out_dir: str | os.PathLike) -> Path:
    """Write the sweep's folder atomically (built beside it, then renamed into place)."""
    return sources.atomic_dir(out_dir, lambda tmp: _write_all(res, tmp))


def _write_all(res: SweepResult, d: Path) -> None:
    res.table.assign(**{p: res.table[p].map(_cell) for p in res.sweep.paths}).to_csv(
        d / "scenarios.csv", index=False, float_format="%.4f")
    res.sensitivity.to_csv(d / "sensitivity.csv", index=False, float_format="%.4f")
    zones = [z for z in dict.fromkeys(res.table.loc[res.table["variant"] == demand.ZONE, "zone"])]
    cache = RenderCache(res.render_cache)
    charts = [comparison_chart(res, z, d / f"chart_{z}.png", cache=cache)
              for z in [*zones, demand.ALL_ZONES]]
    y = res.config.demand.horizon_year
    lang = res.config.output.lang
    _ = messages(lang)
    tornados = []
    for z in [*dict.fromkeys(res.sensitivity.loc[res.sensitivity["variant"] == demand.ZONE,
                                                  "zone"]),
              demand.ALL_ZONES]:
        variant = demand.UNION if z == demand.ALL_ZONES else demand.ZONE
        s = res.sensitivity[(res.sensitivity["zone"] == z)]
        title = (_("tornado_union", name=res.config.name) if z == demand.ALL_ZONES else
                 _("tornado_zone", name=res.config.name, zone=s["zone_name"].iloc[0], code=z))
        tornados.append(uncertainty.tornado_chart(
            res.sensitivity, d / f"tornado_{z}.png", zone=z, variant=variant, year=y,
            title=title, lang=lang, cache=cache))
    meta = {"study": res.config.name, "study_file": res.config.source_file,
            "varied": res.sweep.paths,
            "scenarios": [{"scenario": n, **v} for n, v in res.sweep.scenarios],
            "routing_passes": res.routing_passes, "demand_runs": res.demand_runs,
            "demand_input_loads": res.inputs_loads, "timings_s": res.timings}
    (d / "scenarios.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False,
                                                 default=str), encoding="utf-8")
    t = res.at_horizon()
    main = t[(t["variant"].isin([demand.ZONE, demand.UNION])) & (t["segment"] == demand.TOTAL)]
    main = main.assign(zone_name=main["zone_name"].replace({demand.ALL_ZONES: _("all_zones")}))
    pivot = main.pivot_table(index=["scenario", *res.sweep.paths], columns="zone_name",
                             values="seats", aggfunc="sum", sort=False)
    report.write_scenarios_report(
        d / "report.html", title=_("sweep_title", name=res.config.name),
        sweep=pivot, sensitivity=_sens_summary(res.sensitivity, y), charts=charts,
        tornados=tornados, year=res.horizon_label(), sensitivity_year=y, lang=lang,
        notes=[_("sweep_note", n=len(res.sweep.scenarios), paths=", ".join(res.sweep.paths),
                 routing=res.routing_passes, demand=res.demand_runs,
                 loads=res.inputs_loads)])


def _sens_summary(sens: pd.DataFrame, year: int) -> pd.DataFrame:
    """The union's sensitivity at a year (total seats), largest swing first."""
    s = sens[(sens["zone"] == demand.ALL_ZONES) & (sens["variant"] == demand.UNION)
             & (sens["segment"] == demand.TOTAL) & (sens["year"] == year)]
    return s[["parameter", "low", "central", "high", "seats_low", "seats_central",
              "seats_high", "swing", "source"]].set_index("parameter")


__all__ = ["Sweep", "SweepResult", "build_sweep", "comparison_chart", "parse_named",
           "parse_vary", "run_sweep", "sweep_from_config", "write_sweep", "ZONING_PATHS"]
