"""The batch maps: a Folium choropleth of unmet seats by EPCI (``map.html``) and the same
map printable (``map.png``)."""

from __future__ import annotations

import html
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry

from territorial_geo import sources
from territorial_geo.i18n import DEFAULT_LANG, messages, number


def _popup(r: pd.Series, horizon_year: int, lang: str = DEFAULT_LANG) -> str:
    e = html.escape
    _ = messages(lang)
    if r["status"] != "ok":
        return (f"<b>{e(str(r['name']))}</b> ({r['siren']})<br>{_('batch_status_error')}<br>"
                f"{e(str(r['error']))}")
    h = horizon_year

    def f(col: str, digits: int = 1, share: bool = False) -> str:
        v = r.get(col)
        if v is None or pd.isna(v):
            return _("batch_na")
        if share:
            return f"{number(100 * float(v), lang, digits=0)} %"
        return number(float(v), lang, digits=digits)

    return (f"<b>{e(str(r['name']))}</b> ({r['siren']})<br>"
            + "<br>".join(e(x) for x in (
                _("batch_communes", n=int(r["n_communes"]),
                  pop=number(float(r["population"]), lang, digits=0)),
                _("batch_zones", n=int(r["n_zones"]), towns=str(r["market_towns"])),
                _("batch_seats", year=h, v=f(f"seats_total_{h}")),
                _("batch_supply", v=f("supply_seats")),
                _("batch_unmet", year=h, v=f(f"unmet_seats_{h}")),
                _("batch_within", a=f("share_population_10min", share=True),
                  b=f("share_population_20min", share=True)),
                _("batch_uncovered", v=f("uncovered_population", digits=0)))))


def batch_maps(table: gpd.GeoDataFrame, out: str | os.PathLike, *, horizon_year: int,
               lang: str = DEFAULT_LANG) -> None:
    """``map.html`` (Folium choropleth of unmet seats by EPCI, click for the EPCI's summary;
    EPCIs in error in grey) and ``map.png`` (the same choropleth, printable); labels in
    ``lang`` (the message catalogue, :mod:`territorial_geo.i18n`)."""
    import folium

    from territorial_geo import maps

    _ = messages(lang)

    o = Path(out)
    col = f"unmet_seats_{horizon_year}"
    t = table.copy()
    if col not in t:
        t[col] = np.nan
    ok = (t["status"] == "ok") & t[col].notna()
    fills = pd.Series("#bbbbbb", index=t.index)
    bins: list[float] = []
    if ok.any():
        classes, bins = maps.classify(t.loc[ok, col])
        fills[ok] = [maps.SEQ_COLOURS[min(int(c), 4)] for c in classes]
    # 100 m is under a pixel of either map (a region is ~250 m per pixel of map.png)
    t = t.assign(geometry=t.geometry.simplify(100))
    web = t.to_crs(sources.WEB_CRS)
    minx, miny, maxx, maxy = web.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=8,
                   tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    fg = folium.FeatureGroup(name=_("batch_layer", year=horizon_year))
    for i, r in web.iterrows():
        gj = folium.GeoJson(
            {"type": "FeatureCollection", "features": [{
                "type": "Feature", "id": "0",
                "properties": {"siren": str(r["siren"]), "name": str(r["name"])},
                "geometry": shapely.geometry.mapping(r.geometry)}]},
            style_function=lambda _f, c=fills[i]: {"fillColor": c, "color": "#444",
                                                   "weight": 0.8, "fillOpacity": 0.75},
            tooltip=str(r["name"]))
        folium.Popup(_popup(r, horizon_year, lang), max_width=360).add_to(gj)
        gj.add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    from branca.element import Element

    m.get_root().html.add_child(Element(
        '<div style="position:fixed;bottom:20px;left:10px;z-index:9999;background:white;'
        'padding:6px;font:12px sans-serif">'
        + maps._legend_html(_("batch_legend", year=horizon_year), maps.SEQ_COLOURS, bins)
        + f"<div>{html.escape(maps.credits(lang))}</div></div>"))
    maps.save_map(m, o / "map.html")

    def png(p: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 9))
        t.plot(ax=ax, color=fills.to_numpy(), edgecolor="#444", linewidth=0.3)
        ax.set_axis_off()
        from matplotlib.patches import Patch

        lo, handles = None, []
        for c, b in zip(maps.SEQ_COLOURS, bins, strict=False):
            handles.append(Patch(facecolor=c, edgecolor="#444",
                                 label=f"≤ {b:.0f}" if lo is None else f"{lo:.0f} – {b:.0f}"))
            lo = b
        handles.append(Patch(facecolor="#bbbbbb", edgecolor="#444", label=_("batch_error")))
        # under the map, not over it; the credits under the title
        ax.legend(handles=handles, title=_("batch_legend", year=horizon_year),
                  loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, fontsize=8,
                  frameon=False)
        ax.text(0.5, 1.0, maps.credits(lang), transform=ax.transAxes, ha="center",
                va="bottom", fontsize=6, color="#333", wrap=True)
        ax.set_title(_("batch_title", year=horizon_year), pad=18)
        fig.savefig(p, dpi=110, format="png", bbox_inches="tight")
        plt.close(fig)

    sources.atomic_write(o / "map.png", png)
