"""Stage 6, maps: the interactive Folium map, static PNG maps and GeoTIFF rasters.

The Folium map inlines Leaflet (fetched as the ``leaflet`` dataset) so that it opens with no
network; legends are plain HTML (no d3). Web maps are in EPSG:4326.
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
from territorial_geo.sources import WEB_CRS, WORKING_CRS, atomic_write

ZONE_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                "#1f78b4", "#b2df8a", "#fb9a99"]
SEQ_COLOURS = ["#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837"]
TIME_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
CREDITS = ("Sources: IGN ADMIN EXPRESS, INSEE (RP 2018, COG 2026, SIRENE), CGET 2019 "
           "tiers-lieux, © OpenStreetMap contributors (Travel Mapping skeleton)")


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


def _legend_html(title: str, colours: list[str], bins: list[float], fmt: str = "{:.1f}") -> str:
    rows = []
    lo = None
    for c, b in zip(colours, bins, strict=False):
        label = f"≤ {fmt.format(b)}" if lo is None else f"{fmt.format(lo)} – {fmt.format(b)}"
        rows.append(f'<div><span style="background:{c};width:14px;height:14px;display:inline-block;'
                    f'margin-right:6px;border:1px solid #555"></span>{html.escape(label)}</div>')
        lo = b
    return (f'<details class="tg-legend"><summary><b>{html.escape(title)}</b></summary>'
            f'{"".join(rows)}</details>')


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
):
    """Interactive map for elected officials.

    Parameters
    ----------
    outline
        Territory outline (one polygon).
    communes
        Communes with the figures to map (EPSG:2154 or 4326).
    layers
        Column -> layer title for the choropleths (first one shown, others toggleable).
    polygons
        Isochrones: ``zone``, ``nom``, ``band_min``, geometry.
    towns, sites
        Market towns and third places (points): ``nom``/``name``, popups.
    tooltip_fields
        Column -> label shown in the commune tooltips.
    coverage_col
        Column of minutes to the nearest third place (a coverage layer is added).

    Returns
    -------
    folium.Map
    """
    import folium
    from branca.element import Element

    cw = communes.to_crs(WEB_CRS)
    minx, miny, maxx, maxy = cw.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=10,
                   tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    legends = []
    fields = list(tooltip_fields)
    props = cw[fields + ["geometry"]].copy()
    for c in fields:
        if pd.api.types.is_float_dtype(props[c]):
            props[c] = props[c].round(1)
        else:
            props[c] = props[c].astype(str)
    for i, (col, label) in enumerate(layers.items()):
        classes, bins = classify(cw[col])
        colour = dict(zip(cw.index, [SEQ_COLOURS[min(c, 4)] for c in classes], strict=True))
        data = props.assign(_fill=[colour[i2] for i2 in cw.index])
        fg = folium.FeatureGroup(name=f"Choropleth: {label}", show=(i == 0))
        folium.GeoJson(
            data.to_json(),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444",
                                      "weight": 0.6, "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=list(tooltip_fields.values())),
            name=label,
        ).add_to(fg)
        fg.add_to(m)
        legends.append(_legend_html(label, SEQ_COLOURS, bins))
    if coverage_col is not None:
        t = cw[coverage_col].replace(np.inf, np.nan)
        bins = [5, 10, 15, 20, 1e9]
        cls = np.searchsorted(bins, t.fillna(1e9).to_numpy(), side="left")
        data = props.assign(_fill=[TIME_COLOURS[min(c, 4)] for c in cls],
                            _t=t.round(1).astype(str))
        fg = folium.FeatureGroup(name="Coverage: minutes to the nearest third place", show=False)
        folium.GeoJson(
            data.to_json(),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444",
                                      "weight": 0.5, "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(fields=[*fields, "_t"],
                                          aliases=[*tooltip_fields.values(),
                                                   "Minutes to nearest third place"]),
        ).add_to(fg)
        fg.add_to(m)
        legends.append(_legend_html("Minutes to nearest third place", TIME_COLOURS,
                                    [5, 10, 15, 20, float("inf")], fmt="{:.0f}"))
    pw = polygons.to_crs(WEB_CRS)
    zone_ids = list(dict.fromkeys(pw["zone"]))
    main_band = budget_min if budget_min is not None else (
        float(pw["band_min"].median()) if len(pw) else 0.0)
    for zi, z in enumerate(zone_ids):
        sub = pw[pw["zone"] == z].sort_values("band_min", ascending=False)
        colour = ZONE_COLOURS[zi % len(ZONE_COLOURS)]
        name = sub["nom"].iloc[0] if len(sub) else z
        bands = sorted(sub["band_min"].unique())
        main = folium.FeatureGroup(name=f"Zone {name} ({z}), {main_band:g} min", show=True)
        others = folium.FeatureGroup(name=f"Zone {name}: bands {', '.join(f'{b:g}' for b in bands)} min",
                                     show=False)
        for _, row in sub.iterrows():
            rank = bands.index(row["band_min"])
            folium.GeoJson(
                gpd.GeoSeries([row.geometry], crs=WEB_CRS).to_json(),
                style_function=_zone_style(colour, rank, len(bands)),
                tooltip=f"{name}: {row['band_min']:g} min ({row['area_km2']:.0f} km²)",
            ).add_to(main if row["band_min"] == main_band else others)
        main.add_to(m)
        others.add_to(m)
    folium.GeoJson(
        outline.to_crs(WEB_CRS).to_json(), name="Territory outline",
        style_function=lambda f: {"fill": False, "color": "#000", "weight": 3},
    ).add_to(m)
    fg = folium.FeatureGroup(name="Market towns", show=True)
    tw = towns.to_crs(WEB_CRS)
    for code, row in tw.iterrows():
        popup = (town_popups or {}).get(code, html.escape(str(row["nom"])))
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=8, color="#000",
                            fill=True, fill_color="#ffd700", fill_opacity=1,
                            popup=folium.Popup(popup, max_width=320),
                            tooltip=f"Market town: {row['nom']}").add_to(fg)
    fg.add_to(m)
    fg = folium.FeatureGroup(name="Third places (CGET 2019 and planned)", show=True)
    sw = sites.to_crs(WEB_CRS)
    for _, row in sw.iterrows():
        pop = "<br>".join(f"<b>{html.escape(str(k))}</b>: {html.escape(str(row[k]))}"
                          for k in ("name", "type", "status", "seats") if k in row)
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=6, color="#800080",
                            fill=True, fill_color="#da70d6", fill_opacity=0.9,
                            popup=folium.Popup(pop, max_width=320),
                            tooltip=str(row.get("name", "third place"))).add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    style = ("<style>.tg-legend{background:#fff;padding:6px 8px;margin:4px 0;font:12px sans-serif;"
             "border-radius:4px;box-shadow:0 0 4px #888}.tg-legends{position:absolute;bottom:48px;"
             "left:10px;z-index:1000;max-height:60%;overflow:auto}.tg-title{position:absolute;"
             "top:10px;left:60px;z-index:1000;background:#fff;padding:4px 10px;font:bold 15px "
             "sans-serif;border-radius:4px;box-shadow:0 0 4px #888}.tg-credits{position:absolute;"
             "bottom:0;right:200px;z-index:1000;background:rgba(255,255,255,.8);font:10px "
             "sans-serif;padding:1px 4px}</style>")
    m.get_root().header.add_child(Element(style))
    m.get_root().html.add_child(Element(
        f'<div class="tg-title">{html.escape(title)}</div>'
        f'<div class="tg-legends">{"".join(legends)}</div>'
        f'<div class="tg-credits">{html.escape(CREDITS)}</div>'))
    return m


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
    legend_title: str = "",
) -> None:
    """A printable PNG choropleth with scale bar, north arrow, legend and credits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    g = communes.to_crs(WORKING_CRS)
    classes, bins = classify(g[column])
    fig, ax = plt.subplots(figsize=(10, 9), dpi=110)
    g.assign(_c=[SEQ_COLOURS[min(c, 4)] for c in classes]).plot(
        ax=ax, color=[SEQ_COLOURS[min(c, 4)] for c in classes], edgecolor="#666", linewidth=0.4)
    handles = []
    lo = None
    for c, b in zip(SEQ_COLOURS, bins, strict=False):
        handles.append(Patch(facecolor=c, edgecolor="#666",
                             label=f"≤ {b:.1f}" if lo is None else f"{lo:.1f} – {b:.1f}"))
        lo = b
    if polygons is not None and len(polygons):
        for zi, (_z, sub) in enumerate(polygons.groupby("zone", sort=False)):
            col = ZONE_COLOURS[zi % len(ZONE_COLOURS)]
            sub.to_crs(WORKING_CRS).boundary.plot(ax=ax, color=col, linewidth=1.4)
            handles.append(Patch(facecolor="none", edgecolor=col,
                                 label=f"zone {sub['nom'].iloc[0]}"))
    if outline is not None:
        outline.to_crs(WORKING_CRS).boundary.plot(ax=ax, color="black", linewidth=2)
    if towns is not None and len(towns):
        t = towns.to_crs(WORKING_CRS)
        t.plot(ax=ax, color="gold", edgecolor="black", markersize=80, zorder=5)
        for _, r in t.iterrows():
            ax.annotate(r["nom"], (r.geometry.x, r.geometry.y), xytext=(5, 5),
                        textcoords="offset points", fontsize=8, weight="bold")
    if sites is not None and len(sites):
        sites.to_crs(WORKING_CRS).plot(ax=ax, color="orchid", edgecolor="purple", marker="s",
                                       markersize=40, zorder=6)
        handles.append(Patch(facecolor="orchid", edgecolor="purple", label="third place"))
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
    ax.legend(handles=handles, title=legend_title or column, loc="lower right", fontsize=8)
    ax.set_title(title, fontsize=13)
    ax.set_axis_off()
    fig.text(0.01, 0.01, CREDITS + " — Lambert-93 (EPSG:2154)", fontsize=7, color="#333")
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
