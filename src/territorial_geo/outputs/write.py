"""Write a study folder from a :class:`~territorial_geo.result.StudyResult`, atomically.

Everything is read from the result: the network, the engine and the data directory were
consulted before (:func:`~territorial_geo.outputs.prepared.prepare_outputs`, stored as
``StudyResult.prepared``). Each table is computed once and shared by the files that show
it (CSV, GeoPackage, workbook, map, report).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from territorial_geo import exports, i18n, maps, sources
from territorial_geo.outputs.rendercache import RenderCache
from territorial_geo.outputs.studyreport import write_study_report
from territorial_geo.outputs.tables import (
    commune_geometries,
    commune_table,
    parameters_doc,
    with_inventory,
    zone_members,
)
from territorial_geo.outputs.webmap import (
    proposed_sites,
    write_static_maps,
    write_web_map,
)

if TYPE_CHECKING:  # annotations only: the study imports this package, not the reverse
    from territorial_geo.result import StudyResult

log = logging.getLogger(__name__)


def write_outputs(
    res: StudyResult, out_dir: str | os.PathLike, *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the study folder atomically and return its path.

    Files: ``zones.gpkg``, ``communes.csv`` (territory communes and every zone member
    outside it: :func:`~territorial_geo.outputs.tables.commune_table`), ``communes.gpkg``,
    ``zones.csv`` (seats, and the teleworkers, solos and users behind them),
    ``pole_dropped.csv`` (:func:`territorial_geo.pipeline.zones_stage`),
    ``teleworker_rules.csv`` (:func:`territorial_geo.demand.rule_comparison`),
    ``zone_members.csv`` (every member of every zone, wherever it lives),
    ``overlap.csv`` (every member commune), ``overlap_territory.csv`` (the territory's
    communes only), ``supply.csv``, ``third_places.csv``, ``coverage.csv``,
    ``site_selection.csv``, ``parameters.json``, ``map.html``, ``map_*.png``,
    ``drive_time.tif``, ``study.xlsx``, ``study.qgs``, ``report.html``, and with
    ``uncertainty.draws > 0`` ``sensitivity.csv``, ``tornado_union.png``,
    ``tornado_<zone>.png`` and ``tornado_union_<base year>.png`` (``zones.csv`` then has
    ``seats_p10``, ``seats_p50``, ``seats_p90``).

    Raises
    ------
    ValueError
        ``res.prepared`` is missing (the result did not come from
        :func:`~territorial_geo.study.run_study`; set it with
        :func:`~territorial_geo.outputs.prepared.prepare_outputs`).
    """
    if res.prepared is None:
        raise ValueError("the study result has no prepared outputs (StudyResult.prepared): "
                         "set it with territorial_geo.outputs.prepare_outputs(result)")
    say = progress or (lambda _m: None)
    return sources.atomic_dir(out_dir, lambda tmp: _write_all(res, tmp, say=say))


def _write_all(res: StudyResult, d: Path, *, say: Callable[[str], None]) -> None:
    cfg, terr, zones = res.config, res.territory, res.zones
    lang = cfg.output.lang
    _ = i18n.messages(lang)
    dialect = cfg.output.csv_dialect
    say("writing tables")
    # the zones layer carries its seats per variant and year (no join for a planner)
    dataclasses.replace(zones, polygons=exports.zones_with_seats(
        zones.polygons, res.zone_seats, budget_min=zones.budget_min)).to_gpkg(d / "zones.gpkg")
    full = commune_table(res)
    exports.write_csv(full, d / "communes.csv", dialect=dialect, float_format="%.4f")
    gfull = gpd.GeoDataFrame(full, geometry=commune_geometries(terr, full.index).to_numpy(),
                             crs=sources.WORKING_CRS)
    gfull.to_file(d / "communes.gpkg", layer="communes", driver="GPKG", index=False)
    # the maps show the territory's communes
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
    selection = res.selection.table() if res.selection is not None else None
    if selection is not None:
        exports.write_csv(selection, d / "site_selection.csv", dialect=dialect,
                          float_format="%.4f")
    if "seats_p10" in res.zone_seats and res.sensitivity is not None:
        res.sensitivity.to_csv(d / "sensitivity.csv", index=False, float_format="%.4f")
    params = parameters_doc(res)
    (d / "parameters.json").write_text(json.dumps(params, indent=2, ensure_ascii=False,
                                                  default=str), encoding="utf-8")
    say("maps")
    cache = RenderCache(res.prepared.render_cache)
    proposed = proposed_sites(res, lang=lang)
    write_web_map(res, d / "map.html", communes=gdf, proposed=proposed, cache=cache)
    names = dict(zip(zones.towns.index, zones.towns["nom"], strict=True))
    if cfg.output.excel:
        say("workbook")
        exports.write_workbook(d / "study.xlsx", exports.answer_sheets(
            zone_seats=res.zone_seats, communes=tab, overlap=ov,
            supply=with_inventory(res.supply, res, lang), coverage=res.coverage,
            selection=selection, town_names=names, lang=lang))
    if cfg.output.qgis:
        hy = cfg.demand.horizon_year
        _cls, qbins = maps.classify(gdf[f"seats_total_{hy}"])
        exports.write_qgis_project(
            d / "study.qgs", title=_("map_title", name=cfg.name), communes=gdf,
            seats_column=f"seats_total_{hy}",
            polygons=zones.polygons, towns=zones.towns, zone_colours=maps.ZONE_COLOURS,
            budget_min=zones.budget_min, bins=qbins, colours=maps.SEQ_COLOURS,
            layer_names={"communes": _("layer_communes", year=hy),
                         "zones": _("legend_zones", budget=f"{zones.budget_min:g}"),
                         "towns": _("towns_layer")})
    images = (write_static_maps(res, d, communes=gdf, cache=cache) if cfg.output.static_maps
              else [])
    if res.prepared.drive_times is not None:
        say("raster")
        maps.write_time_raster(d / "drive_time.tif", res.prepared.drive_times)
    say("report")
    write_study_report(res, d, images=images, overlap=ov, overlap_territory=ov_terr,
                       selection=selection, proposed=proposed, parameters=params, cache=cache)
    log.info("render cache: %d render(s) reused, %d drawn", cache.hits, cache.misses)


__all__ = ["write_outputs"]
