"""Territory selection: an EPCI, a department or a commune list, with a surrounding ring.

Zones cross EPCI borders (a 10-minute zone around Duisans reaches Arras), so a territory
carries its own communes and a *ring* of neighbouring communes within a distance of its
outline; both have chef-lieu points in Lambert-93.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from territorial_geo import sources
from territorial_geo.codes import code_or_none, fold
from territorial_geo.errors import UnknownPlaceError
from territorial_geo.method import RING_KM


@dataclass
class Territory:
    """A study area.

    Attributes
    ----------
    name
        Display name (EPCI name, department, or user label).
    kind
        ``"epci"``, ``"department"`` or ``"communes"``.
    siren
        EPCI SIREN when ``kind == "epci"``.
    communes
        GeoDataFrame (EPSG:2154) of the member communes, indexed by code, with a boolean
        column ``in_territory`` (always True here).
    ring
        Neighbouring communes within ``ring_km`` of the outline (not members).
    chefs_lieux
        Chef-lieu points of members and ring, indexed by code, column ``in_territory``.
    ring_km
        Width of the ring.
    """

    name: str
    kind: str
    communes: gpd.GeoDataFrame
    ring: gpd.GeoDataFrame
    chefs_lieux: gpd.GeoDataFrame
    ring_km: float
    siren: str | None = None
    vintages: dict[str, str] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        """Member commune codes, sorted."""
        return sorted(self.communes.index)

    @property
    def all_codes(self) -> list[str]:
        """Member and ring commune codes."""
        return sorted(set(self.communes.index) | set(self.ring.index))

    @property
    def outline(self):
        """Union of the member polygons (shapely geometry, EPSG:2154)."""
        return self.communes.geometry.union_all()

    @property
    def population(self) -> float:
        """Sum of member populations (COG 2026 legal population)."""
        return float(self.communes["population"].sum())

    @property
    def area_km2(self) -> float:
        """Area of the member communes, km²."""
        return float(self.communes["area_km2"].sum())

    def summary(self) -> dict[str, Any]:
        """JSON-able summary (keys ``siren``, ``name``, ``n_communes``, ``population``...)."""
        return {
            "siren": self.siren,
            "name": self.name,
            "kind": self.kind,
            "n_communes": int(len(self.communes)),
            "population": int(round(self.population)),
            "area_km2": round(self.area_km2, 1),
            "ring_km": self.ring_km,
            "n_ring_communes": int(len(self.ring)),
            "departments": sorted(self.communes["departement"].dropna().unique().tolist()),
            "vintages": self.vintages,
        }


def _vintages() -> dict[str, str]:
    return {k: sources.CATALOG[k].vintage for k in ("communes", "epci")}


def _build(
    name: str,
    kind: str,
    codes: list[str],
    *,
    ring_km: float,
    siren: str | None,
    data: sources.Datasets,
) -> Territory:
    return build_territory(name, kind, codes, communes=data.communes(),
                           chefs_lieux=data.chefs_lieux(), ring_km=ring_km, siren=siren)


def build_territory(
    name: str, kind: str, codes: list[str], *, communes: gpd.GeoDataFrame,
    chefs_lieux: gpd.GeoDataFrame, ring_km: float, siren: str | None = None,
) -> Territory:
    """A territory from already loaded frames (no file read): batch runs load the communes
    and chefs-lieux once per partition and build every EPCI's territory from them.

    Parameters
    ----------
    name, kind, siren
        As in :class:`Territory`.
    codes
        Member commune codes.
    communes
        Commune polygons (:meth:`territorial_geo.sources.Datasets.communes`, or a subset that
        covers the members and their ring).
    chefs_lieux
        Chef-lieu points (:meth:`territorial_geo.sources.Datasets.chefs_lieux`, or a subset).
    ring_km
        Width of the ring of neighbouring communes.

    Raises
    ------
    UnknownPlaceError
        A member code missing from ``communes``.
    """
    missing = [c for c in codes if c not in communes.index]
    if missing:
        raise UnknownPlaceError(
            f"territory {name!r}: commune code(s) {missing[:10]} not in the communes layer"
        )
    members = communes.loc[codes].copy()
    members["in_territory"] = True
    if ring_km > 0:
        zone = members.geometry.union_all().buffer(ring_km * 1000)
        near = communes[communes.geometry.intersects(zone)]
        ring = near[~near.index.isin(codes)].copy()
    else:
        ring = communes.iloc[0:0].copy()
    ring["in_territory"] = False
    cl = chefs_lieux
    all_codes = list(members.index) + list(ring.index)
    lacking = [c for c in all_codes if c not in cl.index]
    pts = cl.reindex([c for c in all_codes if c in cl.index]).copy()
    if lacking:  # fall back to a point inside the polygon, and say so
        extra = gpd.GeoDataFrame(
            {"code": lacking, "nom": communes.loc[lacking, "nom"].to_numpy(), "source": "interior"},
            geometry=communes.loc[lacking].geometry.representative_point().to_numpy(),
            crs=communes.crs,
            index=lacking,
        )
        pts = pd.concat([pts, extra])
    pts["in_territory"] = pts.index.isin(codes)
    pts["nom"] = communes.loc[pts.index, "nom"].to_numpy()
    pts["population"] = communes.loc[pts.index, "population"].to_numpy()
    return Territory(
        name=name, kind=kind, siren=siren, communes=members.sort_index(),
        ring=ring.sort_index(), chefs_lieux=gpd.GeoDataFrame(pts, crs=communes.crs),
        ring_km=ring_km, vintages=_vintages(),
    )


def from_epci(
    query: str, *, ring_km: float = RING_KM, data_dir: str | os.PathLike | None = None,
    data: sources.Datasets | None = None,
) -> Territory:
    """Territory of an EPCI given by SIREN or by name (``"Campagnes de l'Artois"``).

    Parameters
    ----------
    query
        SIREN (9 digits) or a loose name; see :func:`territorial_geo.sources.find_epci`.
    ring_km
        Width of the ring of neighbouring communes kept for routing across borders.
    data_dir
        Data directory.
    data
        The run's datasets, read once (:class:`~territorial_geo.sources.Datasets`); built
        from ``data_dir`` when not given.
    """
    data = data or sources.Datasets(data_dir)
    row = sources.find_epci(query, epci=data.epci())
    return _build(row["nom"], "epci", list(row["members"]), ring_km=ring_km,
                  siren=row["siren"], data=data)


def from_department(
    code: str, *, ring_km: float = RING_KM, data_dir: str | os.PathLike | None = None,
    data: sources.Datasets | None = None,
) -> Territory:
    """Territory of a department (``"02"`` for the Aisne, ``"2A"``)."""
    data = data or sources.Datasets(data_dir)
    communes = data.communes()
    code = str(code).strip().upper().zfill(2)
    members = communes.index[communes["departement"] == code].tolist()
    if not members:
        raise UnknownPlaceError(
            f"no commune in department {code!r}; departments look like '02', '62', '2A', '971'"
        )
    return _build(f"Département {code}", "department", members, ring_km=ring_km, siren=None,
                  data=data)


def from_region(
    communes_in: list[str], name: str, *, ring_km: float = 0.0,
    data_dir: str | os.PathLike | None = None, data: sources.Datasets | None = None,
) -> Territory:
    """Territory made of several departments (e.g. a region) given by department codes."""
    data = data or sources.Datasets(data_dir)
    communes = data.communes()
    members = communes.index[communes["departement"].isin(communes_in)].tolist()
    if not members:
        raise UnknownPlaceError(f"no commune in departments {communes_in}")
    return _build(name, "region", members, ring_km=ring_km, siren=None, data=data)


def resolve_communes(
    refs: list[str], *, data_dir: str | os.PathLike | None = None, within: list[str] | None = None,
    data: sources.Datasets | None = None,
) -> list[str]:
    """Turn commune references (INSEE codes or names) into codes.

    Names are matched case- and accent-insensitively, preferring communes in ``within``.

    Raises
    ------
    UnknownPlaceError
        Naming the reference and the closest commune names.
    """
    communes = (data or sources.Datasets(data_dir)).communes()
    folded = None  # every name folded, once, when a reference is a name
    out = []
    for ref in refs:
        text = str(ref).strip()
        code = code_or_none(text)
        if code is not None:
            if code not in communes.index:
                raise UnknownPlaceError(f"unknown commune code {code!r} (COG 2026)")
            out.append(code)
            continue
        if folded is None:
            folded = communes["nom"].map(fold)
        hits = communes.index[folded == fold(text)].tolist()
        if within is not None and len(hits) > 1:
            hits = [h for h in hits if h in within] or hits
        if len(hits) == 1:
            out.append(hits[0])
            continue
        if len(hits) > 1:
            raise UnknownPlaceError(
                f"commune name {text!r} is ambiguous: {hits}; give the INSEE code"
            )
        pool = folded if within is None else folded[folded.index.isin(within)]
        close = difflib.get_close_matches(fold(text), pool.tolist(), n=5, cutoff=0.6)
        names = [f"{communes.loc[pool.index[pool == c][0], 'nom']} ({pool.index[pool == c][0]})"
                 for c in close]
        raise UnknownPlaceError(
            f"unknown commune {text!r}. Closest: {', '.join(names) or 'none'}"
        )
    return out


def from_communes(
    refs: list[str], *, name: str = "Communes", ring_km: float = RING_KM,
    data_dir: str | os.PathLike | None = None, data: sources.Datasets | None = None,
) -> Territory:
    """Territory from an explicit list of commune codes or names."""
    data = data or sources.Datasets(data_dir)
    codes = resolve_communes(refs, data=data)
    return _build(name, "communes", sorted(set(codes)), ring_km=ring_km, siren=None,
                  data=data)


def load_territory(
    spec: str, *, ring_km: float = RING_KM, data_dir: str | os.PathLike | None = None,
    data: sources.Datasets | None = None,
) -> Territory:
    """Territory from a short spec: ``"dep:02"``, ``"communes:62041,62045"``, else an EPCI.

    ``data``: the run's datasets (read once), built from ``data_dir`` when not given."""
    data = data or sources.Datasets(data_dir)
    if spec.startswith("dep:"):
        return from_department(spec[4:], ring_km=ring_km, data=data)
    if spec.startswith("communes:"):
        return from_communes(spec[9:].split(","), ring_km=ring_km, data=data)
    if spec.startswith("deps:"):
        deps = [d.strip().zfill(2) for d in spec[5:].split(",")]
        return from_region(deps, f"Départements {', '.join(deps)}", ring_km=ring_km,
                           data=data)
    return from_epci(spec, ring_km=ring_km, data=data)
