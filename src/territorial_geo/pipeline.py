"""One pipeline: inputs resolved once at the edge, then pure stages over frames.

:func:`load_inputs` reads and resolves everything a study needs (territory, road network
and routing engine, market towns, competing poles, planned sites and site-selection
candidates by name, the third-place inventory, the census and CSP tables) into one frozen
:class:`StudyInputs`. Downloads, caches and name look-ups happen there and nowhere else.

The stages then take the inputs (and the results of the stages before them) and return
result objects, reading no file:

======================  =========================================================
:func:`zones_stage`     drive-time zones, memberships, the variants without a pole
:func:`demand_stage`    teleworkers, solos and seats per commune
:func:`supply_stage`    existing third places per zone
:func:`seats_stage`     seats per zone, variant, segment and year (+ uncertainty)
:func:`coverage_stage`  time to the nearest third place and the shares covered
:func:`selection_stage` where new sites would cover most demand
======================  =========================================================

``study.run_study``, the CLI's ``coverage`` and ``site-selection`` commands,
``batch`` (one EPCI at a time) and ``scenarios.run_sweep`` all chain these stages.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import coverage, demand, maps, sources, uncertainty, zoning
from territorial_geo import network as netmod
from territorial_geo.config import DemandConfig, StudyConfig, ZoningConfig
from territorial_geo.i18n import Note
from territorial_geo.sources.fetching import Progress, load_state
from territorial_geo.supply import NO_INVENTORY, supply_inventory, third_places
from territorial_geo.territory import Territory, load_territory, resolve_communes

log = logging.getLogger(__name__)

#: Measures coverage shares are computed for.
COVERAGE_MEASURES = ("population", "teleworkers", "solos")


# ------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Pole:
    """A competing pole resolved to codes: the zone (a market town), the pole commune and
    the rule of its variant (``closer_to_pole`` or ``within_budget``)."""

    zone: str
    pole: str
    rule: str


@dataclass(frozen=True)
class StudyInputs:
    """Everything a study reads, resolved once (:func:`load_inputs`).

    Attributes
    ----------
    config
        The study configuration.
    territory
        The territory, its ring and their chefs-lieux.
    network
        The road network over the territory plus ``zoning.margin_km``.
    engine
        The routing engine over ``network`` (built-in or OSRM).
    towns
        Market-town codes (``zoning.market_towns`` resolved, else the first
        :data:`zoning.DEFAULT_TOWNS` density-grid candidates when ``zoning.auto_towns``).
    poles
        The ``[[poles]]`` entries resolved to codes.
    sites
        Existing (inventory) and planned third places in the territory and its ring
        (:func:`territorial_geo.supply.third_places` layout).
    inventory_label
        Where the existing third places came from, or :data:`NO_INVENTORY`.
    candidates
        Candidate communes for new sites (``coverage.candidates``).
    demand_inputs
        Keyword arguments of :func:`territorial_geo.demand.commune_demand` (``census``,
        ``csp_shares`` and, with a SIRENE file, ``sirene_counts``).
    density
        Density-grid level by commune code.
    data_state
        The data directory's fetch state (how each dataset was obtained).
    leaflet
        Leaflet's script and stylesheet from the data directory, inlined in the web map
        (None when the ``leaflet`` dataset was not fetched).
    render_cache
        Folder where the outputs keep their renders (``<data dir>/cache/renders``; None
        with ``output.render_cache = false``).
    """

    config: StudyConfig
    territory: Territory
    network: netmod.RoadNetwork
    engine: object
    towns: tuple[str, ...]
    poles: tuple[Pole, ...]
    sites: gpd.GeoDataFrame
    inventory_label: str
    candidates: tuple[str, ...]
    demand_inputs: dict
    density: pd.Series
    data_state: dict = field(default_factory=dict)
    leaflet: tuple[str, str] | None = None
    render_cache: Path | None = None

    @property
    def inventory_missing(self) -> bool:
        """True when existing third places could not be obtained (supply unknown)."""
        return self.inventory_label == NO_INVENTORY


def resolve_towns(
    zcfg: ZoningConfig, territory: Territory, density: pd.Series, *,
    data: sources.Datasets,
) -> list[str]:
    """Market-town codes of a zoning configuration: ``market_towns`` resolved (names or
    codes, preferring the territory and its ring), else :func:`zoning.default_market_towns` when
    ``auto_towns``, else none."""
    if zcfg.market_towns:
        return resolve_communes(list(zcfg.market_towns), data=data, within=territory.all_codes)
    return zoning.default_market_towns(territory, density) if zcfg.auto_towns else []


def road_network(
    spec: str, territory: Territory, *, margin_km: float,
    profile: netmod.SpeedProfile | None = None, approx_params=None,
    data: sources.Datasets,
) -> netmod.RoadNetwork:
    """The road network a spec names (see :mod:`territorial_geo.network.load`), clipped to
    the territory plus ``margin_km``; the approximate network's inputs (communes,
    chefs-lieux, density grid) come from ``data``."""
    from territorial_geo.network.approximate import area_frames

    parsed = netmod.parse_network_spec(spec)
    kw = {}
    if parsed.format == "approximate":
        communes, cl, dens = area_frames(
            territory.outline, communes=data.communes(), chefs_lieux=data.chefs_lieux(),
            density=data.density_grid(), margin_m=margin_km * 1000)
        kw = {"communes": communes, "chefs_lieux": cl, "density": dens,
              "approx_params": approx_params}
    return netmod.load_network(parsed, area=territory.outline, margin_m=margin_km * 1000,
                               profile=profile, data_dir=data.data_dir, **kw)


def network_for(
    cfg: StudyConfig, territory: Territory, *, data: sources.Datasets,
) -> netmod.RoadNetwork:
    """The road network of a study (``zoning.network``, speeds and snap settings) over the
    territory plus ``zoning.margin_km`` (:func:`road_network`)."""
    z = cfg.zoning
    return road_network(z.network, territory, margin_km=z.margin_km,
                        profile=netmod.speed_profile(z),
                        approx_params=netmod.approx_params(z) if z.approximate else None,
                        data=data)


def engine_for(cfg: StudyConfig, network: netmod.RoadNetwork, *, threads: int | None = None):
    """The routing engine of a study (``zoning.engine``, ``zoning.osrm_profile``) over
    ``network``; OSRM prepares its data here (once per extract and profile, cached).
    ``threads``: the built-in kernel's threads (its default when None)."""
    z = cfg.zoning
    return netmod.make_engine(z.engine, network, osrm_profile=z.osrm_profile or None,
                              osrm_sample_m=z.osrm_sample_m, threads=threads)


def load_demand_inputs(
    dcfg: DemandConfig, codes: list[str], *, data: sources.Datasets,
) -> dict:
    """The tables the demand stage reads for a demand configuration: ``census``,
    ``csp_shares`` (``csp_year``) and, when ``solos.sirene_file`` is set, ``sirene_counts``
    counted for ``codes``."""
    out = {"census": data.census(), "csp_shares": data.csp_shares(dcfg.csp_year)}
    if dcfg.solos.sirene_file:
        out["sirene_counts"] = sources.count_sirene_solos(
            dcfg.solos.sirene_file, naf_codes=dcfg.solos.naf_codes, bands=dcfg.solos.bands,
            communes=codes)
    return out


def commune_demand_from_data(
    codes: list[str], dcfg: DemandConfig, *, data: sources.Datasets | None = None,
    data_dir: str | os.PathLike | None = None, names: pd.Series | None = None,
) -> demand.CommuneDemand:
    """Convenience for the notebooks and tests: read the demand inputs
    (:func:`load_demand_inputs`), then run the demand model over ``codes``."""
    data = data or sources.Datasets(data_dir)
    return demand.commune_demand(codes, dcfg, names=names,
                                 **load_demand_inputs(dcfg, codes, data=data))


def resolve_poles(
    cfg: StudyConfig, territory: Territory, towns: list[str], *, data: sources.Datasets,
) -> tuple[Pole, ...]:
    """The ``[[poles]]`` entries resolved to codes.

    Raises
    ------
    UnknownPlaceError
        A pole's zone that is not one of the market towns, or an unknown commune.
    """
    out = []
    for p in cfg.poles:
        zone = resolve_communes([p.zone], data=data, within=territory.all_codes)[0]
        if zone not in towns:
            raise sources.UnknownPlaceError(
                f"poles: zone {p.zone!r} is not one of the market towns {list(towns)}")
        pole = resolve_communes([p.pole], data=data, within=territory.all_codes)[0]
        out.append(Pole(zone, pole, p.rule))
    return tuple(out)


def load_inputs(
    cfg: StudyConfig, data: sources.Datasets | None = None, *,
    data_dir: str | os.PathLike | None = None, progress: Progress | None = None,
    laps: Callable[[str], None] | None = None,
) -> StudyInputs:
    """Read and resolve everything a study needs, once (the pipeline's edge).

    Parameters
    ----------
    cfg
        The study configuration.
    data
        The datasets to read from, each once; a new one over ``data_dir`` when not given.
    data_dir
        Data directory (when ``data`` is not given).
    progress
        Called with a short message before each step.
    laps
        Called with ``"territory"`` and ``"network"`` after those steps (stage timings).

    Raises
    ------
    UnknownPlaceError
        A territory, market town, pole, planned site or candidate that names no commune.
    DataMissingError
        A dataset or ``supply.file`` that is not there.
    """
    say = progress or (lambda _m: None)
    lap = laps or (lambda _m: None)
    # engine = osrm on a network OSRM cannot read: refused before any file is read
    netmod.check_engine_network(cfg.zoning.engine, cfg.zoning.network)
    data = data or sources.Datasets(data_dir)
    say("territory")
    terr = load_territory(cfg.territory, ring_km=cfg.ring_km, data=data)
    density = data.density_grid()["dens"]
    lap("territory")
    say("road network")
    net = network_for(cfg, terr, data=data)
    engine = engine_for(cfg, net)
    lap("network")
    towns = resolve_towns(cfg.zoning, terr, density, data=data)
    poles = resolve_poles(cfg, terr, towns, data=data)
    inventory, label = supply_inventory(cfg, data=data)
    sites = third_places(terr, cfg, inventory=inventory, data=data)
    cc = cfg.coverage
    if cc.candidates == "towns":
        cands = list(towns)
    elif cc.candidates == "list":
        cands = resolve_communes(list(cc.candidate_list), data=data, within=terr.all_codes)
    elif cc.candidates == "all":
        cands = list(terr.codes)
    else:
        cands = zoning.candidate_towns(terr, density)
    dem_in = load_demand_inputs(cfg.demand, terr.all_codes, data=data)
    root = sources.resolve_data_dir(data.data_dir)
    return StudyInputs(cfg, terr, net, engine, tuple(towns), poles, sites, label,
                       tuple(cands), dem_in, density, load_state(root),
                       maps.leaflet_assets(root),
                       root / "cache" / "renders" if cfg.output.render_cache else None)


def inputs_from_frames(
    cfg: StudyConfig, territory: Territory, network: netmod.RoadNetwork, *,
    census, csp_shares, inventory: gpd.GeoDataFrame | None, inventory_label: str,
    density: pd.Series, engine=None,
) -> StudyInputs:
    """Inputs built from tables already in memory (a batch task reads the national tables
    once for many EPCIs): market towns from the density grid (:func:`zoning.default_market_towns`), the
    inventory's places in the territory and its ring, no pole, no planned site.

    Raises
    ------
    ConfigError
        ``cfg`` names places (market towns, poles, planned sites, a candidate list): those
        are resolved by :func:`load_inputs` only.
    """
    from territorial_geo.errors import ConfigError

    named = [k for k, v in (("zoning.market_towns", cfg.zoning.market_towns),
                            ("poles", cfg.poles), ("supply.planned", cfg.supply.planned))
             if v]
    if named:
        raise ConfigError(f"{', '.join(named)}: names are resolved by load_inputs only; "
                          "inputs built from frames take their market towns from the density "
                          "grid")
    towns = zoning.default_market_towns(territory, density) if cfg.zoning.auto_towns else []
    sites = third_places(territory, cfg, inventory=inventory)
    return StudyInputs(cfg, territory, network, engine or netmod.engine_of(None, network),
                       tuple(towns), (), sites, inventory_label, tuple(towns),
                       {"census": census, "csp_shares": csp_shares}, density)


# ------------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class ZoneResult:
    """The zones of one zoning configuration (:func:`zones_stage`).

    Attributes
    ----------
    zones
        The zones (members of every band, wherever they lie; polygons when asked).
    membership
        Zone -> member codes within the budget, territory and beyond.
    exclusive
        Each member's nearest zone (:meth:`Zones.exclusive`).
    without_pole
        Zone -> members kept by the variant without its competing pole.
    pole_dropped
        The members each pole variant drops (``zone``, ``zone_name``, ``pole``,
        ``pole_name``, ``rule``, ``code``, ``nom``, ``in_territory``,
        ``time_to_town_min``, ``time_to_pole_min``, ``market_town``).
    notes
        One note per pole (a warning when another market town is dropped).
    """

    zones: zoning.Zones
    membership: dict[str, list[str]]
    exclusive: pd.Series
    without_pole: dict[str, list[str]]
    pole_dropped: pd.DataFrame
    notes: tuple = ()

    @cached_property
    def names(self) -> dict[str, str]:
        """Zone code -> market-town name."""
        return dict(zip(self.zones.towns.index, self.zones.towns["nom"], strict=True))

    @cached_property
    def demand_codes(self) -> list[str]:
        """Every commune within any zone's widest band, territory or not."""
        return sorted(set(self.zones.within(max(self.zones.bands), territory_only=False)["code"]))


POLE_COLUMNS = ["zone", "zone_name", "pole", "pole_name", "rule", "code", "nom",
                "in_territory", "time_to_town_min", "time_to_pole_min", "market_town"]


def zones_stage(
    inputs: StudyInputs, *, zoning_cfg: ZoningConfig | None = None,
    towns: list[str] | None = None, polygons: bool = True,
) -> ZoneResult:
    """Drive-time zones around the market towns and the variants without a competing pole
    (docs/method.md §3 and §6.1).

    Parameters
    ----------
    inputs
        :func:`load_inputs`.
    zoning_cfg
        Zoning parameters (budget, bands, direction); the study's by default (a sweep
        passes each scenario's).
    towns
        Market-town codes; ``inputs.towns`` by default.
    polygons
        Compute the isochrone polygons (maps need them; sweeps and batches do not).

    Raises
    ------
    UnknownPlaceError
        No market town.
    """
    z = zoning_cfg or inputs.config.zoning
    towns = list(inputs.towns if towns is None else towns)
    terr, net, eng = inputs.territory, inputs.network, inputs.engine
    zones = zoning.build_zones(terr, towns, network=net, budget_min=z.budget_min,
                               bands=z.bands, direction=z.direction, polygons=polygons,
                               edge_buffer_m=z.edge_buffer_m, engine=eng)
    membership = zones.membership(territory_only=False)
    kept: dict[str, list[str]] = {}
    parts, notes = [], []
    for p in inputs.poles:
        if p.zone not in membership:  # a scenario whose towns leave the pole's zone out
            continue
        pz = zoning.build_zones(terr, [p.pole], network=net, budget_min=z.budget_min,
                                direction=z.direction, polygons=False, engine=eng)
        d = zones.pole_dropped(p.zone, pz, territory_only=False, rule=p.rule)
        gone = set(d["code"])
        kept[p.zone] = [c for c in membership[p.zone] if c not in gone]
        town, pole_name = zones.towns.loc[p.zone, "nom"], pz.towns.loc[p.pole, "nom"]
        d = d.assign(zone=p.zone, zone_name=town, pole=p.pole, pole_name=pole_name,
                     rule=p.rule, market_town=d["code"].isin(zones.zone_codes))
        parts.append(d)
        notes.append(Note("note_pole", pole=pole_name, pole_code=p.pole, town=town,
                          zone_code=p.zone, rule=p.rule, n=len(gone),
                          rule_label=Note(f"pole_rule_{p.rule}"),
                          n_all=len(membership[p.zone]),
                          names=f" ({', '.join(d['nom'].astype(str))})" if len(d) else ""))
        others = d[d["market_town"]]
        if len(others):
            msg = Note("note_pole_warning", rule=p.rule, rule_label=Note(f"pole_rule_{p.rule}"),
                       town=town,
                       towns=[f"{n} ({c})" for c, n in zip(others["code"], others["nom"],
                                                            strict=True)])
            log.warning(msg)
            notes.append(msg)
    dropped = (pd.concat(parts, ignore_index=True)[POLE_COLUMNS] if parts
               else pd.DataFrame(columns=POLE_COLUMNS))
    return ZoneResult(zones, membership, zones.exclusive(territory_only=False), kept, dropped,
                      tuple(notes))


def demand_stage(
    inputs: StudyInputs, zones: ZoneResult | None = None, *,
    demand_cfg: DemandConfig | None = None, demand_inputs: dict | None = None,
    codes: list[str] | None = None,
) -> demand.CommuneDemand:
    """Teleworkers, solos and seats per commune (docs/method.md §4-5) for the territory
    and every commune within any zone's widest band.

    Parameters
    ----------
    inputs
        :func:`load_inputs`.
    zones
        :func:`zones_stage`; without it, the territory's communes only.
    demand_cfg
        Demand parameters; the study's by default (a sweep passes each scenario's).
    demand_inputs
        The tables for ``demand_cfg`` (:func:`load_demand_inputs`); ``inputs``' by default.
    codes
        The communes, when given (overrides the territory + zones rule).
    """
    terr = inputs.territory
    if codes is None:
        codes = sorted(set(terr.codes) | set(zones.demand_codes if zones else ()))
    return demand.commune_demand(codes, demand_cfg or inputs.config.demand,
                                 names=terr.chefs_lieux["nom"].reindex(codes),
                                 **(demand_inputs or inputs.demand_inputs))


@dataclass(frozen=True)
class SupplyResult:
    """Existing third places per zone (:func:`supply_stage`): ``table`` (``zone``,
    ``zone_name``, ``n_sites``, ``seats``, ``sites``, ``inventory``; NaN when there is no
    inventory) and ``seats`` (zone -> seats; None without inventory)."""

    table: pd.DataFrame
    seats: dict[str, float] | None


def supply_stage(inputs: StudyInputs, zones: ZoneResult) -> SupplyResult:
    """Existing third places among each zone's members within the budget (territory and
    beyond; the wider bands' members are not counted)."""
    sites = inputs.sites
    existing = sites[sites["status"] == "existing"]
    missing = inputs.inventory_missing
    rows = []
    for zc in zones.zones.zone_codes:
        s = existing[existing["code"].isin(set(zones.membership[zc]))]
        rows.append({"zone": zc, "zone_name": zones.zones.towns.loc[zc, "nom"],
                     # unknown, not zero, when there is no inventory
                     "n_sites": np.nan if missing else len(s),
                     "seats": np.nan if missing else float(s["seats"].sum()),
                     "sites": "; ".join(s["name"].astype(str)),
                     "inventory": inputs.inventory_label})
    table = pd.DataFrame(rows, columns=["zone", "zone_name", "n_sites", "seats", "sites",
                                        "inventory"])
    seats = None if missing else dict(zip(table["zone"], table["seats"], strict=True))
    return SupplyResult(table, seats)


@dataclass(frozen=True)
class SeatsResult:
    """Seats per zone (:func:`seats_stage`): ``zone_seats`` (:func:`demand.zone_table`,
    with Monte Carlo intervals when ``uncertainty.draws > 0``), ``teleworker_rules``
    (:func:`demand.rule_comparison`) and ``sensitivity`` (one at a time; None when not
    asked)."""

    zone_seats: pd.DataFrame
    teleworker_rules: pd.DataFrame | None
    sensitivity: pd.DataFrame | None


def seats_stage(
    inputs: StudyInputs, zones: ZoneResult, dem: demand.CommuneDemand,
    supply: SupplyResult | None, *, cfg: StudyConfig | None = None,
    uncertainty_draws: bool = True, sensitivity: bool = False, rules: bool = True,
) -> SeatsResult:
    """Seats per zone, variant, segment and year (docs/method.md §6), with the territory's
    residents beside every member's.

    Parameters
    ----------
    cfg
        The configuration whose uncertainty ranges apply; the study's by default.
    uncertainty_draws
        Add the Monte Carlo intervals and the sensitivity when ``uncertainty.draws > 0``.
    sensitivity
        Compute the one-at-a-time sensitivity even without draws.
    rules
        Compare the teleworker rules (:func:`demand.rule_comparison`).
    """
    cfg = cfg or inputs.config
    terr_codes = inputs.territory.codes
    supply_seats = supply.seats if supply is not None else None
    zone_seats = demand.zone_table(dem, zones.membership, zones.exclusive,
                                   without_pole=zones.without_pole, supply_seats=supply_seats,
                                   names=zones.names, territory_codes=terr_codes)
    sens = None
    if uncertainty_draws and cfg.uncertainty.draws > 0:
        zone_seats, sens = uncertainty.study_uncertainty(
            dem, cfg, zone_seats, zones.membership, zones.exclusive,
            without_pole=zones.without_pole, territory_codes=terr_codes,
            supply_seats=supply_seats)
    elif sensitivity:
        zi = uncertainty.zone_index(list(dem.table.index), zones.membership, zones.exclusive,
                                    without_pole=zones.without_pole,
                                    territory_codes=terr_codes)
        sens = uncertainty.sensitivity(dem.table, cfg, zi, years=dem.years,
                                       supply_seats=supply_seats)
        sens.insert(sens.columns.get_loc("zone") + 1, "zone_name",
                    sens["zone"].map({**zones.names, "all": "all"}))
    tele = (demand.rule_comparison(dem, cfg.demand, zones.membership, names=zones.names)
            if rules else None)
    return SeatsResult(zone_seats, tele, sens)


def demand_weights(inputs: StudyInputs, dem: demand.CommuneDemand) -> pd.DataFrame:
    """Demand measures per territory commune for coverage and site selection: population
    (2026), teleworkers, solos (base year) and seats (horizon year)."""
    terr, d = inputs.territory, inputs.config.demand
    return pd.DataFrame({
        "population": terr.communes["population"],
        "teleworkers": dem.table["teleworkers"],
        "solos": dem.table[f"solos_{d.base_year}"],
        "seats": dem.table[f"seats_total_{d.horizon_year}"],
    }).reindex(terr.codes).fillna(0.0)


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of the territory by third places (:func:`coverage_stage`).

    Attributes
    ----------
    sites
        The places used (``coverage.sites``: existing, planned or both).
    site_times
        Per territory commune: minutes to the nearest place and which (None without
        places).
    table
        Shares covered within each of ``minutes`` for the territory, each EPCI and each
        département (``level`` column; all zero without places).
    existing_cover
        Per territory commune: within ``coverage.budget_min`` of a place.
    weights
        :func:`demand_weights`.
    notes
        What the reader must know (no inventory, no place).
    """

    sites: gpd.GeoDataFrame
    site_times: pd.DataFrame | None
    table: pd.DataFrame | None
    existing_cover: np.ndarray
    weights: pd.DataFrame
    notes: tuple = ()

    def times(self) -> pd.Series:
        """Minutes to the nearest place per territory commune (inf without any place)."""
        if self.site_times is not None:
            return self.site_times["time_min"]
        return pd.Series(np.inf, index=self.weights.index)

    def shares(self, level: str = "territory") -> pd.DataFrame:
        """The rows of ``table`` at ``level`` (``territory``, ``epci``, ``department``)."""
        return self.table[self.table["level"] == level].drop(columns="level").reset_index(
            drop=True)


def coverage_stage(
    inputs: StudyInputs, dem: demand.CommuneDemand, *,
    minutes: tuple[float, ...] | list[float] | None = None,
    sites: str | None = None, levels: bool = True,
) -> CoverageResult:
    """Minutes from each territory commune to the nearest third place and the shares of
    population, teleworkers and solos covered (docs/method.md §7).

    Parameters
    ----------
    minutes
        Thresholds; ``coverage.minutes`` by default.
    sites
        ``existing``, ``planned`` or ``both``; ``coverage.sites`` by default.
    levels
        Also per EPCI and per département (the territory alone otherwise).
    """
    cc = inputs.config.coverage
    minutes = list(cc.minutes if minutes is None else minutes)
    which = sites or cc.sites
    terr = inputs.territory
    all_sites = inputs.sites
    use = all_sites if which == "both" else all_sites[all_sites["status"] == which]
    pts = terr.chefs_lieux.loc[terr.codes].geometry
    weights = demand_weights(inputs, dem)
    missing = inputs.inventory_missing
    inv_matters = missing and which in ("existing", "both")
    notes = []
    wcols = weights[list(COVERAGE_MEASURES)]
    if len(use):
        site_times = coverage.nearest_site_times(inputs.network, pts, use, engine=inputs.engine)
        times = site_times["time_min"]
        if inv_matters:
            notes.append(Note("note_cov_planned_only", what=NO_INVENTORY))
    else:
        site_times, times = None, pd.Series(np.inf, index=terr.codes)
        notes.append(Note("note_cov_skipped", what=NO_INVENTORY) if inv_matters
                     else Note("note_cov_zero"))
    parts = [coverage.coverage_shares(times, wcols, minutes).assign(level="territory")]
    if levels:
        for level, col in (("epci", "epci_siren"), ("department", "departement")):
            parts.append(coverage.coverage_shares(
                times, wcols, minutes,
                groups=terr.communes[col].reindex(terr.codes).fillna("none")).assign(
                    level=level))
    table = pd.concat(parts, ignore_index=True)
    existing_cover = (times <= cc.budget_min).to_numpy()
    return CoverageResult(use, site_times, table, existing_cover, weights, tuple(notes))


def selection_stage(
    inputs: StudyInputs, cov: CoverageResult, *, k: int | None = None,
    target_share: float | None = None, time_limit_s: float = 60.0,
) -> coverage.SiteSelection | None:
    """Where new sites would cover most demand (docs/method.md §8): ``k`` new sites
    (maximal covering; ``coverage.k`` by default) or, with ``target_share``, the fewest
    sites covering that share of ``coverage.weight``, among ``inputs.candidates``, the
    communes already within ``coverage.budget_min`` of a place counting as covered.

    Returns None when there is no candidate or ``k`` is 0.
    """
    cc = inputs.config.coverage
    k = cc.k if k is None else k
    cands = list(inputs.candidates)
    if not cands or (target_share is None and k <= 0):
        return None
    terr = inputs.territory
    pts = terr.chefs_lieux.loc[terr.codes].geometry
    cover = np.isfinite(coverage.cover_matrix(
        inputs.network, pts, terr.chefs_lieux.loc[cands].geometry, cc.budget_min * 60,
        engine=inputs.engine))
    labels = [f"{terr.chefs_lieux.loc[c, 'nom']} ({c})" for c in cands]
    w = cov.weights[cc.weight].to_numpy()
    if target_share is not None:
        return coverage.set_cover(cover, w, target_share, labels=labels,
                                  existing_cover=cov.existing_cover, time_limit_s=time_limit_s)
    return coverage.select_sites(cover, w, min(k, len(cands)), labels=labels,
                                 existing_cover=cov.existing_cover, time_limit_s=time_limit_s)
