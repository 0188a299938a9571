"""Cross-validation by area of the approximate network's Isère fit (issue 18, docs/method.md §2.6.7).

The shipped defaults were fitted on one half of the Isère communes (20 km columns) and
checked on the other; one split says little about communes never seen. Here the fit of
the local parameters (``tools/fit_approx_defaults.py`` step A: :data:`LOCAL`, from the
shipped defaults, motorway / trunk / dense-commune speeds fixed) is repeated on several
splits of the 251 communes of the OSRM matrix, each split used both ways (fit on one half,
evaluate on the other, then swap):

* ``x20``: 20 km columns (the split of the shipped fit; fold ``a`` is that fit);
* ``x15+7``: 15 km columns, edges moved 7 km;
* ``y20``: 20 km rows.

Printed per fold: communes fitted / evaluated, the fitted values, and on the evaluated half
median ratio ours / OSRM, median |log ratio|, mean Jaccard of 10-minute zones
(:func:`~territorial_geo.network.calibrate.reference_metrics`), seconds per fit (loaded
machine: indicative only). ``--names`` fits another parameter set (e.g. ``speed:3-7
urban_kmh link_s skeleton:secondary``: one open-road speed for levels 3 to 7).

Usage: python benchmarks/bench_calibration_cv.py [--data-dir data] [--max-evals 60] [--names ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from territorial_geo import sources
from territorial_geo.network.approximate import ApproxParams
from territorial_geo.network.calibrate import (
    area_split,
    fit_reference,
    reference_inputs,
    reference_metrics,
    reference_times,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from fit_approx_defaults import LOCAL  # noqa: E402

#: (label, square_km, offset_km, axis) of each split.
SPLITS = (("x20", 20.0, 0.0, "x"), ("x15+7", 15.0, 7.0, "x"), ("y20", 20.0, 0.0, "y"))


def cross_validate(data_dir, names: tuple[str, ...], max_evals: int) -> pd.DataFrame:
    """One row per fold: fitted values and the evaluated half's figures."""
    ri = reference_inputs(sources.dataset_path("osrm-isere-matrix", data_dir),
                          points_path=sources.dataset_path("osrm-isere-points", data_dir),
                          data_dir=data_dir)
    pts = ri.points[~ri.points.index.duplicated()].reindex(ri.table.codes)
    rows = []
    for label, sq, off, axis in SPLITS:
        even, odd = area_split(pts, square_km=sq, offset_km=off, axis=axis)
        for fold, (fit, held) in (("a", (even, odd)), ("b", (odd, even))):
            t0 = time.perf_counter()
            p, det = fit_reference(ri.table.pairs, pts, ri.build, fit, params0=ApproxParams(),
                                   names=names, max_evals=max_evals)
            secs = time.perf_counter() - t0
            ours = reference_times(ri.build(p), pts, limit_s=30_000)
            m = reference_metrics(ours, ri.table.pairs, held)
            mf = reference_metrics(ours, ri.table.pairs, fit)
            rows.append({"split": label, "fold": fold, "n_fit": len(fit), "n_eval": len(held),
                         "median_ratio": m["median_ratio"],
                         "median_abs_log_ratio": m["median_abs_log_ratio"],
                         "jaccard_eval": m["jaccard_mean"], "jaccard_fit": mf["jaccard_mean"],
                         "fit_s": round(secs),
                         **{n: v for n, v in det["fitted"].items()}})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--max-evals", type=int, default=60)
    ap.add_argument("--names", nargs="+", default=list(LOCAL))
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    tab = cross_validate(args.data_dir, tuple(args.names), args.max_evals)
    print(tab.to_string(index=False))
    print(f"mean over folds: Jaccard {tab['jaccard_eval'].mean():.3f} (min "
          f"{tab['jaccard_eval'].min():.3f}), median ratio {tab['median_ratio'].min():.3f}-"
          f"{tab['median_ratio'].max():.3f}, median |log ratio| "
          f"{tab['median_abs_log_ratio'].max():.3f} at most")


if __name__ == "__main__":
    main()
