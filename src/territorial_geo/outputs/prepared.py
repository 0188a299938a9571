"""What the outputs need from the road network, the routing engine and the data directory,
computed once before anything is written (:func:`prepare_outputs`).

Writing a study folder then reads only the :class:`~territorial_geo.study.StudyResult`:
no routing, no snapping, no file of the data directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd

from territorial_geo.maps import TimeGrid, main_roads, time_grid
from territorial_geo.network import engine_of

if TYPE_CHECKING:  # annotations only: the study imports this package, not the reverse
    from territorial_geo.study import StudyResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkFacts:
    """What the outputs say about the road network (not the graph itself).

    Attributes
    ----------
    kind
        ``detailed`` or ``approximate``.
    source
        Where the network came from (:attr:`RoadNetwork.source`).
    info
        :meth:`RoadNetwork.info` (``parameters.json``).
    n_nodes, n_edges
        Size of the graph.
    """

    kind: str
    source: dict
    info: dict
    n_nodes: int
    n_edges: int

    @classmethod
    def of(cls, net) -> NetworkFacts:
        """The facts of a :class:`~territorial_geo.network.RoadNetwork`."""
        return cls(kind=net.kind, source=dict(net.source), info=net.info(),
                   n_nodes=int(net.n_nodes), n_edges=int(len(net.edges)))


@dataclass(frozen=True)
class OutputInputs:
    """Everything the output writers take from the network, the engine or the data
    directory (:func:`prepare_outputs`).

    Attributes
    ----------
    network
        The network's facts (labels, ``parameters.json``).
    roads
        Main roads around the territory, for the web map's offline background
        (:func:`territorial_geo.maps.main_roads`).
    drive_times
        The ``drive_time.tif`` grid (:func:`territorial_geo.maps.time_grid`): minutes to
        the nearest market town and, with third places, to the nearest one; None when
        ``output.raster`` is off.
    leaflet
        Leaflet's JavaScript and stylesheet, inlined in ``map.html`` (None when the
        ``leaflet`` dataset was not fetched: the map then loads it from a CDN).
    """

    network: NetworkFacts
    roads: gpd.GeoDataFrame = field(repr=False)
    drive_times: TimeGrid | None = field(default=None, repr=False)
    leaflet: tuple[str, str] | None = field(default=None, repr=False)


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


def prepare_outputs(res: StudyResult, *, leaflet: tuple[str, str] | None = None
                    ) -> OutputInputs:
    """Compute what the outputs need from the network and the engine, so that writing the
    study folder reads only the result.

    Parameters
    ----------
    res
        The study, with its network and engine.
    leaflet
        Leaflet's script and stylesheet, inlined in the map (:func:`territorial_geo.maps.leaflet_assets`,
        read with the study's inputs); None: the map loads Leaflet online.

    Returns
    -------
    OutputInputs
    """
    terr = res.territory
    net = res.network
    roads = main_roads(net.edges, area=terr.outline.buffer(terr.ring_km * 1000))
    grid = drive_time_grid(res) if res.config.output.raster else None
    return OutputInputs(network=NetworkFacts.of(net), roads=roads, drive_times=grid,
                        leaflet=leaflet)


__all__ = ["NetworkFacts", "OutputInputs", "drive_time_grid", "prepare_outputs"]
