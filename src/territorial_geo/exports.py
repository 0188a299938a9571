"""Files planners open in their tools: an Excel workbook of the answer tables, CSVs in the
French Excel dialect, the zones layer with its seats, and a QGIS project.

* :func:`write_workbook`: ``study.xlsx``, one sheet per answer table, headers in the
  report's language (openpyxl).
* :func:`write_csv`: a CSV in the standard dialect (``,``, decimal point, UTF-8) or, with
  ``dialect="excel-fr"``, the one French Excel opens in columns (``;``, decimal comma, UTF-8
  with a BOM), written atomically, never with an index column.
* :func:`zones_with_seats`: the zone polygons with one column per variant and year.
* :func:`write_qgis_project`: ``study.qgs`` (plain XML) beside the GeoPackages, layers by
  relative path, styled like the web map (zones as coloured outlines, market towns in gold,
  communes shaded by seats).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo.demand import ALL_ZONES, TOTAL
from territorial_geo.i18n import label_or, messages
from territorial_geo.sources import atomic_write

#: CSV dialects: ``standard`` (``,``, ``.``, UTF-8) and ``excel-fr`` (``;``, ``,``, UTF-8 with
#: BOM: what French Excel reads as columns; ``output.csv_dialect``).
CSV_DIALECTS: dict[str, dict[str, str]] = {
    "standard": {"sep": ",", "decimal": ".", "encoding": "utf-8"},
    "excel-fr": {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"},
}


def write_csv(df: pd.DataFrame, path: str | os.PathLike, *, dialect: str = "standard",
              float_format: str | None = None) -> None:
    """Write ``df`` (its columns only: no index column) atomically in a CSV dialect of
    :data:`CSV_DIALECTS`."""
    opts = CSV_DIALECTS[dialect]
    atomic_write(Path(path), lambda tmp: df.to_csv(
        tmp, index=False, sep=opts["sep"], decimal=opts["decimal"], encoding=opts["encoding"],
        float_format=float_format))


def write_workbook(path: str | os.PathLike, sheets: dict[str, pd.DataFrame]) -> None:
    """An ``.xlsx`` workbook, one sheet per table (sheet names cut to Excel's 31 characters),
    header row bold and frozen, columns sized to their content; written atomically.

    Text is always written as text (a commune or site name starting with ``=`` is not a
    formula, a URL-like one not a link), numbers as numbers, NaN as an empty cell.

    Parameters
    ----------
    sheets
        Sheet name -> table (its columns are written, not its index: reset it first).
    """
    import xlsxwriter

    def build(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(str(tmp), {"in_memory": True})
        bold = wb.add_format({"bold": True})
        used: set[str] = set()
        for name, df in sheets.items():
            ws = wb.add_worksheet(sheet_name(str(name), used))
            for j, c in enumerate(df.columns):
                ws.write_string(0, j, str(c), bold)
            for i, row in enumerate(df.itertuples(index=False), start=1):
                for j, v in enumerate(row):
                    v = _cell(v)
                    if isinstance(v, bool):
                        ws.write_boolean(i, j, v)
                    elif isinstance(v, (int, float)):
                        ws.write_number(i, j, v)
                    elif v is not None:
                        ws.write_string(i, j, v)
            ws.freeze_panes(1, 0)
            for j, c in enumerate(df.columns):
                width = max([len(str(c))] + [len(str(v)) for v in df.iloc[:200, j]])
                ws.set_column(j, j, min(max(width + 2, 8), 60))
        wb.close()

    atomic_write(Path(path), build)


def sheet_name(name: str, used: set[str]) -> str:
    """A worksheet name Excel accepts, not in ``used`` (compared without case; added to it):
    ``[]:*?/\\`` replaced by ``-``, cut to 31 characters, `` (2)``, `` (3)``... appended
    (within the 31) when the cut name is taken.

    Examples
    --------
    >>> used = set()
    >>> sheet_name("seats per zone and per year of the study", used)
    'seats per zone and per year of '
    >>> sheet_name("Seats per zone and per year of the study (copy)", used)
    'Seats per zone and per year (2)'
    >>> sheet_name("a/b", used)
    'a-b'
    """
    base = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'") or "sheet"
    title, k = base[:31], 1
    while title.lower() in used:
        k += 1
        suffix = f" ({k})"
        title = base[:31 - len(suffix)] + suffix
    used.add(title.lower())
    return title


def commune_headers(columns, town_names: dict[str, str], lang: str) -> dict[str, str]:
    """Headers of the communes table in ``lang`` (``time_to_62045_min`` -> "minutes vers
    Aubigny-en-Artois"); columns with no label keep their name."""
    import re

    _ = messages(lang)
    fixed = {"code": _("xl_code"), "nom": _("commune"), "population_2026": _("population_2026"),
             "zones": _("zones_of_commune"), "exclusive_zone": _("xl_exclusive_zone"),
             "min_time_to_town_min": _("min_to_town"), "teleworkers": _("est_suffix", label=_("teleworkers")),
             "nearest_third_place": _("xl_nearest_third_place"),
             "time_to_third_place_min": _("xl_time_to_third_place")}
    out = {}
    for c in columns:
        if c in fixed:
            out[c] = fixed[c]
        elif m := re.fullmatch(r"time_to_(\w{5})_min", c):
            out[c] = _("xl_time_to", name=town_names.get(m.group(1), m.group(1)))
        elif m := re.fullmatch(r"seats_(total|solos|teleworkers)_(\d{4})", c):
            out[c] = _(f"xl_seats_{m.group(1)}", year=m.group(2))
        elif m := re.fullmatch(r"solos_(\d{4})", c):
            out[c] = _("xl_solos", year=m.group(1))
        elif m := re.fullmatch(r"users_(total|solos|teleworkers)_(\d{4})", c):
            out[c] = _(f"xl_users_{m.group(1)}", year=m.group(2))
        elif (label := label_or("xlc", c, lang)) != c:
            out[c] = label
    return out


def answer_sheets(*, zone_seats: pd.DataFrame, communes: pd.DataFrame, overlap: pd.DataFrame,
                  supply: pd.DataFrame, coverage: pd.DataFrame | None,
                  selection: pd.DataFrame | None, town_names: dict[str, str],
                  lang: str) -> dict[str, pd.DataFrame]:
    """The study's answer tables for the workbook, headers in ``lang``, numbers as numbers.

    Sheets: seats per zone, variant and year (with the 80 % interval when present), the
    communes table, the overlap of the zones (town names), the existing supply, the
    territory's coverage (shares in %) and the new sites."""
    _ = messages(lang)

    def tr(prefix: str, v):
        return label_or(prefix, v, lang)

    zs = zone_seats[zone_seats["segment"] == TOTAL].copy()
    keep = [c for c in ("zone", "zone_name", "variant", "year", "seats", "n_communes",
                        "seats_p10", "seats_p50", "seats_p90") if c in zs]
    zs = zs[keep]
    zs["zone_name"] = [_("all_zones") if z == ALL_ZONES else n
                       for z, n in zip(zs["zone"], zs["zone_name"], strict=True)]
    zs["variant"] = [tr("variant", v) for v in zs["variant"]]
    seats = zs.drop(columns="zone").rename(columns={
        "zone_name": _("col_zone_name"), "variant": _("col_variant"), "year": _("col_year"),
        "seats": _("col_seats"), "n_communes": _("col_communes"),
        "seats_p10": _("col_seats_p10"), "seats_p50": _("col_seats_p50"),
        "seats_p90": _("col_seats_p90")})
    com = communes.rename(columns=commune_headers(communes.columns, town_names, lang))
    ov = overlap.rename(index=town_names, columns=town_names)
    ov = ov.rename_axis(_("col_zone")).reset_index()
    sup = supply.rename(columns=lambda c: tr("col", c))
    sheets = {_("xl_sheet_seats"): seats, _("xl_sheet_communes"): com,
              _("xl_sheet_overlap"): ov, _("xl_sheet_supply"): sup}
    if coverage is not None and "level" in coverage:
        cov = coverage[coverage["level"] == "territory"].drop(columns=["level", "group"],
                                                               errors="ignore").copy()
        for c in list(cov.columns):
            if c.startswith("share_"):
                cov[c] = (100 * cov[c]).round(2)
        cov = cov.rename(columns=lambda c: _("xl_share_pct", label=tr("col", c))
                         if c.startswith("share_") else tr("col", c))
        sheets[_("xl_sheet_coverage")] = cov
    if selection is not None and len(selection):
        sel = selection.drop(columns=["method", "status", "gap", "bound"], errors="ignore").copy()
        if "share" in sel:
            sel["share"] = (100 * sel["share"]).round(2)
        sheets[_("xl_sheet_selection")] = sel.rename(
            columns=lambda c: _("xl_share_pct", label=_("col_share")) if c == "share"
            else tr("col", c))
    return sheets


def _cell(v):
    """A cell's value: numpy scalars as Python numbers, NaN as an empty cell (None), other
    objects as their text."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def zones_with_seats(polygons: gpd.GeoDataFrame, zone_seats: pd.DataFrame, *,
                     budget_min: float, segment: str = TOTAL) -> gpd.GeoDataFrame:
    """The zone polygons with their seats: one column ``seats_<variant>_<year>`` per variant
    and year of ``zones.csv`` (``segment`` seats), on the budget band's polygon of each
    zone (the band the seats are counted in; other bands are left empty).

    Parameters
    ----------
    polygons
        ``zones.gpkg`` layer ``zones``: ``zone``, ``band_min``, geometry.
    zone_seats
        The ``zones.csv`` frame (``zone``, ``variant``, ``segment``, ``year``, ``seats``).
    """
    zs = zone_seats[(zone_seats["segment"] == segment) & (zone_seats["zone"] != ALL_ZONES)]
    wide = zs.pivot_table(index="zone", columns=["variant", "year"], values="seats",
                          aggfunc="first")
    wide.columns = [f"seats_{v}_{int(y)}" for v, y in wide.columns]
    out = polygons.copy()
    on_budget = np.isclose(out["band_min"].to_numpy(float), budget_min)
    for c in wide.columns:
        out[c] = np.where(on_budget, out["zone"].map(wide[c]).to_numpy(float), np.nan)
    return out


# --------------------------------------------------------------------------------------
# QGIS project
# --------------------------------------------------------------------------------------

def _srs(parent: ET.Element) -> None:
    s = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    from pyproj import CRS

    ET.SubElement(s, "wkt").text = CRS.from_epsg(2154).to_wkt()
    ET.SubElement(s, "proj4").text = ("+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 "
                                      "+x_0=700000 +y_0=6600000 +ellps=GRS80 "
                                      "+towgs84=0,0,0,0,0,0,0 +units=m +no_defs")
    ET.SubElement(s, "srsid").text = "145"
    ET.SubElement(s, "srid").text = "2154"
    ET.SubElement(s, "authid").text = "EPSG:2154"
    ET.SubElement(s, "description").text = "RGF93 v1 / Lambert-93"
    ET.SubElement(s, "projectionacronym").text = "lcc"
    ET.SubElement(s, "ellipsoidacronym").text = "EPSG:7019"
    ET.SubElement(s, "geographicflag").text = "false"


def _symbol(parent: ET.Element, name: str, kind: str, props: dict[str, str]) -> None:
    """One QGIS symbol (``fill``, ``line`` or ``marker``) with one simple layer."""
    layer_class = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}[kind]
    sym = ET.SubElement(parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1",
                        force_rhr="0")
    lay = ET.SubElement(sym, "layer", {"class": layer_class, "enabled": "1", "locked": "0",
                                       "pass": "0"})
    for k, v in props.items():
        ET.SubElement(lay, "prop", k=k, v=v)


def _rgb(colour: str, alpha: int = 255) -> str:
    c = colour.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha}"


def _maplayer(parent: ET.Element, *, lid: str, name: str, source: str, geometry: str,
              extent: tuple[float, float, float, float], subset: str = "") -> ET.Element:
    ml = ET.SubElement(parent, "maplayer", type="vector", geometry=geometry,
                       hasScaleBasedVisibilityFlag="0", styleCategories="AllStyleCategories")
    ext = ET.SubElement(ml, "extent")
    for k, v in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True):
        ET.SubElement(ext, k).text = f"{v:.1f}"
    ET.SubElement(ml, "id").text = lid
    ET.SubElement(ml, "datasource").text = source + (f"|subset={subset}" if subset else "")
    ET.SubElement(ml, "layername").text = name
    _srs(ET.SubElement(ml, "srs"))
    ET.SubElement(ml, "provider", encoding="UTF-8").text = "ogr"
    return ml


def write_qgis_project(
    path: str | os.PathLike, *, title: str, communes: gpd.GeoDataFrame, seats_column: str,
    polygons: gpd.GeoDataFrame, towns: gpd.GeoDataFrame,
    zone_colours: list[str], budget_min: float, bins: list[float], colours: list[str],
    layer_names: dict[str, str],
) -> None:
    """A QGIS 3 project (``.qgs``, plain XML) that opens the study: communes shaded by
    ``seats_column`` (classes ``bins``, ``colours``: the web map's), the zones' budget band
    as coloured outlines (``zone_colours``, one per market town, as on the web map) and the
    market towns in gold. Layers point at ``communes.gpkg`` and ``zones.gpkg`` by relative
    path (the project sits beside them); written atomically.

    Parameters
    ----------
    layer_names
        Names of the layers in the project's legend: keys ``communes``, ``zones``,
        ``towns``.
    """
    minx, miny, maxx, maxy = polygons.total_bounds if len(polygons) else communes.total_bounds
    cminx, cminy, cmaxx, cmaxy = communes.total_bounds
    extent = (min(minx, cminx), min(miny, cminy), max(maxx, cmaxx), max(maxy, cmaxy))
    root = ET.Element("qgis", projectname=title, version="3.22.16-Białowieża")
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"))
    ids = {k: f"{k}_{uuid.uuid5(uuid.NAMESPACE_URL, title + k).hex}"
           for k in ("communes", "zones", "towns")}
    tree = ET.SubElement(root, "layer-tree-group")
    for k in ("towns", "zones", "communes"):
        ET.SubElement(tree, "layer-tree-layer", id=ids[k], name=layer_names[k], checked="Qt::Checked",
                      expanded="1", providerKey="ogr",
                      source=f"./{'communes' if k == 'communes' else 'zones'}.gpkg|layername={k}")
    order = ET.SubElement(tree, "custom-order", enabled="0")
    for k in ("towns", "zones", "communes"):
        ET.SubElement(order, "item").text = ids[k]
    layers = ET.SubElement(root, "projectlayers")
    # communes: graduated by seats, the web map's classes and colours
    ml = _maplayer(layers, lid=ids["communes"], name=layer_names["communes"],
                   source="./communes.gpkg|layername=communes", geometry="Polygon",
                   extent=extent)
    r = ET.SubElement(ml, "renderer-v2", type="graduatedSymbol", attr=seats_column,
                      graduatedMethod="GraduatedColor", symbollevels="0", enableorderby="0",
                      forceraster="0")
    ranges = ET.SubElement(r, "ranges")
    symbols = ET.SubElement(r, "symbols")
    lo = min(0.0, float(communes[seats_column].min()) if len(communes) else 0.0)
    for i, (hi, colour) in enumerate(zip(bins, colours, strict=False)):
        ET.SubElement(ranges, "range", lower=f"{lo:.6f}", upper=f"{hi:.6f}", symbol=str(i),
                      label=f"{lo:.1f} – {hi:.1f}", render="true")
        _symbol(symbols, str(i), "fill", {"color": _rgb(colour, 200), "outline_color": "68,68,68,255",
                                          "outline_width": "0.2", "style": "solid"})
        lo = hi
    ET.SubElement(ml, "legend", type="default-vector")
    # zones: the budget band, one coloured outline per market town, no fill
    ml = _maplayer(layers, lid=ids["zones"], name=layer_names["zones"],
                   source="./zones.gpkg|layername=zones", geometry="Polygon", extent=extent,
                   subset=f'"band_min" = {budget_min:g}')
    r = ET.SubElement(ml, "renderer-v2", type="categorizedSymbol", attr="zone",
                      symbollevels="0", enableorderby="0", forceraster="0")
    cats = ET.SubElement(r, "categories")
    symbols = ET.SubElement(r, "symbols")
    zone_ids = list(dict.fromkeys(polygons["zone"]))
    for i, z in enumerate(zone_ids):
        name = str(polygons.loc[polygons["zone"] == z, "nom"].iloc[0])
        ET.SubElement(cats, "category", value=str(z), symbol=str(i), label=f"{name} ({z})",
                      render="true")
        _symbol(symbols, str(i), "fill", {
            "color": "0,0,0,0", "style": "no", "outline_style": "solid",
            "outline_color": _rgb(zone_colours[i % len(zone_colours)]), "outline_width": "0.8"})
    ET.SubElement(ml, "legend", type="default-vector")
    # market towns: gold points
    ml = _maplayer(layers, lid=ids["towns"], name=layer_names["towns"],
                   source="./zones.gpkg|layername=towns", geometry="Point", extent=extent)
    r = ET.SubElement(ml, "renderer-v2", type="singleSymbol", symbollevels="0",
                      enableorderby="0", forceraster="0")
    symbols = ET.SubElement(r, "symbols")
    _symbol(symbols, "0", "marker", {"color": "255,215,0,255", "outline_color": "0,0,0,255",
                                     "size": "3", "name": "circle"})
    labeling = ET.SubElement(ml, "labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    ET.SubElement(settings, "text-style", fieldName="nom", fontSize="9", fontWeight="75",
                  textColor="0,0,0,255", isExpression="0")
    ET.SubElement(ml, "legend", type="default-vector")
    props = ET.SubElement(root, "properties")
    crs = ET.SubElement(props, "SpatialRefSys")
    ET.SubElement(crs, "ProjectCrs", type="QString").text = "EPSG:2154"
    ET.SubElement(crs, "ProjectionsEnabled", type="int").text = "1"  # else no project CRS
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    text = ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            + ET.tostring(root, encoding="unicode"))
    atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
