"""Scenario sweeps and Monte Carlo draws on the reference study (Campagnes de l'Artois).

* A **50-scenario sweep** (5 telework presets x 5 budgets x 2 solo growth rates) with
  ``scenarios.run_sweep``: one network load, one routing pass per distinct budget (zones
  and the Arras pole), demand inputs loaded once, one demand run per distinct demand
  configuration. Warm: one sweep is run first (numba compilation, file caches), then the
  median over ``--repeats``. Target (issue 11): under 30 s.
* The **naive** way: ``study.run_study`` once per scenario (what copying a TOML file per
  scenario does, outputs not even written), timed on ``--naive`` scenarios of the same
  sweep; the 50-scenario figure is that median x 50 (stated as an extrapolation).
* **Monte Carlo**: ``uncertainty.monte_carlo`` with 1,000 draws on the reference study
  (median over ``--repeats``; target under 5 s), and 10,000 draws.

The last line is ``sweep50_s=<s> naive50_est_s=<s> ratio=<x> mc1000_s=<s>``.

Usage: python benchmarks/bench_scenarios.py [--data-dir data] [--repeats 3] [--naive 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from territorial_geo import config, scenarios, study, uncertainty
from territorial_geo.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def median_time(fn, repeats: int):
    """Median wall time of ``fn`` over ``repeats`` runs, and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--naive", type=int, default=3, help="studies run one by one")
    args = ap.parse_args()
    cfg, keys = load_config(ROOT / "examples" / "campagnes-artois.toml")
    sweep = scenarios.build_sweep(cfg, vary={
        "demand.telework_preset": ["dares2004", "dares2004-home", "dares2017",
                                   "dares2017-occasional", "insee2022"],
        "zoning.budget_min": ["8", "9", "10", "12", "15"],
        "demand.solos.growth_rate": ["0.03", "0.06"]})
    assert len(sweep.scenarios) == 50

    def run():
        return scenarios.run_sweep(cfg, sweep, data_dir=args.data_dir)

    t = time.perf_counter()
    res = run()  # warm-up
    cold = time.perf_counter() - t
    sweep_s, sweep_all, res = median_time(run, args.repeats)
    print(f"sweep of 50 scenarios: cold {cold:.2f} s, warm median {sweep_s:.2f} s over "
          f"{args.repeats} ({', '.join(f'{x:.2f}' for x in sweep_all)}); "
          f"{res.routing_passes} routing passes, {res.demand_runs} demand runs, "
          f"{res.inputs_loads} demand-input load; phases {res.timings}")

    picks = [vals for _, vals in sweep.scenarios[:: max(1, 50 // args.naive)][: args.naive]]

    def naive_one(vals):
        c = config.with_values(cfg, vals)
        return study.run_study(c, overridden=keys, data_dir=args.data_dir)

    naive_times = []
    for vals in picks:
        t = time.perf_counter()
        naive_one(vals)
        naive_times.append(time.perf_counter() - t)
    naive_s = statistics.median(naive_times)
    print(f"naive run_study per scenario: median {naive_s:.2f} s over {len(picks)} "
          f"({', '.join(f'{x:.2f}' for x in naive_times)}); x50 = {50 * naive_s:.1f} s "
          "(extrapolated)")

    base = study.run_study(cfg, overridden=keys, data_dir=args.data_dir)
    z = base.zones
    zi = uncertainty.zone_index(list(base.demand.table.index), z.membership(territory_only=False),
                                z.exclusive(territory_only=False), without_pole=base.pole_removed,
                                territory_codes=base.territory.codes)
    mc = {}
    for n in (1000, 10000):
        mc[n], all_t, _ = median_time(lambda n=n: uncertainty.monte_carlo(
            base.demand.table, cfg, zi, years=base.demand.years, draws=n, seed=1), args.repeats)
        print(f"Monte Carlo {n:,} draws ({len(zi.codes)} communes, {len(zi.keys)} zone sums, "
              f"{len(base.demand.years)} years): median {mc[n]:.3f} s "
              f"({', '.join(f'{x:.3f}' for x in all_t)})")
    print(f"sweep50_s={sweep_s:.2f} naive50_est_s={50 * naive_s:.1f} "
          f"ratio={50 * naive_s / sweep_s:.1f} mc1000_s={mc[1000]:.3f}")


if __name__ == "__main__":
    main()
