#!/usr/bin/env python3
"""Mutation check for the core: each listed mutation must turn at least one test red.

Every mutation is a textual edit of one source file (the original text must be found
exactly once: a stale mutation fails the check loudly). For each, the package is copied to
a temporary folder, the edit applied, and the named tests run against the copy
(``PYTHONPATH``). The check fails when a mutation *survives* (its tests stay green).

Usage: ``python tools/mutation_check.py [--only NAME ...] [--list]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "territorial_geo"


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # relative to src/territorial_geo
    original: str
    mutated: str
    tests: tuple[str, ...]


MUTATIONS: list[Mutation] = [
    Mutation(
        "outputs-roads-read-from-the-network", "outputs/webmap.py",
        "        roads=res.prepared.roads, proposed=proposed,",
        "        roads=maps.main_roads(res.network.edges), proposed=proposed,",
        ("tests/test_outputs.py::test_writing_needs_no_network_engine_or_data_dir",),
    ),
    Mutation(
        "outputs-leaflet-read-from-the-data-dir", "outputs/webmap.py",
        "    assets = res.prepared.leaflet\n",
        "    assets = maps.leaflet_assets(None)\n",
        ("tests/test_outputs.py::test_writing_needs_no_network_engine_or_data_dir",),
    ),
    Mutation(
        "outputs-raster-routed-while-writing", "outputs/write.py",
        '        maps.write_time_raster(d / "drive_time.tif", res.prepared.drive_times)',
        '        from territorial_geo.outputs.prepared import drive_time_grid\n'
        '        maps.write_time_raster(d / "drive_time.tif", drive_time_grid(res))',
        ("tests/test_outputs.py::test_writing_needs_no_network_engine_or_data_dir",),
    ),
    Mutation(
        "map-script-json-closes-the-script", "templating.py",
        r'    return Markup(json.dumps(value, ensure_ascii=False).replace("</", "<\\/"))',
        "    return Markup(json.dumps(value, ensure_ascii=False))",
        ("tests/test_outputs.py::test_map_script_values_cannot_close_the_script_element",),
    ),
    Mutation(
        "map-script-any-identifier", "templating.py",
        "    if not _IDENT.fullmatch(str(name)):",
        "    if False:",
        ("tests/test_outputs.py::test_map_script_values_cannot_close_the_script_element",),
    ),
    Mutation(
        "templates-values-unescaped", "templating.py",
        "    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))",
        "    return Markup(str(value))",
        ("tests/test_outputs.py::test_templates_escape_every_value_not_marked_safe",
         "tests/test_officials.py::test_injected_names_are_escaped_in_files"),
    ),
    Mutation(
        "static-maps-legends-pile-up", "maps.py",
        "        ax.legend(handles=handles + overlay,",
        "        fig.legend(handles=handles + overlay,",
        ("tests/test_outputs.py::test_printable_maps_drawn_once_equal_each_drawn_alone",),
    ),
    Mutation(
        "static-maps-communes-not-recoloured", "maps.py",
        "        choropleth.set_facecolor([SEQ_COLOURS[min(c, 4)] for c in classes])",
        "        pass",
        ("tests/test_outputs.py::test_printable_map_colours_each_commune_by_its_class",),
    ),
    Mutation(
        "drive-time-grid-without-the-snap-leg", "maps.py",
        '        t = minutes[snap["node"].to_numpy()] + snap["snap_s"].to_numpy() / 60',
        '        t = minutes[snap["node"].to_numpy()] + snap["snap_s"].to_numpy()',
        ("tests/test_outputs.py::test_drive_time_raster_holds_the_prepared_minutes",),
    ),
    Mutation(
        "map-search-opens-the-popup-twice", "templates/map_controls.html.j2",
        "    if (opened && opened.code === c.code && map.hasLayer(opened.popup)) { return; }",
        "",
        ("tests/test_officials.py::test_map_for_officials_offline",),
    ),
    Mutation(
        "kernel-multi-attachment-keeps-last", "network/kernel.py",
        "                    if tt <= limit and tt < best[tg]:",
        "                    if tt <= limit:",
        ("tests/test_network.py::test_targets_with_several_attachments_keep_their_best_time",),
    ),
    Mutation(
        "oneway-both-ways", "network/osm.py",
        "    backward = ~forward_only.to_numpy()",
        "    backward = np.ones(len(forward_only), dtype=bool)",
        ("tests/test_oneway_snap.py",),
    ),
    Mutation(
        "reverse-oneway-ignored", "network/osm.py",
        "    backward_only = ow.isin(_BACKWARD)",
        "    backward_only = ow.isin(set())",
        ("tests/test_oneway_snap.py",),
    ),
    Mutation(
        "roundabout-minus-one-dropped", "network/osm.py",
        "(roundabout & ~ow.isin(_TWO_WAY | _BACKWARD))",
        "(roundabout & ~ow.isin(_TWO_WAY))",
        ("tests/test_oneway_snap.py",),
    ),
    Mutation(
        "osm-clip-drops-border-ways", "network/osm.py",
        "    return bool(np.any((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)))",
        "    return bool(np.all((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)))",
        ("tests/test_osm_clip.py",),
    ),
    Mutation(
        "osm-clip-drops-a-drivable-class", "network/osm.py",
        '    "trail", "service",\n})',
        '    "trail", "service", "unclassified",\n})',
        ("tests/test_osm_clip.py",),
    ),
    Mutation(
        "osm-merge-keeps-duplicates", "network/osm.py",
        "reader.apply(writer, simplify=True)",
        "reader.apply(writer, simplify=False)",
        ("tests/test_osm_clip.py",),
    ),
    Mutation(
        "osm-contract-through-t-junctions", "network/osm.py",
        "n_ends.index[n_ends.to_numpy() != 2]",
        "n_ends.index[n_ends.to_numpy() > 3]",
        ("tests/test_osm_clip.py",),
    ),
    Mutation(
        "swap-to-from", "network/routing.py",
        '    return direction == "to"',
        '    return direction == "from"',
        ("tests/test_oneway_snap.py",),
    ),
    Mutation(
        "seeds-ignore-direction", "network/routing.py",
        "    return snap_groups(snap, leaving=not reverse)",
        "    return snap_groups(snap, leaving=True)",
        ("tests/test_oneway_snap.py",),
    ),
    Mutation(
        "snap-to-nearest-node", "network/graph.py",
        '                "snap_m": dist,',
        '                "snap_m": np.maximum(dist, np.hypot(shapely.get_x(geoms) - '
        'self.nodes["x"].to_numpy()[np.where(frac <= 0.5, a, b)], shapely.get_y(geoms) - '
        'self.nodes["y"].to_numpy()[np.where(frac <= 0.5, a, b)])),',
        ("tests/test_oneway_snap.py",),
    ),
    Mutation(
        "self-time-two-snap-legs", "network/graph.py",
        "    time = np.where(same, 0.0, time)",
        "    time = np.where(same, time, time)",
        ("tests/test_oneway_snap.py",),
    ),
    Mutation(
        "kernel-strict-budget", "network/kernel.py",
        "            if nd <= limit and nd < dist[v]:",
        "            if nd < limit and nd < dist[v]:",
        ("tests/test_network.py", "tests/test_band_edges.py"),
    ),
    Mutation(
        "budget-off-by-one-minute", "zoning.py",
        "    max_s = band_list[-1] * 60",
        "    max_s = (band_list[-1] - 1) * 60",
        ("tests/test_band_edges.py",),
    ),
    Mutation(
        "point-budget-strict", "network/routing.py",
        '    m = m[m["time_s"] <= budget_s]',
        '    m = m[m["time_s"] < budget_s]',
        ("tests/test_band_edges.py",),
    ),
    Mutation(
        "band-edge-strict", "zoning.py",
        '        m = self.members[self.members["time_min"] <= band + 1e-9]',
        '        m = self.members[self.members["time_min"] < band - 1e-9]',
        ("tests/test_band_edges.py", "tests/test_catchment.py"),
    ),
    Mutation(
        "exclusive-first-listed-town", "zoning.py",
        '_o=m["zone"].map(order)).sort_values(["code", "_t", "_o"])',
        '_o=m["zone"].map(order)).sort_values(["code", "_o", "_t"])',
        ("tests/test_catchment.py",),
    ),
    Mutation(
        "growth-sign", "demand.py",
        "    return values * (1.0 + growth) ** (to_year - from_year)",
        "    return values * (1.0 - growth) ** (to_year - from_year)",
        ("tests/test_demand_config.py",),
    ),
    Mutation(
        "secondary-residences-dropped", "demand.py",
        '    out["teleworkers"] = tele_csp + tele_rs',
        '    out["teleworkers"] = tele_csp',
        ("tests/test_demand_config.py",),
    ),
    Mutation(
        "seat-hours-occupancy-inverted", "demand.py",
        "    return solos * share * hours / (seats.seat_hours_per_month * seats.occupancy)",
        "    return solos * share * hours * seats.occupancy / seats.seat_hours_per_month",
        ("tests/test_demand_config.py",),
    ),
    Mutation(
        "solo-fallback-commerce-kept", "demand.py",
        '    cserv = (c["ETGU18"] - c["ETGZ18"]).astype(float)',
        '    cserv = (c["ETGU18"] + 0 * c["ETGZ18"]).astype(float)',
        ("tests/test_demand_config.py",),
    ),
    Mutation(  # issue 19: no zero solos where non-salaried jobs exist
        "solo-fallback-zero-without-services", "demand.py",
        "    share = (cserv + k * p) / (ctot + k)",
        "    share = cserv / (ctot + k)",
        ("tests/test_demand_config.py",),
    ),
    Mutation(  # issue 19: the teleworker rule chosen for a year is applied
        "teleworker-rule-per-year-ignored", "demand.py",
        "        r = rule or year_rule(cfg.seats, y)",
        "        r = rule",
        ("tests/test_demand_config.py::test_teleworker_rule_per_year",),
    ),
    Mutation(  # issue 19: a zone's seats sum all its members
        "zone-sum-drops-a-member", "demand.py",
        '    out = [(z, ZONE, list(codes)) for z, codes in membership.items()]',
        '    out = [(z, ZONE, list(codes)[1:]) for z, codes in membership.items()]',
        ("tests/test_catchment.py",),
    ),
    Mutation(  # issue 19: the pole rule never drops the market town
        "pole-rule-drops-the-town", "zoning.py",
        "        drop = t_pole.notna() & (m.index != zone)",
        "        drop = t_pole.notna()",
        ("tests/test_catchment.py::test_pole_rules_never_drop_the_market_town",),
    ),
    Mutation(  # issue 19: closer_to_pole keeps the members nearer the town
        "pole-closer-rule-ignored", "zoning.py",
        '        drop &= t_pole < m["time_min"]',
        '        drop &= t_pole >= 0',
        ("tests/test_catchment.py::test_pole_rules_never_drop_the_market_town",),
    ),
    Mutation(  # issue 21: the batch's EPCI row runs the study's demand stage over the zones
        "batch-demand-territory-only", "batch/summary.py",
        "    dem = pipeline.demand_stage(inputs, zr)\n    seats = pipeline.seats_stage(inputs, zr, dem, None,",
        "    dem = pipeline.demand_stage(inputs)\n    seats = pipeline.seats_stage(inputs, zr, dem, None,",
        ("tests/test_one_pipeline.py::test_study_sweep_and_batch_give_the_same_union_seats",),
    ),
    Mutation(  # issue 21: the study's coverage is the CLI's and the batch's
        "study-coverage-other-sites", "study.py",
        "    cov = pipeline.coverage_stage(inputs, dem)\n",
        "    cov = pipeline.coverage_stage(inputs, dem, sites=\"planned\")\n",
        ("tests/test_one_pipeline.py::test_study_batch_and_cli_coverage_give_the_same_shares",),
    ),
    Mutation(  # issue 21: a stage that reads its tables again instead of the inputs'
        "stage-reads-files", "pipeline.py",
        "                                 **(demand_inputs or inputs.demand_inputs))",
        "                                 **(demand_inputs or load_demand_inputs(\n"
        "                                     demand_cfg or inputs.config.demand, codes,\n"
        "                                     data=sources.Datasets())))",
        ("tests/test_one_pipeline.py::test_stages_read_no_file_once_inputs_are_loaded",),
    ),
    Mutation(  # issue 19: a rule dropping another market town is flagged
        "pole-market-town-not-flagged", "pipeline.py",
        '                     rule=p.rule, market_town=d["code"].isin(zones.zone_codes))',
        '                     rule=p.rule, market_town=False)',
        ("tests/test_catchment.py::test_pole_variants_warn_when_another_market_town_is_dropped",),
    ),
    Mutation(  # issue 19: a seats column of the supply file wins over seats_per_site
        "supply-seats-column-ignored", "supply.py",
        "        elif np.isfinite(v):",
        "        elif False:",
        ("tests/test_demand_config.py::test_supply_file_seats_column",),
    ),
    Mutation(  # issue 19: zones recomputed from communes.csv alone (ring members included)
        "communes-csv-territory-only", "outputs/tables.py",
        "    codes = list(terr.codes) + outside",
        "    codes = list(terr.codes)",
        ("tests/test_study.py::test_every_zone_recomputed_from_communes_csv",),
    ),
    Mutation(
        "batch-error-row-raises", "batch/partition.py",
        "            rows.append(_error_row(r.siren, r.name, r.members, pop, exc))",
        "            raise",
        ("tests/test_batch.py::test_outputs_and_error_row",),
    ),
    Mutation(
        "batch-marker-ignores-template", "batch/markers.py",
        '    return got.get("template") == exp["template"] and got.get("sirens") == exp["sirens"]',
        "    return True",
        ("tests/test_batch.py::test_resume_skips_done_and_never_reads_partial",),
    ),
    Mutation(
        "batch-reads-unfinished-partition", "batch/markers.py",
        "        if not _marker(o, d).is_file():",
        "        if False:",
        ("tests/test_batch.py::test_resume_skips_done_and_never_reads_partial",),
    ),
    Mutation(
        "batch-unmet-ignores-supply", "batch/summary.py",
        '    row[f"unmet_seats_{h}"] = row.get(f"seats_total_{h}", np.nan) - row["supply_seats"]',
        '    row[f"unmet_seats_{h}"] = row.get(f"seats_total_{h}", np.nan)',
        ("tests/test_batch.py::test_unmet_seats_are_net_of_the_supply_in_the_zones",),
    ),
    Mutation(
        "batch-no-retry-after-worker-death", "batch/driver.py",
        "ALLOWED_FAILURES = 3",
        "ALLOWED_FAILURES = 0",
        ("tests/test_batch.py::test_killed_worker_loses_no_epci",),
    ),
    Mutation(
        "national-coverage-counts-failed-departements", "batch/national.py",
        "        sub = all_sub[~failed]",
        "        sub = all_sub",
        ("tests/test_batch.py::test_coverage_tables_leave_failed_departements_out",),
    ),
    Mutation(
        "national-coverage-region-sum", "batch/national.py",
        '            cov = float(sub.loc[sub["minutes"] <= n, "population"].sum())',
        '            cov = float(sub.loc[sub["minutes"] <= n, "population"].mean())',
        ("tests/test_batch.py::test_national_coverage_dask_equals_serial",),
    ),
    Mutation(
        "map-search-keeps-accents", "templates/map_controls.html.j2",
        "    return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').toLowerCase()",
        "    return s.normalize('NFD').toLowerCase()",
        ("tests/test_officials.py::test_map_for_officials_offline",),
    ),
    Mutation(
        "map-offline-background-dropped", "templates/map_controls.html.j2",
        "  probe.onerror = function () { document.body.setAttribute('data-background', 'offline'); };",
        "  probe.onerror = function () { map.removeLayer(bg);\n"
        "    document.body.setAttribute('data-background', 'offline'); };",
        ("tests/test_officials.py::test_map_for_officials_offline",),
    ),
    Mutation(
        "map-popup-without-minutes", "maps.py",
        '        rows.append(f"<tr{cls}><td>{html.escape(town)}</td><td>{val}</td></tr>")',
        "        pass",
        ("tests/test_officials.py::test_map_for_officials_offline",),
    ),
    Mutation(
        "report-interval-dropped", "report.py",
        '            s += f" [{number(r[iv[0]], lang)} – {number(r[iv[1]], lang)}]"',
        "            pass",
        ("tests/test_officials.py::test_seats_answer_shows_intervals",),
    ),
    Mutation(
        "default-language-english", "config.py",
        '    lang: Literal[LANGS] = "fr"',
        '    lang: Literal[LANGS] = "en"',
        ("tests/test_officials.py::test_lang_in_study_file_is_validated",),
    ),
    Mutation(  # issue 21: config is a leaf, not even a function-level import of a layer
        "config-imports-network", "config.py",
        "    cfg.zoning.speeds = {**OSRM_CAR_HIGHWAY_KMH, **cfg.zoning.speeds}",
        "    from territorial_geo.network import DEFAULT_HIGHWAY_KMH\n"
        "    cfg.zoning.speeds = {**DEFAULT_HIGHWAY_KMH, **cfg.zoning.speeds}",
        ("tests/test_config_leaf.py::test_config_is_a_leaf",),
    ),
    Mutation(  # issue 21 item 5: a budget above the widest band is refused
        "budget-above-bands-accepted", "config.py",
        "        if self.bands and self.budget_min > max(self.bands):",
        "        if False:",
        ("tests/test_config_leaf.py::test_budget_above_the_widest_band_is_refused",),
    ),
    Mutation(  # issue 21: unknown keys and choices name the closest valid name
        "config-closest-name-dropped", "config.py",
        "    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)",
        "    close = []",
        ("tests/test_config_leaf.py::test_errors_name_the_key_and_the_closest_name",),
    ),
    Mutation(  # issue 21: a misspelt key is named, not the field it leaves missing
        "config-unknown-key-not-first", "config.py",
        "    return _message(cls, (unknown or errors)[0], where)",
        "    return _message(cls, errors[0], where)",
        ("tests/test_config_leaf.py::test_errors_name_the_key_and_the_closest_name",),
    ),
    Mutation(  # issue 21: the command line's choices are the method's lists
        "cli-choices-written-again", "cli.py",
        "choices=DIRECTIONS,",
        'choices=["to", "from"],',
        ("tests/test_config_leaf.py::test_choice_lists_declared_once",),
    ),
    Mutation(  # issue 21: one flattener; parameters.json keeps the speed table whole
        "flatten-recurses-kept-tables", "config.py",
        "        if dataclasses.is_dataclass(v) or (isinstance(v, dict) and tables and name not in keep):",
        "        if dataclasses.is_dataclass(v) or (isinstance(v, dict) and tables):",
        ("tests/test_config_leaf.py::test_flatten",),
    ),
    Mutation(  # issue 21: the ring default is one constant
        "ring-default-written-again", "territory.py",
        "    query: str, *, ring_km: float = RING_KM, data_dir",
        "    query: str, *, ring_km: float = 15.0, data_dir",
        ("tests/test_config_leaf.py::test_ring_and_margin_defaults_are_one_constant",),
    ),
    Mutation(
        "sweep-zones-reused-across-budgets", "scenarios.py",
        "    return (tuple(z.market_towns), float(z.budget_min), tuple(z.bands or ()), z.direction)",
        "    return (tuple(z.market_towns), tuple(z.bands or ()), z.direction)",
        ("tests/test_scenarios.py",),
    ),
    Mutation(
        "sweep-demand-reused-across-parameters", "scenarios.py",
        "        dkey = json.dumps(asdict(d), sort_keys=True, default=str)",
        "        dkey = str(d.csp_year)",
        ("tests/test_scenarios.py",),
    ),
    Mutation(
        "interval-percentiles-swapped", "uncertainty.py",
        'QUANTILES = {"seats_p10": 0.10, "seats_p50": 0.50, "seats_p90": 0.90}',
        'QUANTILES = {"seats_p10": 0.90, "seats_p50": 0.50, "seats_p90": 0.10}',
        ("tests/test_scenarios.py",),
    ),
    Mutation(
        "sensitivity-low-high-swapped", "uncertainty.py",
        "        v[1 + 2 * i], v[2 + 2 * i] = r.low, r.high",
        "        v[1 + 2 * i], v[2 + 2 * i] = r.high, r.low",
        ("tests/test_scenarios.py",),
    ),
    Mutation(
        "monte-carlo-office-share-not-drawn", "uncertainty.py",
        '        solos_data = base * col("demand.solos.fallback_office_share",',
        '        solos_data = base * 0.2 + 0 * col("demand.solos.fallback_office_share",',
        ("tests/test_scenarios.py",),
    ),
    Mutation(
        "sweep-report-at-the-study-horizon-only", "scenarios.py",
        '        y = t["scenario"].map(self.horizons).fillna(self.config.demand.horizon_year)',
        '        y = self.config.demand.horizon_year',
        ("tests/test_scenarios.py::test_swept_horizon_year_keeps_every_scenario_in_the_report",),
    ),
    Mutation(
        "osm-clip-name-ignores-the-box", "network/osm.py",
        "    key = hashlib.sha256(json.dumps([checksum, [round(b, 7) for b in bbox], 1]).encode())",
        "    key = hashlib.sha256(json.dumps([checksum, 1]).encode())",
        ("tests/test_osm_clip.py::test_clipped_pbf_cached_atomically_and_reused",),
    ),
    Mutation(
        "selection-share-as-a-fraction", "report.py",
        '            out[col] = [f"{number(100 * v, lang)} %" if np.isfinite(v) else "–"',
        '            out[col] = [f"{number(v, lang)}" if np.isfinite(v) else "–"',
        ("tests/test_officials.py::test_selection_shares_are_percentages_like_the_coverage",),
    ),
    Mutation(
        "unreachable-scheduler-traceback", "batch/driver.py",
        "        except (OSError, TimeoutError, ValueError) as exc:",
        "        except KeyError as exc:",
        ("tests/test_batch.py::test_unreachable_scheduler_is_a_one_line_error",),
    ),
    Mutation(
        "batch-progress-printed", "batch/driver.py",
        "        if progress is not None:\n            progress(msg)",
        "        print(msg)",
        ("tests/test_batch.py::test_resume_skips_done_and_never_reads_partial",),
    ),
    Mutation(
        "batch-plan-cuts-regardless", "batch/plan.py",
        "        if span >= best:",
        "        if False:",
        ("tests/test_batch.py::test_plan_tasks_cuts_only_while_the_run_gets_shorter",),
    ),
    Mutation(
        "batch-plan-cheapest-first", "batch/plan.py",
        "    order = sorted(groups, key=lambda t: (-task_cost(groups[t]), t))",
        "    order = sorted(groups, key=lambda t: (task_cost(groups[t]), t))",
        ("tests/test_batch.py::test_plan_tasks_cuts_only_while_the_run_gets_shorter",),
    ),
    Mutation(
        "batch-makespan-is-the-sum", "batch/plan.py",
        "    return max(ends)",
        "    return sum(ends)",
        ("tests/test_batch.py::test_makespan_is_the_longest_first_rule_by_hand",),
    ),
    Mutation(
        "batch-national-group-drops-inventory", "batch/inputs.py",
        '''NATIONAL_GROUPS = (("communes", "chefs_lieux", "density", "inventory"), ("census", "csp_shares"))''',
        '''NATIONAL_GROUPS = (("communes", "chefs_lieux", "density"), ("census", "csp_shares"))''',
        ("tests/test_batch.py::test_national_groups_read_each_table_once",),
    ),
    Mutation(
        "batch-zones-at-another-budget", "batch/summary.py",
        "    zr = pipeline.zones_stage(inputs, polygons=False)",
        "    zr = pipeline.zones_stage(inputs, polygons=False, zoning_cfg=__import__("
        "'dataclasses').replace(cfg.zoning, budget_min=cfg.zoning.budget_min + 1))",
        ("tests/test_batch.py::test_batch_row_equals_the_study_with_its_towns",),
    ),
    Mutation(
        "osrm-turn-penalty-off", "network/graph.py",
        "    turn_penalty_s: float = OSRM_CAR_TURN_PENALTY_S",
        "    turn_penalty_s: float = 0.0",
        ("tests/test_osrm_oracle.py", "tests/test_turns.py"),
    ),
    Mutation(
        "osrm-class-speed-doubled", "method.py",
        '    "residential": 25.0,',
        '    "residential": 50.0,',
        ("tests/test_osrm_oracle.py",),
    ),
    Mutation(
        "turn-seed-ignores-part-behind", "network/graph.py",
        "np.maximum(weights[at] - behind[row], 0.0)",
        "np.maximum(weights[at], 0.0)",
        ("tests/test_turns.py",),
    ),
    Mutation(
        "turn-node-times-skip-arrivals", "network/graph.py",
        "            np.minimum.at(out, v, dist + self.edges[\"time_s\"].to_numpy(np.float64))",
        "            pass",
        ("tests/test_turns.py",),
    ),
    Mutation(
        "turn-u-turns-everywhere", "network/graph.py",
        "        keep = ~u_turn | (other_exits == 0)",
        "        keep = np.ones(len(u_turn), dtype=bool)",
        ("tests/test_turns.py",),
    ),
    Mutation(
        "osrm-oneway-ignored", "network/osm.py",
        "        oneway = first_tag(tags, OSRM_CAR_ONEWAY_TAGS)",
        "        oneway = pd.Series(None, index=tags.index, dtype=object)",
        ("tests/test_osrm_oracle.py",),
    ),
    Mutation(
        "popup-times-stop-at-the-budget", "outputs/tables.py",
        "    mem = zones.within(max(zones.bands), territory_only=False)",
        "    mem = zones.within(territory_only=False)",
        ("tests/test_officials.py::test_popup_times_reach_the_widest_band",),
    ),
    Mutation(
        "commune-names-lose-their-article", "sources/communes.py",
        '''source=f"{p}:communes.code")
    g = _with_official_names(g, official_names(data_dir))''',
        '''source=f"{p}:communes.code")''',
        ("tests/test_officials.py::test_commune_names_keep_their_article",),
    ),
    Mutation(
        "site-tooltip-not-escaped", "maps.py",
        '''tooltip=esc(str(row.get("name", _("site_default"))))''',
        '''tooltip=str(row.get("name", _("site_default")))''',
        ("tests/test_officials.py::test_injected_names_are_escaped_in_files",
         "tests/test_officials.py::test_injected_names_run_no_script"),
    ),
    Mutation(
        "supply-csv-utf8-only", "sources/third_places.py",
        '''ENCODINGS = ("utf-8-sig", "cp1252")''',
        '''ENCODINGS = ("utf-8-sig",)''',
        ("tests/test_officials.py::test_supply_csv_from_french_excel_is_read",),
    ),
    Mutation(
        "excel-fr-csv-with-commas", "exports.py",
        '''"excel-fr": {"sep": ";", "decimal": ","''',
        '''"excel-fr": {"sep": ",", "decimal": ","''',
        ("tests/test_officials.py::test_csv_in_the_french_excel_dialect",),
    ),
    Mutation(
        "printed-map-frame-ignores-zones", "maps.py",
        "    for extra in (polygons, outline):",
        "    for extra in (outline,):",
        ("tests/test_officials.py::test_printed_maps_are_framed_on_the_zones",),
    ),
    Mutation(
        "zone-seats-on-the-wrong-polygon", "exports.py",
        "    on_budget = np.isclose(out[\"band_min\"].to_numpy(float), budget_min)",
        "    on_budget = out[\"band_min\"].to_numpy(float) > 0",
        ("tests/test_officials.py::test_planner_files",),
    ),
    Mutation(
        "osrm-direction-swapped", "network/osrm_engine.py",
        "        return self.table(t, o).T if reverse else self.table(o, t)",
        "        return self.table(o, t) if reverse else self.table(t, o).T",
        ("tests/test_osrm_engine.py::test_direction_matters_on_one_way_streets",
         "tests/test_osrm_engine.py::test_zone_members_and_times_equal_direct_table"),
    ),
    Mutation(
        "osrm-isochrone-radius-too-small", "network/osrm_engine.py",
        "        radius = budget_s * max(MAX_KMH / 3.6, float(fastest))",
        "        radius = budget_s * 20 / 3.6",
        ("tests/test_osrm_engine.py::test_isochrone_sample_points_equal_direct_table",),
    ),
    Mutation(
        "osrm-build-in-place", "network/osrm_engine.py",
        "    sources.atomic_dir(folder, build)",
        "    folder.mkdir(parents=True, exist_ok=True)\n    build(folder)",
        ("tests/test_osrm_engine.py::test_pbf_osrm_cannot_extract_is_one_line_and_leaves_nothing",),
    ),
    Mutation(
        "zoning-ignores-engine", "zoning.py",
        "    eng = netmod.engine_of(engine, network)",
        "    eng = netmod.engine_of(None, network)",
        ("tests/test_osrm_engine.py::test_zone_members_and_times_equal_direct_table",),
    ),
    Mutation(
        "coverage-ignores-engine", "coverage.py",
        "    t, idx = netmod.engine_of(engine, net).nearest_point_times(",
        "    t, idx = netmod.engine_of(None, net).nearest_point_times(",
        ("tests/test_osrm_engine.py::test_coverage_and_raster_times_equal_direct_table",),
    ),
    Mutation(
        "table-seed-offsets-dropped", "network/routing.py",
        "    res = bounded_times(net.csr(reverse=reverse), sn, budget_s, origin_offsets=so,",
        "    res = bounded_times(net.csr(reverse=reverse), sn, budget_s, origin_offsets=so * 0,",
        ("tests/test_bench_reachability.py",),
    ),
    Mutation(
        "osm-reader-access-hierarchy-reversed", "network/osm.py",
        "    for key in CAR_ACCESS_KEYS:",
        "    for key in CAR_ACCESS_KEYS[::-1]:",
        ("tests/test_osm_reader.py",),
    ),
    Mutation(
        "osm-reader-length-not-rounded", "network/osm.py",
        "haversine_m(xy0[:, 0], xy0[:, 1], xy1[:, 0], xy1[:, 1]).round(3)},",
        "haversine_m(xy0[:, 0], xy0[:, 1], xy1[:, 0], xy1[:, 1])},",
        ("tests/test_osm_reader.py",),
    ),
    Mutation(
        "osm-reader-missing-node-not-skipped", "network/osm.py",
        "    ref, way_of, xy = ref[found], way_of[found], xy[found]",
        "    ref, way_of, xy = ref, way_of, xy",
        ("tests/test_osm_reader.py",),
    ),
    Mutation(
        "osm-clip-copies-every-node", "network/osm.py",
        "                                 tracker.id_filter(), writer)",
        "                                 writer)",
        ("tests/test_osm_clip.py",),
    ),
    Mutation(
        "osm-contract-merges-signals", "network/osm.py",
        "        junction = junction.union(pd.Index(np.asarray(keep, np.int64)))",
        "        junction = junction",
        ("tests/test_osm_reader.py",),
    ),
    Mutation(
        "approx-link-cost-dropped", "network/approximate.py",
        "half_link_s(half, level_b, params) + params.link_s",
        "half_link_s(half, level_b, params)",
        ("tests/test_calibrate_reference.py::test_link_cost_is_paid_once_per_local_and_access_link",),
    ),
    Mutation(
        "approx-skeleton-class-speeds-ignored", "network/approximate.py",
        "        own = np.isfinite(kmh)\n",
        "        own = np.zeros(len(kmh), dtype=bool)\n",
        ("tests/test_calibrate_reference.py::test_fit_recovers_the_parameters_a_synthetic_table_was_made_with",
         "tests/test_calibrate_reference.py::test_retime_matches_a_rebuild_on_local_and_skeleton_links"),
    ),
    Mutation(
        "reference-jaccard-counts-the-union", "network/calibrate.py",
        '"i": a & b, "u": a | b',
        '"i": a | b, "u": a | b',
        ("tests/test_calibrate_reference.py::test_metrics_by_hand",),
    ),
    Mutation(
        "reference-negative-durations-accepted", "network/calibrate.py",
        "    if (dur < 0).any():",
        "    if (dur < -1e9).any():",
        ("tests/test_calibrate_reference.py::test_bad_tables_are_one_line_errors_and_the_cli_exits_2",),
    ),
    Mutation(
        "approx-default-rural-speeds-doubled", "network/approximate.py",
        "5: 27.5, 6: 27.5, 7: 27.5}",
        "5: 55.0, 6: 55.0, 7: 55.0}",
        ("tests/test_calibrate_reference.py::test_shipped_defaults_agree_with_osrm_on_held_back_isere_communes",),
    ),
    Mutation(
        "notes-french-numbers-with-points", "i18n.py",
        '        if self.lang == "fr":',
        '        if self.lang == "xx":',
        ("tests/test_notes_lang.py",),
    ),
    Mutation(
        "notes-rendered-in-english", "i18n.py",
        "    return _render(text.key, text.values, lang) if isinstance(text, Note) else text",
        "    return str(text)",
        ("tests/test_notes_lang.py",),
    ),
    Mutation(
        "area-split-offset-ignored", "network/calibrate.py",
        "(coord(pts.to_numpy()) + offset_km * 1000)",
        "(coord(pts.to_numpy()))",
        ("tests/test_calibrate_reference.py::test_area_split_holds_whole_columns_of_squares_back",),
    ),
    Mutation(
        "area-split-rows-read-x", "network/calibrate.py",
        'coord = shapely.get_x if axis == "x" else shapely.get_y',
        "coord = shapely.get_x",
        ("tests/test_calibrate_reference.py::test_area_split_by_rows_reads_y",),
    ),
    Mutation(
        "sensitivity-sources-in-english", "report.py",
        '            sens["source"] = [source_text(str(v), lang) for v in sens["source"]]',
        '            sens["source"] = [readable(str(v), lang) for v in sens["source"]]',
        ("tests/test_officials.py::test_parameter_sources_in_french",),
    ),
    Mutation(
        "study-file-wrapper-untranslated", "report.py",
        r'(?P<where> .+?)? \(method default: (?P<source>.*)\)$", re.S),',
        r'(?P<where> .+?)? \(method defaults: (?P<source>.*)\)$", re.S),',
        ("tests/test_officials.py::test_parameter_sources_in_french",),
    ),
    Mutation(
        "sources-french-in-english-report", "report.py",
        "    words = SOURCE_TEXT.get(lang, {})",
        '    words = SOURCE_TEXT["fr"]',
        ("tests/test_officials.py::test_english_on_request",),
    ),
    Mutation(
        "function-level-import-cycle", "sources/osm.py",
        "def check_region(region: str) -> str:\n",
        "def check_region(region: str) -> str:\n"
        "    from territorial_geo.sources.fetching import resolve_data_dir  # noqa: F401\n",
        ("tests/test_architecture.py::test_no_import_cycle",),
    ),
    Mutation(
        "private-name-in-all", "sources/__init__.py",
        '"read_csv", "require_columns",',
        '"_json", "read_csv", "require_columns",',
        ("tests/test_architecture.py::test_all_lists_existing_public_names",),
    ),
    Mutation(
        "stale-temp-folders-not-cleaned", "sources/fetching.py",
        "    clean_stale_temp_folders(out)\n",
        "",
        ("tests/test_fetching.py::test_temporary_folder_of_a_killed_run_is_removed_by_the_next_run",
         "tests/test_fetching.py::test_cli_shows_the_cleanup_warning"),
    ),
    Mutation(
        "stale-temp-removes-live-writers", "sources/fetching.py",
        "        if alive is False or (alive is None and now - p.stat().st_mtime > max_age_s):",
        "        if alive is not None or now - p.stat().st_mtime > max_age_s:",
        ("tests/test_fetching.py::test_temporary_folders_of_live_or_unknown_writers_are_kept",),
    ),
    Mutation(
        "interrupted-swap-not-restored", "sources/fetching.py",
        "    if olds and not out.exists():",
        "    if olds and out.exists():",
        ("tests/test_fetching.py::test_run_killed_between_the_two_renames_gets_its_previous_outputs_back",),
    ),
    Mutation(
        "literal-variant-name", "cli.py",
        '        tot = zs[(zs["variant"] == UNION) & (zs["segment"] == TOTAL)]',
        '        tot = zs[(zs["variant"] == "union") & (zs["segment"] == TOTAL)]',
        ("tests/test_architecture.py::test_variant_and_segment_names_come_from_demand_constants",),
    ),
    Mutation(
        "fetch-prints-progress", "sources/fetching.py",
        '    if progress is not None:\n        progress(f"{name}: building',
        '    if True:\n        print(f"{name}: building',
        ("tests/test_architecture.py::test_only_the_cli_prints",
         "tests/test_builders.py::test_fetch_builds_communes_once_from_file_urls"),
    ),
    Mutation(
        "cli-quiet-still-gives-a-progress-callback", "cli.py",
        "    if quiet:\n        return None\n",
        "",
        ("tests/test_fetching.py::test_cli_quiet_means_no_progress_callback",),
    ),
    Mutation(
        "default-market-towns-off-by-one", "zoning.py",
        "    return candidate_towns(territory, density)[:n]",
        "    return candidate_towns(territory, density)[1:n + 1]",
        ("tests/test_zoning.py::test_default_market_towns_are_the_most_populated_candidates",),
    ),
    Mutation(
        "french-number-separators-swapped", "i18n.py",
        '            s = s.replace(",", "\\u202f").replace(".", ",")',
        '            s = s.replace(".", ",").replace(",", "\\u202f")',
        ("tests/test_notes_lang.py::test_localized_writes_french_and_english",),
    ),
    Mutation(
        "territory-residents-of-the-union-all-members", "demand.py",
        "        out.append((ALL_ZONES, TERRITORY_RESIDENTS, [c for c in union if c in inside]))",
        "        out.append((ALL_ZONES, TERRITORY_RESIDENTS, list(union)))",
        ("tests/test_catchment.py::test_variant_members_lists_each_row_of_the_zone_table",),
    ),
    Mutation(
        "mclp-sites-at-most-k", "coverage.py",
        "    prob += pulp.lpSum(x) == k",
        "    prob += pulp.lpSum(x) <= k",
        ("tests/test_coverage.py::test_mclp_problem_is_spopts_model_word_for_word",),
    ),
    Mutation(
        "table-cache-ignores-mtime", "sources/tablecache.py",
        "    return [name, st.st_size, st.st_mtime_ns] if st else [name, \"missing\"]",
        "    return [name, st.st_size] if st else [name, \"missing\"]",
        ("tests/test_tablecache.py::test_same_size_but_newer_file_reads_again",),
    ),
    Mutation(
        "table-cache-ignores-parsers", "sources/tablecache.py",
        "    parts = [name, [_file_stamp(p) for p in inputs], fingerprint]",
        "    parts = [name, [_file_stamp(p) for p in inputs]]",
        ("tests/test_tablecache.py::test_a_changed_input_or_parser_reads_again",),
    ),
    Mutation(
        "sensitivity-rows-shifted", "uncertainty.py",
        '        "seats_low": np.concatenate([v[1 + 2 * i] for v in sums.values() for i in range(k)]),',
        '        "seats_low": np.concatenate([v[1 + 2 * i] for v in sums.values() for i in range(k)][::-1]),',
        ("tests/test_scenarios.py::test_sensitivity_low_and_high_are_the_stage_at_those_values",),
    ),
    Mutation(
        "is-in-first-value-only", "codes.py",
        "    return np.fromiter((v in codes for v in values), dtype=bool, count=len(values))",
        "    return np.fromiter((v in codes for v in values[:1]), dtype=bool, count=1)",
        ("tests/test_codes.py::test_is_in_by_hand",
         "tests/test_codes.py::test_is_in_answers_like_pandas_isin"),
    ),
    Mutation(
        "render-digest-ignores-geometry", "outputs/rendercache.py",
        '        h.update(b"".join(w for w in wkb if w is not None))',
        "        pass",
        ("tests/test_rendercache.py::test_any_change_a_drawing_could_show_gives_another_digest",),
    ),
    Mutation(
        "render-digest-ignores-crs", "outputs/rendercache.py",
        '        h.update(f"{type(obj).__name__}:{obj.crs.srs if obj.crs else None};".encode())',
        '        h.update(f"{type(obj).__name__};".encode())',
        ("tests/test_rendercache.py::test_any_change_a_drawing_could_show_gives_another_digest",),
    ),
    Mutation(
        "render-key-ignores-code", "outputs/rendercache.py",
        '            f"{kind}|{self.fingerprint}|{digest(inputs)}".encode()).hexdigest()[:32]',
        '            f"{kind}|{digest(inputs)}".encode()).hexdigest()[:32]',
        ("tests/test_rendercache.py::test_changed_code_draws_again",),
    ),
    Mutation(
        "render-fingerprint-reads-bytecode", "outputs/rendercache.py",
        '        if p.suffix in (".py", ".j2", ".json", ".toml", ".js", ".css") and p.is_file():',
        '        if p.is_file():',
        ("tests/test_rendercache.py::test_fingerprint_follows_the_package_source_not_its_bytecode",),
    ),
    Mutation(
        "render-cache-trusts-damaged-entries", "outputs/rendercache.py",
        '                log.warning("render cache %s unreadable (%s): drawing again", path, exc)',
        "                raise",
        ("tests/test_rendercache.py::test_damaged_entry_is_drawn_again_not_trusted",),
    ),
    Mutation(
        "render-cache-removes-the-newest", "outputs/rendercache.py",
        "        entries.sort(key=lambda e: e[0], reverse=True)",
        "        entries.sort(key=lambda e: e[0])",
        ("tests/test_rendercache.py::test_least_recently_used_renders_are_removed_first",),
    ),
    Mutation(
        "render-cache-hit-not-recent", "outputs/rendercache.py",
        "                    os.utime(path)  # recently used: kept longest",
        "                    pass",
        ("tests/test_rendercache.py::test_least_recently_used_renders_are_removed_first",),
    ),
    Mutation(
        "static-maps-key-ignores-labels", "maps.py",
        '    pngs = (cache.get("static_maps", (communes, labels, polygons, towns, sites, outline, lang),',
        '    pngs = (cache.get("static_maps", (communes, polygons, towns, sites, outline),',
        ("tests/test_rendercache.py::test_study_in_another_language_draws_its_own_renders",),
    ),
    Mutation(
        "tornado-key-ignores-title", "uncertainty.py",
        '    png = (cache.get("tornado", (s, year, title, segment, lang), draw) if cache is not None',
        '    png = (cache.get("tornado", (s, year, segment, lang), draw) if cache is not None',
        ("tests/test_rendercache.py::test_tornado_with_another_title_is_drawn_not_reused",),
    ),
    Mutation(
        "web-map-key-ignores-leaflet", "outputs/webmap.py",
        '    page = (cache.get("web_map", (layers, assets), draw) if cache is not None else draw())',
        '    page = (cache.get("web_map", layers, draw) if cache is not None else draw())',
        ("tests/test_rendercache.py::test_web_map_drawn_again_when_leaflet_becomes_available",),
    ),
    Mutation(
        "workbook-text-read-as-formula", "exports.py",
        "                        ws.write_string(i, j, v)",
        "                        ws.write(i, j, v)",
        ("tests/test_rendercache.py::test_workbook_writes_text_as_text_numbers_as_numbers",),
    ),
    Mutation(
        "table-cache-relative-path-key", "sources/tablecache.py",
        '    name = os.path.abspath(path) if path is not None else "None"',
        "    name = str(path)",
        ("tests/test_tablecache.py::test_relative_and_absolute_paths_are_one_entry",),
    ),
    Mutation(
        "sweep-chart-key-ignores-rows", "scenarios.py",
        '    png = (cache.get("sweep_chart", args, lambda: _comparison_png(*args)) if cache is not None',
        '    png = (cache.get("sweep_chart", args[1:], lambda: _comparison_png(*args)) if cache is not None',
        ("tests/test_rendercache.py::test_sweep_charts_reused_are_the_ones_drawing_gives",),
    ),
    Mutation(
        "render-cache-fails-on-unhashable-inputs", "outputs/rendercache.py",
        "        except Exception as exc:  # inputs that cannot be hashed: drawn, not cached",
        "        except ZeroDivisionError as exc:",
        ("tests/test_rendercache.py::test_inputs_that_cannot_be_hashed_are_drawn_not_cached",),
    ),
    Mutation(
        "render-digest-ignores-dict-order", "outputs/rendercache.py",
        "        for k, v in obj.items():",
        "        for k, v in sorted(obj.items(), key=repr):",
        ("tests/test_rendercache.py::test_dict_order_is_part_of_the_digest",),
    ),
    Mutation(
        "render-digest-numbers-by-pandas-hash", "outputs/rendercache.py",
        '    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":',
        "    if False:",
        ("tests/test_rendercache.py::test_any_change_a_drawing_could_show_gives_another_digest",),
    ),
    Mutation(
        "render-digest-ignores-cell-types", "outputs/rendercache.py",
        '    if isinstance(dtype, np.dtype) and dtype.kind == "O":',
        "    if False:",
        ("tests/test_rendercache.py::test_any_change_a_drawing_could_show_gives_another_digest",),
    ),
    Mutation(
        "render-digest-ignores-categories", "outputs/rendercache.py",
        '                 f"{list(frame.columns.names)}:{[repr(t) for t in frame.dtypes]}:"',
        '                 f"{list(frame.columns.names)}:{[str(t) for t in frame.dtypes]}:"',
        ("tests/test_rendercache.py::test_any_change_a_drawing_could_show_gives_another_digest",),
    ),
    Mutation(
        "render-fingerprint-read-from-disk-each-time", "outputs/rendercache.py",
        "        self.fingerprint = fingerprint or PROCESS_FINGERPRINT",
        "        self.fingerprint = fingerprint or code_fingerprint()",
        ("tests/test_rendercache.py::test_fingerprint_is_the_code_this_process_imported",),
    ),
    Mutation(
        "render-hit-lost-on-readonly-cache", "outputs/rendercache.py",
        "                except OSError:  # read-only, or removed meanwhile: still a good render",
        "                except ZeroDivisionError:",
        ("tests/test_rendercache.py::test_entry_kept_when_it_cannot_be_marked_recent",),
    ),
    Mutation(
        "render-cache-unbounded-in-bytes", "outputs/rendercache.py",
        "            if i >= self.max_entries or (total > self.max_bytes and i > 0):",
        "            if i >= self.max_entries:",
        ("tests/test_rendercache.py::test_cache_bounded_in_bytes",),
    ),
    Mutation(
        "tornado-drawn-in-the-session-style", "uncertainty.py",
        "@default_style\ndef _tornado_png(",
        "def _tornado_png(",
        ("tests/test_rendercache.py::test_matplotlib_style_of_the_session_does_not_change_the_charts",),
    ),
    Mutation(
        "workbook-sheet-names-not-unique", "exports.py",
        "    while title.lower() in used:",
        "    while False:",
        ("tests/test_rendercache.py::test_workbook_sheet_names_made_valid_and_unique",),
    ),
    Mutation(
        "render-cache-never-read", "outputs/rendercache.py",
        "        if path.is_file():",
        "        if False:",
        ("tests/test_rendercache.py::test_study_renders_reused_are_the_ones_drawing_gives",
         "tests/test_rendercache.py::test_sweep_charts_reused_are_the_ones_drawing_gives"),
    ),
]


def run_one(m: Mutation, *, python: str, timeout: float) -> tuple[bool, float, str]:
    """Apply one mutation to a copy of the package and run its tests.

    Returns (killed, seconds, last lines of output).
    """
    with tempfile.TemporaryDirectory(prefix="mut-") as tmp:
        dst = Path(tmp) / "src" / "territorial_geo"
        shutil.copytree(PKG, dst, ignore=shutil.ignore_patterns("__pycache__"))
        target = dst / m.file
        text = target.read_text(encoding="utf-8")
        n = text.count(m.original)
        if n != 1:
            raise SystemExit(f"mutation {m.name}: original text found {n} times in {m.file} "
                             "(stale mutation: update tools/mutation_check.py)")
        target.write_text(text.replace(m.original, m.mutated), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src"),
               "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *m.tests],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            killed = proc.returncode != 0
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        except subprocess.TimeoutExpired:
            killed, tail = True, "timed out (counted as killed)"
        return killed, time.perf_counter() - t0, tail


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=None, help="mutation names to run")
    p.add_argument("--list", action="store_true", help="list the mutations and exit")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per mutation")
    args = p.parse_args(argv)
    todo = [m for m in MUTATIONS if not args.only or m.name in args.only]
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:32s} {m.file:24s} {' '.join(m.tests)}")
        return 0
    survivors = []
    for m in todo:
        killed, secs, tail = run_one(m, python=sys.executable, timeout=args.timeout)
        print(f"{'killed  ' if killed else 'SURVIVED'} {m.name:32s} {secs:6.1f}s", flush=True)
        if not killed:
            survivors.append(m.name)
            print("    " + tail.replace("\n", "\n    "))
    print(f"mutation check: {len(todo) - len(survivors)} killed, {len(survivors)} survived")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
