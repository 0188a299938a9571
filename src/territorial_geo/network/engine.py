"""Routing engines: who computes the drive times of zoning, coverage and the raster.

An engine answers the routing questions of the pipeline with keyword-only methods on snap
frames of a :class:`~territorial_geo.network.graph.RoadNetwork` (:meth:`RoadNetwork.snap`),
so that :mod:`territorial_geo.zoning`, :mod:`territorial_geo.coverage` and the study call it
without knowing which engine it is:

``snapped_times(origin_snap, target_snap, budget_s, *, reverse)``
    point-to-point times within a budget;
``node_times(origin_snap, budget_s, *, reverse)``
    times between points and the network's nodes (isochrone polygons);
``points_from_node_times(reached, origin_snap, target_snap, budget_s, *, reverse)``
    point times of the same origins (the built-in engine reuses ``reached``);
``nearest_point_times(point_snap, site_snap, *, direction)``
    each point's time to its nearest site (coverage);
``node_times_to_nearest(site_snap, *, direction)``
    each node's time to its nearest site (the drive-time raster);
``info()``
    what computed the times (written to every output).

Engines: ``"builtin"`` (:class:`BuiltinEngine`, the project's compiled Dijkstra on the
network) and ``"osrm"`` (:class:`~territorial_geo.network.osrm_engine.OsrmEngine`, OSRM
through osrm-bindings, for OpenStreetMap networks).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from territorial_geo.errors import NetworkError
from territorial_geo.method import check_engine
from territorial_geo.network import routing
from territorial_geo.network.graph import RoadNetwork


class BuiltinEngine:
    """The built-in engine: the compiled bounded Dijkstra of :mod:`.routing` on ``net``."""

    name = "builtin"

    def __init__(self, net: RoadNetwork, *, threads: int | None = None) -> None:
        self.net = net
        #: Threads of the compiled kernel (:func:`.kernel.bounded_times`; its default when
        #: None). One per process when several processes share the cores (a Dask worker).
        self.threads = threads

    def snapped_times(self, origin_snap: pd.DataFrame, target_snap: pd.DataFrame,
                      budget_s: float, *, reverse: bool) -> pd.DataFrame:
        """See :func:`.routing.snapped_times`."""
        return routing.snapped_times(self.net, origin_snap, target_snap, budget_s,
                                     reverse=reverse, threads=self.threads)

    def node_times(self, origin_snap: pd.DataFrame, budget_s: float, *,
                   reverse: bool) -> pd.DataFrame:
        """See :func:`.routing.node_times`."""
        return routing.node_times(self.net, origin_snap, budget_s, reverse=reverse,
                                  threads=self.threads)

    def points_from_node_times(self, reached: pd.DataFrame, origin_snap: pd.DataFrame,
                               target_snap: pd.DataFrame, budget_s: float, *,
                               reverse: bool) -> pd.DataFrame:
        """See :func:`.routing.points_from_node_times`."""
        return routing.points_from_node_times(reached, origin_snap, target_snap, budget_s,
                                              reverse=reverse)

    def nearest_point_times(self, point_snap: pd.DataFrame, site_snap: pd.DataFrame, *,
                            direction: str = "to") -> tuple[np.ndarray, np.ndarray]:
        """See :func:`.routing.nearest_point_times`."""
        return routing.nearest_point_times(self.net, point_snap, site_snap,
                                           direction=direction)

    def node_times_to_nearest(self, site_snap: pd.DataFrame, *,
                              direction: str = "to") -> np.ndarray:
        """See :func:`.routing.node_times_to_nearest`."""
        return routing.node_times_to_nearest(self.net, site_snap, direction=direction)

    def info(self) -> dict:
        """What computed the times."""
        return {"engine": "builtin",
                "algorithm": "bounded multi-source Dijkstra on the network (numba)"}


def make_engine(
    name: str,
    net: RoadNetwork,
    *,
    osrm_profile: str | os.PathLike | None = None,
    threads: int | None = None,
    osrm_sample_m: float | None = None,
):
    """The routing engine ``name`` over ``net``.

    Parameters
    ----------
    name
        ``"builtin"`` or ``"osrm"``.
    net
        The loaded network; for ``"osrm"``, an OpenStreetMap network whose extract OSRM
        prepares (once, cached beside the clipped extract) and routes on.
    osrm_profile
        OSRM ``.lua`` profile (default OSRM's stock ``car.lua``).
    threads
        Threads of the built-in engine's kernel, or of the OSRM preparation tools.
    osrm_sample_m
        Cell side of OSRM's isochrone / raster sample points
        (:data:`~territorial_geo.network.osrm_engine.SAMPLE_M` when None).

    Raises
    ------
    NetworkError
        Unknown engine; ``"osrm"`` without osrm-bindings, on a network that is not an
        OpenStreetMap extract, with a missing profile or an extract OSRM cannot read.
    """
    if check_engine(name) == "builtin":
        return BuiltinEngine(net, threads=threads)
    from territorial_geo.network import osrm_engine

    osrm_engine.require_osrm()
    pbf = osrm_engine.network_extract(net)
    profile = osrm_engine.resolve_profile(osrm_profile)
    base = osrm_engine.prepare(pbf, profile=profile, threads=threads)
    return osrm_engine.OsrmEngine(
        net, base, profile=profile,
        sample_m=osrm_engine.SAMPLE_M if osrm_sample_m is None else osrm_sample_m)


def engine_of(engine, net: RoadNetwork):
    """``engine`` when given, else the built-in engine over ``net``."""
    if engine is None:
        return BuiltinEngine(net)
    if engine.net is not net:
        raise NetworkError("the routing engine was made for another network")
    return engine
