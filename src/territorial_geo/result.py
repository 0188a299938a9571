"""What a study computed (:class:`StudyResult`) and what its outputs need from the road
network, the routing engine and the data directory (:class:`OutputInputs`).

The runner (:mod:`territorial_geo.study`) builds them; the writers
(``territorial_geo.outputs``) read them, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from territorial_geo import coverage, demand, zoning
from territorial_geo import network as netmod
from territorial_geo.config import StudyConfig
from territorial_geo.maps import TimeGrid
from territorial_geo.supply import NO_INVENTORY
from territorial_geo.territory import Territory


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
    render_cache
        Folder of the render cache (``<data dir>/cache/renders``,
        :class:`~territorial_geo.outputs.rendercache.RenderCache`): charts and maps drawn
        by an earlier run from equal inputs are reused; None (``output.render_cache =
        false``): everything is drawn.
    """

    network: NetworkFacts
    roads: gpd.GeoDataFrame = field(repr=False)
    drive_times: TimeGrid | None = field(default=None, repr=False)
    leaflet: tuple[str, str] | None = field(default=None, repr=False)
    render_cache: Path | None = None


@dataclass
class StudyResult:
    """Everything a study computed."""

    config: StudyConfig
    overridden: set[str]
    territory: Territory
    network: netmod.RoadNetwork
    zones: zoning.Zones
    demand: demand.CommuneDemand
    zone_seats: pd.DataFrame
    pole_removed: dict[str, list[str]]
    sites: gpd.GeoDataFrame
    supply: pd.DataFrame
    site_times: pd.DataFrame | None
    coverage: pd.DataFrame | None
    selection: coverage.SiteSelection | None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Where the existing third places came from, or why there are none
    #: (:data:`NO_INVENTORY` when the CGET inventory could not be obtained).
    inventory: str = ""
    #: The data directory's fetch state (how each dataset was obtained: copied from a
    #: mirror, downloaded or built from official sources, with the addresses used).
    data_state: dict = field(default_factory=dict)
    #: One-at-a-time sensitivity of the zone seats (:func:`uncertainty.sensitivity`).
    sensitivity: pd.DataFrame | None = None
    #: Members the variant without a competing pole drops (:func:`territorial_geo.pipeline.zones_stage`).
    pole_dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Teleworker seats under each teleworker rule (:func:`demand.rule_comparison`).
    teleworker_rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The routing engine that computed the times (:mod:`territorial_geo.network.engine`;
    #: the built-in one over ``network`` when None).
    engine: object = None
    #: What the outputs need from the network, the engine and the data directory
    #: (:func:`territorial_geo.outputs.prepare_outputs`), so that writing reads only this
    #: result.
    prepared: OutputInputs | None = None

    @property
    def inventory_missing(self) -> bool:
        """True when existing third places could not be obtained (supply unknown)."""
        return self.inventory == NO_INVENTORY


__all__ = ["NetworkFacts", "OutputInputs", "StudyResult"]
