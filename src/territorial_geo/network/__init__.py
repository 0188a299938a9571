"""Stage 2, network: road graphs from every source users hold, and routing on them.

Modules
-------
graph
    :class:`RoadNetwork` (the directed timed graph all readers return), the common builder
    :func:`network_from_segments`, snapping to the nearest road segment, the on-disk cache.
kernel
    Compiled (numba) bounded and multi-source Dijkstra.
routing
    Point-to-point times on snapped points, with explicit direction.
osm
    OpenStreetMap PBF reader.
bdtopo
    IGN BD TOPO reader (v3 ``troncon_de_route``, v2 ``ROUTE``).
approximate
    The sourced approximate network (neighbouring chefs-lieux + classified skeleton).
calibrate
    Fit of the approximate network's parameters to a detailed network.
engine
    Routing engines (built-in, OSRM) behind one set of methods.
osrm_engine
    OSRM through osrm-bindings (``engine = "osrm"``): data prepared once, ``table`` answers.
load
    Network specs (``approximate``, ``osm:REGION``, ``bdtopo:PATH``, a path) parsed and loaded.
"""

from territorial_geo.method import (
    DIRECTIONS,
    ENGINES,
    NetworkSpec,
    check_engine,
    check_engine_network,
    parse_network_spec,
)
from territorial_geo.network.approximate import (
    ApproxParams,
    approx_params,
    area_frames,
    build_approximate,
    commune_adjacency,
)
from territorial_geo.network.bdtopo import (
    DEFAULT_BDTOPO_KMH,
    detect_schema,
    network_from_bdtopo,
    read_bdtopo,
)
from territorial_geo.network.calibrate import CalibrationResult, calibrate
from territorial_geo.network.engine import BuiltinEngine, engine_of, make_engine
from territorial_geo.network.graph import (
    DEFAULT_HIGHWAY_KMH,
    RoadNetwork,
    SpeedProfile,
    access_legs,
    cached,
    endpoint_ids,
    legal_profile,
    morton_code,
    network_from_segments,
    same_segment_times,
    snap_groups,
    speed_profile,
)
from territorial_geo.network.kernel import bounded_times, build_csr, nearest_times
from territorial_geo.network.load import load_network
from territorial_geo.network.osm import (
    SYMBOLIC_MAXSPEED,
    directions,
    network_from_frames,
    parse_maxspeed,
    read_pbf,
)
from territorial_geo.network.routing import (
    check_direction,
    nearest_point_times,
    node_times,
    node_times_to_nearest,
    points_from_node_times,
    snapped_times,
)

__all__ = [
    "ENGINES", "BuiltinEngine", "check_engine", "check_engine_network", "engine_of",
    "make_engine",
    "ApproxParams", "approx_params", "CalibrationResult", "area_frames", "build_approximate", "calibrate",
    "commune_adjacency", "DEFAULT_BDTOPO_KMH", "detect_schema", "network_from_bdtopo",
    "read_bdtopo",
    "DEFAULT_HIGHWAY_KMH", "DIRECTIONS", "SYMBOLIC_MAXSPEED", "RoadNetwork", "SpeedProfile",
    "access_legs", "NetworkSpec", "load_network", "parse_network_spec", "bounded_times", "build_csr", "cached", "check_direction", "directions", "endpoint_ids",
    "legal_profile", "morton_code", "nearest_point_times", "nearest_times", "network_from_frames",
    "network_from_segments", "node_times", "node_times_to_nearest", "parse_maxspeed",
    "points_from_node_times", "read_pbf", "same_segment_times", "snap_groups", "snapped_times", "speed_profile",
]
