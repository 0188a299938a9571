"""The study runner: territory -> network -> zones -> demand -> coverage -> maps and report.

``run_study(config)`` computes everything and returns a :class:`StudyResult`;
``write_outputs(result, out_dir)`` writes the output folder atomically (built beside it,
then renamed into place).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import (
    coverage,
    demand,
    sources,
    uncertainty,
    zoning,
)
from territorial_geo import network as netmod
from territorial_geo.config import DemandConfig, StudyConfig, SupplyConfig
from territorial_geo.i18n import Note
from territorial_geo.network.load import NO_SKELETON
from territorial_geo.outputs.prepared import OutputInputs, prepare_outputs
from territorial_geo.sources.fetching import load_state
from territorial_geo.territory import Territory, load_territory, resolve_communes

log = logging.getLogger(__name__)


@dataclass
class StudyResult:
    """Everything a study computed."""

    config: StudyConfig
    overridden: set[str]
    territory: Territory
    network: netmod.RoadNetwork
    zones: zoning.Zones
    demand: demand.CommuneDemand
    zone_seats: pd.DataFrame
    pole_removed: dict[str, list[str]]
    sites: gpd.GeoDataFrame
    supply: pd.DataFrame
    site_times: pd.DataFrame | None
    coverage: pd.DataFrame | None
    selection: coverage.SiteSelection | None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Where the existing third places came from, or why there are none
    #: (:data:`NO_INVENTORY` when the CGET inventory could not be obtained).
    inventory: str = ""
    #: The data directory's fetch state (how each dataset was obtained: copied from a
    #: mirror, downloaded or built from official sources, with the addresses used).
    data_state: dict = field(default_factory=dict)
    #: One-at-a-time sensitivity of the zone seats (:func:`uncertainty.sensitivity`).
    sensitivity: pd.DataFrame | None = None
    #: Members the variant without a competing pole drops (:func:`pole_variants`).
    pole_dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Teleworker seats under each teleworker rule (:func:`demand.rule_comparison`).
    teleworker_rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The routing engine that computed the times (:mod:`territorial_geo.network.engine`;
    #: the built-in one over ``network`` when None).
    engine: object = None
    #: What the outputs need from the network, the engine and the data directory
    #: (:func:`territorial_geo.outputs.prepare_outputs`), so that writing reads only this
    #: result.
    prepared: OutputInputs | None = None

    @property
    def inventory_missing(self) -> bool:
        """True when existing third places could not be obtained (supply unknown)."""
        return self.inventory == NO_INVENTORY


class Laps:
    """Seconds spent per stage: ``lap(name)`` adds the time since the previous call to
    ``timings[name]`` (accumulated, so a stage may be timed in several pieces)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self._t0, 3)
        self._t0 = now


def territory_network(
    spec: str, terr: Territory, *, margin_km: float = 25.0,
    profile: netmod.SpeedProfile | None = None, approx_params=None, data_dir=None,
    data: sources.Datasets | None = None,
) -> netmod.RoadNetwork:
    """The road network a spec names (see :mod:`territorial_geo.network.load`), clipped to
    the territory plus ``margin_km``; the approximate network's inputs come from ``data``
    (the run's datasets, read once; built from ``data_dir`` when not given)."""
    from territorial_geo.network.approximate import area_frames

    parsed = netmod.parse_network_spec(spec)
    kw = {}
    if parsed.format == "approximate":
        data = data or sources.Datasets(data_dir)
        communes, cl, dens = area_frames(
            terr.outline, communes=data.communes(), chefs_lieux=data.chefs_lieux(),
            density=data.density_grid(), margin_m=margin_km * 1000)
        kw = {"communes": communes, "chefs_lieux": cl, "density": dens,
              "approx_params": approx_params}
    return netmod.load_network(parsed, area=terr.outline, margin_m=margin_km * 1000,
                               profile=profile, data_dir=data_dir, **kw)


def study_engine(cfg: StudyConfig, net: netmod.RoadNetwork):
    """The routing engine of a study (``zoning.engine``, ``zoning.osrm_profile``) over
    ``net``; OSRM prepares its data here (once per extract and profile, cached)."""
    z = cfg.zoning
    return netmod.make_engine(z.engine, net, osrm_profile=z.osrm_profile or None,
                              osrm_sample_m=z.osrm_sample_m)


def study_network(
    cfg: StudyConfig, terr: Territory, *, data_dir=None, data: sources.Datasets | None = None,
) -> netmod.RoadNetwork:
    """The road network of a study (``zoning.network``, speeds and snap settings)."""
    z = cfg.zoning
    profile = z.speed_profile()
    return territory_network(z.network, terr, margin_km=z.margin_km, profile=profile,
                             approx_params=z.approx_params() if z.approximate else None,
                             data_dir=data_dir, data=data)


#: Said in the supply and coverage sections when no inventory of existing third places
#: could be obtained.
NO_INVENTORY = Note("no_inventory")
_LOAD = object()


def supply_inventory(
    cfg: StudyConfig, data_dir=None, *, data: sources.Datasets | None = None,
) -> tuple[gpd.GeoDataFrame | None, str]:
    """The inventory of existing third places a study uses, loaded once, and its label.

    ``supply.file`` (a CSV in the CGET layout; a relative path is read beside the study
    file when it is there, else from the current directory) when set, else the CGET 2019
    dataset when
    ``supply.use_cget``; when that dataset is not in the data directory (no mirror and no
    reachable address) the study runs on: ``(None, NO_INVENTORY)``.

    Raises
    ------
    DataMissingError
        ``supply.file`` is set but not found.
    """
    data = data or sources.Datasets(data_dir)
    if cfg.supply.file:
        path = Path(cfg.supply.file)
        if not path.is_absolute() and cfg.source_file:
            beside = Path(cfg.source_file).parent / path
            path = beside if beside.is_file() else path
        tp = data.third_places(str(path))
        dialect = tp.attrs.get("csv_dialect", {})
        how = (Note("inv_read_as", encoding=Note(f"enc_{dialect['encoding']}"),
                    sep=dialect["separator"]) if "separator" in dialect else "")
        return tp, Note("inv_supply_file", file=cfg.supply.file, how=how)
    if not cfg.supply.use_cget:
        return None, Note("inv_not_used")
    try:
        sources.dataset_path("third-places", data.data_dir)
    except sources.DataMissingError:
        return None, NO_INVENTORY
    d = sources.CATALOG["third-places"]
    return data.third_places(), Note("inv_cget", source=d.source, vintage=d.vintage)


def site_seats(sites: pd.DataFrame, supply: SupplyConfig) -> tuple[list[float], list[str]]:
    """Seats of existing third places and where each figure comes from, first found of:
    ``supply.site_seats`` by id (``study file (supply.site_seats)``), the inventory's own
    ``seats`` column (``supply file (seats column)``; a ``supply.file`` may carry one),
    ``supply.seats_per_site`` (``ASSUMPTION (seats_per_site)``)."""
    own = (sites["seats"] if "seats" in sites else pd.Series(np.nan, index=sites.index))
    seats, src = [], []
    for i, v in zip(sites["id"].astype(str), own.astype(float), strict=True):
        if i in supply.site_seats:
            seats.append(float(supply.site_seats[i]))
            src.append("study file (supply.site_seats)")
        elif np.isfinite(v):
            seats.append(float(v))
            src.append("supply file (seats column)")
        else:
            seats.append(float(supply.seats_per_site))
            src.append("ASSUMPTION (seats_per_site)")
    return seats, src


def third_places(
    territory: Territory, cfg: StudyConfig, data_dir=None, *, inventory=_LOAD,
    data: sources.Datasets | None = None,
) -> gpd.GeoDataFrame:
    """Existing (CGET 2019 or ``supply.file``) and planned third places in the territory and
    its ring.

    ``inventory`` is the frame :func:`supply_inventory` returned (``None``: no existing
    place); loaded here when not given. Columns ``name``, ``type``, ``status``
    (``existing``/``planned``), ``code``, ``seats``, ``seats_source``, geometry (EPSG:2154).
    """
    data = data or sources.Datasets(data_dir)
    if inventory is _LOAD:
        inventory, _ = supply_inventory(cfg, data=data)
    frames = []
    if inventory is not None:
        tp = inventory[inventory["code"].isin(territory.all_codes)].copy()
        tp["status"] = "existing"
        tp["seats"], tp["seats_source"] = site_seats(tp, cfg.supply)
        frames.append(tp[["id", "name", "type", "status", "code", "seats", "seats_source",
                          "geometry"]])
    if cfg.supply.planned:
        codes = resolve_communes(cfg.supply.planned, data=data, within=territory.all_codes)
        cl = territory.chefs_lieux
        frames.append(gpd.GeoDataFrame({
            "id": [f"planned-{c}" for c in codes],
            "name": [f"Planned: {cl.loc[c, 'nom']}" for c in codes],
            "type": "planned", "status": "planned", "code": codes,
            "seats": cfg.supply.seats_per_site, "seats_source": "ASSUMPTION (seats_per_site)",
        }, geometry=cl.loc[codes].geometry.to_numpy(), crs=cl.crs))
    if not frames:
        return gpd.GeoDataFrame({"id": [], "name": [], "type": [], "status": [], "code": [],
                                 "seats": [], "seats_source": []}, geometry=[],
                                crs=sources.WORKING_CRS)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=sources.WORKING_CRS)


def demand_inputs(
    cfg: DemandConfig, codes: list[str], *, data_dir: str | os.PathLike | None = None,
    data: sources.Datasets | None = None,
) -> dict:
    """Load, once, the tables the demand stage needs for a configuration.

    Returns
    -------
    dict
        Keyword arguments for :func:`demand.commune_demand`: ``census`` (which also feeds
        the labelled solo-worker fallback), ``csp_shares`` and, when
        ``cfg.solos.sirene_file`` is set, ``sirene_counts`` (counted for ``codes``).
    """
    data = data or sources.Datasets(data_dir)
    out = {"census": data.census(), "csp_shares": data.csp_shares(cfg.csp_year)}
    if cfg.solos.sirene_file:
        out["sirene_counts"] = sources.count_sirene_solos(
            cfg.solos.sirene_file, naf_codes=cfg.solos.naf_codes, bands=cfg.solos.bands,
            communes=codes)
    return out


def commune_demand_from_data(
    codes: list[str], cfg: DemandConfig, *, data_dir: str | os.PathLike | None = None,
    names: pd.Series | None = None, data: sources.Datasets | None = None,
) -> demand.CommuneDemand:
    """Convenience for the CLI and notebooks: load the inputs (from ``data`` when given),
    then run the demand stage."""
    return demand.commune_demand(codes, cfg, names=names,
                                 **demand_inputs(cfg, codes, data_dir=data_dir, data=data))


def demand_weights(terr: Territory, dem: demand.CommuneDemand, cfg: DemandConfig) -> pd.DataFrame:
    """Demand measures per territory commune for coverage and site selection: population
    (2026), teleworkers, solos (base year) and seats (horizon year)."""
    return pd.DataFrame({
        "population": terr.communes["population"],
        "teleworkers": dem.table["teleworkers"],
        "solos": dem.table[f"solos_{cfg.base_year}"],
        "seats": dem.table[f"seats_total_{cfg.horizon_year}"],
    }).reindex(terr.codes).fillna(0.0)


def candidate_codes(
    terr: Territory, how: str, *, towns: list[str] | None = None,
    candidate_list: list[str] | None = None, data_dir=None, data: sources.Datasets | None = None,
) -> list[str]:
    """Candidate communes for new sites: ``density`` (grid levels 4-5), ``towns`` (the
    market towns), ``all`` (every territory commune) or ``list`` (``candidate_list``)."""
    if how == "towns":
        return list(towns or [])
    data = data or sources.Datasets(data_dir)
    if how == "list":
        return resolve_communes(candidate_list or [], data=data, within=terr.all_codes)
    if how == "all":
        return list(terr.codes)
    return zoning.candidate_towns(terr, data.density_grid()["dens"])


def run_study(
    cfg: StudyConfig,
    *,
    overridden: set[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    data: sources.Datasets | None = None,
) -> StudyResult:
    """Run a whole study in memory (no file written).

    Parameters
    ----------
    cfg
        Validated study configuration.
    overridden
        Keys set by the study file (provenance).
    data_dir
        Data directory.
    progress
        Called with a short message before each step.
    data
        The datasets to read from, each once (:class:`~territorial_geo.sources.Datasets`);
        a new one over ``data_dir`` when not given.
    """
    say = progress or (lambda _m: None)
    lap = Laps()
    timings = lap.timings

    say("territory")
    data = data or sources.Datasets(data_dir)  # each dataset read once, here at the edge
    terr = load_territory(cfg.territory, ring_km=cfg.ring_km, data=data)
    lap("territory")
    say("road network")
    z = cfg.zoning
    net = study_network(cfg, terr, data_dir=data.data_dir, data=data)
    engine = study_engine(cfg, net)
    profile = net.profile
    lap("network")
    say("zones")
    towns = list(z.market_towns) or (zoning.candidate_towns(
        terr, data.density_grid()["dens"])[:5]
                                     if z.auto_towns else [])
    zones = zoning.build_zones(terr, towns, network=net, budget_min=z.budget_min,
                               bands=z.bands, direction=z.direction,
                               edge_buffer_m=z.edge_buffer_m, engine=engine)
    # every member counts, wherever it lives: a zone's catchment crosses the border
    membership = zones.membership(territory_only=False)
    pole_removed, pole_dropped, pole_notes = pole_variants(cfg, terr, zones, net, data=data,
                                                           engine=engine)
    lap("zones")
    say("demand")
    # demand for the territory and every commune within any zone's largest band
    widest = zones.within(max(zones.bands), territory_only=False)
    outside = sorted(set(widest["code"]) - set(terr.codes))
    demand_codes = sorted(set(terr.codes) | set(outside))
    dem = demand.commune_demand(demand_codes, cfg.demand,
                                names=terr.chefs_lieux["nom"].reindex(demand_codes),
                                **demand_inputs(cfg.demand, demand_codes, data=data))
    inventory, inv_label = supply_inventory(cfg, data=data)
    missing_inv = inv_label == NO_INVENTORY
    sites = third_places(terr, cfg, inventory=inventory, data=data)
    all_members = zones.within(territory_only=False)
    supply_rows = []
    for zc in zones.zone_codes:
        in_zone = set(all_members.loc[all_members["zone"] == zc, "code"])
        s = sites[sites["code"].isin(in_zone) & (sites["status"] == "existing")]
        supply_rows.append({"zone": zc, "zone_name": zones.towns.loc[zc, "nom"],
                            # unknown, not zero, when there is no inventory
                            "n_sites": np.nan if missing_inv else len(s),
                            "seats": np.nan if missing_inv else float(s["seats"].sum()),
                            "sites": "; ".join(s["name"].astype(str)), "inventory": inv_label})
    supply = pd.DataFrame(supply_rows)
    names = dict(zip(zones.towns.index, zones.towns["nom"], strict=True))
    zone_seats = demand.zone_table(
        dem, membership, zones.exclusive(territory_only=False), without_pole=pole_removed,
        supply_seats=None if missing_inv else dict(zip(supply["zone"], supply["seats"],
                                                       strict=True)),
        names=names, territory_codes=terr.codes)
    tele_rules = demand.rule_comparison(dem, cfg.demand, membership, names=names)
    sens = None
    if cfg.uncertainty.draws > 0:  # Monte Carlo intervals and sensitivity (issue 11)
        zone_seats, sens = uncertainty.study_uncertainty(
            dem, cfg, zone_seats, membership, zones.exclusive(territory_only=False),
            without_pole=pole_removed, territory_codes=terr.codes,
            supply_seats=None if missing_inv else dict(zip(supply["zone"], supply["seats"],
                                                           strict=True)))
    lap("demand")
    site_times = cov = sel = None
    notes = list(dem.notes) + pole_notes
    if missing_inv:
        notes.append(Note("note_no_inventory_supply", what=NO_INVENTORY))
    n_out = len(set(all_members["code"]) - set(terr.codes))
    notes.append(Note("note_border", n_out=n_out, budget=zones.budget_min, territory=terr.name,
                      n_outside=len(outside), max_band=max(zones.bands)))
    say("coverage")
    cc = cfg.coverage
    use = sites if cc.sites == "both" else sites[sites["status"] == cc.sites]
    pts = terr.chefs_lieux.loc[terr.codes].geometry
    weights = demand_weights(terr, dem, cfg.demand)
    # existing sites count in coverage and selection unless only planned ones are asked for
    inv_matters = missing_inv and cc.sites in ("existing", "both")
    if len(use):
        site_times = coverage.nearest_site_times(net, pts, use, engine=engine)
        wcols = weights[["population", "teleworkers", "solos"]]
        parts = [coverage.coverage_shares(site_times["time_min"], wcols, cc.minutes).assign(
            level="territory")]
        for level, col in (("epci", "epci_siren"), ("department", "departement")):
            parts.append(coverage.coverage_shares(
                site_times["time_min"], wcols, cc.minutes,
                groups=terr.communes[col].reindex(terr.codes).fillna("none")).assign(level=level))
        cov = pd.concat(parts, ignore_index=True)
        existing_cover = (site_times["time_min"] <= cc.budget_min).to_numpy()
        if inv_matters:
            notes.append(Note("note_cov_planned_only", what=NO_INVENTORY))
    elif inv_matters:
        notes.append(Note("note_cov_skipped", what=NO_INVENTORY))
        existing_cover = np.zeros(len(terr.codes), bool)
    else:
        notes.append(Note("note_cov_zero"))
        existing_cover = np.zeros(len(terr.codes), bool)
    if cc.k > 0:
        cands = candidate_codes(terr, cc.candidates, towns=zones.zone_codes,
                                candidate_list=cc.candidate_list, data=data)
        if cands:
            cover = np.isfinite(coverage.cover_matrix(
                net, pts, terr.chefs_lieux.loc[cands].geometry, cc.budget_min * 60))
            labels = [f"{terr.chefs_lieux.loc[c, 'nom']} ({c})" for c in cands]
            sel = coverage.select_sites(cover, weights[cc.weight].to_numpy(),
                                        min(cc.k, len(cands)), labels=labels,
                                        existing_cover=existing_cover)
            if inv_matters:
                notes.append(Note("note_sel_no_existing", what=NO_INVENTORY))
        else:
            notes.append(Note("note_sel_skipped"))
    lap("coverage")
    far = zones.snaps.loc[terr.codes]
    n_far = int(far["far"].sum())
    notes.append(Note("note_snap", median=float(far["snap_m"].median()),
                      max=float(far["snap_m"].max()), n_far=n_far,
                      max_snap=float(profile.max_snap_m), kmh=float(profile.snap_kmh)))
    if zones.uncovered():
        notes.append(Note("note_uncovered", n=len(zones.uncovered()), budget=z.budget_min,
                          codes=zones.uncovered()[:30]))
    if net.kind == "approximate" and net.source.get("note", "").startswith(
            NO_SKELETON):
        notes.append(Note("note_road_network", text=net.source["note"]))
    res = StudyResult(cfg, overridden or set(), terr, net, zones, dem, zone_seats, pole_removed,
                      sites, supply, site_times, cov, sel, timings, notes, inv_label,
                      load_state(sources.resolve_data_dir(data.data_dir)), sens,
                      pole_dropped, tele_rules, engine)
    res.prepared = prepare_outputs(res, data_dir=data.data_dir)  # routed here, not when writing
    return res


def pole_variants(
    cfg: StudyConfig, terr: Territory, zones: zoning.Zones, net: netmod.RoadNetwork, *,
    data: sources.Datasets, engine=None,
) -> tuple[dict[str, list[str]], pd.DataFrame, list[str]]:
    """The variant without a competing pole of every ``[[poles]]`` entry (docs/method.md
    §6.1): the pole's own zone is routed (same budget and direction) and
    :meth:`zoning.Zones.pole_dropped` applies the entry's ``rule``. ``engine`` is the
    routing engine of the study's zones (the built-in one over ``net`` when None).

    Returns
    -------
    (dict, pandas.DataFrame, list of str)
        Zone -> members kept; the dropped members (``zone``, ``zone_name``, ``pole``,
        ``pole_name``, ``rule``, ``code``, ``nom``, ``in_territory``, ``time_to_town_min``,
        ``time_to_pole_min``, ``market_town``: the dropped commune is another market
        town); one note per pole, a WARNING when a market town is dropped.

    Raises
    ------
    UnknownPlaceError
        A pole's zone that is not a market town.
    """
    membership = zones.membership(territory_only=False)
    kept: dict[str, list[str]] = {}
    parts, notes = [], []
    z = cfg.zoning
    for p in cfg.poles:
        zone_code = resolve_communes([p.zone], data=data, within=terr.all_codes)[0]
        if zone_code not in membership:
            raise sources.UnknownPlaceError(
                f"poles: zone {p.zone!r} is not one of the market towns {list(membership)}")
        pz = zoning.build_zones(terr, [p.pole], network=net, budget_min=z.budget_min,
                                direction=z.direction, polygons=False, engine=engine)
        pole_code = pz.zone_codes[0]
        d = zones.pole_dropped(zone_code, pz, territory_only=False, rule=p.rule)
        gone = set(d["code"])
        kept[zone_code] = [c for c in membership[zone_code] if c not in gone]
        town, pole_name = zones.towns.loc[zone_code, "nom"], pz.towns.loc[pole_code, "nom"]
        d = d.assign(zone=zone_code, zone_name=town, pole=pole_code, pole_name=pole_name,
                     rule=p.rule, market_town=d["code"].isin(zones.zone_codes))
        parts.append(d)
        notes.append(Note("note_pole", pole=pole_name, pole_code=pole_code, town=town,
                          zone_code=zone_code, rule=p.rule, n=len(gone),
                          rule_label=Note(f"pole_rule_{p.rule}"),
                          n_all=len(membership[zone_code]),
                          names=f" ({', '.join(d['nom'].astype(str))})" if len(d) else ""))
        others = d[d["market_town"]]
        if len(others):
            msg = Note("note_pole_warning", rule=p.rule, rule_label=Note(f"pole_rule_{p.rule}"),
                       town=town,
                       towns=[f"{n} ({c})" for c, n in zip(others["code"], others["nom"],
                                                            strict=True)])
            log.warning(msg)
            notes.append(msg)
    cols = ["zone", "zone_name", "pole", "pole_name", "rule", "code", "nom", "in_territory",
            "time_to_town_min", "time_to_pole_min", "market_town"]
    dropped = (pd.concat(parts, ignore_index=True)[cols] if parts
               else pd.DataFrame(columns=cols))
    return kept, dropped, notes


def write_outputs(
    res: StudyResult, out_dir: str | os.PathLike, *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the study folder atomically and return its path
    (:func:`territorial_geo.outputs.write_outputs`: every file, from ``res`` alone)."""
    from territorial_geo.outputs import write_outputs as _write

    return _write(res, out_dir, progress=progress)
