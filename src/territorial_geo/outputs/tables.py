"""The study's tables and the facts its files state, read from a
:class:`~territorial_geo.result.StudyResult` (no routing, no data file).

:func:`commune_table` (``communes.csv``), :func:`zone_members` (``zone_members.csv``),
:func:`town_times`, :func:`parameters_doc` (``parameters.json``), :func:`fallbacks`,
:func:`network_label` and :func:`engine_label` (the key facts of the report).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import __version__, demand, i18n, sources, zoning
from territorial_geo.i18n import render
from territorial_geo.network.load import NO_SKELETON
from territorial_geo.result import NetworkFacts

if TYPE_CHECKING:  # annotations only: the study imports this package, not the reverse
    from territorial_geo.result import StudyResult
    from territorial_geo.territory import Territory


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
        out.append(f"third places: {res.inventory}")
    net = res.prepared.network
    note = net.source.get("note") or ""
    if net.kind == "approximate" and note.startswith(NO_SKELETON):
        out.append(f"road network: {note}")
    return out


def with_inventory(supply: pd.DataFrame, res: StudyResult, lang: str) -> pd.DataFrame:
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
                    "origin": _origin(entry) if available else f"not available: {res.inventory}",
                    "obtained": entry}
    ds["road_network"] = dict(res.prepared.network.source)
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
        "network": res.prepared.network.info,
        "routing_engine": res.zones.engine,
        "territory": res.territory.summary(),
        "timings_s": res.timings,
    }


def seats_pivot(res: StudyResult) -> pd.DataFrame:
    """The seats of each zone variant (zone, union, exclusive, territory residents) by
    segment and year: the report's detail table."""
    zs = res.zone_seats
    main = zs[zs["variant"].isin([demand.ZONE, demand.UNION, demand.EXCLUSIVE,
                                  demand.TERRITORY_RESIDENTS])]
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


def _default_approx(params: dict) -> bool:
    """Whether an approximate network's parameters (its ``source``) are the defaults."""
    from territorial_geo.network.approximate import ApproxParams

    dflt = {k: v["value"] for k, v in ApproxParams().to_dict().items()}
    got = {k: v.get("value") for k, v in params.items() if isinstance(v, dict)}
    return bool(got) and json.loads(json.dumps(got, default=str)) == json.loads(
        json.dumps(dflt, default=str))


def network_label(net, *, lang: str = "en") -> str:
    """One line saying which network was used and whether it is detailed or approximate
    (in ``lang``; English by default, as the CLI prints it). ``net``: a
    :class:`~territorial_geo.network.RoadNetwork` or its :class:`NetworkFacts`."""
    _ = i18n.messages(lang)
    net = net if isinstance(net, NetworkFacts) else NetworkFacts.of(net)
    src = net.source
    what = _(f"net_{net.kind}") if net.kind in ("approximate", "detailed") else net.kind
    fmt = src.get("format", "?")
    name = src.get("spec") or src.get("path") or fmt
    extra = f"; {src['note']}" if src.get("note") else ""
    if src.get("format") == "approximate" and _default_approx(src.get("parameters") or {}):
        extra = f"; {_('net_fitted')}{extra}"  # the defaults' source (ApproxParams)
    counts = _("net_counts", nodes=i18n.number(net.n_nodes, lang, digits=0),
               edges=i18n.number(net.n_edges, lang, digits=0))
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
