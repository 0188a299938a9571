"""Command line: ``territorial-geo data|territory|zones|study|scenarios|batch|coverage|
site-selection``.

Exit codes: 0 success, 2 bad input or missing data (a one-line message, no traceback),
1 unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from territorial_geo import __version__
from territorial_geo.errors import TerritorialGeoError
from territorial_geo.method import (
    BANDS_MIN,
    BUDGET_MIN,
    CANDIDATES,
    DIRECTIONS,
    ENGINES,
    LANGS,
    MARGIN_KM,
    RING_KM,
    SITES,
    WEIGHTS,
)


class _StderrHandler(logging.StreamHandler):
    """Library warnings on the current ``sys.stderr`` (looked up at each record)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("warning: %(message)s"))
        self.setLevel(logging.WARNING)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _progress(quiet: bool) -> Callable[[str], None] | None:
    """The progress callback handed to the library: timed lines on stderr, none with --quiet."""
    if quiet:
        return None
    start = time.perf_counter()

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    return say


def _cmd_data(args) -> int:
    from territorial_geo import sources

    if args.data_cmd == "fetch":
        res = sources.fetch(args.dataset or None, data_dir=args.data_dir, mirror=args.mirror,
                            download=not args.no_download, progress=_progress(args.quiet))
        if not args.quiet:
            for r in res:
                print(f"{r.name:22s} {r.action:10s} {r.path}")
    elif args.data_cmd == "status":
        st = sources.status(args.data_dir)
        if args.json:
            print(st.to_json(orient="records", force_ascii=False))
        else:
            print(st.drop(columns="path").to_string(index=False))
        return 0 if st.loc[st["dataset"].isin(sources.REQUIRED), "present"].all() else 1
    elif args.data_cmd == "manifest":
        text = json.dumps(sources.manifest(), indent=2, ensure_ascii=False) + "\n"
        if args.write:
            sources.atomic_write(Path(args.write), lambda tmp: tmp.write_text(text, encoding="utf-8"))
        else:
            print(text, end="")
    return 0


def _territory(args, data=None):
    from territorial_geo.territory import load_territory

    return load_territory(args.territory, ring_km=args.ring_km, data_dir=args.data_dir,
                          data=data)


def _cmd_territory(args) -> int:
    t = _territory(args)
    s = t.summary()
    if args.json:
        print(json.dumps(s, ensure_ascii=False))
        return 0
    print(f"{s['name']}  (SIREN {s['siren']})" if s["siren"] else s["name"])
    print(f"  communes:        {s['n_communes']}")
    print(f"  population:      {s['population']:,} (COG 2026 legal population)".replace(",", " "))
    print(f"  area:            {s['area_km2']} km²")
    print(f"  departments:     {', '.join(s['departments'])}")
    print(f"  ring:            {s['n_ring_communes']} neighbouring communes within {s['ring_km']} km")
    print("  data vintages:   " + ", ".join(f"{k} {v}" for k, v in s["vintages"].items()))
    return 0


def _network(args, terr, data=None):
    from territorial_geo import network, pipeline, sources

    # engine = osrm on a network OSRM cannot read: refused before any file is read
    network.check_engine_network(getattr(args, "engine", None) or "builtin",
                                 args.network or "approximate")
    return pipeline.road_network(args.network or "approximate", terr, margin_km=args.margin_km,
                                 profile=getattr(args, "profile", None),
                                 data=data or sources.Datasets(args.data_dir))


def _engine(args, net):
    """The routing engine named by ``--engine`` (or the study file) over ``net``."""
    from territorial_geo import network

    return network.make_engine(getattr(args, "engine", None) or "builtin", net,
                               osrm_profile=getattr(args, "osrm_profile", None) or None)


def _cmd_network(args) -> int:
    from territorial_geo import network, sources

    if args.network_cmd == "info":
        spec = network.parse_network_spec(args.source)
        if args.territory:
            net = _network(argparse.Namespace(network=args.source, margin_km=args.margin_km,
                                              data_dir=args.data_dir), _territory(args))
        elif spec.format == "approximate":
            raise TerritorialGeoError("network info approximate needs --territory")
        else:
            net = network.load_network(spec, data_dir=args.data_dir)
        info = net.info()
        if args.json:
            print(json.dumps(info, ensure_ascii=False, default=str))
        else:
            for k, v in info.items():
                print(f"{k:22s} {v}")
        return 0
    from territorial_geo.network.approximate import area_frames
    from territorial_geo.network.calibrate import calibrate

    if args.reference:
        return _calibrate_reference(args)
    if not args.detailed or not args.area:
        raise TerritorialGeoError("network calibrate needs --detailed and --area (fit to a "
                                  "detailed network) or --reference CSV (fit to a router's times)")
    t = _territory(argparse.Namespace(territory=args.area, ring_km=args.ring_km,
                                      data_dir=args.data_dir))

    def read(spec: str):
        return _network(argparse.Namespace(network=spec, margin_km=args.margin_km,
                                           data_dir=args.data_dir), t)

    detailed = read(args.detailed)
    if detailed.kind != "detailed":
        print(f"note: {args.detailed!r} is not a detailed network ({detailed.kind}); the fit "
              "only measures agreement with it", file=sys.stderr)
    sk_spec = "roads-hdf" if args.skeleton is None else args.skeleton
    skeleton = read(sk_spec) if sk_spec else None
    data = sources.Datasets(args.data_dir)
    com, cl, dens = area_frames(t.outline, communes=data.communes(),
                                chefs_lieux=data.chefs_lieux(), density=data.density_grid(),
                                margin_m=args.margin_km * 1000)
    res = calibrate(detailed, com, cl, dens, skeleton=skeleton, budget_min=args.zone_minutes)
    print(json.dumps(res.to_dict(), ensure_ascii=False, default=str) if args.json
          else res.summary())
    return 0

def _calibrate_reference(args) -> int:
    """``network calibrate --reference``: fit the approximate network to a router's times."""
    from territorial_geo import sources
    from territorial_geo.network.approximate import ApproxParams
    from territorial_geo.network.calibrate import calibrate_reference, reference_inputs

    ri = reference_inputs(args.reference, points_path=args.points, data_dir=args.data_dir,
                          margin_m=args.margin_km * 1000,
                          skeleton="roads-france" if args.skeleton is None else args.skeleton)
    res = calibrate_reference(ri.table, ri.points, ri.communes, ri.chefs_lieux, ri.density,
                              skeleton=ri.skeleton, params0=ApproxParams(),
                              square_km=args.square_km, max_evals=args.max_evals)
    if args.out:
        body = json.dumps(res.to_dict(), ensure_ascii=False, indent=1, default=str)
        sources.atomic_write(Path(args.out), lambda tmp: Path(tmp).write_text(body, encoding="utf-8"))
    print(json.dumps(res.to_dict(), ensure_ascii=False, default=str) if args.json
          else res.summary())
    return 0


def _cmd_zones(args) -> int:
    from territorial_geo import zoning

    t = _territory(args)
    net = _network(args, t)
    z = zoning.build_zones(t, args.towns, network=net, budget_min=args.zone_minutes,
                           bands=args.bands or list(BANDS_MIN), direction=args.direction,
                           engine=_engine(args, net))
    if args.out:
        z.to_gpkg(args.out)
    ov = z.overlap(territory_only=False)  # every member commune, as the study counts
    if args.json:
        print(json.dumps({"engine": z.engine, "membership": z.membership(territory_only=False),
                          "overlap": ov.to_dict(), "union": z.union(territory_only=False),
                          "uncovered": z.uncovered()}))
    else:
        print(ov.to_string())
        print(f"union: {len(z.union(territory_only=False))} communes (inside or outside "
              f"the territory); territory communes in no zone: {len(z.uncovered())}")
        print(f"times computed by the {z.engine['engine']} engine")
    return 0


def _study_file(args):
    """``args.study`` loaded (:func:`~territorial_geo.config.load_config`), its output
    language replaced by ``--lang`` when given."""
    from territorial_geo.config import load_config

    cfg, keys = load_config(args.study)
    if args.lang is not None:
        cfg.output.lang = args.lang
    return cfg, keys


def _cmd_study(args) -> int:
    from territorial_geo import i18n, report, study
    from territorial_geo.demand import TOTAL, UNION

    cfg, keys = _study_file(args)
    if args.engine is not None:
        cfg.zoning.engine = args.engine
        keys = keys | {"zoning.engine"}
    if args.osrm_profile is not None:
        cfg.zoning.osrm_profile = args.osrm_profile
        keys = keys | {"zoning.osrm_profile"}
    cfg.validate()
    _ = i18n.messages(cfg.output.lang)
    say = _progress(args.quiet)
    res = study.run_study(cfg, overridden=keys, data_dir=args.data_dir, progress=say)
    out = args.out or str(Path("maps") / Path(args.study).stem)
    path = study.write_outputs(res, out, progress=say)
    pdf = report.write_pdf(path / "report.html", path / "report.pdf") if args.pdf else None
    if not args.quiet:
        zs = res.zone_seats
        tot = zs[(zs["variant"] == UNION) & (zs["segment"] == TOTAL)]
        print(_("cli_head", name=cfg.name, n=len(res.territory.codes),
                z=len(res.zones.zone_codes)))
        for r in tot.itertuples():
            print(_("cli_seats", year=r.year, seats=i18n.number(r.seats, cfg.output.lang)))
        print(_("cli_outputs", path=path))
        if pdf is not None:
            print(_("cli_pdf", path=pdf))
    return 0


def _cmd_batch(args) -> int:
    from territorial_geo import batch, sources
    from territorial_geo.config import load_config

    if args.workers is not None and args.scheduler:
        raise TerritorialGeoError("give --workers or --scheduler, not both")
    cfg, _keys = load_config(args.study)
    if cfg.zoning.engine != "builtin":
        raise TerritorialGeoError(
            f"{args.study}: batch runs use the built-in engine (zoning.engine = "
            f"{cfg.zoning.engine!r} is for single studies); remove zoning.engine from the "
            "template")
    epcis = batch.select_epcis(args.epcis, epci=sources.load_epci(args.data_dir),
                               commune_list=sources.load_commune_list(args.data_dir))
    say = _progress(args.quiet)
    if say:
        say(f"{len(epcis)} EPCIs in {epcis['partition'].nunique()} partition(s) (départements)")
    client = None
    if args.workers != 0:
        client = batch.make_client(workers=args.workers, scheduler=args.scheduler)
    try:
        res = batch.run_batch(cfg, epcis, args.out, client=client, data_dir=args.data_dir,
                              progress=say, epcis_per_task=args.epcis_per_task)
        cov = None
        if args.national_coverage:
            if say:
                say("national coverage")
            cov = batch.national_coverage(cfg, sorted(epcis["partition"].unique()),
                                          client=client, data_dir=args.data_dir, progress=say)
            batch.write_coverage(cov, args.out)
    finally:
        if client is not None:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()
    t = res.table
    n_err = int((t["status"] == "error").sum())
    if not args.quiet:
        print(f"{len(t)} EPCIs: {len(t) - n_err} ok, {n_err} error(s); "
              f"{len(res.computed)} task(s) computed, {len(res.skipped)} resumed; "
              f"{res.seconds:.1f} s")
        if cov is not None:
            print(f"national coverage: {len(cov.communes)} communes")
        print(f"outputs in {res.out}/ (epcis.csv, ranking.csv, errors.csv, map.html, ...)")
    return 0


def _cmd_scenarios(args) -> int:
    from territorial_geo import scenarios
    from territorial_geo.demand import TOTAL, UNION

    cfg, _keys = _study_file(args)
    if args.vary or args.named:
        vary: dict[str, list[str]] = {}
        for text in args.vary or []:
            path, values = scenarios.parse_vary(text)
            if path in vary:
                raise TerritorialGeoError(f"--vary {path} given twice")
            vary[path] = values
        sweep = scenarios.build_sweep(
            cfg, vary=vary, named=[scenarios.parse_named(t) for t in args.named or []])
    else:
        sweep = scenarios.sweep_from_config(cfg)
    say = _progress(args.quiet)
    if say:
        say(f"{len(sweep.scenarios)} scenarios")
    res = scenarios.run_sweep(cfg, sweep, data_dir=args.data_dir, progress=say)
    out = args.out or str(Path("maps") / f"{Path(args.study).stem}-scenarios")
    path = scenarios.write_sweep(res, out)
    if not args.quiet:
        from territorial_geo import i18n

        lang = cfg.output.lang
        _ = i18n.messages(lang)
        t = res.at_horizon()
        u = t[(t["variant"] == UNION) & (t["segment"] == TOTAL)]
        print(_("cli_sweep", name=cfg.name, n=len(sweep.scenarios),
                routing=res.routing_passes, demand=res.demand_runs))
        print(_("cli_sweep_union", year=res.horizon_label(),
                lo=i18n.number(u["seats"].min(), lang), hi=i18n.number(u["seats"].max(), lang)))
        print(_("cli_sweep_outputs", path=path))
    return 0


#: Command-line option (dest) -> the study-file key it overrides, for coverage and
#: site-selection. An option left unset keeps the study file's value (or the default).
_STUDY_OPTIONS = {
    "territory": "territory", "ring_km": "ring_km", "network": "zoning.network",
    "margin_km": "zoning.margin_km", "sites": "coverage.sites", "planned": "supply.planned",
    "minutes": "coverage.minutes", "k": "coverage.k", "within_minutes": "coverage.budget_min",
    "candidates": "coverage.candidates", "weight": "coverage.weight",
    "engine": "zoning.engine", "osrm_profile": "zoning.osrm_profile",
}
_CANDIDATE_KEYWORDS = tuple(c for c in CANDIDATES if c != "list")


def _study_config(args):
    """The study configuration for ``coverage`` / ``site-selection``: the ``--study`` file
    (or the method's defaults, ``docs/method.md``), then every option given on the command
    line.

    Returns
    -------
    (StudyConfig, set of str, set of str)
        The validated configuration, the keys set by the study file and those set by
        command-line options.
    """
    from territorial_geo.config import config_from_dict, load_config

    if args.study:
        cfg, file_keys = load_config(args.study)
    else:
        if args.territory is None:
            raise TerritorialGeoError(
                f"{args.cmd}: give a TERRITORY (EPCI SIREN or name, dep:02, ...) or a study "
                "file with --study FILE.toml")
        cfg, file_keys = config_from_dict({})
    cli_keys = set()
    for dest, key in _STUDY_OPTIONS.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        obj, _, attr = key.rpartition(".")
        target = getattr(cfg, obj) if obj else cfg
        if dest == "candidates":
            if value in _CANDIDATE_KEYWORDS:
                cfg.coverage.candidates = value
            else:
                cfg.coverage.candidates = "list"
                cfg.coverage.candidate_list = list(value.split(","))
                cli_keys.add("coverage.candidate_list")
        else:
            setattr(target, attr, list(value) if isinstance(value, list) else value)
        cli_keys.add(key)
    cfg.validate()
    return cfg, file_keys, cli_keys


def _demand_parameters(cfg, file_keys: set[str], cli_keys: set[str]) -> dict[str, dict]:
    """Every demand parameter with its value and where it came from: ``default`` (the
    method's default, with its source), ``study file``."""
    from territorial_geo.config import flatten

    prov = cfg.provenance(file_keys)
    out = {}
    for key, value in flatten(cfg.demand, "demand", tables=False).items():
        origin = "study file" if key in file_keys else "default"
        src = prov.get(key, "")
        if not src and origin == "default":
            src = "method default (docs/method.md)"
        out[key] = {"value": value, "from": origin, "source": src}
    return out


def _short(value) -> str:
    if isinstance(value, list) and len(value) > 4:
        return f"[{len(value)} values]"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _load_inputs(args):
    """The study's inputs (:func:`pipeline.load_inputs`, each dataset read once), the
    demand stage over the territory, and the summary of the configuration used."""
    from territorial_geo import pipeline, sources

    cfg, file_keys, cli_keys = _study_config(args)
    inputs = pipeline.load_inputs(cfg, sources.Datasets(args.data_dir))
    dem = pipeline.demand_stage(inputs)
    params = _demand_parameters(cfg, file_keys, cli_keys)
    info = {
        "study_file": cfg.source_file or None,
        "options_from_command_line": sorted(cli_keys),
        "demand_parameters": params,
        "demand_defaults": [k for k, v in params.items() if v["from"] == "default"],
        "demand_inputs": dem.sources,
        "notes": list(dem.notes),
        "engine": inputs.engine.info(),
    }
    return inputs, dem, info


def _print_demand_info(info: dict) -> None:
    params = info["demand_parameters"]
    if info["study_file"] is None:
        print("demand parameters: all method defaults, docs/method.md (no --study file given):")
    else:
        n = len(info["demand_defaults"])
        print(f"demand parameters from {info['study_file']}; {n} left at their default:")
    for key, p in params.items():
        src = f"  ({p['source']})" if p["source"] and p["from"] == "default" else ""
        print(f"  {p['from']:10s} {key} = {_short(p['value'])}{src}")
    for k, v in info["demand_inputs"].items():
        print(f"  input {k}: {v}")
    if "engine" in info:
        print(f"times computed by the {info['engine']['engine']} engine")
    for n in info["notes"]:
        print(f"note: {n}")


def _shares_json(shares, measures) -> dict:
    out = {}
    for m in measures:
        out[f"share_{m}_within"] = {f"{n:g}": float(v) for n, v in
                                   zip(shares["minutes"], shares[f"share_{m}"], strict=True)}
        out[f"covered_{m}_within"] = {f"{n:g}": float(v) for n, v in
                                     zip(shares["minutes"], shares[f"covered_{m}"], strict=True)}
        out[f"total_{m}"] = float(shares[f"total_{m}"].iloc[0])
    return out


def _cmd_coverage(args) -> int:
    from territorial_geo import coverage, pipeline

    inputs, dem, info = _load_inputs(args)
    t, cfg = inputs.territory, inputs.config
    minutes = cfg.coverage.minutes
    cov = pipeline.coverage_stage(inputs, dem, levels=False)
    measures = list(pipeline.COVERAGE_MEASURES)
    shares = cov.shares()
    unc = coverage.uncovered(cov.times(), cov.weights, max(minutes), t.communes["nom"])
    n_sites = len(cov.sites)
    if args.json:
        print(json.dumps({
            "territory": t.name, "n_communes": len(t.codes), "n_sites": n_sites,
            "sites": cfg.coverage.sites, "minutes": minutes,
            **_shares_json(shares, measures),
            "uncovered": unc.index[:50].tolist(),
            **info,
        }, ensure_ascii=False, default=str))
    else:
        print(f"{t.name}: {n_sites} third place(s) ({cfg.coverage.sites}) in the territory "
              "and its ring")
        print(shares[["minutes", "share_population", "share_teleworkers", "share_solos"]].to_string(index=False))
        if len(unc):
            print(f"{len(unc)} commune(s) beyond {max(minutes):g} min; largest:")
            print(unc.head(10)[["nom", "population", "time_min"]].to_string())
        else:
            print(f"every commune is within {max(minutes):g} min of a third place")
        _print_demand_info(info)
    return 0


def _cmd_select(args) -> int:
    from territorial_geo import pipeline

    inputs, dem, info = _load_inputs(args)
    cc = inputs.config.coverage
    if not inputs.candidates:
        raise TerritorialGeoError("site selection: no candidate commune (try --candidates all)")
    cov = pipeline.coverage_stage(inputs, dem, levels=False)
    sel = pipeline.selection_stage(inputs, cov, target_share=args.target_share,
                                   time_limit_s=args.time_limit)
    info["notes"] = sel.notes + info["notes"]
    print(_selection_text(sel, info, as_json=args.json,
                          extra={"time_limit_s": args.time_limit, "weight": cc.weight,
                                 "within_minutes": cc.budget_min}))
    if not args.json:
        _print_demand_info(info)
    return 0


def _selection_text(sel, info: dict, *, as_json: bool, extra: dict | None = None) -> str:
    """The site-selection output: JSON, or text with the solver status and gap first."""
    import math

    if as_json:
        curve = sel.curve.astype(object).where(sel.curve.notna(), None)
        return json.dumps({"chosen": sel.chosen, "method": sel.method, "status": sel.status,
                           "gap": sel.gap if math.isfinite(sel.gap) else None,
                           "bound": sel.bound if math.isfinite(sel.bound) else None,
                           **(extra or {}), "curve": curve.to_dict(orient="records"), **info},
                          default=str, ensure_ascii=False)
    what = "the LP-relaxation bound" if sel.status != "optimal" else "the optimum (proved)"
    gap = f"{sel.gap:.2%}" if math.isfinite(sel.gap) else "unknown (no LP bound)"
    lines = [f"method: {sel.method}, solver status: {sel.status}, gap to {what}: {gap}",
             sel.curve.to_string(index=False)]
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``error: <what> (see <prog> --help)``."""

    #: hints for options that changed name or syntax
    HINTS = {
        "--budget": "--budget was renamed: --zone-minutes (zones) and --within-minutes "
                    "(site-selection)",
    }

    def error(self, message: str):  # noqa: D102  (argparse API)
        hint = ""
        if message.startswith("unrecognized arguments: "):
            extras = message.split(": ", 1)[1].split()
            hint = next((h for k, h in self.HINTS.items() if k in extras), "")
            if not hint and not any(e.startswith("-") for e in extras):
                hint = ("list options take one comma-separated value, or repeat the option: "
                        "--towns 62045,62063 or --towns 62045 --towns 62063")
        line = f"error: {self.prog}: {message}"
        line += f"; {hint}" if hint else ""
        self.exit(2, f"{line} (see {self.prog} --help)\n")


def _number(kind: type, *, low: float, strict: bool, what: str):
    """An argparse type: a number of ``kind`` above ``low`` (or at least ``low``)."""

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} expected, got {text!r}") from None
        if v < low or (strict and v == low) or v != v:
            raise argparse.ArgumentTypeError(
                f"must be {'>' if strict else '>='} {low:g}, got {text!r}")
        return v

    parse.__name__ = what
    return parse


def _share(text: str) -> float:
    v = _number(float, low=0, strict=True, what="a share")(text)
    if v > 1:
        raise argparse.ArgumentTypeError(f"must be a share in (0, 1], got {text!r}")
    return v


def _comma_list(item=str, what: str = "value"):
    """An argparse type for ``action="extend"``: ``A,B,C`` -> [A, B, C], empty items refused."""

    def parse(text: str) -> list:
        parts = [p.strip() for p in text.split(",")]
        if not all(parts):
            raise argparse.ArgumentTypeError(f"empty {what} in {text!r} (use A,B,C)")
        return [item(p) for p in parts]

    parse.__name__ = f"comma-separated {what}s"
    return parse


_positive = _number(float, low=0, strict=True, what="a positive number")
_nonneg = _number(float, low=0, strict=False, what="a number >= 0")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests).

    List-valued options take exactly one argument each (comma-separated, and the option may
    be repeated), so an option never swallows the positional territory.
    """
    top = _Parser(add_help=False)
    top.add_argument("--data-dir", default=None,
                     help="data directory (default: $TERRITORIAL_GEO_DATA, else data/)")
    top.add_argument("--quiet", action="store_true", help="no progress output")
    # the same options after a sub-command, without overriding the ones given before it
    common = _Parser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="data directory (default: $TERRITORIAL_GEO_DATA, else data/)")
    common.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress output")
    p = _Parser(prog="territorial-geo", parents=[top], allow_abbrev=False,
                description="Drive-time zones, coworking demand and third-place "
                "coverage for French territories.")
    p.add_argument("--version", action="version", version=f"territorial-geo {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND",
                           help="data, network, territory, zones, study, scenarios, batch, "
                           "coverage or "
                           "site-selection")

    def command(parent, name, helptext):
        return parent.add_parser(name, parents=[common], help=helptext, description=helptext,
                                 allow_abbrev=False)

    d = command(sub, "data", "fetch and inspect datasets")
    dsub = d.add_subparsers(dest="data_cmd", required=True, metavar="ACTION",
                            help="fetch, status or manifest")
    f = command(dsub, "fetch", "copy datasets from a mirror or download them")
    f.add_argument("--mirror", default=None, help="mirror folder (default ../shared/data)")
    f.add_argument("--dataset", action="append",
                   help="dataset name (repeatable; default: every required dataset)")
    f.add_argument("--no-download", action="store_true",
                   help="copy from the mirror only, never download")
    s = command(dsub, "status", "what is present in the data directory")
    s.add_argument("--json", action="store_true", help="print JSON")
    mf = command(dsub, "manifest", "print or write the dataset catalog")
    mf.add_argument("--write", default=None,
                    help="write the catalog to this path (e.g. data/manifest.json)")

    territory_help = "EPCI SIREN or name, dep:02, deps:59,62 or communes:62041,62045"

    def ring_arg(sp, default):
        sp.add_argument("--ring-km", type=_nonneg, default=default,
                        help="neighbouring communes within this distance are kept as the ring "
                        "(sites and routes beyond the border)"
                        + (f" (default {default:g})" if default is not None else
                           f" (default: study file, else {RING_KM:g})"))

    def zone_minutes_arg(sp):
        sp.add_argument("--zone-minutes", type=_positive, default=BUDGET_MIN,
                        help="zone budget: a commune belongs to a town's zone when it is "
                        f"within this many minutes of it (default {BUDGET_MIN:g})")

    def net_args(sp, study: bool):
        dflt = " (default: study file, else %s)" if study else " (default %s)"
        sp.add_argument("--network", default=None,
                        help="road network: approximate, osm:REGION, bdtopo:PATH, roads-hdf, "
                        "roads-france or a .osm.pbf / .gpkg / .shp path"
                        + dflt % "approximate")
        margin_arg(sp, study)
        engine_args(sp, study)

    def margin_arg(sp, study: bool = False):
        dflt = " (default: study file, else %s)" if study else " (default %s)"
        sp.add_argument("--margin-km", type=_nonneg, default=None if study else MARGIN_KM,
                        help="road network read this far around the territory"
                        + dflt % f"{MARGIN_KM:g}")

    def engine_args(sp, study: bool):
        dflt = " (default: study file, else %s)" if study else " (default %s)"
        sp.add_argument("--engine", choices=ENGINES, default=None,
                        help="who computes the drive times: builtin (this project's router) "
                        "or osrm (OSRM's own times through osrm-bindings, OpenStreetMap "
                        "networks only: pip install 'territorial-geo[osrm]')"
                        + dflt % "builtin")
        sp.add_argument("--osrm-profile", default=None, metavar="FILE.lua",
                        help="OSRM profile for --engine osrm" + dflt % "OSRM's stock car.lua")

    nw = command(sub, "network", "road networks")
    nsub = nw.add_subparsers(dest="network_cmd", required=True, metavar="ACTION",
                             help="info or calibrate")
    ni = command(nsub, "info", "summary of a road network (kind, format, counts, speed sources)")
    ni.add_argument("source", help="approximate | osm:REGION | bdtopo:PATH | roads-hdf | "
                    "roads-france | PATH.osm.pbf | PATH.gpkg | PATH.shp")
    ni.add_argument("--territory", default=None,
                    help="clip to this territory plus --margin-km (required for approximate)")
    ring_arg(ni, RING_KM)
    margin_arg(ni)
    ni.add_argument("--json", action="store_true", help="print JSON")
    nc = command(nsub, "calibrate",
                 "fit the approximate network's parameters to a detailed network or to a "
                 "router's times between chefs-lieux")
    nc.add_argument("--detailed", default=None,
                    help="road network: the detailed network to fit to (osm:REGION, "
                    "bdtopo:PATH or a .osm.pbf / .gpkg / .shp path)")
    nc.add_argument("--area", default=None,
                    help="territory: EPCI SIREN or name, dep:02, deps:59,62 or communes:A,B "
                    "(with --detailed)")
    nc.add_argument("--reference", default=None,
                    help="reference-table mode: CSV of origin, destination, duration_s (seconds) "
                    "between commune codes (OSRM, INSEE Metric or any router); fits speeds by "
                    "density level and skeleton class and the per-link cost, holding communes "
                    "back by area to check the fit")
    nc.add_argument("--points", default=None,
                    help="with --reference: CSV of code, lon, lat (WGS84) of the points the "
                    "router was queried with (default: the communes' chefs-lieux)")
    nc.add_argument("--square-km", type=_positive, default=20.0,
                    help="with --reference: squares of this size, alternate columns held back "
                    "(default 20)")
    nc.add_argument("--max-evals", type=int, default=80,
                    help="with --reference: steps of the fit (each rebuilds the network once, "
                    "plus once per fitted parameter for its gradient; default 80)")
    nc.add_argument("--out", default=None,
                    help="output: a JSON file of the result, fitted parameters and residuals "
                    "(with --reference), written atomically")
    nc.add_argument("--skeleton", default=None,
                    help="classified-road skeleton merged into the approximate network "
                    "('' for none; default roads-hdf with --detailed, roads-france with "
                    "--reference)")
    ring_arg(nc, RING_KM)
    margin_arg(nc)
    zone_minutes_arg(nc)
    nc.add_argument("--json", action="store_true", help="print JSON")

    t = command(sub, "territory", "territories")
    tsub = t.add_subparsers(dest="territory_cmd", required=True, metavar="ACTION",
                            help="show")
    ts = command(tsub, "show", "summary of a territory")
    ts.add_argument("territory", help=territory_help)
    ring_arg(ts, RING_KM)
    ts.add_argument("--json", action="store_true", help="print JSON")

    z = command(sub, "zones", "drive-time zones around market towns")
    z.add_argument("territory", help=territory_help)
    ring_arg(z, RING_KM)
    net_args(z, study=False)
    z.add_argument("--towns", type=_comma_list(what="town"), action="extend", required=True,
                   help="market towns, INSEE codes or names, comma-separated "
                   "(--towns 62045,62063) or repeated (--towns 62045 --towns 62063)")
    zone_minutes_arg(z)
    z.add_argument("--bands", type=_comma_list(_positive, "minute"), action="extend",
                   default=None,
                   help="isochrone bands in minutes, comma-separated (default "
                   + ",".join(f"{b:g}" for b in BANDS_MIN) + ")")
    z.add_argument("--direction", choices=DIRECTIONS, default="to",
                   help="'to': time from each commune to the town; 'from': town to commune "
                   "(default to)")
    z.add_argument("--out", default=None,
                   help="output: a GeoPackage file of the zones and their polygons")
    z.add_argument("--json", action="store_true", help="print JSON")

    st = command(sub, "study", "run a whole study from a TOML file")
    st.add_argument("study", help="study file, e.g. examples/campagnes-artois.toml")
    st.add_argument("--out", default=None,
                    help="output: a folder, written atomically (default maps/<study name>)")
    st.add_argument("--lang", choices=LANGS, default=None,
                    help="language of the outputs (map, report, charts, PNG maps) and of the "
                    "summary (default: the study file's output.lang, else fr)")
    st.add_argument("--pdf", action="store_true",
                    help="also print the report to report.pdf with headless Chromium")
    engine_args(st, study=True)

    ba = command(sub, "batch", "a study per EPCI of a département, a region or France, on Dask")
    ba.add_argument("study", help="study file used as a template (its market towns, poles, "
                    "planned sites and supply file are replaced: towns come from the density "
                    "grid per EPCI, third places from CGET)")
    ba.add_argument("--epcis", required=True,
                    help="dep:CODE, region:CODE (INSEE, e.g. 32), france, or comma-separated "
                    "EPCI SIRENs")
    ba.add_argument("--out", required=True,
                    help="output: a folder (epcis.csv/.parquet/.gpkg, ranking.csv, errors.csv, "
                    "map.html, map.png; partitions/ makes a rerun resume)")
    ba.add_argument("--workers", type=_number(int, low=0, strict=False, what="an integer"),
                    default=None,
                    help="local Dask worker processes (default: one per core; 0 runs serially "
                    "without Dask)")
    ba.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="run on an existing Dask scheduler (tcp://host:8786) instead of a "
                    "local cluster")
    ba.add_argument("--epcis-per-task", type=_number(int, low=1, strict=False,
                                                      what="an integer >= 1"), default=None,
                    help="a département with more EPCIs is split into tasks of at most this "
                    "many (default 24); départements are cut further when that balances "
                    "the workers")
    ba.add_argument("--national-coverage", action="store_true",
                    help="also compute minutes from every commune of the selected EPCIs' "
                    "départements to the nearest CGET third place and the shares within "
                    "10/20/30 min per département and region (coverage_*.csv)")

    sc = command(sub, "scenarios", "scenario sweeps and sensitivity of a study's seats")
    sc.add_argument("study", help="study file, e.g. examples/campagnes-artois.toml")
    sc.add_argument("--vary", action="append", default=None, metavar="PATH=V1,V2",
                    help="a parameter and its values, comma-separated, or LOW:HIGH:STEP "
                    "(repeat for more parameters; every combination is run), e.g. "
                    "demand.telework_preset=dares2004,dares2017 or zoning.budget_min=8:15:1; "
                    "zoning.market_towns values join towns with '+'. Default: the study "
                    "file's [scenarios] table")
    sc.add_argument("--named", action="append", default=None, metavar="NAME:PATH=V;PATH=V",
                    help="a named scenario setting a few parameters (repeatable), e.g. "
                    "'low:demand.telework_preset=dares2017;zoning.budget_min=8'")
    sc.add_argument("--out", default=None,
                    help="output: a folder, written atomically (default "
                    "maps/<study name>-scenarios)")
    sc.add_argument("--lang", choices=LANGS, default=None,
                    help="language of the outputs (map, report, charts, PNG maps) and of the "
                    "summary (default: the study file's output.lang, else fr)")

    for name, helptext in (("coverage", "coverage of third places"),
                           ("site-selection", "best new third-place sites")):
        c = command(sub, name, helptext)
        c.add_argument("territory", nargs="?", default=None,
                       help=territory_help + " (default: the study file's territory)")
        c.add_argument("--study", default=None, metavar="FILE.toml",
                       help="take the territory, network, demand parameters, supply and "
                       "coverage settings from this study file; options given here override "
                       "it. Without it the demand parameters are the method's defaults "
                       "(listed in the output)")
        ring_arg(c, None)
        net_args(c, study=True)
        c.add_argument("--sites", choices=SITES, default=None,
                       help="which third places count (default: study file, else both)")
        c.add_argument("--planned", type=_comma_list(what="commune"), action="extend",
                       default=None,
                       help="planned sites, communes comma-separated or repeated "
                       "(replaces the study file's supply.planned)")
        c.add_argument("--json", action="store_true", help="print JSON")
        if name == "coverage":
            c.add_argument("--minutes", type=_comma_list(_positive, "minute"), action="extend",
                           default=None,
                           help="report the share of demand within these minutes of a site, "
                           "comma-separated (default: study file, else 10,20)")
        else:
            c.add_argument("--k", type=_number(int, low=0, strict=False, what="an integer"),
                           default=None,
                           help="number of new sites (default: study file, else 3)")
            c.add_argument("--within-minutes", type=_positive, default=None,
                           help="a site covers the communes within this many minutes "
                           "(default: study file coverage.budget_min, else 10)")
            c.add_argument("--candidates", default=None,
                           help="candidate communes: density (grid levels 4-5), towns (the "
                           "study's market towns), all, or comma-separated communes "
                           "(default: study file, else density)")
            c.add_argument("--weight", choices=WEIGHTS,
                           default=None,
                           help="demand to cover (default: study file, else population)")
            c.add_argument("--target-share", type=_share, default=None,
                           help="instead of k sites, the smallest set covering this share "
                           "(set covering)")
            c.add_argument("--time-limit", type=_positive, default=60.0, metavar="SECONDS",
                           help="CBC time limit; when hit, the status says 'time limit' and "
                           "the gap is measured against the LP bound (default 60)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``territorial-geo`` console script."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else 2
    handlers = {"data": _cmd_data, "network": _cmd_network, "territory": _cmd_territory, "zones": _cmd_zones,
                "study": _cmd_study, "scenarios": _cmd_scenarios, "batch": _cmd_batch,
                "coverage": _cmd_coverage, "site-selection": _cmd_select}
    # the library logs (logging.getLogger(__name__)); the CLI shows its warnings, even with
    # --quiet (which only silences progress)
    handler = _StderrHandler()
    logger = logging.getLogger("territorial_geo")
    logger.addHandler(handler)
    try:
        return handlers[args.cmd](args)
    except TerritorialGeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        logger.removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
