"""The study runner: territory -> network -> zones -> demand -> coverage -> maps and report.

``run_study(config)`` computes everything and returns a :class:`StudyResult`;
``write_outputs(result, out_dir)`` writes the output folder atomically (built beside it,
then renamed into place).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from territorial_geo import (
    pipeline,
    sources,
)
from territorial_geo.config import StudyConfig
from territorial_geo.i18n import Note
from territorial_geo.network.load import NO_SKELETON
from territorial_geo.outputs.prepared import prepare_outputs
from territorial_geo.result import StudyResult
from territorial_geo.supply import NO_INVENTORY

log = logging.getLogger(__name__)


class Laps:
    """Seconds spent per stage: ``lap(name)`` adds the time since the previous call to
    ``timings[name]`` (accumulated, so a stage may be timed in several pieces)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self._t0, 3)
        self._t0 = now


def run_study(
    cfg: StudyConfig,
    *,
    overridden: set[str] | None = None,
    data_dir: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
    data: sources.Datasets | None = None,
    inputs: pipeline.StudyInputs | None = None,
) -> StudyResult:
    """Run a whole study in memory (no file written): :func:`pipeline.load_inputs`, then
    the stages zones -> demand -> supply -> seats -> coverage -> selection.

    Parameters
    ----------
    cfg
        Validated study configuration.
    overridden
        Keys set by the study file (provenance).
    data_dir
        Data directory.
    progress
        Called with a short message before each step.
    data
        The datasets to read from, each once (:class:`~territorial_geo.sources.Datasets`);
        a new one over ``data_dir`` when not given.
    inputs
        Inputs already loaded for ``cfg`` (:func:`pipeline.load_inputs`; read here when not
        given).
    """
    say = progress or (lambda _m: None)
    lap = Laps()
    if inputs is None:
        inputs = pipeline.load_inputs(cfg, data, data_dir=data_dir, progress=say, laps=lap)
        lap("inputs")
    terr, net, cc = inputs.territory, inputs.network, cfg.coverage
    say("zones")
    zr = pipeline.zones_stage(inputs)
    zones = zr.zones
    lap("zones")
    say("demand")
    dem = pipeline.demand_stage(inputs, zr)
    sup = pipeline.supply_stage(inputs, zr)
    seats = pipeline.seats_stage(inputs, zr, dem, sup)
    lap("demand")
    say("coverage")
    cov = pipeline.coverage_stage(inputs, dem)
    sel = pipeline.selection_stage(inputs, cov)
    lap("coverage")
    missing_inv = inputs.inventory_missing
    notes = list(dem.notes) + list(zr.notes)
    if missing_inv:
        notes.append(Note("note_no_inventory_supply", what=NO_INVENTORY))
    in_zone = set(zones.within(territory_only=False)["code"])
    outside = sorted(set(zr.demand_codes) - set(terr.codes))
    notes.append(Note("note_border", n_out=len(in_zone - set(terr.codes)),
                      budget=zones.budget_min, territory=terr.name, n_outside=len(outside),
                      max_band=max(zones.bands)))
    notes += cov.notes
    if cc.k > 0:
        if sel is None:
            notes.append(Note("note_sel_skipped"))
        elif missing_inv and cc.sites in ("existing", "both"):
            notes.append(Note("note_sel_no_existing", what=NO_INVENTORY))
    far = zones.snaps.loc[terr.codes]
    notes.append(Note("note_snap", median=float(far["snap_m"].median()),
                      max=float(far["snap_m"].max()), n_far=int(far["far"].sum()),
                      max_snap=float(net.profile.max_snap_m), kmh=float(net.profile.snap_kmh)))
    if zones.uncovered():
        notes.append(Note("note_uncovered", n=len(zones.uncovered()), budget=zones.budget_min,
                          codes=zones.uncovered()[:30]))
    if net.kind == "approximate" and net.source.get("note", "").startswith(NO_SKELETON):
        notes.append(Note("note_road_network", text=net.source["note"]))
    res = StudyResult(cfg, overridden or set(), terr, net, zones, dem, seats.zone_seats,
                       zr.without_pole, inputs.sites, sup.table, cov.site_times,
                       cov.table if cov.site_times is not None else None,
                       sel, lap.timings, notes, inputs.inventory_label, inputs.data_state,
                       seats.sensitivity, zr.pole_dropped, seats.teleworker_rules,
                       inputs.engine)
    res.prepared = prepare_outputs(res, leaflet=inputs.leaflet,
                                   render_cache=inputs.render_cache)  # routed here, not when writing
    return res


def write_outputs(
    res: StudyResult, out_dir: str | os.PathLike, *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the study folder atomically and return its path
    (:func:`territorial_geo.outputs.write_outputs`: every file, from ``res`` alone)."""
    from territorial_geo.outputs import write_outputs as _write

    return _write(res, out_dir, progress=progress)
