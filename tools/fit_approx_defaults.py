"""Reproduce the fit of the approximate network's shipped defaults (docs/method.md §2.6.1).

Two reference tables of OSRM car times (neocarto/rspatial, osrm/data, 2021; optional
datasets ``osrm-isere-*`` and ``osrm-time-to-paris``), each fitting what it can see:

A. **local parameters** (open-road speed of density levels 3-4 and 5-7, built-up speed,
   per-link cost, departmental-road speed) on the Isère matrix: :func:`calibrate_reference`,
   communes split by area (20 km squares, alternate columns held back), the others fixed;
B. **what long trips and big cities ride** (motorway and trunk speeds, and the open-road
   speed of dense communes, density levels 1-2) on every mainland commune's time to
   Paris, on a national approximate network retimed at each step
   (:func:`fit_skeleton_to_destination`, :func:`retime`); communes of even-numbered
   départements fitted, odd-numbered held back.

A first fits everything on Isère (skipped with ``--skip-first`` when ``--start`` or the
current defaults already hold such a fit); B refits the national parameters (Isère has few
motorways and trunk roads, mountain ones, and few dense communes); A again fits the local
parameters and the departmental-road (``secondary``) speed with those. Prints every step
and the final values.

Usage: python tools/fit_approx_defaults.py [--data-dir data] [--max-evals 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import pandas as pd

from territorial_geo import sources
from territorial_geo.network import read_pbf
from territorial_geo.network.approximate import ApproxParams, build_approximate
from territorial_geo.network.calibrate import (
    calibrate_reference,
    fit_skeleton_to_destination,
    read_reference_points,
    reference_inputs,
)
from territorial_geo.sources.cog import code_mapping

#: Fitted on the Isère matrix: local links, and the departmental roads (the skeleton's
#: ``secondary`` class) that short and medium trips ride.
LOCAL = ("speed:3-4", "speed:5-7", "urban_kmh", "link_s", "skeleton:secondary")
#: Fitted on the times to Paris: the classes long trips ride, and the speed of dense
#: communes (levels 1-2: Isère has few, the table to Paris thousands around the cities).
NATIONAL = ("skeleton:motorway", "skeleton:trunk", "speed:1-2")

log = logging.getLogger("fit_approx_defaults")


def national(data_dir, params: ApproxParams, max_evals: int) -> tuple[ApproxParams, dict]:
    """Step B: skeleton class speeds on the times to Paris."""
    ds = sources.Datasets(data_dir)
    mapping = code_mapping(data_dir)
    com = ds.communes()
    mainland = com[~com["departement"].astype(str).str[:2].isin(["97", "2A", "2B"])]
    cl = ds.chefs_lieux()
    cl_m = cl.reindex(mainland.index).dropna(subset=["geometry"])
    sk = read_pbf(sources.dataset_path("roads-france", data_dir),
                  cache_dir=sources.resolve_data_dir(data_dir) / "cache" / "networks")
    path = sources.dataset_path("osrm-time-to-paris", data_dir)
    pts = read_reference_points(path, mapping=mapping)
    ref = pd.read_csv(path, dtype={"code": str})
    ref["code"] = sources.normalize_codes(ref["code"], source=str(path)).map(
        lambda c: mapping.get(c, c))
    ref = ref.drop_duplicates("code").set_index("code")["duration_s"]
    pts = pts[pts.index.isin(mainland.index)]
    dep = mainland["departement"].astype(str).reindex(pts.index)
    even = dep.str[:2].astype(int) % 2 == 0
    t0 = time.perf_counter()
    net = build_approximate(mainland, cl_m, ds.density_grid()["dens"], skeleton=sk, params=params)
    log.info("national network built in %.0f s", time.perf_counter() - t0)
    return fit_skeleton_to_destination(net, pts, cl.geometry.loc[["75056"]], ref,
                                       pts.index[even.to_numpy()], params0=params,
                                       names=NATIONAL, max_evals=max_evals)


def isere(data_dir, params: ApproxParams, max_evals: int, names=LOCAL):
    """Step A: local parameters on the Isère matrix."""
    ri = reference_inputs(sources.dataset_path("osrm-isere-matrix", data_dir),
                          points_path=sources.dataset_path("osrm-isere-points", data_dir),
                          data_dir=data_dir)
    return calibrate_reference(ri.table, ri.points, ri.communes, ri.chefs_lieux, ri.density,
                               skeleton=ri.skeleton, params0=params,
                               names=names, max_evals=max_evals)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--max-evals", type=int, default=60)
    ap.add_argument("--start", default=None, help="JSON of ApproxParams fields to start from")
    ap.add_argument("--skip-first", action="store_true",
                    help="start with B (when --start already holds a first Isère fit)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    p = ApproxParams(**json.loads(args.start)) if args.start else ApproxParams()
    if not args.skip_first:
        res = isere(args.data_dir, p, args.max_evals, names=LOCAL + NATIONAL)
        log.info("A (every parameter):\n%s", res.summary())
        p = res.params
    p, det = national(args.data_dir, p, args.max_evals)
    log.info("B: %s", json.dumps(det))
    res = isere(args.data_dir, p, args.max_evals)
    log.info("A (motorway and trunk fixed):\n%s", res.summary())
    p = res.params
    vals = {k: v["value"] for k, v in p.to_dict().items()}
    log.info("final: %s", json.dumps(vals))


if __name__ == "__main__":
    main()
