"""How close the approximate network's times are to OSRM's (issue 18, docs/method.md §2.6).

Three parameter sets side by side:

* ``legal-limits``: the defaults before the calibration (open road 80 km/h, urban centres
  50 km/h, skeleton classes at their legal limits 130 / 110 / 80 km/h, no per-link cost);
* ``x0.63``: every speed of ``legal-limits`` multiplied by 0.63 (the trivial fix);
* ``calibrated``: the shipped :class:`ApproxParams` defaults.

Figures (ours / OSRM, :func:`territorial_geo.network.calibrate.reference_metrics`):

1. **Isère**, the 251 communes of the OSRM matrix (``osrm-isere-matrix``, points
   ``osrm-isere-points``) split by area (:func:`area_split`, 20 km squares, alternate
   columns): the fitted part and the held-back part. Median ratio, p10/p90, median |log
   ratio|, mean Jaccard of 10-minute zones (origin excluded), mean zone sizes.
2. **Time to Paris** of every commune of mainland France (``osrm-time-to-paris``; Corsica
   left out: OSRM's times cross the sea by ferry) on a national approximate network (all
   communes + the France skeleton), from each chef-lieu to Paris's (75056): median ratio
   per region.

Usage: python benchmarks/bench_calibration.py [--data-dir data] [--no-paris]
Timings are not the point here; the national build takes about a minute per parameter set.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from territorial_geo import sources
from territorial_geo.network import read_pbf
from territorial_geo.network.approximate import ApproxParams, build_approximate
from territorial_geo.network.calibrate import (
    area_split,
    reference_inputs,
    reference_metrics,
    reference_times,
)
from territorial_geo.network.routing import nearest_point_times
from territorial_geo.sources.cog import code_mapping

#: The defaults before the calibration (legal limits, no per-link cost).
LEGAL_LIMITS = ApproxParams(
    speed_kmh={1: 50.0, 2: 50.0, 3: 80.0, 4: 80.0, 5: 80.0, 6: 80.0, 7: 80.0},
    urban_kmh=50.0,
    builtup_m={1: 0.0, 2: 0.0, 3: 1000.0, 4: 600.0, 5: 600.0, 6: 400.0, 7: 300.0},
    skeleton_kmh={"motorway": 130.0, "trunk": 110.0, "secondary": 80.0},
    link_s=0.0,
)


def scaled(p: ApproxParams, f: float) -> ApproxParams:
    """Every speed of ``p`` multiplied by ``f``."""
    return p.replace(speed_kmh={k: v * f for k, v in p.speed_kmh.items()},
                     urban_kmh=p.urban_kmh * f,
                     skeleton_kmh={k: v * f for k, v in p.skeleton_kmh.items()})


def param_sets() -> dict[str, ApproxParams]:
    """The three parameter sets compared."""
    return {"legal-limits": LEGAL_LIMITS, "x0.63": scaled(LEGAL_LIMITS, 0.63),
            "calibrated": ApproxParams()}


def isere(data_dir, sets: dict[str, ApproxParams]) -> pd.DataFrame:
    """Isère figures of every parameter set, on the fitted and held-back communes."""
    ri = reference_inputs(sources.dataset_path("osrm-isere-matrix", data_dir),
                          points_path=sources.dataset_path("osrm-isere-points", data_dir),
                          data_dir=data_dir)
    tab, pts = ri.table, ri.points
    fit, held = area_split(pts, square_km=20)
    rows = []
    for name, p in sets.items():
        ours = reference_times(ri.build(p), pts, limit_s=30_000)
        for part, codes in (("fit", fit), ("held", held), ("all", tab.codes)):
            rows.append({"params": name, "set": part, **reference_metrics(ours, tab.pairs, codes)})
    print(f"Isère: {len(tab.codes)} communes, {len(tab.pairs)} pairs, "
          f"{len(tab.remapped)} code(s) remapped to COG 2026 {tab.remapped or ''}; "
          f"split by 20 km squares: {len(fit)} fitted, {len(held)} held back")
    return pd.DataFrame(rows)


def paris(data_dir, sets: dict[str, ApproxParams]) -> pd.DataFrame:
    """Median ratio ours / OSRM of the time to Paris, by region, for every parameter set."""
    ds = sources.Datasets(data_dir)
    mapping = code_mapping(data_dir)
    com = ds.communes()
    cl = ds.chefs_lieux()
    dens = ds.density_grid()["dens"]
    mainland = com[~com["departement"].astype(str).str[:2].isin(["97", "2A", "2B"])]
    cl_m = cl.reindex(mainland.index).dropna(subset=["geometry"])
    sk = read_pbf(sources.dataset_path("roads-france", data_dir),
                  cache_dir=sources.resolve_data_dir(data_dir) / "cache" / "networks")
    ref = pd.read_csv(sources.dataset_path("osrm-time-to-paris", data_dir), dtype={"code": str})
    ref["code"] = sources.normalize_codes(ref["code"], source="osrm-time-to-paris")
    ref["code26"] = ref["code"].map(lambda c: mapping.get(c, c))
    n_remapped = int((ref["code"] != ref["code26"]).sum())
    # several former communes of one current commune: keep the one that kept its code
    ref = (ref.assign(kept=ref["code"] == ref["code26"]).sort_values("kept", ascending=False)
           .drop_duplicates("code26"))
    ref["region"] = ref["code26"].map(ds.commune_list()["region"])
    ref = ref[ref["code26"].isin(mainland.index) & (ref["duration_s"] > 0)]
    out = {}
    for name, p in sets.items():
        t0 = time.perf_counter()
        net = build_approximate(mainland, cl_m, dens, skeleton=sk, params=p)
        pts = cl_m.geometry
        t, _ = nearest_point_times(net, net.snap(pts), net.snap(cl.geometry.loc[["75056"]]),
                                   direction="to")
        ours = pd.Series(t, index=pts.index)
        r = ref.assign(ratio=ref["code26"].map(ours) / ref["duration_s"])
        out[name] = r.groupby("region")["ratio"].median()
        out[name]["all"] = r["ratio"].median()
        print(f"  national network {name}: {net.n_nodes} nodes, {len(net.edges)} edges, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    tab = pd.DataFrame(out)
    tab["n"] = ref.groupby("region").size().reindex(tab.index)
    tab.loc["all", "n"] = len(ref)
    print(f"Time to Paris: {len(ref)} mainland communes ({n_remapped} former codes remapped)")
    return tab


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--no-paris", action="store_true", help="skip the national check")
    args = ap.parse_args()
    sets = param_sets()
    pd.set_option("display.width", 200)
    iz = isere(args.data_dir, sets)
    cols = ["median_ratio", "p10_ratio", "p90_ratio", "median_abs_log_ratio", "jaccard_mean",
            "zone_size_ours", "zone_size_reference", "n_communes", "n_pairs"]
    print(iz.set_index(["set", "params"]).sort_index()[cols].to_string())
    if not args.no_paris:
        print(paris(args.data_dir, sets).round(3).to_string())


if __name__ == "__main__":
    main()
