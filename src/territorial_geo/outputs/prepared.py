"""What the outputs need from the road network, the routing engine and the data directory,
computed once before anything is written (:func:`prepare_outputs`).

Writing a study folder then reads only the :class:`~territorial_geo.result.StudyResult`:
no routing, no snapping, no file of the data directory.
"""

from __future__ import annotations

import logging
from pathlib import Path

from territorial_geo.maps import TimeGrid, main_roads, time_grid
from territorial_geo.network import engine_of
from territorial_geo.result import NetworkFacts, OutputInputs, StudyResult

log = logging.getLogger(__name__)


def drive_time_grid(res: StudyResult) -> TimeGrid:
    """The ``drive_time.tif`` grid of a study: minutes from each cell (``output.raster_cell_m``)
    of the territory to the nearest market town (``minutes_to_market_town``, in the zones'
    direction) and, when there are third places, to the nearest one
    (``minutes_to_third_place``, driving to it), routed by the study's engine."""
    zones, net = res.zones, res.network
    eng = engine_of(res.engine, net)
    town_t = eng.node_times_to_nearest(zones.snaps.loc[zones.zone_codes],
                                       direction=zones.direction)
    bands = {"minutes_to_market_town": town_t / 60}
    if len(res.sites):
        site_t = eng.node_times_to_nearest(net.snap(res.sites.geometry), direction="to")
        bands["minutes_to_third_place"] = site_t / 60
    return time_grid(net, node_minutes=bands, area=res.territory.outline,
                     cell_m=res.config.output.raster_cell_m)


def prepare_outputs(res: StudyResult, *, leaflet: tuple[str, str] | None = None,
                    render_cache: Path | None = None) -> OutputInputs:
    """Compute what the outputs need from the network and the engine, so that writing the
    study folder reads only the result.

    Parameters
    ----------
    res
        The study, with its network and engine.
    leaflet
        Leaflet's script and stylesheet, inlined in the map (:func:`territorial_geo.maps.leaflet_assets`,
        read with the study's inputs); None: the map loads Leaflet online.
    render_cache
        Folder of the render cache (:class:`~territorial_geo.outputs.rendercache.RenderCache`);
        None: every chart and map is drawn.

    Returns
    -------
    OutputInputs
    """
    terr = res.territory
    net = res.network
    roads = main_roads(net.edges, area=terr.outline.buffer(terr.ring_km * 1000))
    grid = drive_time_grid(res) if res.config.output.raster else None
    return OutputInputs(network=NetworkFacts.of(net), roads=roads, drive_times=grid,
                        leaflet=leaflet, render_cache=render_cache)


__all__ = ["NetworkFacts", "OutputInputs", "drive_time_grid", "prepare_outputs"]
