"""One way to name a road network everywhere (study files, CLI): parse and load it.

A network *spec* is one of:

``"approximate"``
    the sourced approximate network (adjacent communes' chefs-lieux + classified roads;
    local links only, said in ``source["note"]``, when the mirror-only skeleton
    ``roads-france`` is not in the data directory);
``"osm:REGION"``
    a Geofabrik regional OpenStreetMap extract (``osm:nord-pas-de-calais``), fetched into
    the data directory; several regions (``osm:nord-pas-de-calais,picardie``) or the
    départements whose extracts to use (``osm:62,80``) when the area and its margin
    straddle regions;
``"bdtopo:PATH"``
    an IGN BD TOPO road layer (v3 GeoPackage / Shapefile, v2 ``ROUTE.shp``);
``"roads-hdf"``, ``"roads-france"``
    the mirror's classified-road skeleton (a dataset of the catalog);
a path
    ``*.osm.pbf`` / ``*.pbf`` (OpenStreetMap), ``*.gpkg`` / ``*.shp`` (BD TOPO).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from territorial_geo import sources
from territorial_geo.codes import department_of
from territorial_geo.errors import NetworkError
from territorial_geo.method import MARGIN_KM, NetworkSpec, parse_network_spec
from territorial_geo.network.graph import RoadNetwork, SpeedProfile, legal_profile
from territorial_geo.network.osm import read_pbf

#: Said wherever the approximate network is reported when the skeleton was not available.
NO_SKELETON = "skeleton not available: local links only"


def no_skeleton_note(codes, data_dir: str | os.PathLike | None = None) -> str:
    """The note of an approximate network built without the classified-road skeleton.

    Names the Geofabrik extracts covering the communes' départements that are already in the
    data directory (``osm:REGION``, a detailed network), else how to fetch one.
    """
    from territorial_geo.sources import osm

    deps = pd.Series([department_of(str(c)) for c in codes])
    regions: list[str] = []
    for dep in deps.value_counts().index:  # the département with the most communes first
        try:
            regions += [r for r in osm.regions_for_departments([dep]) if r not in regions]
        except sources.UnknownPlaceError:
            continue
    root = sources.resolve_data_dir(data_dir)
    have = [r for r in regions if (root / osm.OSM_DIR / f"{r}-latest.osm.pbf").is_file()]
    text = (f"{NO_SKELETON} (the classified-road skeleton roads-france is a mirror-only "
            "dataset: links between neighbouring communes' chefs-lieux, no motorway or main "
            "road, so long trips are slower than on real roads)")
    if have:
        return text + ("; an OpenStreetMap extract of the area is in the data directory: "
                       f"network = {' or '.join(repr('osm:' + r) for r in have)} gives a "
                       "detailed network")
    if regions:
        return text + (f"; for a detailed network: `territorial-geo data fetch --dataset "
                       f"osm:{regions[0]}` then network = 'osm:{regions[0]}'")
    return text


def load_network(
    spec: str | NetworkSpec,
    *,
    area=None,
    margin_m: float = MARGIN_KM * 1000,
    profile: SpeedProfile | None = None,
    data_dir: str | os.PathLike | None = None,
    communes: gpd.GeoDataFrame | None = None,
    chefs_lieux: gpd.GeoDataFrame | None = None,
    density: pd.Series | None = None,
    approx_params=None,
    download: bool = True,
) -> RoadNetwork:
    """Load the road network a spec names, clipped to ``area`` plus ``margin_m``.

    Parameters
    ----------
    spec
        A network spec (string or :class:`NetworkSpec`).
    area
        Study area (shapely geometry, EPSG:2154); ``None`` reads everything.
    margin_m
        Margin around ``area``.
    profile
        Speed profile (OSM class speeds, snap speed and threshold).
    data_dir
        Data directory (skeleton datasets, OSM extracts, graph cache).
    communes, chefs_lieux, density
        Inputs of the approximate network (communes covering the area and margin, their
        chefs-lieux, the INSEE density grid level per code); required for
        ``"approximate"``.
    approx_params
        :class:`~territorial_geo.network.approximate.ApproxParams` (defaults when None).
    download
        Allow downloading an OSM extract that is not in the data directory.

    Raises
    ------
    NetworkError
        Unknown spec, missing file, or a reader error (file and cause named).
    """
    s = spec if isinstance(spec, NetworkSpec) else parse_network_spec(spec)
    profile = profile or SpeedProfile()
    cache = sources.resolve_data_dir(data_dir) / "cache" / "networks"
    if s.format == "approximate":
        from territorial_geo.network import approximate

        if communes is None or chefs_lieux is None or density is None:
            raise NetworkError("the approximate network needs communes, chefs-lieux and the "
                               "density grid")
        sk_path = sources.resolve_data_dir(data_dir) / sources.CATALOG["roads-france"].path
        skeleton = None
        if sk_path.is_file():
            # the skeleton keeps the legal-limit speeds the approximate network's
            # parameters were fitted on (no junction model on straight skeleton segments)
            skeleton = read_pbf(sk_path, area=area, margin_m=margin_m,
                                profile=legal_profile(profile), cache_dir=cache)
        net = approximate.build_approximate(communes, chefs_lieux, density, skeleton=skeleton,
                                            params=approx_params, profile=profile)
        if skeleton is None:
            net.source["note"] = no_skeleton_note(communes.index, data_dir)
        net.source.setdefault("spec", s.text)
        return net
    if s.format == "bdtopo":
        from territorial_geo.network import bdtopo

        path = Path(s.path)
        if not path.exists():
            raise NetworkError(f"BD TOPO file {path} not found (network spec {s.text!r})")
        net = bdtopo.read_bdtopo(path, area=area, margin_m=margin_m, profile=profile,
                                 cache_dir=cache)
    else:
        if s.dataset:
            path = sources.dataset_path(s.dataset, data_dir)
            net = read_pbf(path, area=area, margin_m=margin_m, profile=legal_profile(profile),
                           cache_dir=cache)
            net.source.update(kind="approximate", skeleton=True,
                              note="classified-road skeleton (motorways, national and "
                              "departmental roads as straight segments): not a detailed "
                              "network")
        else:
            if s.region:
                from territorial_geo.sources import osm as osm_sources

                # one Geofabrik region, or several (osm:nord-pas-de-calais,picardie; osm:62,80)
                # when the area and its margin straddle them: each clipped, then merged
                path = [sources.fetch_osm_extract(r, data_dir=data_dir, download=download).path
                        for r in osm_sources.parse_osm_spec(s.region)]
                path = path[0] if len(path) == 1 else path
            else:
                path = Path(s.path)
                if not path.is_file():
                    raise NetworkError(f"OpenStreetMap file {path} not found (network spec "
                                       f"{s.text!r})")
            net = read_pbf(path, area=area, margin_m=margin_m, profile=profile, cache_dir=cache)
    net.source.setdefault("spec", s.text)
    return net
