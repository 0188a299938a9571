"""Stage 6, report: a self-contained HTML study report (French and English headings)."""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import pandas as pd

from territorial_geo.sources import atomic_write


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}" style="max-width:100%">'


def _table(df: pd.DataFrame, floatfmt: str = "{:,.1f}") -> str:
    return df.to_html(border=0, classes="t", float_format=lambda v: floatfmt.format(v),
                      na_rep="–", escape=True)


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
    notes: list[str],
    data_sources: list[dict],
    images: list[Path],
    town_names: dict[str, str],
    overlap_territory: pd.DataFrame | None = None,
    territory_name: str = "the territory",
    extra_sections: list[tuple[str, str, str]] | None = None,
) -> None:
    """Write ``report.html`` (atomically); images are embedded, the map is linked.

    ``overlap`` counts every member commune of the zones, wherever it lives
    (``overlap.csv``); ``overlap_territory`` only the territory's own communes
    (``overlap_territory.csv``). The report labels which is which. ``extra_sections``:
    ``(French heading, English heading, HTML)`` added after the seats (e.g. uncertainty).
    """
    def h2(fr: str, en: str) -> str:
        return f"<h2>{html.escape(fr)} <span class='en'>/ {html.escape(en)}</span></h2>"

    ov = overlap.rename(index=town_names, columns=town_names)
    terr = html.escape(territory_name)
    overlap_parts = [
        "<p><b>All member communes</b> (overlap.csv): every commune whose chef-lieu is within "
        f"the budget of the market town, wherever it lives, inside or outside {terr}. "
        "Communes per zone on the diagonal, communes shared by two zones off it. Zone seats "
        "count all of them.</p>",
        _table(ov, "{:,.0f}"),
    ]
    if overlap_territory is not None:
        overlap_parts += [
            f"<p><b>Communes of {terr} only</b> (overlap_territory.csv): the same table "
            "restricted to the territory's own communes.</p>",
            _table(overlap_territory.rename(index=town_names, columns=town_names), "{:,.0f}"),
        ]
    parts = [
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font:14px/1.45 sans-serif;max-width:1100px;margin:auto;padding:1em;color:#222}"
        "h1{font-size:1.7em}h2{border-bottom:2px solid #2a7;padding-bottom:3px;margin-top:1.6em}"
        ".en{color:#777;font-weight:normal}table.t{border-collapse:collapse;margin:.5em 0}"
        "table.t td,table.t th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
        ".note{background:#fff6d5;border-left:4px solid #e6ab02;padding:4px 10px;margin:4px 0}"
        "iframe{width:100%;height:620px;border:1px solid #ccc}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        h2("Territoire", "Territory"),
        "<ul>" + "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                         for k, v in summary.items()) + "</ul>",
        h2("Méthode et paramètres", "Method and parameters"),
        "<p>Zones: communes whose chef-lieu reaches the market town's chef-lieu within the "
        "budget on the road network (snap legs included). Demand: DARES method for salaried "
        "teleworkers, SIRENE (or a labelled fallback) for solo workers, CDC usage shares for "
        "seats. Every parameter and its source:</p>",
        _table(pd.DataFrame({"value": {k: json.dumps(v, ensure_ascii=False)[:160]
                                       for k, v in parameters.items()},
                             "source": pd.Series(provenance)}).fillna("")),
        h2("Estimations et hypothèses", "Estimates and assumptions"),
        "".join(f"<div class='note'>{html.escape(n)}</div>" for n in notes),
        h2("Zones et recouvrements", "Zones and overlaps"),
        *overlap_parts,
        h2("Places de travail par zone", "Seats per zone"),
        "<p>A zone's seats count every member commune, inside or outside "
        f"{terr}. Zones overlap: the sum of zones double counts shared communes. The union "
        "counts each commune once; the exclusive allocation gives each commune to its nearest "
        "market town (equal times: the town listed first) and sums to the union. "
        f"<i>territory_residents</i>: the part of the seats living in {terr}'s own "
        "communes.</p>",
        _table(seats_pivot),
        *[h2(fr, en) + body for fr, en, body in extra_sections or []],
        h2("Concurrence et offre existante", "Competition and supply"),
        _table(competition) if len(competition) else "<p>No competing pole configured.</p>",
        _table(supply) if len(supply) else "<p>No existing third place in the zones.</p>",
    ]
    if coverage is not None:
        parts += [h2("Couverture", "Coverage"), _table(coverage, "{:,.3f}")]
    if selection is not None and len(selection):
        parts += [h2("Nouveaux sites", "New sites (maximal covering)"), _table(selection)]
    parts += [h2("Cartes", "Maps"), "<p><a href='map.html'>Interactive map (map.html)</a></p>",
              "<iframe src='map.html' title='interactive map'></iframe>"]
    parts += [_img(p) for p in images if p.is_file()]
    parts += [h2("Sources des données", "Data sources"),
              _table(pd.DataFrame(data_sources).set_index("name")),
              "</body></html>"]
    page = "\n".join(parts)
    atomic_write(Path(path), lambda tmp: tmp.write_text(page, encoding="utf-8"))


def uncertainty_section(intervals: pd.DataFrame, sensitivity: pd.DataFrame | None, *,
                        year: int, draws: int, seed: int,
                        tornado: Path | None = None) -> str:
    """HTML of the report's uncertainty section: the Monte Carlo median and 80 % interval
    per zone and year (``intervals``: ``zone_name``, ``variant``, ``year``, ``seats``,
    ``seats_p10``, ``seats_p50``, ``seats_p90``), the union's tornado chart and the
    parameters that move the union's seats most at ``year``."""
    parts = [
        f"<p>Monte Carlo over the parameter ranges ({draws:,} draws, seed {seed}): each "
        "uncertain parameter is drawn between its low and high value (triangular, mode at "
        "the study's value; the telework preset low, central or high with equal "
        "probability), every range's source or ASSUMPTION below. <i>seats</i> is the "
        "study's figure; p10-p90 the 80 % interval, p50 the median (zones.csv columns "
        "seats_p10, seats_p50, seats_p90).</p>",
        _table(intervals),
    ]
    if tornado is not None and tornado.is_file():
        parts.append(_img(tornado))
    if sensitivity is not None and len(sensitivity):
        parts += [f"<p>One parameter at a time (the others at the study's value): seats "
                  f"{year} of the union of the zones, largest swing first.</p>",
                  _table(sensitivity)]
    return "\n".join(parts)


def write_scenarios_report(
    path: str | os.PathLike, *, title: str, sweep: pd.DataFrame, sensitivity: pd.DataFrame,
    charts: list[Path], tornados: list[Path], year: int, notes: list[str],
) -> None:
    """Write a scenario sweep's ``report.html`` (atomically, images embedded): the seats
    per scenario and zone at ``year``, a chart per zone, the one-at-a-time sensitivity and
    its tornado charts."""
    def h2(fr: str, en: str) -> str:
        return f"<h2>{html.escape(fr)} <span class='en'>/ {html.escape(en)}</span></h2>"

    parts = [
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font:14px/1.45 sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "h2{border-bottom:2px solid #2a7}.en{color:#777;font-weight:normal}"
        "table.t{border-collapse:collapse}table.t td,table.t th{border:1px solid #ccc;"
        "padding:3px 7px;text-align:right}.note{background:#fff6d5;padding:4px 10px}"
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "".join(f"<div class='note'>{html.escape(n)}</div>" for n in notes),
        h2("Scénarios", "Scenarios"),
        f"<p>Seats {year} (solos + teleworkers) per scenario: each zone counts every member "
        "commune; <i>all</i> is the union (each commune once). Tidy table: scenarios.csv.</p>",
        _table(sweep),
        *[_img(p) for p in charts if p.is_file()],
        h2("Sensibilité", "Sensitivity"),
        f"<p>One parameter at a time between its low and high value, the others at the "
        f"study's value: seats {year} of the union (sensitivity.csv has every zone).</p>",
        _table(sensitivity),
        *[_img(p) for p in tornados if p.is_file()],
        "</body></html>",
    ]
    page = "\n".join(parts)
    atomic_write(Path(path), lambda tmp: tmp.write_text(page, encoding="utf-8"))
