"""The study runner: territory -> network -> zones -> demand -> coverage -> maps and report.

``run_study(config)`` computes everything and returns a :class:`StudyResult`;
``write_outputs(result, out_dir)`` writes the output folder atomically (built beside it,
then renamed into place).
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import (
    __version__,
    coverage,
    demand,
    exports,
    i18n,
    maps,
    pipeline,
    report,
    sources,
    uncertainty,
    zoning,
)
from territorial_geo import network as netmod
from territorial_geo.config import StudyConfig, flatten
from territorial_geo.i18n import Note, render
from territorial_geo.network.load import NO_SKELETON
from territorial_geo.supply import NO_INVENTORY
from territorial_geo.territory import Territory

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
    #: Members the variant without a competing pole drops (:func:`pipeline.zones_stage`).
    pole_dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Teleworker seats under each teleworker rule (:func:`demand.rule_comparison`).
    teleworker_rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The routing engine that computed the times (:mod:`territorial_geo.network.engine`;
    #: the built-in one over ``network`` when None).
    engine: object = None

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


def run_study(
    cfg: StudyConfig,
    *,
    overridden: set[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    data: sources.Datasets | None = None,
    inputs: pipeline.StudyInputs | None = None,
) -> StudyResult:
    """Run a whole study in memory (no file written): :func:`pipeline.load_inputs`, then
    the stages zones -> demand -> supply -> seats -> coverage -> selection.

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
    inputs
        Inputs already loaded for ``cfg`` (:func:`pipeline.load_inputs`; read here when not
        given).
    """
    say = progress or (lambda _m: None)
    lap = Laps()
    if inputs is None:
        inputs = pipeline.load_inputs(cfg, data, data_dir=data_dir, progress=say, laps=lap)
        lap("inputs")
    terr, net, cc = inputs.territory, inputs.network, cfg.coverage
    say("zones")
    zr = pipeline.zones_stage(inputs)
    zones = zr.zones
    lap("zones")
    say("demand")
    dem = pipeline.demand_stage(inputs, zr)
    sup = pipeline.supply_stage(inputs, zr)
    seats = pipeline.seats_stage(inputs, zr, dem, sup)
    lap("demand")
    say("coverage")
    cov = pipeline.coverage_stage(inputs, dem)
    sel = pipeline.selection_stage(inputs, cov)
    lap("coverage")
    missing_inv = inputs.inventory_missing
    notes = list(dem.notes) + list(zr.notes)
    if missing_inv:
        notes.append(Note("note_no_inventory_supply", what=NO_INVENTORY))
    in_zone = set(zones.within(territory_only=False)["code"])
    outside = sorted(set(zr.demand_codes) - set(terr.codes))
    notes.append(Note("note_border", n_out=len(in_zone - set(terr.codes)),
                      budget=zones.budget_min, territory=terr.name, n_outside=len(outside),
                      max_band=max(zones.bands)))
    notes += cov.notes
    if cc.k > 0:
        if sel is None:
            notes.append(Note("note_sel_skipped"))
        elif missing_inv and cc.sites in ("existing", "both"):
            notes.append(Note("note_sel_no_existing", what=NO_INVENTORY))
    far = zones.snaps.loc[terr.codes]
    notes.append(Note("note_snap", median=float(far["snap_m"].median()),
                      max=float(far["snap_m"].max()), n_far=int(far["far"].sum()),
                      max_snap=float(net.profile.max_snap_m), kmh=float(net.profile.snap_kmh)))
    if zones.uncovered():
        notes.append(Note("note_uncovered", n=len(zones.uncovered()), budget=zones.budget_min,
                          codes=zones.uncovered()[:30]))
    if net.kind == "approximate" and net.source.get("note", "").startswith(NO_SKELETON):
        notes.append(Note("note_road_network", text=net.source["note"]))
    return StudyResult(cfg, overridden or set(), terr, net, zones, dem, seats.zone_seats,
                       zr.without_pole, inputs.sites, sup.table, cov.site_times,
                       cov.table if cov.site_times is not None else None,
                       sel, lap.timings, notes, inputs.inventory_label, inputs.data_state,
                       seats.sensitivity, zr.pole_dropped, seats.teleworker_rules,
                       inputs.engine)


def commune_table(res: StudyResult) -> pd.DataFrame:
    """One row per commune of the territory and per member of any zone outside it: the
    table a planner recomputes every zone's seats from (``communes.csv``).

    Columns: ``code``, ``nom``, ``in_territory``, the demand table of
    :func:`demand.commune_demand` (census inputs, estimated employed people and
    teleworkers by CSP, solos, users and seats per segment and year, with the source
    columns ``census_match``, ``csp_shares_found``, ``solos_source``,
    ``services_share_weight``), ``population_2026``, ``zones`` (``;``-separated codes of
    the zones it belongs to within the budget), ``exclusive_zone``, ``pole_dropped_from``
    (zones whose without-pole variant drops it), ``existing_seats`` (seats of the existing
    third places in the commune; NaN without an inventory), ``min_time_to_town_min``,
    ``time_to_CODE_min`` (each market town, up to the widest band: :func:`town_times`), ``time_to_third_place_min``
    and ``nearest_third_place`` (territory communes), ``snap_m``, ``snap_far``.
    """
    zones, terr = res.zones, res.territory
    mem = zones.within(territory_only=False)
    outside = sorted(set(mem["code"]) - set(terr.codes))
    codes = list(terr.codes) + outside
    tab = res.demand.table.loc[codes].copy()
    tab.insert(0, "code", tab.index)
    if "nom" not in tab:
        tab.insert(1, "nom", terr.chefs_lieux["nom"].reindex(tab.index).to_numpy())
    tab.insert(2, "in_territory", tab.index.isin(terr.codes))
    places = pd.concat([terr.communes, terr.ring])
    places = places[~places.index.duplicated()]
    tab["population_2026"] = places["population"].reindex(tab.index).to_numpy()
    tab["zones"] = mem.groupby("code")["zone"].apply(";".join).reindex(tab.index).fillna("")
    tab["exclusive_zone"] = zones.exclusive(territory_only=False).reindex(tab.index).fillna("")
    pd_ = res.pole_dropped
    tab["pole_dropped_from"] = (pd_.groupby("code")["zone"].apply(";".join).reindex(tab.index)
                                .fillna("") if len(pd_) else "")
    ex = res.sites[res.sites["status"] == "existing"]
    tab["existing_seats"] = (np.nan if res.inventory_missing else
                             ex.groupby("code")["seats"].sum().reindex(tab.index).fillna(0.0))
    times = town_times(zones)
    tab["min_time_to_town_min"] = times.min(axis=1).reindex(tab.index)
    for zc in zones.zone_codes:
        tab[f"time_to_{zc}_min"] = times[zc].reindex(tab.index)
    if res.site_times is not None:
        tab["time_to_third_place_min"] = res.site_times["time_min"].reindex(tab.index).replace(
            np.inf, np.nan)
        tab["nearest_third_place"] = res.site_times["nearest_site"].reindex(tab.index)
    tab["snap_m"] = zones.snaps["snap_m"].reindex(tab.index).to_numpy()
    tab["snap_far"] = zones.snaps["far"].reindex(tab.index).to_numpy()
    return tab


def commune_geometries(terr: Territory, codes) -> gpd.GeoSeries:
    """Polygons of territory and ring communes, in the order of ``codes``."""
    g = pd.concat([terr.communes.geometry, terr.ring.geometry])
    return g[~g.index.duplicated()].reindex(codes)


def _origin(entry: dict | None) -> str:
    """One line saying how the data directory obtained a dataset (its fetch-state entry)."""
    if not entry:
        return "present (no fetch record)"
    action = entry.get("action", "?")
    if action == "copied":
        return f"copied from the mirror ({entry.get('from', '?')})"
    urls = [v.get("url", "?") for v in (entry.get("sources") or {}).values()]
    if action == "built":
        return f"built from the official source(s) ({', '.join(urls) or 'transcription'})"
    if action == "downloaded":
        return f"downloaded ({', '.join(urls) or entry.get('url', '?')})"
    return action


def fallbacks(res: StudyResult) -> list[str]:
    """What the study replaced because a source was missing (empty when nothing was)."""
    out = []
    if res.demand.sources.get("solos", "").startswith("FALLBACK"):
        out.append(f"solos: {res.demand.sources['solos']}")
    if res.inventory_missing:
        out.append(f"third places: {NO_INVENTORY}")
    note = res.network.source.get("note") or ""
    if res.network.kind == "approximate" and note.startswith(NO_SKELETON):
        out.append(f"road network: {note}")
    return out


def _with_inventory(supply: pd.DataFrame, res: StudyResult, lang: str) -> pd.DataFrame:
    """The supply table with its ``inventory`` column (the same label on every row: pandas
    keeps text, not the :class:`~territorial_geo.i18n.Note`) in ``lang``."""
    if "inventory" not in supply:
        return supply
    return supply.assign(inventory=render(res.inventory, lang))


def parameters_doc(res: StudyResult) -> dict:
    """The parameters.json content: every parameter, its source, data vintages and how each
    dataset was obtained (mirror, official download or build, with addresses), what was
    replaced by a fallback, version."""
    cfg = res.config
    ds = {}
    used = ["communes", "communes-list", "epci", "census-rp2018", "csp-shares", "density-grid"]
    if cfg.supply.use_cget and not cfg.supply.file:
        used.append("third-places")
    for name in used:
        d = sources.CATALOG[name]
        entry = res.data_state.get(name)
        available = not (name == "third-places" and res.inventory_missing)
        ds[name] = {"vintage": d.vintage, "source": d.source, "licence": d.licence,
                    "sha256": d.sha256, "available": available,
                    "origin": _origin(entry) if available else f"not available: {NO_INVENTORY}",
                    "obtained": entry}
    ds["road_network"] = {k: v for k, v in res.network.source.items()}
    return {
        "engine": {"name": "territorial_geo", "version": __version__},
        "study": cfg.name,
        "study_file": cfg.source_file,
        "parameters": cfg.to_dict(),
        "telework_rates_used": demand.telework_rates(cfg.demand),
        "sources": cfg.provenance(res.overridden),
        "input_sources": res.demand.sources,
        "demand_rules_by_year": {str(y): r for y, r in res.demand.rules.items()},
        "fallbacks": fallbacks(res),
        "supply_inventory": res.inventory,
        "estimates_and_assumptions": res.notes,
        "datasets": ds,
        "network": res.network.info(),
        "routing_engine": res.zones.engine,
        "territory": res.territory.summary(),
        "timings_s": res.timings,
    }


def _seats_pivot(res: StudyResult) -> pd.DataFrame:
    zs = res.zone_seats
    main = zs[zs["variant"].isin([demand.ZONE, demand.UNION, demand.EXCLUSIVE, demand.TERRITORY_RESIDENTS])]
    p = main.pivot_table(index=["variant", "zone_name"], columns=["segment", "year"],
                         values="seats", aggfunc="sum")
    return p


def zone_members(res: StudyResult) -> pd.DataFrame:
    """One row per (zone, member commune) within the budget, wherever the commune lives:
    ``zone``, ``zone_name``, ``code``, ``nom``, ``in_territory``, ``time_min``, ``band_min``,
    ``exclusive`` (allocated to this zone), ``kept_without_pole`` (empty for zones without a
    pole), and the commune's seats per year (``seats_total_{year}``): the rows a zone's
    seats in ``zones.csv`` add up."""
    zones = res.zones
    m = zones.within(territory_only=False)
    ex = zones.exclusive(territory_only=False)
    out = pd.DataFrame({
        "zone": m["zone"].to_numpy(),
        "zone_name": zones.towns.loc[m["zone"], "nom"].to_numpy(),
        "code": m["code"].to_numpy(), "nom": m["nom"].to_numpy(),
        "in_territory": m["in_territory"].to_numpy(),
        "time_min": m["time_min"].to_numpy(), "band_min": m["band_min"].to_numpy(),
    })
    out["exclusive"] = ex.reindex(out["code"]).to_numpy() == out["zone"].to_numpy()
    kept = {z: set(v) for z, v in res.pole_removed.items()}
    out["kept_without_pole"] = [("" if z not in kept else c in kept[z])
                                for z, c in zip(out["zone"], out["code"], strict=True)]
    for y in res.demand.years:
        out[f"seats_total_{y}"] = res.demand.table[f"seats_total_{y}"].reindex(
            out["code"]).to_numpy()
    return out


def town_times(zones: zoning.Zones) -> pd.DataFrame:
    """Drive minutes from every routed commune to each market town, up to the widest band
    (``zones.bands[-1]``), not only the budget: a commune 14 minutes from a town reads
    14 minutes in ``communes.csv`` and in its map popup. NaN means beyond the widest band.

    Returns
    -------
    DataFrame
        Index: commune codes; one column per market town (code), in ``zone_codes`` order.
    """
    mem = zones.within(max(zones.bands), territory_only=False)
    t = mem.pivot_table(index="code", columns="zone", values="time_min", aggfunc="min",
                        observed=True)
    return t.reindex(columns=zones.zone_codes)


def proposed_sites(res: StudyResult, *, lang: str = i18n.DEFAULT_LANG) -> gpd.GeoDataFrame:
    """The sites the site selection proposes, in order, each with its plain sentence
    ("Ouvrir un tiers-lieu à Savy-Berlette couvrirait 15 527 habitants de plus ...").

    Returns
    -------
    GeoDataFrame
        ``step``, ``code``, ``nom``, ``gain``, ``sentence``, chef-lieu point (EPSG:2154);
        empty without a selection.
    """
    _ = i18n.messages(lang)
    cols = {"step": [], "code": [], "nom": [], "gain": [], "sentence": []}
    if res.selection is not None:
        cc = res.config.coverage
        t = res.selection.table()
        for r in t[t["step"] > 0].itertuples():
            found = re.search(r"\((\w{5})\)$", str(r.site))
            if not found or found.group(1) not in res.territory.chefs_lieux.index:
                continue
            code = found.group(1)
            nom = str(res.territory.chefs_lieux.loc[code, "nom"])
            cols["step"].append(int(r.step))
            cols["code"].append(code)
            cols["nom"].append(nom)
            cols["gain"].append(float(r.gain))
            cols["sentence"].append(_("proposed_sentence", name=nom,
                                      n=i18n.number(r.gain, lang, digits=0),
                                      what=_(f"what_{cc.weight}"),
                                      budget=f"{cc.budget_min:g}"))
    return gpd.GeoDataFrame(cols, geometry=res.territory.chefs_lieux.loc[cols["code"]]
                            .geometry.to_numpy(), crs=sources.WORKING_CRS)


def map_help(res: StudyResult, *, lang: str = i18n.DEFAULT_LANG) -> list[str]:
    """The sentences of the map's "how to read this map / what is estimated" box."""
    _ = i18n.messages(lang)
    kind = "approximate" if res.network.kind == "approximate" else "detailed"
    out = [_("help_zones", budget=f"{res.zones.budget_min:g}"), _("help_themes"),
           _("help_estimated"), _("help_network", network=_(f"help_network_{kind}"))]
    if len(res.sites) and res.sites["seats_source"].astype(str).str.startswith(
            "ASSUMPTION").any():
        out.append(_("help_seats_assumed",
                     seats=i18n.number(res.config.supply.seats_per_site, lang, digits=0)))
    return out


def write_outputs(
    res: StudyResult, out_dir: str | os.PathLike, *, data_dir=None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the study folder atomically and return its path.

    Files: ``zones.gpkg``, ``communes.csv`` (territory communes and every zone member
    outside it: :func:`commune_table`), ``communes.gpkg``, ``zones.csv`` (seats, and the
    teleworkers, solos and users behind them), ``pole_dropped.csv`` (:func:`pipeline.zones_stage`),
    ``teleworker_rules.csv`` (:func:`demand.rule_comparison`),
    ``zone_members.csv`` (every member of every zone, wherever it lives),
    ``overlap.csv`` (every member commune), ``overlap_territory.csv`` (the territory's
    communes only), ``supply.csv``, ``coverage.csv``, ``site_selection.csv``,
    ``parameters.json``, ``map.html``, ``map_*.png``, ``drive_time.tif``, ``report.html``,
    and with ``uncertainty.draws > 0`` ``sensitivity.csv``, ``tornado_union.png``,
    ``tornado_<zone>.png`` and ``tornado_union_<base year>.png``
    (``zones.csv`` then has ``seats_p10``, ``seats_p50``, ``seats_p90``).
    """
    say = progress or (lambda _m: None)
    return sources.atomic_dir(out_dir, lambda tmp: _write_all(res, tmp, data_dir=data_dir,
                                                              say=say))


def _write_all(res: StudyResult, d: Path, *, data_dir, say) -> None:
    cfg = res.config
    terr = res.territory
    zones = res.zones
    say("writing tables")
    names = dict(zip(zones.towns.index, zones.towns["nom"], strict=True))
    dialect = cfg.output.csv_dialect
    # the zones layer carries its seats per variant and year (no join for a planner)
    dataclasses.replace(zones, polygons=exports.zones_with_seats(
        zones.polygons, res.zone_seats, budget_min=zones.budget_min)).to_gpkg(d / "zones.gpkg")
    full = commune_table(res)
    exports.write_csv(full, d / "communes.csv", dialect=dialect, float_format="%.4f")
    gfull = gpd.GeoDataFrame(full, geometry=commune_geometries(terr, full.index).to_numpy(),
                             crs=sources.WORKING_CRS)
    gfull.to_file(d / "communes.gpkg", layer="communes", driver="GPKG", index=False)
    # the map shows the territory's communes
    tab = full[full["in_territory"]]
    gdf = gfull[gfull["in_territory"]]
    for name, frame in (("zones", res.zone_seats), ("zone_members", zone_members(res)),
                        ("pole_dropped", res.pole_dropped),
                        ("teleworker_rules", res.teleworker_rules)):
        exports.write_csv(frame, d / f"{name}.csv", dialect=dialect, float_format="%.4f")
    ov = zones.overlap(territory_only=False)
    ov.index.name = "zone"
    exports.write_csv(ov.reset_index(), d / "overlap.csv", dialect=dialect)
    ov_terr = zones.overlap(territory_only=True)
    ov_terr.index.name = "zone"
    exports.write_csv(ov_terr.reset_index(), d / "overlap_territory.csv", dialect=dialect)
    exports.write_csv(res.supply, d / "supply.csv", dialect=dialect)
    exports.write_csv(res.sites.drop(columns="geometry"), d / "third_places.csv",
                      dialect=dialect)
    if res.coverage is not None:
        exports.write_csv(res.coverage, d / "coverage.csv", dialect=dialect,
                          float_format="%.6f")
    if res.selection is not None:
        exports.write_csv(res.selection.table(), d / "site_selection.csv", dialect=dialect,
                          float_format="%.4f")
    params = parameters_doc(res)
    (d / "parameters.json").write_text(json.dumps(params, indent=2, ensure_ascii=False,
                                                  default=str), encoding="utf-8")
    say("maps")
    lang = cfg.output.lang
    _ = i18n.messages(lang)
    years = res.demand.years
    layers = {"teleworkers": _("teleworkers_census")}
    for y in years:
        layers[f"solos_{y}"] = _("solos_year", year=y)
    for y in years:
        layers[f"seats_total_{y}"] = _("seats_year_long", year=y)
    est = lambda label: _("est_suffix", label=label)  # noqa: E731 (estimated figures)
    tooltip = {"nom": _("commune"), "population_2026": _("population_2026"),
               "zones": _("zones_of_commune"), "min_time_to_town_min": _("min_to_town"),
               "teleworkers": est(_("teleworkers")),
               f"solos_{years[0]}": est(_("solos_short", year=years[0]))}
    for y in years:
        tooltip[f"seats_total_{y}"] = est(_("seats_year", year=y))
    popups = {}
    zs = res.zone_seats
    for zc in zones.zone_codes:
        sub = zs[(zs["zone"] == zc) & (zs["variant"] == demand.ZONE) & (zs["segment"] == demand.TOTAL)]
        rows = "".join(
            "<br>" + _("kv", k=_("seats_year", year=int(r.year)), v=i18n.number(r.seats, lang))
            + (_("interval_80", lo=i18n.number(r.seats_p10, lang),
                 hi=i18n.number(r.seats_p90, lang)) if "seats_p10" in sub else "")
            for r in sub.itertuples())
        n_all = len(zones.membership(territory_only=False)[zc])
        n_in = len(zones.membership(territory_only=True)[zc])
        popups[zc] = (f"<b>{html.escape(names[zc])}</b> ({zc})<br>"
                      + html.escape(_("town_popup", n_all=n_all, budget=f"{zones.budget_min:g}",
                                      n_in=n_in))
                      + rows)
    commune_popups = {
        c: maps.commune_popup(
            str(tab.at[c, "nom"]), c,
            minutes={names[zc]: tab.at[c, f"time_to_{zc}_min"] for zc in zones.zone_codes},
            seats={y: float(tab.at[c, f"seats_total_{y}"]) for y in years},
            budget_min=zones.budget_min, max_band=max(zones.bands), lang=lang)
        for c in tab.index}
    outline = gpd.GeoDataFrame({"name": [terr.name]}, geometry=[terr.outline],
                               crs=sources.WORKING_CRS)
    # planned sites named in the outputs' language
    map_sites = res.sites.copy()
    planned = (map_sites["status"] == "planned").to_numpy()
    map_sites.loc[planned, "name"] = [
        _("planned_name", name=terr.chefs_lieux.loc[c, "nom"])
        for c in map_sites.loc[planned, "code"]]
    m = maps.folium_map(
        title=_("map_title", name=cfg.name), outline=outline, communes=gdf, layers=layers, polygons=zones.polygons, towns=zones.towns, sites=map_sites,
        tooltip_fields=tooltip, town_popups=popups,
        coverage_col="time_to_third_place_min" if res.site_times is not None else None,
        budget_min=zones.budget_min, commune_popups=commune_popups,
        background=pd.concat([terr.communes[["geometry"]], terr.ring[["geometry"]]]),
        roads=maps.main_roads(res.network.edges, area=terr.outline.buffer(terr.ring_km * 1000)),
        proposed=proposed_sites(res, lang=lang), help_lines=map_help(res, lang=lang),
        beyond_min=max(zones.bands), lang=lang,
    )
    maps.save_map(m, d / "map.html", data_dir=data_dir, lang=lang)
    hy = cfg.demand.horizon_year
    if cfg.output.excel:
        say("workbook")
        exports.write_workbook(d / "study.xlsx", exports.answer_sheets(
            zone_seats=res.zone_seats, communes=tab, overlap=ov,
            supply=_with_inventory(res.supply, res, lang),
            coverage=res.coverage,
            selection=res.selection.table() if res.selection is not None else None,
            town_names=names, lang=lang))
    if cfg.output.qgis:
        _cls, qbins = maps.classify(gdf[f"seats_total_{hy}"])
        exports.write_qgis_project(
            d / "study.qgs", title=_("map_title", name=cfg.name), communes=gdf,
            seats_column=f"seats_total_{hy}",
            polygons=zones.polygons, towns=zones.towns, zone_colours=maps.ZONE_COLOURS,
            budget_min=zones.budget_min, bins=qbins, colours=maps.SEQ_COLOURS,
            layer_names={"communes": _("layer_communes", year=hy),
                         "zones": _("legend_zones", budget=f"{zones.budget_min:g}"),
                         "towns": _("towns_layer")})
    images = []
    if cfg.output.static_maps:
        ten = zones.polygons[zones.polygons["band_min"] == zones.budget_min]
        for seg, col_t, label in [("teleworkers", "teleworkers", _("teleworkers_census"))] + [
            (f"solos_{y}", f"solos_{y}", _("solos_year", year=y)) for y in years] + [
            (f"seats_{y}", f"seats_total_{y}", _("seats_year_long", year=y)) for y in years]:
            p = d / f"map_{seg}.png"
            maps.static_map(gdf, col_t, f"{cfg.name} — {label}", p, polygons=ten,
                            towns=zones.towns, sites=res.sites, outline=outline,
                            legend_title=label, lang=lang)
            images.append(p)
    if cfg.output.raster:
        say("raster")
        eng = netmod.engine_of(res.engine, res.network)
        town_t = eng.node_times_to_nearest(zones.snaps.loc[zones.zone_codes],
                                           direction=zones.direction)
        bands = {"minutes_to_market_town": town_t / 60}
        if len(res.sites):
            site_t = eng.node_times_to_nearest(res.network.snap(res.sites.geometry),
                                               direction="to")
            bands["minutes_to_third_place"] = site_t / 60
        maps.time_raster(d / "drive_time.tif", net=res.network, node_minutes=bands,
                         area=terr.outline, cell_m=cfg.output.raster_cell_m)
    say("report")
    extra = demand_sections(res, d)
    if "seats_p10" in zs and res.sensitivity is not None:
        res.sensitivity.to_csv(d / "sensitivity.csv", index=False, float_format="%.4f")
        hy = cfg.demand.horizon_year
        tornado = uncertainty.tornado_chart(
            res.sensitivity, d / "tornado_union.png", zone=demand.ALL_ZONES, variant=demand.UNION, year=hy,
            title=_("tornado_union", name=cfg.name), lang=cfg.output.lang)
        for zc in zones.zone_codes:
            uncertainty.tornado_chart(
                res.sensitivity, d / f"tornado_{zc}.png", zone=zc, variant=demand.ZONE, year=hy,
                title=_("tornado_zone", name=cfg.name, zone=names[zc], code=zc),
                lang=cfg.output.lang)
        iv = zs[zs["variant"].isin([demand.ZONE, demand.UNION]) & (zs["segment"] == demand.TOTAL)]
        sens = res.sensitivity
        sens = sens[(sens["zone"] == demand.ALL_ZONES) & (sens["variant"] == demand.UNION)
                    & (sens["segment"] == demand.TOTAL) & (sens["year"] == hy)]
        extra.append((i18n.MESSAGES["fr"]["unc_heading"], i18n.MESSAGES["en"]["unc_heading"],
                      report.uncertainty_section(
                          iv[["zone_name", "variant", "year", "seats", "seats_p10", "seats_p50",
                              "seats_p90"]].set_index(["zone_name", "variant", "year"]),
                          sens[["parameter", "low", "central", "high", "seats_low",
                                "seats_high", "swing", "source"]].set_index("parameter"),
                          year=hy, draws=cfg.uncertainty.draws, seed=cfg.uncertainty.seed,
                          tornado=tornado, lang=lang)))
    comp = []
    for zc, _kept in res.pole_removed.items():
        full = zs[(zs["zone"] == zc) & (zs["variant"] == demand.ZONE) & (zs["segment"] == demand.TOTAL)]
        wo = zs[(zs["zone"] == zc) & (zs["variant"] == demand.WITHOUT_POLE) & (zs["segment"] == demand.TOTAL)]
        for (_ia, a), (_ib, b) in zip(full.iterrows(), wo.iterrows(), strict=True):
            comp.append({"zone": names[zc], "year": a["year"], "communes": a["n_communes"],
                         "communes_without_pole": b["n_communes"], "seats": a["seats"],
                         "seats_without_pole": b["seats"]})
    net_rows = zs[zs["variant"] == demand.NET_OF_SUPPLY][["zone_name", "year", "seats"]].rename(
        columns={"seats": "net_seats"})
    supply_tab = res.supply.merge(net_rows, on="zone_name", how="left") if len(net_rows) else res.supply
    summary = terr.summary()
    summary = {
        _("k_territory"): f"{summary['name']} (SIREN {summary['siren']})",
        _("k_communes"): summary["n_communes"],
        _("k_population"): i18n.number(summary["population"], lang, digits=0),
        _("k_area"): i18n.number(summary["area_km2"], lang),
        _("k_ring"): _("k_ring_value", n=summary["n_ring_communes"], km=f"{summary['ring_km']:g}"),
        _("k_towns"): ", ".join(f"{n} ({c})" for c, n in names.items()),
        _("k_budget"): _("k_budget_value", budget=f"{zones.budget_min:g}",
                         direction=_(f"direction_{zones.direction}")),
        _("k_network"): network_label(res.network, lang=lang),
        _("k_engine"): engine_label(res.zones.engine, lang=lang),
    }
    sel = None
    if res.selection is not None:
        sel = res.selection.table().round({"gap": 4})
    report.write_report(
        d / "report.html", title=_("report_title", name=cfg.name), lang=lang,
        zone_seats=res.zone_seats,
        summary=summary, parameters=flatten(cfg, keep=("speeds",)),
        provenance=cfg.provenance(res.overridden), overlap=ov, overlap_territory=ov_terr,
        territory_name=terr.name, seats_pivot=_seats_pivot(res),
        competition=pd.DataFrame(comp),
        supply=pd.DataFrame({_("h_supply"): [render(NO_INVENTORY, lang)]})
        if res.inventory_missing else _with_inventory(supply_tab, res, lang),
        coverage=pd.DataFrame({_("h_coverage"): [
            render(Note("note_cov_skipped", what=NO_INVENTORY), lang)]})
        if res.coverage is None and res.inventory_missing and cfg.coverage.sites != "planned"
        else res.coverage,
        selection=sel, notes=res.notes + [Note("note_source", label=Note(f"src_{k}"), text=v)
                                          for k, v in res.demand.sources.items()],
        data_sources=[{"name": k, **{kk: vv for kk, vv in v.items()
                                     if kk not in ("sha256", "obtained")}}
                      for k, v in params["datasets"].items() if k != "road_network"],
        images=images, town_names=names, extra_sections=extra, flags=estimate_flags(res, lang=lang),
        selection_sentences=list(proposed_sites(res, lang=lang)["sentence"]),
        selection_what=_(f"what_{cfg.coverage.weight}"),
    )


def teleworker_rule_sentence(res: StudyResult, lang: str) -> str | None:
    """One sentence: why teleworker seats jump between the share-of-users anchor year and
    the usage anchor year, and the union's base-year teleworker seats under the later rule
    (``None`` when the study has no anchor of one kind or no such year)."""
    seats = res.config.demand.seats
    share = [a for a in seats.teleworkers if a.share_of_users is not None]
    usage = [a for a in seats.teleworkers if a.usage_share is not None]
    rules = res.teleworker_rules
    if not share or not usage or not len(rules):
        return None
    a, b = share[0], usage[0]
    union = rules[rules["zone"] == demand.ALL_ZONES].set_index(["year", "rule"])
    if (a.year, "share_of_teleworkers") not in union.index:
        return None
    alt = union.loc[(a.year, "share_of_teleworkers"), "seats_teleworkers"]
    cur_rule = demand.study_rule(seats, a.year)
    cur = (union.loc[(a.year, cur_rule), "seats_teleworkers"]
           if (a.year, cur_rule) in union.index else np.nan)
    _ = i18n.messages(lang)
    pct = round(100 * a.share_of_users)
    return _("tele_rule_text", y0=a.year, y1=b.year, s=f"{pct:g}", rest=f"{100 - pct:g}",
             u=i18n.number(100 * b.usage_share, lang, digits=0), h=f"{b.hours_per_month:g}",
             alt=i18n.number(alt, lang), cur=i18n.number(cur, lang))


def demand_sections(res: StudyResult, d: Path) -> list[tuple[str, str, str]]:
    """The report's demand detail (issue 19), as ``(French heading, English heading,
    HTML)``: the persons behind the seats, the members dropped without a competing pole,
    the teleworker rule of each year with the base-year tornado chart (written to ``d`` as
    ``tornado_union_YEAR.png`` when the study has a sensitivity table)."""
    cfg = res.config
    lang = cfg.output.lang
    fr, en = i18n.messages("fr"), i18n.messages("en")
    out = [(fr("h_counts"), en("h_counts"), report.counts_section(res.zone_seats, lang=lang))]
    if len(res.pole_dropped):
        n_all = {z: len(v) for z, v in res.zones.membership(territory_only=False).items()}
        hy = cfg.demand.horizon_year
        out.append((fr("h_pole_dropped"), en("h_pole_dropped"), report.pole_dropped_section(
            res.pole_dropped, n_all, res.demand.table[f"seats_total_{hy}"], year=hy,
            lang=lang)))
    sentence = teleworker_rule_sentence(res, lang)
    if sentence is not None:
        seats = cfg.demand.seats
        y0 = next(a.year for a in seats.teleworkers if a.share_of_users is not None)
        y1 = next(a.year for a in seats.teleworkers if a.usage_share is not None)
        tornado = None
        if res.sensitivity is not None and (res.sensitivity["year"] == y0).any():
            tornado = uncertainty.tornado_chart(
                res.sensitivity, d / f"tornado_union_{y0}.png", zone=demand.ALL_ZONES, variant=demand.UNION,
                year=y0, title=i18n.messages(lang)("tornado_union_year", name=cfg.name, year=y0),
                lang=lang)
        body = report.teleworker_rule_section(
            res.teleworker_rules, sentence=sentence, tornado=tornado,
            tornado_text=i18n.messages(lang)("tele_rule_sens", year=y0), lang=lang)
        out.append((fr("h_tele_rule", y0=y0, y1=y1), en("h_tele_rule", y0=y0, y1=y1), body))
    return out


def estimate_flags(res: StudyResult, *, lang: str = i18n.DEFAULT_LANG) -> list[str]:
    """The estimated inputs a reader must know beside the seats they feed: the solo-worker
    fallback, the approximate network, members living outside the territory."""
    _ = i18n.messages(lang)
    out = []
    if res.demand.sources.get("solos", "").startswith("FALLBACK"):
        out.append(_("flag_solos"))
    if res.network.kind == "approximate":
        out.append(_("flag_network"))
    n_out = len(set(res.zones.within(territory_only=False)["code"]) - set(res.territory.codes))
    if n_out:
        out.append(_("flag_outside", territory=res.territory.name, n=n_out))
    return out


def _default_approx(params: dict) -> bool:
    """Whether an approximate network's parameters (its ``source``) are the defaults."""
    from territorial_geo.network.approximate import ApproxParams

    dflt = {k: v["value"] for k, v in ApproxParams().to_dict().items()}
    got = {k: v.get("value") for k, v in params.items() if isinstance(v, dict)}
    return bool(got) and json.loads(json.dumps(got, default=str)) == json.loads(
        json.dumps(dflt, default=str))


def network_label(net: netmod.RoadNetwork, *, lang: str = "en") -> str:
    """One line saying which network was used and whether it is detailed or approximate
    (in ``lang``; English by default, as the CLI prints it)."""
    _ = i18n.messages(lang)
    src = net.source
    what = _(f"net_{net.kind}") if net.kind in ("approximate", "detailed") else net.kind
    fmt = src.get("format", "?")
    name = src.get("spec") or src.get("path") or fmt
    extra = f"; {src['note']}" if src.get("note") else ""
    if src.get("format") == "approximate" and _default_approx(src.get("parameters") or {}):
        extra = f"; {_('net_fitted')}{extra}"  # the defaults' source (ApproxParams)
    counts = _("net_counts", nodes=i18n.number(net.n_nodes, lang, digits=0),
               edges=i18n.number(len(net.edges), lang, digits=0))
    # a local file is named, not its path; "approximate: approximate" said once
    name = Path(str(name)).name if os.sep in str(name) else str(name)
    origin = "" if name in (fmt, net.kind) else f" ({fmt}: {name})"
    return f"{what}{origin}, {counts}{extra}"


def engine_label(info: dict, *, lang: str = "en") -> str:
    """One line saying which routing engine computed the times (in ``lang``)."""
    _ = i18n.messages(lang)
    if info.get("engine") == "osrm":
        return _("engine_osrm", version=info.get("osrm_bindings", "?"),
                 profile=Path(str(info.get("profile", "car.lua"))).name)
    return _("engine_builtin")

