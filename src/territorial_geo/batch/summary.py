"""One EPCI's summary row: the per-EPCI mini-study (zones, demand, supply, coverage) on a
partition's loaded inputs."""

from __future__ import annotations

import time

import numpy as np

from territorial_geo import demand, pipeline
from territorial_geo.batch.inputs import PartitionInputs
from territorial_geo.batch.template import template
from territorial_geo.config import StudyConfig
from territorial_geo.errors import TerritorialGeoError
from territorial_geo.territory import build_territory

#: Coverage thresholds always reported per EPCI (minutes to the nearest CGET third place).
EPCI_MINUTES = (10.0, 20.0)


def epci_summary(
    cfg: StudyConfig, siren: str, name: str, members: list[str], data: PartitionInputs,
) -> dict:
    """One EPCI's summary row from a partition's loaded inputs (reads no file): the
    study's stages (:mod:`territorial_geo.pipeline`) over the EPCI, its market towns taken
    from the density grid.

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
    cfg = template(cfg)  # market towns from the density grid, no pole nor planned site
    terr = build_territory(name, "epci", sorted(members), communes=data.communes,
                           chefs_lieux=data.chefs_lieux, ring_km=cfg.ring_km, siren=siren)
    row: dict = {"siren": siren, "name": name, "n_communes": len(terr.codes),
                 "population": float(terr.population), "status": "ok", "error": ""}
    inputs = pipeline.inputs_from_frames(
        cfg, terr, data.network, census=data.census, csp_shares=data.csp_shares,
        inventory=data.inventory, inventory_label=data.inventory_label, density=data.density,
        engine=data.engine)
    if not inputs.towns:
        raise TerritorialGeoError(
            f"EPCI {siren} ({name}): no market town (no commune on density-grid levels 4-5); "
            "give its towns in a study of its own")
    zr = pipeline.zones_stage(inputs, polygons=False)
    dem = pipeline.demand_stage(inputs, zr)
    seats = pipeline.seats_stage(inputs, zr, dem, None, uncertainty_draws=False,
                                 rules=False).zone_seats
    row["market_towns"] = ";".join(inputs.towns)
    row["n_zones"] = len(zr.zones.zone_codes)
    for r in seats[seats["variant"] == demand.UNION].itertuples():
        row[f"seats_{r.segment}_{r.year}"] = float(r.seats)
    sites = inputs.sites
    existing = sites[sites["status"] == "existing"]
    missing = inputs.inventory_missing
    in_union = existing[existing["code"].isin({c for v in zr.membership.values() for c in v})]
    row["supply_sites"] = np.nan if missing else float(len(in_union))
    row["supply_seats"] = np.nan if missing else float(in_union["seats"].sum())
    h = cfg.demand.horizon_year
    row[f"unmet_seats_{h}"] = row.get(f"seats_total_{h}", np.nan) - row["supply_seats"]
    minutes = sorted(set(EPCI_MINUTES) | {float(m) for m in cfg.coverage.minutes})
    cov = pipeline.coverage_stage(inputs, dem, minutes=minutes, sites="existing", levels=False)
    for r in cov.shares().itertuples():
        row[f"share_population_{r.minutes:g}min"] = (np.nan if missing else
                                                     float(r.share_population))
    pop = cov.weights["population"]
    row["uncovered_population"] = (np.nan if missing else
                                   float(pop[~cov.existing_cover].sum()))
    row["time_s"] = round(time.perf_counter() - t0, 3)
    return row
