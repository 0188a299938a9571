"""Stage 6, maps: the interactive Folium map, static PNG maps and GeoTIFF rasters.

The Folium map inlines Leaflet (fetched as the ``leaflet`` dataset) so that it opens with no
network; legends, search, fullscreen and print controls are plain HTML and JavaScript (no
plugin to fetch); with no tile server it shows a light offline background (commune outlines
and names, main roads). Labels come from :mod:`territorial_geo.i18n` (French by default).
Web maps are in EPSG:4326.
"""

from __future__ import annotations

import html
import io
import os
import re
import tarfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo import sources
from territorial_geo.i18n import DEFAULT_LANG, messages, number
from territorial_geo.sources import WEB_CRS, WORKING_CRS, atomic_write

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


def _fmt(fmt: str, v: float, lang: str) -> str:
    s = fmt.format(v)
    return s.replace(".", ",") if lang == "fr" else s


def _legend_html(title: str, colours: list[str], bins: list[float], fmt: str = "{:.1f}",
                 lang: str = DEFAULT_LANG, layer: str = "") -> str:
    """A legend block; the map opens it while its layer (named ``layer``) is shown."""
    rows = []
    lo = None
    for c, b in zip(colours, bins, strict=False):
        label = (f"≤ {_fmt(fmt, b, lang)}" if lo is None
                 else f"> {_fmt(fmt, lo, lang)}" if not np.isfinite(b)
                 else f"{_fmt(fmt, lo, lang)} – {_fmt(fmt, b, lang)}")
        rows.append(f'<div><span style="background:{c};width:14px;height:14px;display:inline-block;'
                    f'margin-right:6px;border:1px solid #555"></span>{html.escape(label)}</div>')
        lo = b
    return (f'<details class="tg-legend" data-layer="{html.escape(layer)}"><summary><b>'
            f'{html.escape(title)}</b></summary>{"".join(rows)}</details>')


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
    lang: str = DEFAULT_LANG,
):
    """Interactive map for elected officials.

    Search a commune by name (its popup opens), a zone legend naming each market town with
    its colour, fullscreen and print buttons (``@media print`` view), and a light offline
    background (commune outlines and names, main roads) drawn under the data; when the tile
    server answers, tiles replace it (it stays in the layer control).

    Parameters
    ----------
    outline
        Territory outline (one polygon).
    communes
        Communes with the figures to map (EPSG:2154 or 4326), columns ``code`` and ``nom``.
    layers
        Column -> layer title for the choropleths (first one shown, others toggleable).
    polygons
        Isochrones: ``zone``, ``nom``, ``band_min``, geometry.
    towns, sites
        Market towns and third places (points): ``nom``/``name``, popups.
    tooltip_fields
        Column -> label shown in the commune tooltips.
    town_popups
        Market-town code -> popup HTML.
    coverage_col
        Column of minutes to the nearest third place (a coverage layer is added).
    budget_min
        The zones' budget: the isochrone band shown by default.
    commune_popups
        Commune code -> popup HTML (opened on click and by the search box; see
        :func:`commune_popup`).
    background
        Communes drawn in the offline background with their names (default: ``communes``).
    roads
        Lines of the main roads of the network in use (see :func:`main_roads`).
    lang
        Language of the labels (:mod:`territorial_geo.i18n`).

    Returns
    -------
    folium.Map
    """
    import folium
    from branca.element import Element

    _ = messages(lang)
    cw = communes.to_crs(WEB_CRS)
    minx, miny, maxx, maxy = cw.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=10,
                   tiles=None, control_scale=True, prefer_canvas=False, zoom_snap=0.25)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(12, 12))
    # panes: offline background under everything that carries data
    folium.map.CustomPane("tg-background", z_index=350).add_to(m)
    bg = folium.FeatureGroup(name=_("offline_layer"), show=True)
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
    legends = []
    fields = list(tooltip_fields)
    props = cw[[*dict.fromkeys(["code", *fields]), "geometry"]].copy()
    for c in fields:
        if pd.api.types.is_float_dtype(props[c]):
            props[c] = props[c].round(1)
        else:
            props[c] = props[c].astype(str)
    props["code"] = props["code"].astype(str)
    geojson_vars = []
    for i, (col, label) in enumerate(layers.items()):
        classes, bins = classify(cw[col])
        colour = dict(zip(cw.index, [SEQ_COLOURS[min(c, 4)] for c in classes], strict=True))
        data = props.assign(_fill=[colour[i2] for i2 in cw.index])
        fg = folium.FeatureGroup(name=_("layer_choropleth", label=label), show=(i == 0))
        gj = folium.GeoJson(
            data.to_json(),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444",
                                      "weight": 0.6, "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=list(tooltip_fields.values())),
            name=label,
        )
        gj.add_to(fg)
        geojson_vars.append(gj.get_name())
        fg.add_to(m)
        legends.append(_legend_html(label, SEQ_COLOURS, bins, lang=lang,
                                    layer=_("layer_choropleth", label=label)))
    if coverage_col is not None:
        t = cw[coverage_col].replace(np.inf, np.nan)
        bins = [5, 10, 15, 20, 1e9]
        cls = np.searchsorted(bins, t.fillna(1e9).to_numpy(), side="left")
        data = props.assign(_fill=[TIME_COLOURS[min(c, 4)] for c in cls],
                            _t=t.round(1).astype(str))
        fg = folium.FeatureGroup(name=_("coverage_layer"), show=False)
        gj = folium.GeoJson(
            data.to_json(),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444",
                                      "weight": 0.5, "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(fields=[*fields, "_t"],
                                          aliases=[*tooltip_fields.values(),
                                                   _("min_to_site")]),
        )
        gj.add_to(fg)
        geojson_vars.append(gj.get_name())
        fg.add_to(m)
        legends.append(_legend_html(_("min_to_site"), TIME_COLOURS,
                                    [5, 10, 15, 20, float("inf")], fmt="{:.0f}", lang=lang,
                                    layer=_("coverage_layer")))
    pw = polygons.to_crs(WEB_CRS)
    zone_ids = list(dict.fromkeys(pw["zone"]))
    main_band = budget_min if budget_min is not None else (
        float(pw["band_min"].median()) if len(pw) else 0.0)
    zone_rows = []
    for zi, z in enumerate(zone_ids):
        sub = pw[pw["zone"] == z].sort_values("band_min", ascending=False)
        colour = ZONE_COLOURS[zi % len(ZONE_COLOURS)]
        name = sub["nom"].iloc[0] if len(sub) else z
        zone_rows.append((z, name, colour))
        bands = sorted(sub["band_min"].unique())
        main = folium.FeatureGroup(name=_("zone_layer", name=name, code=z, band=f"{main_band:g}"),
                                   show=True)
        others = folium.FeatureGroup(
            name=_("zone_bands_layer", name=name, bands=", ".join(f"{b:g}" for b in bands)),
            show=False)
        for _i, row in sub.iterrows():
            rank = bands.index(row["band_min"])
            folium.GeoJson(
                gpd.GeoSeries([row.geometry], crs=WEB_CRS).to_json(),
                style_function=_zone_style(colour, rank, len(bands)),
                tooltip=_("zone_tooltip", name=name, band=f"{row['band_min']:g}",
                          area=f"{row['area_km2']:.0f}"),
            ).add_to(main if row["band_min"] == main_band else others)
        main.add_to(m)
        others.add_to(m)
    folium.GeoJson(
        outline.to_crs(WEB_CRS).to_json(), name=_("outline_layer"),
        style_function=lambda f: {"fill": False, "color": "#000", "weight": 3},
    ).add_to(m)
    fg = folium.FeatureGroup(name=_("towns_layer"), show=True)
    tw = towns.to_crs(WEB_CRS)
    for code, row in tw.iterrows():
        popup = (town_popups or {}).get(code, html.escape(str(row["nom"])))
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=8, color="#000",
                            fill=True, fill_color="#ffd700", fill_opacity=1,
                            popup=folium.Popup(popup, max_width=320),
                            tooltip=_("town_tooltip", name=row["nom"])).add_to(fg)
    fg.add_to(m)
    fg = folium.FeatureGroup(name=_("sites_layer"), show=True)
    sw = sites.to_crs(WEB_CRS)
    site_labels = {"name": _("site_name"), "type": _("site_type"), "status": _("site_status"),
                   "seats": _("site_seats")}
    status_labels = {"existing": _("status_existing"), "planned": _("status_planned")}
    for _i, row in sw.iterrows():
        pop = "<br>".join(
            f"<b>{html.escape(label)}</b>: "
            f"{html.escape(str(status_labels.get(row[k], row[k]) if k == 'status' else row[k]))}"
            for k, label in site_labels.items() if k in row)
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=6, color="#800080",
                            fill=True, fill_color="#da70d6", fill_opacity=0.9,
                            popup=folium.Popup(pop, max_width=320),
                            tooltip=str(row.get("name", _("site_default")))).add_to(fg)
    fg.add_to(m)
    control = folium.LayerControl(collapsed=False, position="topright")
    control.add_to(m)
    zone_legend = (
        f'<div class="tg-legend tg-zone-legend"><b>{html.escape(_("legend_zones", budget=f"{main_band:g}"))}</b>'
        + "".join(f'<div class="tg-zone" data-zone="{html.escape(z)}"><span class="tg-swatch" '
                  f'style="border-color:{c};background:{c}55"></span>{html.escape(str(n))} '
                  f'<span class="tg-code">({html.escape(z)})</span></div>'
                  for z, n, c in zone_rows)
        + f'<div class="tg-zone tg-town-key"><span class="tg-dot" style="background:#ffd700">'
          f'</span>{html.escape(_("towns_layer"))}</div>'
        + f'<div class="tg-zone tg-town-key"><span class="tg-dot" style="background:#da70d6;'
          f'border-color:#800080"></span>{html.escape(_("sites_layer"))}</div></div>')
    m.get_root().header.add_child(Element(f"<style>{_MAP_CSS}</style>"))
    options = "".join(f'<option value="{html.escape(str(n))}"></option>'
                      for n in sorted(cw["nom"].astype(str).unique()))
    m.get_root().html.add_child(Element(
        f'<div class="tg-title">{html.escape(title)}</div>'
        f'<div class="tg-tools tg-noprint">'
        f'<input id="tg-search" type="search" list="tg-communes" autocomplete="off" '
        f'placeholder="{html.escape(_("search_placeholder"))}" '
        f'aria-label="{html.escape(_("search_placeholder"))}">'
        f'<datalist id="tg-communes">{options}</datalist>'
        f'<button id="tg-fullscreen" type="button" title="{html.escape(_("fullscreen"))}">'
        f'{html.escape(_("fullscreen"))}</button>'
        f'<button id="tg-print" type="button" title="{html.escape(_("print"))}">'
        f'{html.escape(_("print"))}</button>'
        f'<div id="tg-search-msg" role="status"></div></div>'
        f'<div class="tg-legends">{zone_legend}{"".join(legends)}</div>'
        f'<div class="tg-credits">{html.escape(credits(lang))}</div>'))
    index = []
    for _i, row in cw.iterrows():
        b = row.geometry.bounds
        c = row.geometry.representative_point()
        code = str(row["code"])
        index.append({"code": code, "nom": str(row["nom"]),
                      "b": [[round(b[1], 5), round(b[0], 5)], [round(b[3], 5), round(b[2], 5)]],
                      "c": [round(c.y, 5), round(c.x, 5)],
                      "p": (commune_popups or {}).get(code, f"<b>{html.escape(str(row['nom']))}</b>")})
    import json

    js = (_MAP_JS.replace("__MAP__", m.get_name())
          .replace("__COMMUNES__", json.dumps(index, ensure_ascii=False))
          .replace("__LAYERS__", json.dumps(geojson_vars))
          .replace("__BG__", bg.get_name())
          .replace("__TILE_URL__", json.dumps(TILE_URL))
          .replace("__TILE_ATTR__", json.dumps(_("tiles_attribution")))
          .replace("__TILE_NAME__", json.dumps(_("tiles_layer")))
          .replace("__CONTROL__", control.get_name())
          .replace("__NONE__", json.dumps(_("search_none"))))
    m.get_root().html.add_child(Element(f"<script>{js}</script>"))
    return m


_MAP_CSS = """
.tg-legend{background:#fff;padding:6px 8px;margin:4px 0;font:12px sans-serif;border-radius:4px;
 box-shadow:0 0 4px #888}
.tg-legends{position:absolute;bottom:48px;left:10px;z-index:1000;max-height:60%;overflow:auto;
 max-width:300px}
.tg-zone{margin:2px 0;white-space:nowrap}.tg-code{color:#666}
.leaflet-control-layers-expanded{font-size:11.5px;line-height:1.25;max-height:calc(100vh - 40px);
 overflow:auto}
.leaflet-control-layers-overlays label{margin:0}
.tg-popup td{padding:1px 6px 1px 0;white-space:nowrap;vertical-align:top}
.tg-swatch{display:inline-block;width:16px;height:12px;border:2px solid;margin-right:6px;
 vertical-align:middle}
.tg-dot{display:inline-block;width:11px;height:11px;border-radius:50%;border:1.5px solid #000;
 margin:0 8px 0 3px;vertical-align:middle}
.tg-title{position:absolute;top:10px;left:60px;z-index:1000;background:#fff;padding:4px 10px;
 font:bold 15px sans-serif;border-radius:4px;box-shadow:0 0 4px #888}
.tg-tools{position:absolute;top:50px;left:60px;z-index:1000;font:13px sans-serif}
.tg-tools input{width:230px;padding:5px 7px;border:1px solid #888;border-radius:4px;
 box-shadow:0 0 4px #888;font-size:13px}
.tg-tools button{margin-left:4px;padding:5px 8px;border:1px solid #888;border-radius:4px;
 background:#fff;cursor:pointer;box-shadow:0 0 4px #888;font-size:13px}
#tg-search-msg{margin-top:4px;color:#b00;font-weight:bold}
#tg-search-msg:empty{display:none}
.tg-credits{position:absolute;bottom:0;left:120px;z-index:1000;background:rgba(255,255,255,.8);
 font:10px sans-serif;padding:1px 4px;max-width:calc(100% - 460px)}
.tg-label{font:10px sans-serif;color:#555;text-shadow:0 0 2px #fff,0 0 2px #fff;
 white-space:nowrap;pointer-events:none}
.tg-small-zoom .tg-label{display:none}
@media print{
 @page{size:A4 landscape;margin:8mm}
 html,body{width:100%;height:100%}
 .tg-noprint,.leaflet-control-layers,.leaflet-control-zoom{display:none !important}
 .tg-legends{max-height:none;overflow:visible;box-shadow:none}
 .tg-legend{box-shadow:none;border:1px solid #999}
 details.tg-legend:not([open]){display:none}
 .tg-title{left:10px;box-shadow:none;border:1px solid #999}
 .tg-credits{max-width:none;right:auto}
}
"""

#: The map's own controls (search, fullscreen, print, tiles or offline background), plain
#: JavaScript: works offline, no plugin to fetch.
_MAP_JS = r"""
window.addEventListener('load', function () {
  var map = __MAP__;
  var communes = __COMMUNES__;
  var layers = __LAYERS__;
  var bg = __BG__;
  var byCode = {};
  communes.forEach(function (c) { byCode[c.code] = c; });
  layers.forEach(function (name) {
    var gj = window[name];
    if (!gj) { return; }
    gj.eachLayer(function (l) {
      var c = byCode[l.feature.properties.code];
      if (c) { l.bindPopup(c.p, {maxWidth: 340}); }
    });
  });
  // commune names of the offline background, hidden when zoomed out
  var labels = L.layerGroup();
  communes.forEach(function (c) {
    L.marker(c.c, {interactive: false, keyboard: false, pane: 'tg-background',
      icon: L.divIcon({className: 'tg-label', html: c.nom, iconSize: null})}).addTo(labels);
  });
  labels.addTo(bg);
  function zoomClass() {
    map.getContainer().classList.toggle('tg-small-zoom', map.getZoom() < 11);
  }
  map.on('zoomend', zoomClass); zoomClass();
  // a choropleth's legend is open while its layer is shown
  function syncLegends() {
    var shown = {};
    document.querySelectorAll('.leaflet-control-layers-overlays label').forEach(function (l) {
      var i = l.querySelector('input');
      if (i && i.checked) { shown[l.textContent.trim()] = true; }
    });
    document.querySelectorAll('details.tg-legend').forEach(function (d) {
      d.open = !!shown[d.getAttribute('data-layer')];
    });
  }
  map.on('overlayadd overlayremove', function () { setTimeout(syncLegends, 0); });
  syncLegends();
  // tiles when the tile server answers, else the offline background stays
  var probe = new Image();
  probe.onload = function () {
    var tiles = L.tileLayer(__TILE_URL__, {attribution: __TILE_ATTR__, maxZoom: 18});
    tiles.addTo(map); tiles.bringToBack();
    __CONTROL__.addOverlay(tiles, __TILE_NAME__);
    map.removeLayer(bg);
    document.body.setAttribute('data-background', 'tiles');
  };
  probe.onerror = function () { document.body.setAttribute('data-background', 'offline'); };
  probe.src = __TILE_URL__.replace('{z}', '10').replace('{x}', '520').replace('{y}', '340');
  // search a commune by name (accents and case ignored)
  function norm(s) {
    return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
      .replace(/[-'’\s]+/g, ' ').trim();
  }
  var input = document.getElementById('tg-search');
  var msg = document.getElementById('tg-search-msg');
  function find(q) {
    q = norm(q);
    if (!q) { return null; }
    var exact = null, starts = null, part = null;
    communes.forEach(function (c) {
      var n = norm(c.nom);
      if (n === q && !exact) { exact = c; }
      else if (n.indexOf(q) === 0 && !starts) { starts = c; }
      else if (n.indexOf(q) > 0 && !part) { part = c; }
    });
    return exact || starts || part;
  }
  function go() {
    var c = find(input.value);
    if (!c) { msg.textContent = input.value ? __NONE__ : ''; return; }
    msg.textContent = '';
    map.fitBounds(c.b, {maxZoom: 12});
    L.popup({maxWidth: 340}).setLatLng(c.c).setContent(c.p).openOn(map);
  }
  input.addEventListener('change', go);
  input.addEventListener('keydown', function (e) { if (e.key === 'Enter') { go(); } });
  document.getElementById('tg-fullscreen').addEventListener('click', function () {
    var el = document.documentElement;
    if (document.fullscreenElement) { document.exitFullscreen(); }
    else if (el.requestFullscreen) { el.requestFullscreen().catch(function () {}); }
  });
  document.getElementById('tg-print').addEventListener('click', function () { window.print(); });
  // the printed page shows what the screen showed: the same bounds fitted to the paper
  // (bounds kept before printing; refitted once the print layout applies)
  var screenView = null;
  function refit() {
    map.invalidateSize({animate: false});
    if (screenView) { map.fitBounds(screenView, {animate: false}); }
  }
  window.addEventListener('beforeprint', function () {
    screenView = screenView || map.getBounds(); refit();
  });
  window.matchMedia('print').addEventListener('change', function (e) {
    if (e.matches) { screenView = screenView || map.getBounds(); }
    refit();
    if (!e.matches) { screenView = null; }
  });
  window.addEventListener('afterprint', function () { refit(); screenView = null; });
  document.addEventListener('fullscreenchange', function () { map.invalidateSize(); });
});
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


def _zone_style(colour: str, rank: int, n: int):
    """Style of one isochrone band: inner bands more opaque."""
    style = {"fillColor": colour, "color": colour, "weight": 1.5 if rank == n - 1 else 0.8,
             "fillOpacity": 0.08 + 0.1 * (n - 1 - rank) / max(n - 1, 1), "opacity": 0.8}
    return lambda _f: style


#: Folium builds popups with ``$(html)[0]`` (jQuery); offline we replace jQuery by this shim.
_JQUERY_SHIM = (
    "if(!window.$){window.$=function(h){var t=document.createElement('template');"
    "t.innerHTML=String(h).trim();return [t.content.firstElementChild];};}"
)


def _leaflet_assets(data_dir) -> tuple[str, str] | None:
    p = sources.resolve_data_dir(data_dir) / sources.CATALOG["leaflet"].path
    if not p.is_file():
        return None
    with tarfile.open(p) as tf:
        js = tf.extractfile("package/dist/leaflet.js").read().decode()
        css = tf.extractfile("package/dist/leaflet.css").read().decode()
    return js, css


def save_map(m, path: str | os.PathLike, *, data_dir=None) -> bool:
    """Render a Folium map to HTML atomically, inlining Leaflet when it was fetched.

    Returns True when Leaflet was inlined (the map then opens offline, base tiles aside).
    """
    page = m.get_root().render()
    assets = _leaflet_assets(data_dir)
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
    atomic_write(Path(path), lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return inlined


def static_map(
    communes: gpd.GeoDataFrame, column: str, title: str, path: str | os.PathLike, *,
    polygons: gpd.GeoDataFrame | None = None, towns: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None, outline: gpd.GeoDataFrame | None = None,
    legend_title: str = "", lang: str = DEFAULT_LANG,
) -> None:
    """A printable PNG choropleth with scale bar, north arrow, legend and credits (labels in
    ``lang``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    _ = messages(lang)
    g = communes.to_crs(WORKING_CRS)
    classes, bins = classify(g[column])
    fig, ax = plt.subplots(figsize=(10, 9), dpi=110)
    g.assign(_c=[SEQ_COLOURS[min(c, 4)] for c in classes]).plot(
        ax=ax, color=[SEQ_COLOURS[min(c, 4)] for c in classes], edgecolor="#666", linewidth=0.4)
    handles = []
    lo = None
    for c, b in zip(SEQ_COLOURS, bins, strict=False):
        handles.append(Patch(facecolor=c, edgecolor="#666",
                             label=(f"≤ {_fmt('{:.1f}', b, lang)}" if lo is None
                                    else f"{_fmt('{:.1f}', lo, lang)} – {_fmt('{:.1f}', b, lang)}")))
        lo = b
    if polygons is not None and len(polygons):
        for zi, (_z, sub) in enumerate(polygons.groupby("zone", sort=False)):
            col = ZONE_COLOURS[zi % len(ZONE_COLOURS)]
            sub.to_crs(WORKING_CRS).boundary.plot(ax=ax, color=col, linewidth=1.4)
            handles.append(Patch(facecolor="none", edgecolor=col,
                                 label=_("png_zone", name=sub["nom"].iloc[0])))
    if outline is not None:
        outline.to_crs(WORKING_CRS).boundary.plot(ax=ax, color="black", linewidth=2)
    if towns is not None and len(towns):
        t = towns.to_crs(WORKING_CRS)
        t.plot(ax=ax, color="gold", edgecolor="black", markersize=80, zorder=5)
        for _i, r in t.iterrows():
            ax.annotate(r["nom"], (r.geometry.x, r.geometry.y), xytext=(5, 5),
                        textcoords="offset points", fontsize=8, weight="bold")
    if sites is not None and len(sites):
        sites.to_crs(WORKING_CRS).plot(ax=ax, color="orchid", edgecolor="purple", marker="s",
                                       markersize=40, zorder=6)
        handles.append(Patch(facecolor="orchid", edgecolor="purple",
                             label=_("png_third_place")))
    minx, miny, maxx, maxy = g.total_bounds
    ax.set_xlim(minx - 2000, maxx + 2000)
    ax.set_ylim(miny - 2000, maxy + 2000)
    # scale bar: a round length about a fifth of the width
    width = maxx - minx
    length = max(1, round(width / 5 / 1000 / 5) * 5) * 1000 if width > 25000 else 5000
    x0, y0 = minx, miny - 1000
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=4)
    ax.text(x0 + length / 2, y0 + 600, f"{length / 1000:.0f} km", ha="center", fontsize=9)
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.87), xycoords="axes fraction",
                ha="center", fontsize=14, weight="bold",
                arrowprops={"facecolor": "black", "width": 4, "headwidth": 12})
    ax.legend(handles=handles, title=legend_title or column, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(title, fontsize=13)
    ax.set_axis_off()
    fig.text(0.01, 0.01, f"{credits(lang)} — {_('png_crs')}", fontsize=7, color="#333")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    atomic_write(Path(path), lambda tmp: tmp.write_bytes(buf.getvalue()))


def time_raster(
    path: str | os.PathLike,
    *,
    net,
    node_minutes: dict[str, np.ndarray],
    area,
    cell_m: float = 200.0,
) -> dict:
    """GeoTIFF (EPSG:2154) of drive minutes, one band per entry of ``node_minutes``.

    Each cell takes the time of its nearest network node plus the leg to it at the snap
    speed; cells outside ``area`` (a polygon) are nodata (-1).

    Returns
    -------
    dict
        Width, height, cell size and band names.
    """
    import rasterio
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
    bands = []
    for name, minutes in node_minutes.items():
        t = minutes[snap["node"].to_numpy()] + snap["snap_s"].to_numpy() / 60
        t = np.where(np.isfinite(t), t, -1).reshape(h, w).astype("float32")
        t[outside] = -1
        bands.append((name, t))

    def _w(tmp: Path) -> None:
        with rasterio.open(tmp, "w", driver="GTiff", width=w, height=h, count=len(bands),
                           dtype="float32", crs=WORKING_CRS, transform=transform, nodata=-1,
                           compress="deflate") as dst:
            for i, (name, arr) in enumerate(bands, start=1):
                dst.write(arr, i)
                dst.set_band_description(i, name)
            dst.update_tags(units="minutes", method="nearest node + snap leg")

    atomic_write(Path(path), _w)
    return {"width": w, "height": h, "cell_m": cell_m, "bands": [b[0] for b in bands]}
