"""Command line: ``territorial-geo data|territory|zones|study|coverage|site-selection``.

Exit codes: 0 success, 2 bad input or missing data (a one-line message, no traceback),
1 unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from territorial_geo import __version__
from territorial_geo.errors import TerritorialGeoError


def _progress(quiet: bool):
    start = time.perf_counter()

    def say(msg: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    return say


def _cmd_data(args) -> int:
    from territorial_geo import sources

    if args.data_cmd == "fetch":
        res = sources.fetch(args.dataset or None, data_dir=args.data_dir, mirror=args.mirror,
                            download=not args.no_download, quiet=args.quiet)
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


def _territory(args):
    from territorial_geo.territory import load_territory

    return load_territory(args.territory, ring_km=args.ring_km, data_dir=args.data_dir)


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


def _network(args, terr):
    from territorial_geo import network, sources

    path = Path(args.network) if args.network and Path(args.network).is_file() else \
        sources.dataset_path(args.network or "roads-hdf", args.data_dir)
    return network.read_pbf(path, area=terr.outline, margin_m=args.margin_km * 1000,
                            cache_dir=sources.resolve_data_dir(args.data_dir) / "cache" / "networks")


def _cmd_zones(args) -> int:
    from territorial_geo import zoning

    t = _territory(args)
    net = _network(args, t)
    z = zoning.build_zones(t, args.towns, network=net, budget_min=args.budget,
                           bands=args.bands, direction=args.direction, data_dir=args.data_dir)
    if args.out:
        z.to_gpkg(args.out)
    ov = z.overlap()
    if args.json:
        print(json.dumps({"membership": z.membership(), "overlap": ov.to_dict(),
                          "union": z.union(), "uncovered": z.uncovered()}))
    else:
        print(ov.to_string())
        print(f"union: {len(z.union())} communes; in no zone: {len(z.uncovered())}")
    return 0


def _cmd_network(args) -> int:
    from territorial_geo import network, sources
    from territorial_geo.network.approximate import area_frames
    from territorial_geo.network.calibrate import calibrate
    from territorial_geo.territory import load_territory

    t = load_territory(args.area, ring_km=args.ring_km, data_dir=args.data_dir)
    margin = args.margin_km * 1000

    def read(ref):
        if not Path(ref).is_file() and ref not in sources.CATALOG:
            raise TerritorialGeoError(f"network {ref!r} is neither a file nor a dataset "
                                      f"({', '.join(k for k in sources.CATALOG if k.startswith('roads'))})")
        path = Path(ref) if Path(ref).is_file() else sources.dataset_path(ref, args.data_dir)
        return network.read_pbf(path, area=t.outline, margin_m=margin,
                                cache_dir=sources.resolve_data_dir(args.data_dir) / "cache" / "networks")

    detailed = read(args.detailed)
    skeleton = read(args.skeleton) if args.skeleton else None
    com, cl, dens = area_frames(t.outline, communes=sources.load_communes(args.data_dir),
                                chefs_lieux=sources.load_chefs_lieux(args.data_dir),
                                density=sources.load_density_grid(args.data_dir), margin_m=margin)
    res = calibrate(detailed, com, cl, dens, skeleton=skeleton, budget_min=args.budget)
    print(json.dumps(res.to_dict(), ensure_ascii=False, default=str) if args.json else res.summary())
    return 0


def _cmd_study(args) -> int:
    from territorial_geo import study
    from territorial_geo.config import load_config

    cfg, keys = load_config(args.study)
    say = _progress(args.quiet)
    res = study.run_study(cfg, overridden=keys, data_dir=args.data_dir, progress=say)
    out = args.out or str(Path("maps") / Path(args.study).stem)
    path = study.write_outputs(res, out, data_dir=args.data_dir, progress=say)
    if not args.quiet:
        zs = res.zone_seats
        tot = zs[(zs["variant"] == "union") & (zs["segment"] == "total")]
        print(f"{cfg.name}: {len(res.territory.codes)} communes, {len(res.zones.zone_codes)} zones")
        for r in tot.itertuples():
            print(f"  seats {r.year} (union, each commune once): {r.seats:.1f}")
        print(f"outputs in {path}/ (report.html, map.html, zones.csv, ...)")
    return 0


def _coverage_common(args):
    from territorial_geo import demand, study
    from territorial_geo.config import StudyConfig

    t = _territory(args)
    net = _network(args, t)
    cfg = StudyConfig(territory=args.territory)
    cfg.supply.planned = list(args.planned or [])
    sites = study.third_places(t, cfg, args.data_dir)
    if args.sites != "both":
        sites = sites[sites["status"] == args.sites]
    dem = demand.commune_demand(t.codes, cfg.demand, data_dir=args.data_dir)
    return t, net, sites, study.demand_weights(t, dem, cfg.demand)


def _cmd_coverage(args) -> int:
    from territorial_geo import coverage

    t, net, sites, weights = _coverage_common(args)
    pts = t.chefs_lieux.loc[t.codes].geometry
    times = coverage.nearest_site_times(net, pts, sites)
    shares = coverage.coverage_shares(times["time_min"], weights[["population", "teleworkers", "solos"]],
                                      args.minutes)
    unc = coverage.uncovered(times["time_min"], weights, max(args.minutes), t.communes["nom"])
    if args.json:
        print(json.dumps({
            "territory": t.name, "n_communes": len(t.codes), "n_sites": len(sites),
            "share_population_within": {f"{m:g}": float(v) for m, v in
                                        zip(shares["minutes"], shares["share_population"], strict=True)},
            "share_teleworkers_within": {f"{m:g}": float(v) for m, v in
                                         zip(shares["minutes"], shares["share_teleworkers"], strict=True)},
            "share_solos_within": {f"{m:g}": float(v) for m, v in
                                   zip(shares["minutes"], shares["share_solos"], strict=True)},
            "uncovered": unc.index[:50].tolist(),
        }, ensure_ascii=False))
    else:
        print(f"{t.name}: {len(sites)} third place(s) in the territory and its ring")
        print(shares[["minutes", "share_population", "share_teleworkers", "share_solos"]].to_string(index=False))
        print(f"{len(unc)} commune(s) beyond {max(args.minutes):g} min; largest:")
        print(unc.head(10)[["nom", "population", "time_min"]].to_string())
    return 0


def _cmd_select(args) -> int:
    import numpy as np

    from territorial_geo import coverage, study

    t, net, sites, weights = _coverage_common(args)
    pts = t.chefs_lieux.loc[t.codes].geometry
    existing = np.zeros(len(t.codes), bool)
    if len(sites):
        times = coverage.nearest_site_times(net, pts, sites)
        existing = (times["time_min"] <= args.budget).to_numpy()
    how = args.candidates if args.candidates in ("density", "all") else "list"
    cands = study.candidate_codes(t, how, candidate_list=args.candidates.split(","),
                                  data_dir=args.data_dir)
    if not cands:
        raise TerritorialGeoError("site selection: no candidate commune (try --candidates all)")
    cover = np.isfinite(coverage.cover_matrix(net, pts, t.chefs_lieux.loc[cands].geometry,
                                              args.budget * 60))
    labels = [f"{t.chefs_lieux.loc[c, 'nom']} ({c})" for c in cands]
    w = weights[args.weight].to_numpy()
    if args.target_share is not None:
        sel = coverage.set_cover(cover, w, args.target_share, labels=labels, existing_cover=existing)
    else:
        sel = coverage.select_sites(cover, w, args.k, labels=labels, existing_cover=existing)
    if args.json:
        curve = sel.curve.astype(object).where(sel.curve.notna(), None)
        print(json.dumps({"chosen": sel.chosen, "method": sel.method, "gap": sel.gap,
                          "curve": curve.to_dict(orient="records")}, default=str))
    else:
        print(f"method: {sel.method}, gap to LP bound: {sel.gap:.2%}")
        print(sel.curve.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--data-dir", default=None,
                     help="data directory (default: $TERRITORIAL_GEO_DATA, else data/)")
    top.add_argument("--quiet", action="store_true", help="no progress output")
    # the same options after a sub-command, without overriding the ones given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)
    p = argparse.ArgumentParser(prog="territorial-geo", parents=[top],
                                description="Drive-time zones, coworking demand and third-place "
                                "coverage for French territories.")
    p.add_argument("--version", action="version", version=f"territorial-geo {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("data", parents=[common], help="fetch and inspect datasets")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    f = dsub.add_parser("fetch", parents=[common], help="copy from a mirror or download")
    f.add_argument("--mirror", default=None, help="mirror folder (default ../shared/data)")
    f.add_argument("--dataset", action="append", help="dataset name (repeatable)")
    f.add_argument("--no-download", action="store_true", help="mirror only")
    s = dsub.add_parser("status", parents=[common], help="what is present")
    s.add_argument("--json", action="store_true")
    mf = dsub.add_parser("manifest", parents=[common], help="print or write the catalog")
    mf.add_argument("--write", default=None, help="write to this path (data/manifest.json)")

    def territory_args(sp):
        sp.add_argument("territory", help="EPCI SIREN or name, dep:02, deps:59,62, communes:A,B")
        sp.add_argument("--ring-km", type=float, default=15.0)

    def net_args(sp):
        sp.add_argument("--network", default=None, help="dataset name or .osm.pbf path")
        sp.add_argument("--margin-km", type=float, default=25.0)

    t = sub.add_parser("territory", parents=[common], help="territories")
    tsub = t.add_subparsers(dest="territory_cmd", required=True)
    ts = tsub.add_parser("show", parents=[common], help="summary of a territory")
    territory_args(ts)
    ts.add_argument("--json", action="store_true")

    z = sub.add_parser("zones", parents=[common], help="drive-time zones around market towns")
    territory_args(z)
    net_args(z)
    z.add_argument("--towns", nargs="+", required=True, help="INSEE codes or names")
    z.add_argument("--budget", type=float, default=10.0, help="minutes")
    z.add_argument("--bands", type=float, nargs="*", default=[5, 10, 15, 20])
    z.add_argument("--direction", choices=["to", "from"], default="to")
    z.add_argument("--out", default=None, help="GeoPackage to write")
    z.add_argument("--json", action="store_true")

    nw = sub.add_parser("network", parents=[common], help="road networks")
    nsub = nw.add_subparsers(dest="network_cmd", required=True)
    nc = nsub.add_parser("calibrate", parents=[common],
                         help="fit the approximate network to a detailed network")
    nc.add_argument("--detailed", required=True, help="detailed network: dataset name or .osm.pbf")
    nc.add_argument("--area", required=True, help="territory (as for `territory show`)")
    nc.add_argument("--skeleton", default="roads-hdf",
                    help="skeleton merged into the approximate network ('' for none)")
    nc.add_argument("--ring-km", type=float, default=15.0)
    nc.add_argument("--margin-km", type=float, default=25.0)
    nc.add_argument("--budget", type=float, default=10.0, help="minutes")
    nc.add_argument("--json", action="store_true")

    st = sub.add_parser("study", parents=[common], help="run a whole study from a TOML file")
    st.add_argument("study", help="study file, e.g. examples/campagnes-artois.toml")
    st.add_argument("--out", default=None, help="output folder (default maps/<study name>)")

    for name, helptext in (("coverage", "coverage of third places"),
                           ("site-selection", "best new third-place sites")):
        c = sub.add_parser(name, parents=[common], help=helptext)
        territory_args(c)
        net_args(c)
        c.add_argument("--sites", choices=["existing", "planned", "both"], default="both")
        c.add_argument("--planned", nargs="*", default=[], help="planned sites (communes)")
        c.add_argument("--json", action="store_true")
        if name == "coverage":
            c.add_argument("--minutes", type=float, nargs="+", default=[10.0, 20.0])
        else:
            c.add_argument("--k", type=int, default=3)
            c.add_argument("--budget", type=float, default=10.0)
            c.add_argument("--candidates", default="density",
                           help="density | all | comma-separated communes")
            c.add_argument("--weight", choices=["population", "teleworkers", "solos", "seats"],
                           default="population")
            c.add_argument("--target-share", type=float, default=None,
                           help="smallest set covering this share (set covering)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``territorial-geo`` console script."""
    args = build_parser().parse_args(argv)
    handlers = {"data": _cmd_data, "territory": _cmd_territory, "zones": _cmd_zones,
                "study": _cmd_study, "coverage": _cmd_coverage, "site-selection": _cmd_select,
                "network": _cmd_network}
    try:
        return handlers[args.cmd](args)
    except TerritorialGeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
