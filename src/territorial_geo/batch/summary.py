"""One EPCI's summary row: the per-EPCI mini-study (zones, demand, supply, coverage) on a
partition's loaded inputs."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from territorial_geo import coverage, demand, zoning
from territorial_geo.batch.inputs import PartitionInputs
from territorial_geo.config import StudyConfig
from territorial_geo.errors import TerritorialGeoError
from territorial_geo.territory import build_territory

#: Market towns chosen per EPCI from the density grid (as a study with auto towns does).
N_TOWNS = 5
#: Coverage thresholds always reported per EPCI (minutes to the nearest CGET third place).
EPCI_MINUTES = (10.0, 20.0)


def epci_summary(
    cfg: StudyConfig, siren: str, name: str, members: list[str], data: PartitionInputs,
) -> dict:
    """One EPCI's summary row from a partition's loaded inputs (reads no file).

    Returns
    -------
    dict
        ``siren``, ``name``, ``n_communes``, ``population``, ``status`` (``ok``),
        ``error`` (empty), ``market_towns``, ``n_zones``, ``seats_<segment>_<year>`` (union
        of the zones, each commune once), ``supply_sites``, ``supply_seats`` (existing third
        places in the union of the zones), ``unmet_seats_<horizon>`` (union seats minus
        supply), ``share_population_<N>min`` (N in 10, 20 and the template's
        ``coverage.minutes``), ``uncovered_population`` (farther than
        ``coverage.budget_min`` from any existing third place), ``time_s``.

    Raises
    ------
    TerritorialGeoError
        No market town (no commune on density levels 4-5), and any stage error.
    """
    t0 = time.perf_counter()
    terr = build_territory(name, "epci", sorted(members), communes=data.communes,
                           chefs_lieux=data.chefs_lieux, ring_km=cfg.ring_km, siren=siren)
    row: dict = {"siren": siren, "name": name, "n_communes": len(terr.codes),
                 "population": float(terr.population), "status": "ok", "error": ""}
    towns = zoning.candidate_towns(terr, data.density)[:N_TOWNS]
    if not towns:
        raise TerritorialGeoError(
            f"EPCI {siren} ({name}): no market town (no commune on density-grid levels 4-5); "
            "give its towns in a study of its own")
    z = cfg.zoning
    net = data.network
    zones = zoning.build_zones(terr, towns, network=net, budget_min=z.budget_min,
                               bands=z.bands, direction=z.direction, polygons=False)
    widest = zones.within(max(zones.bands), territory_only=False)
    codes = sorted(set(terr.codes) | set(widest["code"]))
    dem = demand.commune_demand(codes, cfg.demand, census=data.census,
                                csp_shares=data.csp_shares,
                                names=terr.chefs_lieux["nom"].reindex(codes))
    membership = zones.membership(territory_only=False)
    seats = demand.zone_table(dem, membership, zones.exclusive(territory_only=False))
    union = seats[seats["variant"] == "union"]
    row["market_towns"] = ";".join(towns)
    row["n_zones"] = len(zones.zone_codes)
    for r in union.itertuples():
        row[f"seats_{r.segment}_{r.year}"] = float(r.seats)
    from territorial_geo import study

    sites = study.third_places(terr, cfg, inventory=data.inventory)
    existing = sites[sites["status"] == "existing"]
    missing = data.inventory is None
    in_union = existing[existing["code"].isin({c for v in membership.values() for c in v})]
    row["supply_sites"] = np.nan if missing else float(len(in_union))
    row["supply_seats"] = np.nan if missing else float(in_union["seats"].sum())
    h = cfg.demand.horizon_year
    row[f"unmet_seats_{h}"] = row.get(f"seats_total_{h}", np.nan) - row["supply_seats"]
    pts = terr.chefs_lieux.loc[terr.codes].geometry
    pop = terr.communes["population"].reindex(terr.codes).fillna(0.0)
    minutes = sorted(set(EPCI_MINUTES) | {float(m) for m in cfg.coverage.minutes})
    if missing:
        times = pd.Series(np.nan, index=terr.codes)
    elif len(existing):
        times = coverage.nearest_site_times(net, pts, existing)["time_min"]
    else:
        times = pd.Series(np.inf, index=terr.codes)
    shares = coverage.coverage_shares(times, pop.to_frame("population"), minutes)
    for r in shares.itertuples():
        row[f"share_population_{r.minutes:g}min"] = (np.nan if missing else
                                                     float(r.share_population))
    row["uncovered_population"] = (np.nan if missing else
                                   float(pop[~(times <= cfg.coverage.budget_min)].sum()))
    row["time_s"] = round(time.perf_counter() - t0, 3)
    return row
