"""The study's web map (``map.html``) and printable maps (``map_*.png``), drawn from a
:class:`~territorial_geo.result.StudyResult` and its commune table.

:func:`write_web_map` assembles the themes, tooltips and popups for
:func:`territorial_geo.maps.folium_map`; :func:`proposed_sites` and :func:`map_help` are
the sentences the map and the report share.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from territorial_geo import demand, i18n, maps, sources
from territorial_geo.outputs.rendercache import RenderCache
from territorial_geo.sources import atomic_write

if TYPE_CHECKING:  # annotations only: the study imports this package, not the reverse
    from territorial_geo.result import StudyResult


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
    kind = "approximate" if res.prepared.network.kind == "approximate" else "detailed"
    out = [_("help_zones", budget=f"{res.zones.budget_min:g}"), _("help_themes"),
           _("help_estimated"), _("help_network", network=_(f"help_network_{kind}"))]
    if len(res.sites) and res.sites["seats_source"].astype(str).str.startswith(
            "ASSUMPTION").any():
        out.append(_("help_seats_assumed",
                     seats=i18n.number(res.config.supply.seats_per_site, lang, digits=0)))
    return out


def theme_layers(years: list[int], lang: str) -> dict[str, str]:
    """Column of the commune table -> theme title, for the web map's choropleths and the
    printable maps: teleworkers, then solos and seats per year."""
    _ = i18n.messages(lang)
    layers = {"teleworkers": _("teleworkers_census")}
    for y in years:
        layers[f"solos_{y}"] = _("solos_year", year=y)
    for y in years:
        layers[f"seats_total_{y}"] = _("seats_year_long", year=y)
    return layers


def town_popups(res: StudyResult, *, lang: str) -> dict[str, str]:
    """Market-town code -> popup HTML (escaped): the zone's seats per year (with the 80 %
    interval when the study has one) and its members within the budget."""
    _ = i18n.messages(lang)
    zones = res.zones
    zs = res.zone_seats
    zs = zs[(zs["variant"] == demand.ZONE) & (zs["segment"] == demand.TOTAL)]
    n_all = {z: len(v) for z, v in zones.membership(territory_only=False).items()}
    n_in = {z: len(v) for z, v in zones.membership(territory_only=True).items()}
    popups = {}
    for zc in zones.zone_codes:
        sub = zs[zs["zone"] == zc]
        rows = "".join(
            "<br>" + _("kv", k=_("seats_year", year=int(r.year)), v=i18n.number(r.seats, lang))
            + (_("interval_80", lo=i18n.number(r.seats_p10, lang),
                 hi=i18n.number(r.seats_p90, lang)) if "seats_p10" in sub else "")
            for r in sub.itertuples())
        name = zones.towns.loc[zc, "nom"]
        popups[zc] = (f"<b>{html.escape(name)}</b> ({zc})<br>"
                      + html.escape(_("town_popup", n_all=n_all[zc],
                                      budget=f"{zones.budget_min:g}", n_in=n_in[zc]))
                      + rows)
    return popups


def write_web_map(res: StudyResult, path: Path, *, communes: gpd.GeoDataFrame,
                  proposed: gpd.GeoDataFrame, cache: RenderCache | None = None) -> None:
    """Write ``map.html``: the territory's communes (``communes``: the commune table's
    territory rows with their polygons) under the zones, market towns, third places and
    ``proposed`` sites (:func:`proposed_sites`), in the study's language; the page drawn
    earlier from equal layers is reused from ``cache``."""
    cfg, terr, zones = res.config, res.territory, res.zones
    lang = cfg.output.lang
    _ = i18n.messages(lang)
    years = res.demand.years
    names = dict(zip(zones.towns.index, zones.towns["nom"], strict=True))
    est = lambda label: _("est_suffix", label=label)  # noqa: E731 (estimated figures)
    tooltip = {"nom": _("commune"), "population_2026": _("population_2026"),
               "zones": _("zones_of_commune"), "min_time_to_town_min": _("min_to_town"),
               "teleworkers": est(_("teleworkers")),
               f"solos_{years[0]}": est(_("solos_short", year=years[0]))}
    for y in years:
        tooltip[f"seats_total_{y}"] = est(_("seats_year", year=y))
    tab = communes
    commune_popups = {
        c: maps.commune_popup(
            str(tab.at[c, "nom"]), c,
            minutes={names[zc]: tab.at[c, f"time_to_{zc}_min"] for zc in zones.zone_codes},
            seats={y: float(tab.at[c, f"seats_total_{y}"]) for y in years},
            budget_min=zones.budget_min, max_band=max(zones.bands), lang=lang)
        for c in tab.index}
    # planned sites named in the outputs' language
    map_sites = res.sites.copy()
    planned = (map_sites["status"] == "planned").to_numpy()
    map_sites.loc[planned, "name"] = [
        _("planned_name", name=terr.chefs_lieux.loc[c, "nom"])
        for c in map_sites.loc[planned, "code"]]
    layers = dict(
        title=_("map_title", name=cfg.name), outline=territory_outline(res),
        communes=communes, layers=theme_layers(years, lang), polygons=zones.polygons,
        towns=zones.towns, sites=map_sites, tooltip_fields=tooltip,
        town_popups=town_popups(res, lang=lang),
        coverage_col="time_to_third_place_min" if res.site_times is not None else None,
        budget_min=zones.budget_min, commune_popups=commune_popups,
        background=pd.concat([terr.communes[["geometry"]], terr.ring[["geometry"]]]),
        roads=res.prepared.roads, proposed=proposed, help_lines=map_help(res, lang=lang),
        beyond_min=max(zones.bands), lang=lang,
    )
    assets = res.prepared.leaflet

    def draw() -> str:
        return maps.map_page(maps.folium_map(**layers), lang=lang, assets=assets)[0]

    page = (cache.get("web_map", (layers, assets), draw) if cache is not None else draw())
    atomic_write(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))


def territory_outline(res: StudyResult) -> gpd.GeoDataFrame:
    """The territory's outline as a one-row layer (``name``), EPSG:2154."""
    return gpd.GeoDataFrame({"name": [res.territory.name]}, geometry=[res.territory.outline],
                            crs=sources.WORKING_CRS)


def write_static_maps(res: StudyResult, d: Path, *, communes: gpd.GeoDataFrame,
                      cache: RenderCache | None = None) -> list[Path]:
    """The printable maps ``map_<theme>.png`` (one per theme of :func:`theme_layers`),
    framed on the territory and the budget's zones (reused from ``cache`` when drawn
    earlier from equal layers); returns their paths."""
    cfg, zones = res.config, res.zones
    lang = cfg.output.lang
    ten = zones.polygons[zones.polygons["band_min"] == zones.budget_min]
    outline = territory_outline(res)
    images, themes = [], []
    for col, label in theme_layers(res.demand.years, lang).items():
        p = d / f"map_{col.replace('seats_total_', 'seats_')}.png"
        themes.append((col, f"{cfg.name} — {label}", label, p))
        images.append(p)
    maps.static_maps(communes, themes, polygons=ten, towns=zones.towns, sites=res.sites,
                     outline=outline, lang=lang, cache=cache)
    return images
