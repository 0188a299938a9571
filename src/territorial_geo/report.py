"""Stage 6, report: a self-contained, printable HTML study report (French by default).

Answers first (seats per zone and year, the map, the overlaps, the without-pole variant,
supply and coverage), method and parameters after. Labels come from
:mod:`territorial_geo.i18n`. :func:`write_pdf` prints it to PDF with headless Chromium.
"""

from __future__ import annotations

import ast
import base64
import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from territorial_geo.config import DEFAULT_SOURCES, PRESET_SOURCES, RANGE_SOURCES
from territorial_geo.demand import ALL_ZONES, TERRITORY_RESIDENTS, TOTAL, UNION, ZONE
from territorial_geo.errors import DataMissingError
from territorial_geo.i18n import (
    DEFAULT_LANG,
    SOURCE_TEXT,
    Note,
    dataset_text,
    label_or,
    localized,
    messages,
    number,
    param_label,
)
from territorial_geo.i18n import (
    render as render_note,
)
from territorial_geo.sources import atomic_write
from territorial_geo.templating import render

_CSS = """
body{font:14px/1.45 sans-serif;max-width:1100px;margin:auto;padding:1em;color:#222}
h1{font-size:1.7em;margin-bottom:.2em}
h2{border-bottom:2px solid #2a7;padding-bottom:3px;margin-top:1.6em}
h2.method{border-color:#999;color:#555}
.intro{color:#555;margin-top:0}
table.t{border-collapse:collapse;margin:.5em 0;display:block;max-width:100%;overflow-x:auto}
table.t td{overflow-wrap:anywhere}
small.key{color:#777;font-weight:normal;font-size:10.5px;font-family:monospace}
ul.flags{background:#fff6d5;border-left:4px solid #e6ab02;margin:.4em 0;padding:4px 10px 4px 28px}
p.answer{font-size:15px;margin:.3em 0}
p.footnote{color:#666;font-size:11.5px}
table.t td,table.t th{border:1px solid #ccc;padding:3px 7px;text-align:right}
table.t th{background:#f3f3f3}
table.answer td,table.answer th{font-size:15px;padding:5px 10px}
table.answer tr.union td,table.answer tr.union th{font-weight:bold;background:#eef8f2}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:.6em 0}
.facts dt{font-weight:bold}.facts dd{margin:0}
.note{background:#fff6d5;border-left:4px solid #e6ab02;padding:4px 10px;margin:4px 0}
iframe{width:100%;height:620px;border:1px solid #ccc}
img.map{max-width:100%;display:block;margin:.5em 0}
.toolbar{float:right}
.toolbar button{padding:5px 10px;border:1px solid #888;border-radius:4px;background:#fff;
 cursor:pointer}
.screen-only{}
@media print{
 @page{size:A4;margin:12mm}
 body{max-width:none;padding:0;font-size:11px}
 .toolbar,.screen-only,iframe{display:none !important}
 h2{break-after:avoid;page-break-after:avoid}
 table,img,.facts{break-inside:avoid;page-break-inside:avoid}
 img.map{width:100%;max-height:190mm;object-fit:contain;margin:auto}
 table.t td,table.t th{padding:2px 4px;font-size:9.5px}
 a{color:#222;text-decoration:none}
 .method-part{break-before:page;page-break-before:always}
}
"""


def _img(path: Path, cls: str = "map") -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<img class="{cls}" alt="{html.escape(path.stem)}" '
            f'src="data:image/png;base64,{data}">')


_PATH = re.compile(r"(?<![\w.:])(?:/[\w.\-+@~]+){2,}/?")
_DICT = re.compile(r"\{'[^{}]*\}")
_LONG_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{4,}(?![\w.])")
_NUMBER = re.compile(r"-?\d+\.\d+")
_DECIMAL = re.compile(r"(?<![\w.,])(\d+)\.(\d+)(?![\w.])")


def value_text(v, lang: str = DEFAULT_LANG) -> str:
    """A parameter value as a reader writes it: ``0.2`` -> "0,2" in French, lists joined,
    mappings as "key = value", booleans as yes/no, no Python syntax."""
    _ = messages(lang)
    if isinstance(v, bool | np.bool_):
        return _("yes") if v else _("no")
    if v is None:
        return "–"
    if isinstance(v, int | np.integer):
        return str(int(v)) if abs(int(v)) < 10_000 else number(float(v), lang, digits=0)
    if isinstance(v, str) and _NUMBER.fullmatch(v):  # a number passed through a text column
        return value_text(float(v), lang)
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "–"
        return (localized(float(v), ".4g", lang) if abs(v) < 10_000
                else number(float(v), lang, digits=0))
    if isinstance(v, dict):
        return " ; ".join(f"{k} = {value_text(x, lang)}" for k, x in v.items()) if lang == "fr" \
            else "; ".join(f"{k} = {value_text(x, lang)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(value_text(x, lang) for x in v) if v else "–"
    return readable(str(v), lang, decimals=False)


def readable(text: str, lang: str = DEFAULT_LANG, *, decimals: bool = True) -> str:
    """Text from the computing stages as a reader wants it: local paths cut to their file
    name, Python dicts written as "key = value", long floats rounded
    (151.66666666666666 -> 151,67), decimal commas in French (with ``decimals``; not in
    names such as "Licence Ouverte 2.0")."""
    def _dict(m: re.Match) -> str:
        try:
            return value_text(ast.literal_eval(m.group(0)), lang)
        except (ValueError, SyntaxError):
            return m.group(0)

    text = _PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], text)
    text = _DICT.sub(_dict, text)
    text = _LONG_FLOAT.sub(lambda m: f"{float(m.group(0)):.2f}", text)
    if lang == "fr" and decimals:
        text = _DECIMAL.sub(r"\1,\2", text)
    return text


#: How the computing stages wrap a method source (``config.provenance``,
#: ``params.uncertainty_ranges``) -> catalogue key; named groups are the wrapped values.
_SOURCE_WRAPPERS = (
    (re.compile(r"^study file(?P<where> .+?)? \(method default: (?P<source>.*)\)$", re.S),
     "src_method_default"),
    (re.compile(r"^study file(?P<where> .+?)? \(method range: (?P<source>.*)\)$", re.S),
     "src_method_range"),
    (re.compile(r"^(?P<source>.*) \(scaled to the study's value (?P<value>\S+)\)$", re.S),
     "src_scaled"),
    (re.compile(r"^study file \(explicit rates\)$"), "src_explicit_rates"),
    (re.compile(r"^study file(?P<where> \S+)$"), "src_study_file"),
    (re.compile(r"^ASSUMPTION$"), "src_assumption"),
)


def source_text(text: str, lang: str = DEFAULT_LANG) -> str:
    """The source of a parameter (``config.provenance``) or of its uncertainty range
    (``params.uncertainty_ranges``) in ``lang``, as :func:`readable` shows it.

    The method's own sources (``config.DEFAULT_SOURCES``, ``PRESET_SOURCES``,
    ``RANGE_SOURCES``) take their wording from :data:`~territorial_geo.i18n.SOURCE_TEXT`,
    the study-file wrappers ("study file … (method default: …)") from the catalogue; any
    other text (a source written in a study file) is shown as it is.

    Examples
    --------
    >>> source_text("study file a.toml (method default: docs/method.md §5)", "fr")
    "fichier d'étude a.toml (valeur par défaut de la méthode : docs/method.md §5)"
    """
    words = SOURCE_TEXT.get(lang, {})
    for kind, english in (("default", DEFAULT_SOURCES), ("preset", PRESET_SOURCES),
                          ("range", RANGE_SOURCES)):
        for key, wording in words.get(kind, {}).items():
            if english.get(key) == text:
                return readable(wording, lang, decimals=False)
    for pattern, key in _SOURCE_WRAPPERS:
        if m := pattern.match(text):
            g = m.groupdict()
            values = {"where": readable(g["where"] or "", lang, decimals=False)} \
                if "where" in g else {}
            if "source" in g:
                values["source"] = source_text(g["source"], lang)
            if "value" in g:
                values["value"] = readable(g["value"], lang)
            return messages(lang)(key, **values)
    return readable(text, lang)


def _key_cell(key: str, lang: str) -> str:
    """A parameter's label in the report language, its key in small print (HTML)."""
    return (f"{html.escape(param_label(key, lang))}<br>"
            f"<small class='key'>{html.escape(key)}</small>")


def _table(df: pd.DataFrame, *, digits: int = 1, lang: str = DEFAULT_LANG,
           classes: str = "t", index: bool = True) -> str:
    """A frame as an HTML table (cells escaped), numbers written the language's way with
    ``digits`` decimals (:func:`~territorial_geo.i18n.number`), NaN as "–"."""
    return df.to_html(border=0, classes=classes, float_format=lambda v: number(v, lang,
                                                                              digits=digits),
                      na_rep="–", escape=True, index=index)


def _coverage_detail(coverage: pd.DataFrame, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """The coverage table as read: shares in percent, people and minutes without decimals
    (teleworkers and solos, which are estimates, keep one), people written the language's
    way, levels and the territory's group named in ``lang``."""
    out = coverage.copy()
    for c in out.columns:
        if c.startswith("share_"):
            out[c] = (100 * out[c]).round(1)
            out = out.rename(columns={c: f"{c} (%)"})
        elif c == "minutes":
            out[c] = out[c].round(0).astype("Int64")
        elif c.endswith("_population"):
            out[c] = [number(float(v), lang, digits=0) if pd.notna(v) else "–" for v in out[c]]
    if "level" in out:
        out["level"] = [label_or("level", v, lang) for v in out["level"]]
    if "group" in out:
        out["group"] = [label_or("group", v, lang) for v in out["group"]]
    return out


def _columns(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rename the columns that have a ``col_<name>`` label in the catalogue."""
    _ = messages(lang)
    ren = {}
    for c in df.columns:
        base, pct = (c[:-4], " (%)") if str(c).endswith(" (%)") else (c, "")
        try:
            ren[c] = _(f"col_{base}") + pct
        except KeyError:
            pass
    return df.rename(columns=ren)


def _interval_cols(zs: pd.DataFrame) -> tuple[str, str] | None:
    """The (p10, p90) columns of the zones table, when a scenario run added them."""
    for lo, hi in (("seats_p10", "seats_p90"), ("p10", "p90")):
        if lo in zs and hi in zs:
            return lo, hi
    return None


def seats_answer(zone_seats: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """The answer table: total seats of each zone and of the union, one column per year;
    with ``seats_p10``/``seats_p90`` columns the cells read ``value [p10 – p90]``. With
    ``territory_residents`` rows, each year's column is followed by the seats of the
    members living in the territory (and their share of the zone's).

    Parameters
    ----------
    zone_seats
        The ``zones.csv`` frame (``zone_name``, ``variant``, ``segment``, ``year``, ``seats``).

    Returns
    -------
    DataFrame
        Index: zone names then the union row; columns: years; cells: formatted text.
    """
    _ = messages(lang)
    zs = zone_seats[(zone_seats["segment"] == TOTAL)
                    & zone_seats["variant"].isin([ZONE, UNION])].copy()
    iv = _interval_cols(zs)

    def cell(r) -> str:
        s = number(r["seats"], lang)
        if iv is not None and np.isfinite(r[iv[0]]) and np.isfinite(r[iv[1]]):
            s += f" [{number(r[iv[0]], lang)} – {number(r[iv[1]], lang)}]"
        return s

    zs["cell"] = [cell(r) for _i, r in zs.iterrows()]
    zs["row"] = np.where(zs["variant"] == UNION, _("all_zones"), zs["zone_name"])
    order = list(dict.fromkeys(zs.loc[zs["variant"] == ZONE, "zone_name"])) + [_("all_zones")]
    t = zs.pivot_table(index="row", columns="year", values="cell", aggfunc="first")
    t = t.reindex([o for o in order if o in t.index])
    t.index.name = None
    years = [int(y) for y in t.columns]
    t.columns = [_("seats_year", year=y) for y in years]
    # residents of the territory beside everyone in the zone (zone_table's
    # territory_residents rows: zone and union)
    res = zone_seats[(zone_seats["segment"] == TOTAL)
                     & (zone_seats["variant"] == TERRITORY_RESIDENTS)].copy()
    if len(res):
        res["row"] = np.where(res["zone"] == ALL_ZONES, _("all_zones"), res["zone_name"])
        res["cell"] = [number(v, lang) + (f" ({number(100 * f, lang, digits=0)} %)"
                                          if np.isfinite(f) else "")
                       for v, f in zip(res["seats"], res["share_of_zone"], strict=True)]
        rp = res.pivot_table(index="row", columns="year", values="cell", aggfunc="first")
        cols = []
        for y in years:
            t[_("residents_year", year=y)] = rp[y].reindex(t.index) if y in rp else ""
            cols += [_("seats_year", year=y), _("residents_year", year=y)]
        t = t[cols]
    t.columns.name = _("col_zone")
    return t


def coverage_answer(coverage: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """The territory-level coverage shares as percentages (the full table, by EPCI and
    department, goes to the method part); other frames (a 'skipped' note) pass through."""
    _ = messages(lang)
    if "level" not in coverage or "minutes" not in coverage:
        return coverage
    t = coverage[coverage["level"] == "territory"]
    out = pd.DataFrame({_("col_minutes"): [f"≤ {m:g} min" for m in t["minutes"]]})
    for what in ("population", "teleworkers", "solos"):
        col = f"share_{what}"
        if col in t:
            out[_(f"col_share_{what}")] = [f"{number(100 * v, lang)} %" for v in t[col]]
    return out


def selection_answer(selection: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """The site-selection table with its fractions (``share`` covered, relative ``gap``)
    written as percentages, like the coverage table (0.039 is "3,9 %", not "0,0")."""
    out = selection.copy()
    for col in ("share", "gap"):
        if col in out:
            out[col] = [f"{number(100 * v, lang)} %" if np.isfinite(v) else "–"
                        for v in out[col].astype(float)]
    return _columns(out, lang)


def selection_display(selection: pd.DataFrame, *, what: str | None = None,
                      lang: str = DEFAULT_LANG) -> tuple[pd.DataFrame, str]:
    """The new-sites table as a reader wants it: step, site, people newly covered, covered
    in all, share; the solver's words (method, status, gap, bound) go to a footnote.

    Returns
    -------
    (DataFrame, str)
        The table (French headers in a French report) and the footnote (plain text).
    """
    _ = messages(lang)
    t = selection_answer(selection, lang=lang)
    note = ""
    if {"method", "status", "gap", "bound"} <= set(selection.columns) and len(selection):
        r = selection.iloc[-1]
        gap = float(r["gap"])
        status = {"optimal": "optimale"}.get(r["status"], r["status"]) if lang == "fr" \
            else r["status"]
        note = _("selection_footnote", method=r["method"], status=status,
                 gap=f"{number(100 * gap, lang)} %" if np.isfinite(gap) else "–",
                 bound=number(float(r["bound"]), lang, digits=0))
        t = t.drop(columns=[_(f"col_{c}") for c in ("method", "status", "gap", "bound")])
    if what:
        t = t.rename(columns={_("col_gain"): _("col_gain_people", what=what),
                              _("col_covered"): _("col_covered_people", what=what)})
    for c in t.columns:
        if pd.api.types.is_float_dtype(t[c]):
            t[c] = [number(v, lang, digits=0) if np.isfinite(v) else "–" for v in t[c]]
    return t, note


def _translate_pivot(p: pd.DataFrame, lang: str) -> pd.DataFrame:
    _ = messages(lang)

    def tr(prefix: str, v):
        return label_or(prefix, v, lang)

    p = p.copy()
    if isinstance(p.index, pd.MultiIndex) and "variant" in p.index.names:
        p.index = p.index.set_levels(
            [tr("variant", v) for v in p.index.levels[p.index.names.index("variant")]],
            level="variant")
        if "zone_name" in p.index.names:  # the union's rows: "all" in zones.csv
            p.index = p.index.set_levels(
                [_("all_zones") if v == ALL_ZONES else v
                 for v in p.index.levels[p.index.names.index("zone_name")]], level="zone_name")
        p.index = p.index.set_names([_("col_variant") if n == "variant" else
                                     _("col_zone") if n == "zone_name" else
                                     _("col_year") if n == "year" else n
                                     for n in p.index.names])
    if isinstance(p.columns, pd.MultiIndex) and "segment" in p.columns.names:
        p.columns = p.columns.set_levels(
            [tr("segment", v) for v in p.columns.levels[p.columns.names.index("segment")]],
            level="segment")
        p.columns = p.columns.set_names([_("col_segment") if n == "segment" else
                                         _("col_year") if n == "year" else n
                                         for n in p.columns.names])
    return p


def write_report(
    path: str | os.PathLike,
    *,
    title: str,
    summary: dict,
    parameters: dict,
    provenance: dict,
    overlap: pd.DataFrame,
    seats_pivot: pd.DataFrame,
    competition: pd.DataFrame,
    supply: pd.DataFrame,
    coverage: pd.DataFrame | None,
    selection: pd.DataFrame | None,
    notes: list[str | Note],
    data_sources: list[dict],
    images: list[Path],
    town_names: dict[str, str],
    overlap_territory: pd.DataFrame | None = None,
    territory_name: str = "the territory",
    zone_seats: pd.DataFrame | None = None,
    lang: str = DEFAULT_LANG,
    extra_sections: list[tuple[str, str, str]] | None = None,
    flags: list[str] | None = None,
    selection_sentences: list[str] | None = None,
    selection_what: str | None = None,
) -> None:
    """Write ``report.html`` (atomically); images are embedded, the map is linked.

    Answers come first: key facts, seats per zone and year (``zone_seats``, with their
    p10–p90 interval when the table has ``seats_p10``/``seats_p90``), the map, the overlap
    tables, the without-pole variant, supply, coverage and new sites; then the method, the
    detail by segment, estimates and assumptions, parameters and data sources.

    ``overlap`` counts every member commune of the zones, wherever it lives
    (``overlap.csv``); ``overlap_territory`` only the territory's own communes
    (``overlap_territory.csv``). The report labels which is which. ``extra_sections``:
    ``(French heading, English heading, HTML)`` added after the answers, before the
    printable maps and the method (e.g. uncertainty), under the heading of the report's
    language. ``flags``: the estimated inputs (fallbacks, approximate network, residents
    outside the territory), listed under the seats they feed; ``selection_sentences``: one
    plain sentence per proposed site, above the new-sites table (``selection_what``: what
    the selection counts, e.g. "habitants").
    """
    _ = messages(lang)
    seats_imgs = [p for p in images if p.is_file() and p.stem.startswith("map_seats")]
    other_imgs = [p for p in images if p.is_file() and p not in seats_imgs]
    answer = None
    if zone_seats is not None and len(zone_seats):
        answer = _table(seats_answer(zone_seats, lang=lang), lang=lang, classes="t answer")
        union = html.escape(_("all_zones"))
        answer = answer.replace(f"<th>{union}</th>", f"<th class='union'>{union}</th>")
        answer = answer.replace("<tr>\n      <th class='union'>",
                                "<tr class='union'>\n      <th class='union'>")
    sel_table = sel_note = None
    if selection is not None and len(selection):
        sel_table, sel_note = selection_display(selection, what=selection_what, lang=lang)
    names = town_names
    safe = Markup

    def trusted(key: str, **values) -> Markup:
        """A catalogue message that holds HTML, its values escaped."""
        return Markup(_(key, **{k: html.escape(str(v)) for k, v in values.items()}))

    page = render(
        "report.html.j2", lang=lang, title=title, css=safe(_CSS), t=_, th=trusted,
        territory=territory_name, summary=summary,
        answer=safe(answer) if answer is not None else None,
        residents=answer is not None and bool(
            (zone_seats["variant"] == TERRITORY_RESIDENTS).any()),
        intervals=answer is not None and _interval_cols(zone_seats) is not None,
        flags=flags or [],
        pivot=safe(_table(_translate_pivot(seats_pivot, lang), lang=lang)),
        seats_images=[safe(_img(p)) for p in seats_imgs[-1:]],
        overlap=safe(_table(overlap.rename(index=names, columns=names).rename_axis(None),
                            lang=lang, digits=0)),
        overlap_territory=None if overlap_territory is None else safe(_table(
            overlap_territory.rename(index=names, columns=names).rename_axis(None),
            lang=lang, digits=0)),
        competition=safe(_table(_columns(competition, lang), lang=lang, index=False))
        if len(competition) else None,
        supply=safe(_table(_columns(supply, lang), lang=lang, index=False))
        if len(supply) else None,
        coverage=None if coverage is None else safe(_table(
            coverage_answer(coverage, lang=lang), lang=lang, index=False)),
        selection=None if sel_table is None else safe(_table(sel_table, lang=lang,
                                                             index=False)),
        selection_sentences=selection_sentences or [], selection_note=sel_note,
        extra_sections=[(fr if lang == "fr" else en, safe(body))
                        for fr, en, body in extra_sections or []],
        static_images=[safe(_img(p)) for p in [*seats_imgs[:-1], *other_imgs]]
        if other_imgs or seats_imgs[:-1] else [],
        detail=safe(_table(_translate_pivot(seats_pivot, lang), lang=lang)),
        coverage_detail=safe(_table(_columns(_coverage_detail(coverage, lang), lang),
                                    lang=lang, index=False, classes="t raw"))
        if coverage is not None and "level" in coverage else None,
        notes=[readable(render_note(n, lang), lang) for n in notes],
        parameters=safe(_parameters_table(parameters, provenance, lang)),
        sources=safe(_table(_sources_frame(data_sources, lang), lang=lang, classes="t raw")),
    )
    atomic_write(Path(path), lambda tmp: tmp.write_text(page, encoding="utf-8"))


def counts_section(zone_seats: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> str:
    """HTML: the persons behind each zone's and the union's seats (``zones.csv`` columns
    ``teleworkers``, ``solos``, ``users``, ``seats``; ``total`` rows of the ``zone`` and
    ``union`` variants), one group of columns per year."""
    _ = messages(lang)
    zs = zone_seats[(zone_seats["segment"] == TOTAL)
                    & zone_seats["variant"].isin([ZONE, UNION])].copy()
    zs["row"] = np.where(zs["variant"] == UNION, _("all_zones"), zs["zone_name"])
    order = list(dict.fromkeys(zs["row"]))
    t = pd.DataFrame(index=order)
    first = zs.drop_duplicates("row").set_index("row")
    t[_("col_teleworkers_all")] = first["teleworkers"].reindex(order)
    for y in sorted(zs["year"].unique()):
        sub = zs[zs["year"] == y].set_index("row").reindex(order)
        t[_("col_solos_year", year=int(y))] = sub["solos"]
        t[_("col_users_year", year=int(y))] = sub["users"]
        t[_("seats_year", year=int(y))] = sub["seats"]
    return f"<p>{html.escape(_('counts_text'))}</p>" + _table(t, lang=lang)


def pole_dropped_section(dropped: pd.DataFrame, members: dict[str, int],
                         seats: pd.Series | None = None, *, year: int | None = None,
                         lang: str = DEFAULT_LANG) -> str:
    """HTML: the members each competing pole's variant drops (``pole_dropped.csv``), one
    paragraph and table per zone, with a warning when a market town is dropped.

    Parameters
    ----------
    dropped
        The frame of :func:`territorial_geo.pipeline.zones_stage` (``pole_dropped``).
    members
        Zone code -> number of members within the budget.
    seats
        Seats of each commune in ``year`` (by code), shown beside the times.
    """
    _ = messages(lang)
    out = []
    for (zone, _pole), d in dropped.groupby(["zone", "pole"], sort=False):
        r = d.iloc[0]
        out.append("<p>" + html.escape(_("pole_dropped_text", zone=r["zone_name"],
                                         pole=r["pole_name"],
                                         rule=_(f"pole_rule_{r['rule']}"), n=len(d),
                                         n_all=members.get(zone, len(d)))) + "</p>")
        towns = d[d["market_town"].astype(bool)]
        if len(towns):
            out.append("<p class='note'>" + html.escape(_("pole_warning", towns=", ".join(
                towns["nom"].astype(str)))) + "</p>")
        t = pd.DataFrame({
            _("col_pole_commune"): [f"{n} ({c})" for n, c in zip(d["nom"], d["code"],
                                                                  strict=True)],
            _("col_pole_in_territory"): [_("yes") if v else _("no") for v in d["in_territory"]],
            _("col_pole_time_town"): d["time_to_town_min"].to_numpy(float),
            _("col_pole_time_pole"): d["time_to_pole_min"].to_numpy(float),
        })
        if seats is not None and year is not None:
            t[_("col_pole_seats", year=year)] = seats.reindex(d["code"]).to_numpy(float)
        out.append(_table(t, lang=lang, index=False))
    return "\n".join(out)


def teleworker_rule_section(rules: pd.DataFrame, *, sentence: str, tornado: Path | None = None,
                            tornado_text: str = "", lang: str = DEFAULT_LANG) -> str:
    """HTML: why teleworker seats jump between the anchor years (``sentence``), the
    teleworker seats of each zone and of the union under each rule
    (:func:`territorial_geo.demand.rule_comparison`; the study's rule in bold), and the
    base-year tornado chart."""
    _ = messages(lang)
    r = rules.copy()
    r["row"] = np.where(r["zone"] == ALL_ZONES, _("all_zones"), r["zone_name"])
    order = list(dict.fromkeys(r.loc[r["zone"] != ALL_ZONES, "row"])) + [_("all_zones")]
    cols = {}
    for (rule, y), g in r.groupby(["rule", "year"], sort=True):
        g = g.set_index("row").reindex(order)
        cols[(int(y), rule)] = [
            (f"<b>{number(v, lang)}</b>" if st == rule else number(v, lang))
            for v, st in zip(g["seats_teleworkers"], g["study_rule"], strict=True)]
    t = pd.DataFrame({f"{_('seats_year', year=y)} — {_(f'rule_{rule}')}": v
                      for (y, rule), v in sorted(cols.items(), key=lambda kv: (
                          kv[0][0], kv[0][1] != "share_of_users"))}, index=order)
    table = t.to_html(border=0, classes="t", escape=False)
    parts = [f"<p>{html.escape(sentence)}</p>", f"<p>{html.escape(_('tele_rule_table'))}</p>",
             table]
    if tornado is not None and tornado.is_file():
        parts += [f"<p>{html.escape(tornado_text)}</p>", _img(tornado)]
    return "\n".join(parts)


def _parameters_table(parameters: dict, provenance: dict, lang: str) -> str:
    """Every parameter: its label in the report language (key in small print), its value
    written the language's way and its source."""
    _ = messages(lang)
    rows = "".join(
        f"<tr><th>{_key_cell(k, lang)}</th><td>{html.escape(value_text(v, lang)[:240])}</td>"
        f"<td>{html.escape(source_text(str(provenance.get(k, '')), lang))}</td></tr>"
        for k, v in parameters.items())
    return (f'<table class="dataframe t raw"><thead><tr><th>{html.escape(_("col_parameter"))}'
            f'</th><th>{html.escape(_("col_value"))}</th><th>{html.escape(_("col_source"))}</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>")


#: How a dataset was obtained (``study._origin``'s English lines) -> catalogue key.
_ORIGINS = ((re.compile(r"^copied from the mirror \((.*)\)$"), "origin_copied"),
            (re.compile(r"^built from the official source\(s\) \((.*)\)$"), "origin_built"),
            (re.compile(r"^downloaded \((.*)\)$"), "origin_downloaded"),
            (re.compile(r"^present \(no fetch record\)$"), "origin_present"),
            (re.compile(r"^not available: .*$"), "origin_unavailable"))


def _origin_text(text: str, lang: str) -> str:
    """How a dataset was obtained, in the report language (local paths cut to names)."""
    _ = messages(lang)
    for pattern, key in _ORIGINS:
        if m := pattern.match(text):
            what = readable(m.group(1), lang, decimals=False) if m.groups() else ""
            return _(key, what=what) if what else _(key)
    return readable(text, lang, decimals=False)


def _sources_frame(data_sources: list[dict], lang: str) -> pd.DataFrame:
    """The data sources table in the report language: no local path, yes/no."""
    df = pd.DataFrame(data_sources).set_index("name").rename_axis(None)
    for c in df.columns:
        df[c] = [_origin_text(str(v), lang) if c == "origin"
                 else value_text(dataset_text(str(n), c, v, lang) if isinstance(v, str) else v,
                                 lang)
                 for n, v in zip(df.index, df[c], strict=True)]
    return _columns(df, lang)


def uncertainty_section(intervals: pd.DataFrame, sensitivity: pd.DataFrame | None, *,
                        year: int, draws: int, seed: int,
                        tornado: Path | None = None, lang: str = DEFAULT_LANG) -> str:
    """HTML of the report's uncertainty section: the Monte Carlo median and 80 % interval
    per zone and year (``intervals``: ``zone_name``, ``variant``, ``year``, ``seats``,
    ``seats_p10``, ``seats_p50``, ``seats_p90``), the union's tornado chart and the
    parameters that move the union's seats most at ``year`` (text in ``lang``; the tables
    keep the column names of ``zones.csv`` and ``sensitivity.csv``)."""
    _ = messages(lang)
    draws_s = number(draws, lang, digits=0)
    iv = _translate_pivot(_columns(intervals, lang), lang) if isinstance(
        intervals.index, pd.MultiIndex) else _columns(intervals, lang)
    parts = [f"<p>{_('unc_intro', draws=draws_s, seed=seed)}</p>",
             _table(iv, lang=lang, classes="t raw")]
    if tornado is not None and tornado.is_file():
        parts.append(_img(tornado))
    if sensitivity is not None and len(sensitivity):
        sens = sensitivity.copy()
        for c in ("low", "central", "high"):
            if c in sens:
                sens[c] = [value_text(v, lang) for v in sens[c]]
        if "source" in sens:
            sens["source"] = [source_text(str(v), lang) for v in sens["source"]]
        sens = _columns(sens, lang)
        # cells escaped here; the index carries the label and the key in small print
        for c in sens.columns:
            if not pd.api.types.is_numeric_dtype(sens[c]):
                sens[c] = [html.escape(str(v)) for v in sens[c]]
        sens.index = [_key_cell(str(k), lang) for k in sens.index]
        sens.index.name = None
        table = sens.to_html(border=0, classes="t raw", escape=False, na_rep="–",
                             float_format=lambda v: number(v, lang))
        parts += [f"<p>{html.escape(_('unc_sensitivity', year=year))}</p>", table]
    return "\n".join(parts)


def write_scenarios_report(
    path: str | os.PathLike, *, title: str, sweep: pd.DataFrame, sensitivity: pd.DataFrame,
    charts: list[Path], tornados: list[Path], year: int | str, notes: list[str],
    sensitivity_year: int | None = None, lang: str = DEFAULT_LANG,
) -> None:
    """Write a scenario sweep's ``report.html`` (atomically, images embedded): the seats
    per scenario and zone at ``year``, a chart per zone, the one-at-a-time sensitivity and
    its tornado charts; text in ``lang``."""
    page = render(
        "sweep_report.html.j2", lang=lang, title=title, t=messages(lang), notes=notes,
        year=year, sensitivity_year=sensitivity_year or year,
        sweep=Markup(_table(sweep, lang=lang)),
        charts=[Markup(_img(p)) for p in charts if p.is_file()],
        sensitivity=Markup(_table(sensitivity, lang=lang)),
        tornados=[Markup(_img(p)) for p in tornados if p.is_file()])
    atomic_write(Path(path), lambda tmp: tmp.write_text(page, encoding="utf-8"))


def find_chromium() -> str | None:
    """The headless browser used for PDF export (``chromium`` or ``chromium-browser``)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *,
              timeout_s: float = 120.0) -> Path:
    """Print an HTML report to PDF with headless Chromium (its ``@media print`` view), written
    atomically.

    Raises
    ------
    DataMissingError
        No Chromium found, or it failed (its message is given).
    """
    exe = find_chromium()
    if exe is None:
        raise DataMissingError("--pdf needs Chromium (apt-get install chromium); the HTML "
                               "report was written")
    src = Path(html_path).resolve()

    def _w(tmp: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="tg-chromium-") as profile:
            proc = subprocess.run(
                [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 f"--user-data-dir={profile}", "--no-pdf-header-footer",
                 "--virtual-time-budget=5000", f"--print-to-pdf={tmp}", src.as_uri()],
                capture_output=True, text=True, timeout=timeout_s, check=False)
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            raise DataMissingError(f"PDF export failed ({exe} exit {proc.returncode}): "
                                   f"{proc.stderr.strip()[-300:]}")

    atomic_write(Path(pdf_path), _w)
    return Path(pdf_path)
