"""Regional OpenStreetMap extracts from Geofabrik, the detailed network for a first run.

Geofabrik splits France into the regions that existed before the 2016 reform (``picardie``,
``nord-pas-de-calais``...) plus the five overseas départements. :data:`DEPARTEMENT_REGIONS`
maps each département to its extract; :func:`regions_for_departments` gives the extracts that
cover a territory. This module only names and locates extracts (it imports nothing from
:mod:`.fetching`); :func:`territorial_geo.sources.fetching.fetch_osm_extract` gives the local
file, downloading it on request (``<region>-latest.osm.pbf``, checked against the ``.md5`` file
Geofabrik publishes beside it; resumed after an interruption; never half-written under its
final name).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable

from territorial_geo.errors import UnknownPlaceError

GEOFABRIK_BASE = "https://download.geofabrik.de"
ENV_GEOFABRIK = "TERRITORIAL_GEO_GEOFABRIK_URL"
OSM_DIR = "osm"

#: Geofabrik sub-regions of France (pre-2016 regions and overseas départements) and the
#: départements each one covers.
REGION_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "alsace": ("67", "68"),
    "aquitaine": ("24", "33", "40", "47", "64"),
    "auvergne": ("03", "15", "43", "63"),
    "basse-normandie": ("14", "50", "61"),
    "bourgogne": ("21", "58", "71", "89"),
    "bretagne": ("22", "29", "35", "56"),
    "centre": ("18", "28", "36", "37", "41", "45"),
    "champagne-ardenne": ("08", "10", "51", "52"),
    "corse": ("2A", "2B"),
    "franche-comte": ("25", "39", "70", "90"),
    "haute-normandie": ("27", "76"),
    "ile-de-france": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "languedoc-roussillon": ("11", "30", "34", "48", "66"),
    "limousin": ("19", "23", "87"),
    "lorraine": ("54", "55", "57", "88"),
    "midi-pyrenees": ("09", "12", "31", "32", "46", "65", "81", "82"),
    "nord-pas-de-calais": ("59", "62"),
    "pays-de-la-loire": ("44", "49", "53", "72", "85"),
    "picardie": ("02", "60", "80"),
    "poitou-charentes": ("16", "17", "79", "86"),
    "provence-alpes-cote-d-azur": ("04", "05", "06", "13", "83", "84"),
    "rhone-alpes": ("01", "07", "26", "38", "42", "69", "73", "74"),
    "guadeloupe": ("971",),
    "martinique": ("972",),
    "guyane": ("973",),
    "reunion": ("974",),
    "mayotte": ("976",),
}

#: Département code -> Geofabrik region name.
DEPARTEMENT_REGIONS: dict[str, str] = {
    d: region for region, deps in REGION_DEPARTMENTS.items() for d in deps
}


def normalize_departement(code: object) -> str:
    """``62`` / ``"62"`` / ``"2a"`` / ``1`` -> ``"62"``, ``"2A"``, ``"01"``."""
    text = str(code).strip().upper()
    if text.isdigit() and len(text) == 1:
        text = "0" + text
    return text


def regions_for_departments(departements: Iterable[object]) -> list[str]:
    """Geofabrik extracts covering the given départements, in first-seen order.

    Parameters
    ----------
    departements
        Codes such as ``["62", "59"]`` (a Corsican ``"20"`` means both 2A and 2B).

    Returns
    -------
    list of str
        Region names, e.g. ``["nord-pas-de-calais"]``.

    Raises
    ------
    UnknownPlaceError
        For a code that is not a département with a Geofabrik extract.
    """
    out: list[str] = []
    for raw in departements:
        code = normalize_departement(raw)
        codes = ["2A", "2B"] if code == "20" else [code]
        for c in codes:
            region = DEPARTEMENT_REGIONS.get(c)
            if region is None:
                raise UnknownPlaceError(
                    f"no Geofabrik extract for département {raw!r}; known départements: "
                    f"{', '.join(sorted(DEPARTEMENT_REGIONS))}"
                )
            if region not in out:
                out.append(region)
    return out


def check_region(region: str) -> str:
    """Return the region name, or raise with the closest Geofabrik names."""
    name = region.strip().lower().replace("_", "-").replace(" ", "-")
    if name in REGION_DEPARTMENTS:
        return name
    close = difflib.get_close_matches(name, list(REGION_DEPARTMENTS), n=4, cutoff=0.4)
    raise UnknownPlaceError(
        f"unknown Geofabrik region {region!r}. Closest: {', '.join(close) or 'none'}. "
        f"Regions: {', '.join(REGION_DEPARTMENTS)}"
    )


def parse_osm_spec(spec: str) -> list[str]:
    """``osm:nord-pas-de-calais`` -> [region]; ``osm:62,80`` -> regions of those départements."""
    body = spec.split(":", 1)[1] if spec.startswith("osm:") else spec
    parts = [p for p in re.split(r"[,\s]+", body) if p]
    if not parts:
        raise UnknownPlaceError(f"{spec!r}: give a region (osm:picardie) or départements (osm:62,80)")
    if all(re.fullmatch(r"\d{1,3}|2[ABab]", p) for p in parts):
        return regions_for_departments(parts)
    return [check_region(p) for p in parts]


def extract_url(region: str, base_url: str | None = None) -> str:
    """Address of ``<region>-latest.osm.pbf`` (``$TERRITORIAL_GEO_GEOFABRIK_URL`` overrides the
    base, e.g. a ``file://`` folder laid out like ``download.geofabrik.de``)."""
    base = (base_url or os.environ.get(ENV_GEOFABRIK) or GEOFABRIK_BASE).rstrip("/")
    return f"{base}/europe/france/{check_region(region)}-latest.osm.pbf"


def parse_md5_file(text: str, *, url: str) -> str:
    """The hex digest of a ``md5sum`` line (``<32 hex>  <file name>``)."""
    m = re.match(r"\s*([0-9a-fA-F]{32})\b", text)
    if not m:
        from territorial_geo.errors import DataFormatError

        raise DataFormatError(f"{url}: not an md5 checksum file ({text[:60]!r})")
    return m.group(1).lower()
