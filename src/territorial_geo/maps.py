"""Stage 6, maps: the interactive Folium map, static PNG maps and GeoTIFF rasters.

The Folium map inlines Leaflet (fetched as the ``leaflet`` dataset) so that it opens with no
network; legends, search, fullscreen and print controls are plain HTML and JavaScript (no
plugin to fetch); with no tile server it shows a light offline background (commune outlines
and names, main roads). Labels come from :mod:`territorial_geo.i18n` (French by default).
Web maps are in EPSG:4326.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import os
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import sources
from territorial_geo.i18n import DEFAULT_LANG, messages, number
from territorial_geo.sources import WEB_CRS, WORKING_CRS, atomic_write
from territorial_geo.templating import render

if TYPE_CHECKING:  # annotations only (the outputs import this module)
    from territorial_geo.outputs.rendercache import RenderCache


ZONE_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                "#1f78b4", "#b2df8a", "#fb9a99"]
SEQ_COLOURS = ["#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837"]
TIME_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
#: Road classes drawn in the offline background (the network's main roads).
MAIN_ROADS = ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
              "secondary")
#: Probed once by the map: when it loads, tiles are shown and the offline background hidden.
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def credits(lang: str = DEFAULT_LANG) -> str:
    """The data credits line of the maps, in ``lang``."""
    return messages(lang)("credits")


def classify(values: pd.Series, k: int = 5) -> tuple[np.ndarray, list[float]]:
    """Class of each value and the classes' upper bounds: Fisher-Jenks natural breaks.

    Jenks' optimal breaks come from ``jenkspy`` (a C implementation; the same breaks as
    ``mapclassify.FisherJenks``, whose import compiles numba code for about 3 s in every
    process). With ``k`` or fewer distinct values, each value is its own class.
    """
    import jenkspy

    v = values.fillna(0.0).to_numpy(float)
    uniq = np.unique(v)
    if len(uniq) <= k:
        return np.searchsorted(uniq, v), list(map(float, uniq))
    bins = [float(b) for b in jenkspy.jenks_breaks(v, n_classes=k)[1:]]
    # a value belongs to the first class whose upper bound it does not exceed
    return np.searchsorted(np.asarray(bins), v, side="left"), bins


def class_labels(bins: list[float], *, digits: int = 1,
                 lang: str = DEFAULT_LANG) -> list[str]:
    """The legend label of each class given the classes' upper bounds: "≤ b" for the
    first, "a – b" after, "> a" for an unbounded last class; numbers written the
    language's way without thousands separators (:func:`~territorial_geo.i18n.number`)."""
    def n(v: float) -> str:
        return number(v, lang, digits=digits, group=False)

    out, lo = [], None
    for b in bins:
        out.append(f"≤ {n(b)}" if lo is None else f"> {n(lo)}" if not np.isfinite(b)
                   else f"{n(lo)} – {n(b)}")
        lo = b
    return out


def _legend_html(title: str, colours: list[str], bins: list[float], digits: int = 1,
                 lang: str = DEFAULT_LANG, layer: str = "") -> str:
    """A legend block (title and one row per class); the map shows it while its theme
    (named ``layer``) is shown."""
    rows = [f'<div><span style="background:{c};width:14px;height:14px;display:inline-block;'
            f'margin-right:6px;border:1px solid #555;vertical-align:middle"></span>'
            f'{html.escape(label)}</div>'
            for c, label in zip(colours, class_labels(bins, digits=digits, lang=lang),
                                strict=False)]
    return (f'<div class="tg-legend" data-layer="{html.escape(layer)}"><b>'
            f'{html.escape(title)}</b>{"".join(rows)}</div>')


def _tooltip_text(v, lang: str) -> str:
    """A tooltip value as escaped text: numbers written the language's way, NaN as '–'."""
    if isinstance(v, (float, np.floating)):
        return "–" if not np.isfinite(v) else html.escape(number(float(v), lang))
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return html.escape(number(float(v), lang, digits=0))
    return html.escape("" if v is None else str(v))


def _line_svg(colour: str, dash: str | None, width: float = 3.0) -> str:
    """A short line sample (legend key of an outline)."""
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<svg class="tg-line" width="26" height="10" aria-hidden="true"><line x1="1" y1="5" '
            f'x2="25" y2="5" stroke="{colour}" stroke-width="{width}"{d}/></svg>')


def folium_map(
    *,
    title: str,
    outline: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    layers: dict[str, str],
    polygons: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    tooltip_fields: dict[str, str],
    town_popups: dict[str, str] | None = None,
    coverage_col: str | None = None,
    budget_min: float | None = None,
    commune_popups: dict[str, str] | None = None,
    background: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    proposed: gpd.GeoDataFrame | None = None,
    help_lines: list[str] | None = None,
    beyond_min: float | None = None,
    lang: str = DEFAULT_LANG,
):
    """Interactive map for elected officials.

    One theme (choropleth) at a time, chosen in the legend or the layer control (radio
    buttons), with its legend; zones drawn as distinct outlines (colour and dash per market
    town; colour fills and the other time bands, keyed by minutes, are layers off by
    default); search a commune by name (its popup opens); fullscreen and print buttons
    (``@media print`` view); a "how to read this map" box; a light offline background
    (commune outlines and names, main roads) drawn under the data; when the tile server
    answers, tiles replace it. Compact panels leave most of the screen to the map and
    popups are panned clear of them. Every text from a data or study file is escaped.

    Parameters
    ----------
    outline
        Territory outline (one polygon).
    communes
        Communes with the figures to map (EPSG:2154 or 4326), columns ``code`` and ``nom``.
    layers
        Column -> theme title for the choropleths (the first one is shown).
    polygons
        Isochrones: ``zone``, ``nom``, ``band_min``, ``area_km2``, geometry.
    towns, sites
        Market towns (``nom``) and third places (``name``, ``type``, ``status``, ``seats``,
        optional ``seats_source``: a value starting with ``ASSUMPTION`` marks the seats
        assumed).
    tooltip_fields
        Column -> label shown in the commune tooltips.
    town_popups
        Market-town code -> popup HTML (escaped by the caller).
    coverage_col
        Column of minutes to the nearest third place (a coverage theme is added).
    budget_min
        The zones' budget: the isochrone band drawn as the zones' outlines.
    commune_popups
        Commune code -> popup HTML (opened on click and by the search box; see
        :func:`commune_popup`).
    background
        Communes drawn in the offline background with their names (default: ``communes``).
    roads
        Lines of the main roads of the network in use (see :func:`main_roads`).
    proposed
        Sites proposed by the site selection (points): ``nom``, ``step``, ``sentence``.
    help_lines
        Sentences of the "how to read this map / what is estimated" box (plain text).
    beyond_min
        Tooltip values of ``min_time_to_town_min`` that are NaN read "> beyond_min min".
    lang
        Language of the labels (:mod:`territorial_geo.i18n`).

    Returns
    -------
    folium.Map
    """
    import folium
    from branca.element import Element

    _ = messages(lang)
    esc = html.escape
    cw = communes.to_crs(WEB_CRS)
    minx, miny, maxx, maxy = cw.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=10,
                   tiles=None, control_scale=True, prefer_canvas=False, zoom_snap=0.25)
    m.get_root().title = esc(title)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(12, 12))
    # panes: offline background under everything that carries data
    folium.map.CustomPane("tg-background", z_index=350).add_to(m)
    # themes under the zones, outline and points whichever theme is picked last
    folium.map.CustomPane("tg-themes", z_index=380).add_to(m)
    bg = folium.FeatureGroup(name=esc(_("offline_layer")), show=True)
    back = (background if background is not None else communes).to_crs(WEB_CRS)
    folium.GeoJson(
        back[["geometry"]].to_json(), pane="tg-background", interactive=False,
        style_function=lambda f: {"fill": True, "fillColor": "#f4f1ea", "fillOpacity": 1,
                                  "color": "#9a9a9a", "weight": 0.7},
    ).add_to(bg)
    if roads is not None and len(roads):
        rw = roads.to_crs(WEB_CRS)
        for cls, colour, weight in (("secondary", "#f2c66d", 1.6), ("primary", "#f0a04b", 2.2),
                                    ("trunk", "#e8743b", 2.6), ("motorway", "#d9483b", 3.0)):
            sub = rw[rw["highway"].str.replace("_link", "") == cls]
            if len(sub):
                folium.GeoJson(sub[["geometry"]].to_json(), pane="tg-background", interactive=False,
                               style_function=lambda f, c=colour, w=weight: {
                                   "color": c, "weight": w, "opacity": 0.9}).add_to(bg)
    bg.add_to(m)
    # tooltip values: escaped text (a name from a data file is never read as HTML), numbers
    # written the language's way
    fields = list(tooltip_fields)
    props = cw[[*dict.fromkeys(["code", *fields]), "geometry"]].copy()
    for c in fields:
        col = cw[c]
        if c == "min_time_to_town_min" and beyond_min is not None:
            props[c] = [esc(_("beyond_short", band=f"{beyond_min:g}"))
                        if not (isinstance(v, float) and np.isfinite(v) and v >= 0)
                        else _tooltip_text(v, lang) for v in col]
        else:
            props[c] = [_tooltip_text(v, lang) for v in col]
    props["code"] = props["code"].astype(str)
    aliases = [esc(a) for a in tooltip_fields.values()]
    geojson_vars = []
    themes = []  # (name, layer var, legend html)
    for i, (col, label) in enumerate(layers.items()):
        classes, bins = classify(cw[col])
        colour = dict(zip(cw.index, [SEQ_COLOURS[min(c, 4)] for c in classes], strict=True))
        data = props.assign(_fill=[colour[i2] for i2 in cw.index])
        fg = folium.FeatureGroup(name=esc(label), overlay=False, show=(i == 0))
        gj = folium.GeoJson(
            data.to_json(),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444",
                                      "weight": 0.6, "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
            name=esc(label), pane="tg-themes",
        )
        gj.add_to(fg)
        geojson_vars.append(gj.get_name())
        fg.add_to(m)
        themes.append((label, fg.get_name(), _legend_html(label, SEQ_COLOURS, bins, lang=lang,
                                                          layer=label)))
    if coverage_col is not None:
        t = cw[coverage_col].replace(np.inf, np.nan)
        bins = [5, 10, 15, 20, 1e9]
        cls = np.searchsorted(bins, t.fillna(1e9).to_numpy(), side="left")
        data = props.assign(_fill=[TIME_COLOURS[min(c, 4)] for c in cls],
                            _t=[_tooltip_text(v, lang) for v in t])
        label = _("coverage_layer")
        fg = folium.FeatureGroup(name=esc(label), overlay=False, show=False)
        gj = folium.GeoJson(
            data.to_json(),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444",
                                      "weight": 0.5, "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(fields=[*fields, "_t"],
                                          aliases=[*aliases, esc(_("min_to_site"))]),
            pane="tg-themes",
        )
        gj.add_to(fg)
        geojson_vars.append(gj.get_name())
        fg.add_to(m)
        themes.append((label, fg.get_name(), _legend_html(
            _("min_to_site"), TIME_COLOURS, [5, 10, 15, 20, float("inf")], digits=0,
            lang=lang, layer=label)))
    none = folium.FeatureGroup(name=esc(_("theme_none")), overlay=False, show=False)
    none.add_to(m)
    themes.append((_("theme_none"), none.get_name(), ""))
    # zones: one outline per market town (colour and dash), fills and other bands off
    pw = polygons.to_crs(WEB_CRS)
    zone_ids = list(dict.fromkeys(pw["zone"]))
    main_band = budget_min if budget_min is not None else (
        float(pw["band_min"].median()) if len(pw) else 0.0)
    all_bands = sorted(pw["band_min"].unique()) if len(pw) else []
    fills = folium.FeatureGroup(name=esc(_("zone_fills_layer")), show=False)
    bands_fg = folium.FeatureGroup(
        name=esc(_("bands_layer", bands=", ".join(f"{b:g}" for b in all_bands))), show=False)
    band_colour = {b: TIME_COLOURS[min(i, len(TIME_COLOURS) - 1)]
                   for i, b in enumerate(all_bands)}
    zone_rows = []
    for zi, z in enumerate(zone_ids):
        sub = pw[pw["zone"] == z].sort_values("band_min", ascending=False)
        colour = ZONE_COLOURS[zi % len(ZONE_COLOURS)]
        dash = ZONE_DASHES[zi % len(ZONE_DASHES)]
        name = str(sub["nom"].iloc[0]) if len(sub) else z
        zone_rows.append((z, name, colour, dash))
        main = folium.FeatureGroup(
            name=esc(_("zone_layer", name=name, code=z, band=f"{main_band:g}")), show=True)
        for _i, row in sub.iterrows():
            tip = esc(_("zone_tooltip", name=name, band=f"{row['band_min']:g}",
                        area=number(row["area_km2"], lang, digits=0)))
            geo = gpd.GeoSeries([row.geometry], crs=WEB_CRS).to_json()
            if row["band_min"] == main_band:
                folium.GeoJson(geo, style_function=_outline_style(colour, dash),
                               tooltip=tip).add_to(main)
                folium.GeoJson(geo, interactive=False, style_function=lambda _f, c=colour: {
                    "stroke": False, "fillColor": c, "fillOpacity": 0.18}).add_to(fills)
            else:
                folium.GeoJson(geo, tooltip=tip, style_function=_outline_style(
                    band_colour[row["band_min"]], "4 3", weight=2.0)).add_to(bands_fg)
        main.add_to(m)
    fills.add_to(m)
    bands_fg.add_to(m)
    folium.GeoJson(
        outline.to_crs(WEB_CRS).to_json(), name=esc(_("outline_layer")), interactive=False,
        style_function=lambda f: {"fill": False, "color": "#000", "weight": 3},
    ).add_to(m)
    fg = folium.FeatureGroup(name=esc(_("towns_layer")), show=True)
    tw = towns.to_crs(WEB_CRS)
    for code, row in tw.iterrows():
        popup = (town_popups or {}).get(code, esc(str(row["nom"])))
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=8, color="#000",
                            fill=True, fill_color="#ffd700", fill_opacity=1,
                            popup=folium.Popup(popup, max_width=320),
                            tooltip=esc(_("town_tooltip", name=row["nom"]))).add_to(fg)
    fg.add_to(m)
    fg = folium.FeatureGroup(name=esc(_("sites_layer")), show=True)
    sw = sites.to_crs(WEB_CRS)
    site_labels = {"name": _("site_name"), "type": _("site_type"), "status": _("site_status"),
                   "seats": _("site_seats")}
    status_labels = {"existing": _("status_existing"), "planned": _("status_planned")}
    for _i, row in sw.iterrows():
        def value(k, row=row):
            v = row[k]
            if k == "status":
                return status_labels.get(v, v)
            if k == "seats":
                s = number(float(v), lang, digits=0)
                src = str(row.get("seats_source", ""))
                return f"{s} ({_('assumed')})" if src.startswith("ASSUMPTION") else s
            return v
        pop = "<br>".join(f"<b>{esc(label)}</b> : {esc(str(value(k)))}" if lang == "fr"
                          else f"<b>{esc(label)}</b>: {esc(str(value(k)))}"
                          for k, label in site_labels.items() if k in row)
        planned = row.get("status") == "planned"
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=7 if planned else 6,
                            color="#a04000" if planned else "#800080", weight=2,
                            fill=True, fill_color="#ff9f1c" if planned else "#da70d6",
                            fill_opacity=0.95, popup=folium.Popup(pop, max_width=320),
                            tooltip=esc(str(row.get("name", _("site_default"))))).add_to(fg)
    fg.add_to(m)
    has_planned = bool(len(sw)) and bool((sw.get("status") == "planned").any())
    if proposed is not None and len(proposed):
        fg = folium.FeatureGroup(name=esc(_("proposed_layer")), show=True)
        pr = proposed.to_crs(WEB_CRS)
        for _i, row in pr.iterrows():
            pop = (f"<b>{esc(_('proposed_rank', step=int(row['step'])))}</b><br>"
                   f"{esc(str(row['sentence']))}")
            folium.Marker([row.geometry.y, row.geometry.x],
                          icon=folium.DivIcon(html='<div class="tg-star">★</div>',
                                              icon_size=(22, 22), icon_anchor=(11, 11)),
                          popup=folium.Popup(pop, max_width=320),
                          tooltip=esc(f"{_('proposed_key')} : {row['nom']}" if lang == "fr"
                                      else f"{_('proposed_key')}: {row['nom']}")).add_to(fg)
        fg.add_to(m)
    control = folium.LayerControl(collapsed=True, position="topright")
    control.add_to(m)
    # the legend panel: theme picker and its legend, zones, bands (when shown), points
    theme_select = (f'<label class="tg-theme"><span>{esc(_("theme_label"))}</span>'
                    f'<select id="tg-theme">'
                    + "".join(f'<option value="{i}">{esc(n)}</option>'
                              for i, (n, _v, _l) in enumerate(themes))
                    + "</select></label>")
    zone_legend = (
        f'<div class="tg-zone-legend"><b>{esc(_("legend_zones", budget=f"{main_band:g}"))}</b>'
        + "".join(f'<div class="tg-zone" data-zone="{esc(z)}">'
                  f'<span class="tg-swatch" style="border-color:{c}"></span>'
                  f'{_line_svg(c, d)}{esc(n)} <span class="tg-code">({esc(z)})</span></div>'
                  for z, n, c, d in zone_rows)
        + f'<div class="tg-zone tg-town-key"><span class="tg-dot" style="background:#ffd700">'
          f'</span>{esc(_("towns_layer"))}</div>'
        + f'<div class="tg-zone tg-town-key"><span class="tg-dot" style="background:#da70d6;'
          f'border-color:#800080"></span>{esc(_("sites_layer"))}</div>'
        + (f'<div class="tg-zone tg-town-key"><span class="tg-dot" style="background:#ff9f1c;'
           f'border-color:#a04000"></span>{esc(_("status_planned"))}</div>' if has_planned else "")
        + (f'<div class="tg-zone tg-town-key"><span class="tg-star-key">★</span>'
           f'{esc(_("proposed_key"))}</div>' if proposed is not None and len(proposed) else "")
        + "</div>")
    bands_legend = (
        f'<div class="tg-bands-legend" hidden><b>{esc(_("legend_bands"))}</b>'
        + "".join(f'<div>{_line_svg(band_colour[b], "4 3", 2.5)}'
                  f'{esc(_("band_minutes", band=f"{b:g}"))}</div>'
                  for b in all_bands if b != main_band)
        + "</div>")
    theme_legends = "".join(
        f'<div class="tg-theme-legend" data-theme="{i}">{leg}</div>'
        for i, (_n, _v, leg) in enumerate(themes))
    help_box = (f'<details class="tg-help"><summary>{esc(_("help_title"))}</summary>'
                + "".join(f"<p>{esc(s)}</p>" for s in (help_lines or [])) + "</details>")
    m.get_root().header.add_child(Element(f"<style>{_MAP_CSS}</style>"))
    options = "".join(f'<option value="{esc(str(n))}"></option>'
                      for n in sorted(cw["nom"].astype(str).unique()))
    m.get_root().html.add_child(Element(
        f'<div class="tg-top"><div class="tg-title">{esc(title)}</div>'
        f'<div class="tg-tools tg-noprint">'
        f'<input id="tg-search" type="search" list="tg-communes" autocomplete="off" '
        f'placeholder="{esc(_("search_placeholder"))}" '
        f'aria-label="{esc(_("search_placeholder"))}">'
        f'<datalist id="tg-communes">{options}</datalist>'
        f'<button id="tg-fullscreen" type="button" title="{esc(_("fullscreen"))}">'
        f'{esc(_("fullscreen"))}</button>'
        f'<button id="tg-print" type="button" title="{esc(_("print"))}">'
        f'{esc(_("print"))}</button></div>'
        f'<div id="tg-search-msg" role="status"></div>{help_box}</div>'
        f'<details class="tg-legends" open><summary>{esc(_("legend_title"))}</summary>'
        f'{theme_select}{theme_legends}{zone_legend}{bands_legend}</details>'
        f'<div class="tg-credits">{esc(credits(lang))}</div>'))
    index = []
    for _i, row in cw.iterrows():
        b = row.geometry.bounds
        c = row.geometry.representative_point()
        code = str(row["code"])
        index.append({"code": code, "nom": str(row["nom"]), "l": esc(str(row["nom"])),
                      "b": [[round(b[1], 5), round(b[0], 5)], [round(b[3], 5), round(b[2], 5)]],
                      "c": [round(c.y, 5), round(c.x, 5)],
                      "p": (commune_popups or {}).get(code, f"<b>{esc(str(row['nom']))}</b>")})

    script = render("map_controls.html.j2", map=m.get_name(), communes=index,
                    layers=geojson_vars, themes=[v for _n, v, _l in themes],
                    bands=bands_fg.get_name(), background=bg.get_name(), tile_url=TILE_URL,
                    tile_attribution=_("tiles_attribution"), tile_name=esc(_("tiles_layer")),
                    control=control.get_name(), search_none=_("search_none"))
    m.get_root().html.add_child(Element(script))
    return m


#: Dash patterns of the zones' outlines (with the colour, one per market town).
ZONE_DASHES = [None, "10 5", "3 5", "14 4 3 4", "6 3"]


def _outline_style(colour: str, dash: str | None, weight: float = 3.0):
    """Style of a zone outline: no fill (the communes under it stay clickable)."""
    style = {"fill": False, "color": colour, "weight": weight, "opacity": 0.95}
    if dash:
        style["dashArray"] = dash
    return lambda _f: style


_MAP_CSS = """
html,body{margin:0}
.leaflet-container :focus,.leaflet-interactive:focus,path:focus{outline:none}
.tg-top{position:absolute;top:8px;left:54px;z-index:1000;font:12px sans-serif;
 max-width:calc(100% - 120px)}
.tg-title{display:inline-block;background:#fff;padding:3px 8px;font:bold 14px sans-serif;
 border-radius:4px;box-shadow:0 0 4px #888;margin-bottom:4px}
.tg-tools{display:flex;gap:4px;align-items:center}
.tg-tools input{width:200px;padding:4px 6px;border:1px solid #888;border-radius:4px;
 box-shadow:0 0 3px #888;font-size:12px}
.tg-tools button{padding:4px 7px;border:1px solid #888;border-radius:4px;background:#fff;
 cursor:pointer;box-shadow:0 0 3px #888;font-size:12px}
#tg-search-msg{margin-top:4px;color:#b00;font-weight:bold;background:#fff;padding:1px 4px;
 display:inline-block}
#tg-search-msg:empty{display:none}
.tg-help{margin-top:4px;background:#fff;border-radius:4px;box-shadow:0 0 3px #888;
 padding:2px 8px;max-width:360px;width:max-content}
.tg-help[open]{width:auto}
.tg-help summary{cursor:pointer;font-weight:bold;color:#245}
.tg-help p{margin:4px 0}
.tg-legends{position:absolute;top:56px;right:10px;z-index:999;max-height:calc(100% - 90px);
 overflow:auto;width:230px;background:#fff;padding:4px 8px;font:11px/1.3 sans-serif;
 border-radius:4px;box-shadow:0 0 4px #888;box-sizing:border-box}
.tg-legends>summary{cursor:pointer;font-weight:bold}
.tg-legends:not([open]){width:auto}
.tg-theme{display:block;margin:3px 0}
.tg-theme span{font-weight:bold;margin-right:4px}
.tg-theme select{max-width:100%;font-size:11px}
.tg-theme-legend[hidden],.tg-bands-legend[hidden]{display:none}
.tg-legend{margin:2px 0 4px}
.tg-legend summary{list-style:none}
.tg-legend summary::-webkit-details-marker{display:none}
.tg-legend div{line-height:14px}
.tg-legend span{width:11px !important;height:11px !important}
.tg-zone-legend,.tg-bands-legend{margin-top:4px}
.tg-zone{margin:1px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tg-code{color:#666}
.tg-swatch{display:none}
.tg-line{vertical-align:middle;margin-right:4px}
.leaflet-control-layers-expanded{font-size:11.5px;line-height:1.25;max-height:calc(100vh - 40px);
 overflow:auto}
.leaflet-control-layers label{margin:0}
.tg-popup{font-size:12px}
.tg-popup td{padding:1px 6px 1px 0;white-space:nowrap;vertical-align:top}
.leaflet-tooltip{font-size:11px}
.leaflet-tooltip table th,.leaflet-tooltip table td{padding:0 4px;font-size:11px}
.leaflet-map-pane:has(.leaflet-popup) .leaflet-tooltip-pane{display:none}
.tg-dot{display:inline-block;width:9px;height:9px;border-radius:50%;border:1.5px solid #000;
 margin:0 8px 0 6px;vertical-align:middle}
.tg-star{font-size:20px;line-height:22px;text-align:center;color:#c0392b;
 text-shadow:0 0 2px #fff,0 0 2px #fff}
.tg-star-key{color:#c0392b;font-size:14px;margin:0 7px 0 5px}
.tg-credits{position:absolute;bottom:0;left:100px;z-index:1000;background:rgba(255,255,255,.8);
 font:9px sans-serif;padding:1px 4px;max-width:calc(100% - 200px);white-space:nowrap;
 overflow:hidden;text-overflow:ellipsis}
.tg-label{font:10px sans-serif;color:#555;text-shadow:0 0 2px #fff,0 0 2px #fff;
 white-space:nowrap;pointer-events:none}
.tg-small-zoom .tg-label{display:none}
@media print{
 @page{size:A4 landscape;margin:8mm}
 html,body{width:100%;height:100%}
 .tg-noprint,.tg-help,.leaflet-control-layers,.leaflet-control-zoom{display:none !important}
 .tg-legends{max-height:none;overflow:visible;box-shadow:none;border:1px solid #999}
 .tg-theme select{border:none;appearance:none;font-weight:bold}
 .tg-top{left:10px}
 .tg-title{box-shadow:none;border:1px solid #999}
 .tg-credits{max-width:none;right:auto;white-space:normal}
}
"""


def commune_popup(
    name: str, code: str, *, minutes: dict[str, float], seats: dict[int, float],
    budget_min: float, max_band: float, lang: str = DEFAULT_LANG,
) -> str:
    """Popup HTML of one commune: drive minutes to each market town and its seats per year.

    Parameters
    ----------
    minutes
        Market-town name -> minutes (NaN or missing: beyond ``max_band``, the widest band).
    seats
        Year -> seats (solo workers + teleworkers) of the commune.
    budget_min
        Towns reached within it are marked as the commune's zones.
    """
    _ = messages(lang)
    rows = []
    for town, t in minutes.items():
        if t is None or not np.isfinite(t):
            val, cls = html.escape(_("popup_beyond", band=f"{max_band:g}")), ""
        else:
            val = f"{number(t, lang)} min"
            cls = ' style="font-weight:bold"' if t <= budget_min else ""
            if t <= budget_min:
                val += f" ({html.escape(_('popup_in_zone'))})"
        rows.append(f"<tr{cls}><td>{html.escape(town)}</td><td>{val}</td></tr>")
    srows = "".join(f"<tr><td>{html.escape(_('seats_year', year=y))}</td>"
                    f"<td>{number(v, lang)}</td></tr>" for y, v in seats.items())
    return (f'<div class="tg-popup"><b>{html.escape(name)}</b> ({html.escape(code)})'
            f'<div style="margin-top:4px"><i>{html.escape(_("popup_minutes"))}</i></div>'
            f'<table>{"".join(rows)}</table>'
            f'<div style="margin-top:4px"><i>{html.escape(_("popup_seats"))}</i></div>'
            f'<table>{srows}</table></div>')


def main_roads(edges: gpd.GeoDataFrame, *, area=None, simplify_m: float = 25.0) -> gpd.GeoDataFrame:
    """The main roads of a network (``highway`` in :data:`MAIN_ROADS`), one line per road
    segment (directed duplicates dropped), clipped to ``area`` and simplified, for the
    offline background of the web map.

    Returns
    -------
    GeoDataFrame
        ``highway``, geometry, in the edges' CRS.
    """
    e = edges[edges["highway"].isin(MAIN_ROADS)]
    if "seg" in e:
        e = e.drop_duplicates("seg")
    g = gpd.GeoDataFrame({"highway": e["highway"].to_numpy()},
                         geometry=e.geometry.simplify(simplify_m).to_numpy(), crs=edges.crs)
    if area is not None:
        g = g[g.intersects(area)]
    return g.reset_index(drop=True)



#: Folium builds popups with ``$(html)[0]`` (jQuery); offline we replace jQuery by this shim.
_JQUERY_SHIM = (
    "if(!window.$){window.$=function(h){var t=document.createElement('template');"
    "t.innerHTML=String(h).trim();return [t.content.firstElementChild];};}"
)


def leaflet_assets(data_dir: str | os.PathLike | None = None) -> tuple[str, str] | None:
    """Leaflet's ``leaflet.js`` and ``leaflet.css`` (its images inlined) from the
    ``leaflet`` dataset of the data directory; None when it was not fetched."""
    p = sources.resolve_data_dir(data_dir) / sources.CATALOG["leaflet"].path
    if not p.is_file():
        return None
    with tarfile.open(p) as tf:
        js = tf.extractfile("package/dist/leaflet.js").read().decode()
        css = tf.extractfile("package/dist/leaflet.css").read().decode()
        # the stylesheet's images (layer-control icon, marker) inlined: nothing to load
        for name in ("layers.png", "layers-2x.png", "marker-icon.png"):
            data = base64.b64encode(tf.extractfile(f"package/dist/images/{name}").read()).decode()
            css = css.replace(f"url(images/{name})", f"url(data:image/png;base64,{data})")
    return js, css


_READ = object()


def save_map(m, path: str | os.PathLike, *, data_dir=None, lang: str = DEFAULT_LANG,
             assets=_READ) -> bool:
    """Render a Folium map to HTML atomically (:func:`map_page`), inlining Leaflet:
    ``assets`` (``(js, css)`` of :func:`leaflet_assets`; None: not inlined), read from
    ``data_dir`` when not given.

    Returns True when Leaflet was inlined (the map then opens offline, base tiles aside).
    """
    if assets is _READ:
        assets = leaflet_assets(data_dir)
    page, inlined = map_page(m, lang=lang, assets=assets)
    atomic_write(Path(path), lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return inlined


def map_page(m, *, lang: str = DEFAULT_LANG, assets: tuple[str, str] | None = None
             ) -> tuple[str, bool]:
    """The HTML page of a Folium map (``<html lang>`` set to ``lang``) with Leaflet's
    ``assets`` (``(js, css)``) inlined, and whether they were (None: loaded online)."""
    page = m.get_root().render()
    page = page.replace("<html>", f'<html lang="{html.escape(lang)}">', 1)
    inlined = False
    if assets is not None:
        js, css = assets
        page, n1 = re.subn(r'<script src="[^"]*leaflet(@[\d.]+)?/dist/leaflet\.js"></script>',
                           lambda _: f"<script>{js}</script><script>{_JQUERY_SHIM}</script>", page)
        page, n2 = re.subn(r'<link rel="stylesheet" href="[^"]*leaflet(@[\d.]+)?/dist/leaflet\.css"/>',
                           lambda _: f"<style>{css}</style>", page)
        inlined = n1 == 1 and n2 == 1
        # plugins we do not use; offline they would only fail to load
        page = re.sub(r'<script src="[^"]*(jquery|bootstrap|awesome-markers)[^"]*"></script>', "", page)
        page = re.sub(r'<link rel="stylesheet" href="[^"]*(bootstrap|awesome|fontawesome)[^"]*"/>',
                      "", page)
    return page, inlined


def default_style[T](draw: Callable[..., T]) -> Callable[..., T]:
    """``draw`` run with matplotlib's own default style (``rcdefaults``), whatever style,
    ``matplotlibrc`` or settings the session has, restored afterwards: a chart's bytes depend
    on its inputs only (what :mod:`territorial_geo.outputs.rendercache` keys them by)."""

    @functools.wraps(draw)
    def styled(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context():
            matplotlib.rcdefaults()  # the backend is kept (not a style parameter)
            return draw(*args, **kwargs)

    return styled


def static_map(
    communes: gpd.GeoDataFrame, column: str, title: str, path: str | os.PathLike, *,
    polygons: gpd.GeoDataFrame | None = None, towns: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None, outline: gpd.GeoDataFrame | None = None,
    legend_title: str = "", lang: str = DEFAULT_LANG,
) -> None:
    """A printable PNG choropleth of one column (:func:`static_maps` with one theme)."""
    static_maps(communes, [(column, title, legend_title, path)], polygons=polygons,
                towns=towns, sites=sites, outline=outline, lang=lang)


def static_maps(
    communes: gpd.GeoDataFrame, themes: list[tuple[str, str, str, str | os.PathLike]], *,
    polygons: gpd.GeoDataFrame | None = None, towns: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None, outline: gpd.GeoDataFrame | None = None,
    lang: str = DEFAULT_LANG, cache: RenderCache | None = None,
) -> None:
    """Printable PNG choropleths with scale bar, north arrow, legend and credits (labels in
    ``lang``), one per theme ``(column, title, legend title, path)``.

    Framed on the territory and its zones (no outline cut at the frame), the figure's
    shape follows the frame's (no empty band) and the legend sits under the map: printed
    at A4 width (about 7.5 in, the figure's width) its text keeps 8 pt or more. The
    figure is drawn once; each theme only recolours the communes and changes the legend
    and the title before its PNG is written (atomically). With a ``cache``
    (:class:`~territorial_geo.outputs.rendercache.RenderCache`), the PNGs drawn earlier
    from equal layers, themes and language are reused.
    """
    if not themes:
        return
    labels = [(column, title, legend_title) for column, title, legend_title, _p in themes]
    draw = partial(_static_pngs, communes, labels, polygons=polygons, towns=towns,
                   sites=sites, outline=outline, lang=lang)
    pngs = (cache.get("static_maps", (communes, labels, polygons, towns, sites, outline, lang),
                      draw) if cache is not None else draw())
    for (_c, _t, _l, path), png in zip(themes, pngs, strict=True):
        atomic_write(Path(path), lambda tmp, png=png: tmp.write_bytes(png))


@default_style
def _static_pngs(
    communes: gpd.GeoDataFrame, themes: list[tuple[str, str, str]], *,
    polygons: gpd.GeoDataFrame | None, towns: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None, outline: gpd.GeoDataFrame | None, lang: str,
) -> list[bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    _ = messages(lang)
    pngs = []
    g = communes.to_crs(WORKING_CRS)
    minx, miny, maxx, maxy = frame_bounds(g, polygons, outline)
    aspect = (maxy - miny) / max(maxx - minx, 1.0)
    fig, ax = plt.subplots(figsize=(7.5, float(np.clip(7.5 * aspect, 4.0, 9.5)) + 1.6),
                           dpi=150)
    g.plot(ax=ax, color=SEQ_COLOURS[0], edgecolor="#666", linewidth=0.4)
    choropleth = ax.collections[-1]
    overlay = []  # the legend's keys after the classes: zones, third places
    if polygons is not None and len(polygons):
        for zi, (_z, sub) in enumerate(polygons.groupby("zone", sort=False)):
            col = ZONE_COLOURS[zi % len(ZONE_COLOURS)]
            sub.to_crs(WORKING_CRS).boundary.plot(ax=ax, color=col, linewidth=1.4)
            overlay.append(Patch(facecolor="none", edgecolor=col,
                                 label=_("png_zone", name=sub["nom"].iloc[0])))
    if outline is not None:
        outline.to_crs(WORKING_CRS).boundary.plot(ax=ax, color="black", linewidth=2)
    if towns is not None and len(towns):
        t = towns.to_crs(WORKING_CRS)
        t.plot(ax=ax, color="gold", edgecolor="black", markersize=80, zorder=5)
        for _i, r in t.iterrows():
            ax.annotate(r["nom"], (r.geometry.x, r.geometry.y), xytext=(5, 5),
                        textcoords="offset points", fontsize=9, weight="bold")
    if sites is not None and len(sites):
        sites.to_crs(WORKING_CRS).plot(ax=ax, color="orchid", edgecolor="purple", marker="s",
                                       markersize=40, zorder=6)
        overlay.append(Patch(facecolor="orchid", edgecolor="purple",
                             label=_("png_third_place")))
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    # scale bar: a round length about a fifth of the width
    width = maxx - minx
    length = max(1, round(width / 5 / 1000 / 5) * 5) * 1000 if width > 25000 else 5000
    x0, y0 = minx + 0.02 * width, miny + 0.03 * (maxy - miny)
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=4)
    ax.text(x0 + length / 2, y0 + 0.012 * (maxy - miny), f"{length / 1000:.0f} km",
            ha="center", fontsize=10)
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.87), xycoords="axes fraction",
                ha="center", fontsize=14, weight="bold",
                arrowprops={"facecolor": "black", "width": 4, "headwidth": 12})
    ax.set_axis_off()
    # credits under the title (the legend takes the bottom)
    ax.text(0.5, 1.005, f"{credits(lang)} — {_('png_crs')}", transform=ax.transAxes,
            ha="center", va="bottom", fontsize=8, color="#333", wrap=True)
    for column, title, legend_title in themes:
        classes, bins = classify(g[column])
        choropleth.set_facecolor([SEQ_COLOURS[min(c, 4)] for c in classes])
        handles = [Patch(facecolor=c, edgecolor="#666", label=label)
                   for c, label in zip(SEQ_COLOURS, class_labels(bins, lang=lang),
                                       strict=False)]
        ax.legend(handles=handles + overlay, title=legend_title or column, loc="upper center",
                  bbox_to_anchor=(0.5, -0.01), fontsize=9.5, title_fontsize=10,
                  frameon=False, ncol=2)
        ax.set_title(title, fontsize=13, pad=30)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        pngs.append(buf.getvalue())
    plt.close(fig)
    return pngs


def frame_bounds(communes: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame | None = None,
                 outline: gpd.GeoDataFrame | None = None, *,
                 margin: float = 0.03) -> tuple[float, float, float, float]:
    """The frame of a printed map (EPSG:2154): the territory's communes, its outline and
    every zone polygon, plus ``margin`` of the larger side on each edge."""
    parts = [communes.to_crs(WORKING_CRS).total_bounds]
    for extra in (polygons, outline):
        if extra is not None and len(extra):
            parts.append(extra.to_crs(WORKING_CRS).total_bounds)
    b = np.asarray(parts, float)
    minx, miny = b[:, 0].min(), b[:, 1].min()
    maxx, maxy = b[:, 2].max(), b[:, 3].max()
    pad = margin * max(maxx - minx, maxy - miny)
    return minx - pad, miny - pad, maxx + pad, maxy + pad


@dataclass(frozen=True)
class TimeGrid:
    """Drive minutes on a regular grid (EPSG:2154), one array per band (:func:`time_grid`).

    Attributes
    ----------
    bands
        Band name -> minutes, ``float32`` of shape ``(height, width)``; -1 is nodata.
    minx, maxy
        The grid's top-left corner (metres).
    cell_m
        Cell size (metres).
    """

    bands: dict[str, np.ndarray]
    minx: float
    maxy: float
    cell_m: float

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in cells."""
        return next(iter(self.bands.values())).shape if self.bands else (0, 0)


def time_grid(net, *, node_minutes: dict[str, np.ndarray], area, cell_m: float = 200.0
              ) -> TimeGrid:
    """Drive minutes on a grid over ``area`` (a polygon), one band per entry of
    ``node_minutes`` (minutes at each network node).

    Each cell takes the time of its nearest network node plus the leg to it at the snap
    speed; cells outside ``area`` are nodata (-1).
    """
    from rasterio.features import geometry_mask
    from rasterio.transform import from_origin

    minx, miny, maxx, maxy = area.bounds
    w = int(np.ceil((maxx - minx) / cell_m))
    h = int(np.ceil((maxy - miny) / cell_m))
    transform = from_origin(minx, maxy, cell_m, cell_m)
    xs = minx + (np.arange(w) + 0.5) * cell_m
    ys = maxy - (np.arange(h) + 0.5) * cell_m
    gx, gy = np.meshgrid(xs, ys)
    pts = gpd.GeoSeries(gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=WORKING_CRS)
    snap = net.snap(pts)
    outside = geometry_mask([area], out_shape=(h, w), transform=transform, invert=False)
    bands = {}
    for name, minutes in node_minutes.items():
        t = minutes[snap["node"].to_numpy()] + snap["snap_s"].to_numpy() / 60
        t = np.where(np.isfinite(t), t, -1).reshape(h, w).astype("float32")
        t[outside] = -1
        bands[name] = t
    return TimeGrid(bands=bands, minx=float(minx), maxy=float(maxy), cell_m=float(cell_m))


def write_time_raster(path: str | os.PathLike, grid: TimeGrid) -> dict:
    """Write a :class:`TimeGrid` as a GeoTIFF (EPSG:2154, deflate, nodata -1), atomically.

    Returns
    -------
    dict
        Width, height, cell size and band names.
    """
    import rasterio
    from rasterio.transform import from_origin

    h, w = grid.shape
    transform = from_origin(grid.minx, grid.maxy, grid.cell_m, grid.cell_m)

    def _w(tmp: Path) -> None:
        with rasterio.open(tmp, "w", driver="GTiff", width=w, height=h, count=len(grid.bands),
                           dtype="float32", crs=WORKING_CRS, transform=transform, nodata=-1,
                           compress="deflate") as dst:
            for i, (name, arr) in enumerate(grid.bands.items(), start=1):
                dst.write(arr, i)
                dst.set_band_description(i, name)
            dst.update_tags(units="minutes", method="nearest node + snap leg")

    atomic_write(Path(path), _w)
    return {"width": w, "height": h, "cell_m": grid.cell_m, "bands": list(grid.bands)}
