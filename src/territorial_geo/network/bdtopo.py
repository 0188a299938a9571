"""IGN BD TOPO reader: road sections (tronçons) as a directed timed graph.

Reads BD TOPO **v3** ``troncon_de_route`` (GeoPackage layer, or the Shapefile
``TRONCON_DE_ROUTE.shp`` with its 10-character field names) and BD TOPO **v2** ``ROUTE``
(Shapefile). The version is recognised from the columns. Sections meet at shared end points
(BD TOPO is topologically structured: a section ends at every junction); end points closer
than ``tolerance_m`` are joined and counted (default 0.5 m, ASSUMPTION: well below the
planimetric precision of the data, 1.5 m in the v2 fixture's ``PREC_PLANI``, so that only
digitising gaps are closed; neither fixture has any such gap). Z is dropped; lengths are
2-D (Lambert-93).

Sources
-------
* IGN, *BD TOPO v3, structure* (``Structure_Nouvelle_BDTopo.xlsx``, professionnels.ign.fr):
  field names per delivery format (GeoPackage ``sens_de_circulation`` = Shapefile ``SENS``,
  ``vitesse_moyenne_vl`` = ``VIT_MOY_VL``, ``acces_vehicule_leger`` = ``ACCES_VL``,
  ``etat_de_l_objet`` = ``ETAT``, ``urbain`` = ``URBAIN``); "Sens de circulation: sens licite
  de circulation sur les voies pour les véhicules légers"; "Vitesse moyenne VL: vitesse
  moyenne des véhicules légers dans le sens direct". Field reference: IGN, *DC BD TOPO,
  thème Transport* (geoservices.ign.fr/sites/default/files/2023-10/DC_BDTOPO_Transport.pdf).
* IGN, BD TOPO v2 *Descriptif de contenu* (DC_BDTOPO_2.pdf): ``ROUTE.NATURE`` values
  Autoroute, Quasi-autoroute, Bretelle, Route à 2 chaussées, Route à 1 chaussée, Route
  empierrée, Chemin, Bac auto, Bac piéton, Piste cyclable, Sentier, Escalier.
* IGN's own routing-graph builder, github.com/IGNF/route-graph-generator
  (``sql/bdtopo_v3.3.sql``, ``docker/config/costs_calculation.json``): keeps only sections
  whose ``etat_de_l_objet`` is "En service"; maps ``vitesse_moyenne_vl = 1`` to 0; direction
  +1 for "Sens direct", -1 for "Sens inverse", two-way otherwise; a car may use a section
  only where its speed is > 0; nodes are section end points.
* Code de la route R413-2 (as amended by décret n° 2018-487 of 15 June 2018) and R413-3:
  outside built-up areas 130 km/h on motorways, 110 on roads with two carriageways
  separated by a central reserve, 80 on other roads; 50 in built-up areas. The non-urban
  defaults below are under the R413-2 limits of their road type; the urban ones are at
  most 50 km/h except urban motorways (95).

Decisions
---------
Direction (``sens_de_circulation`` v3 / ``SENS`` v2):

================  ==========  =====================================================
v3                v2          directions drivable
================  ==========  =====================================================
Double sens       Double      both
Sens direct       Direct      drawing direction only (first -> last point)
Sens inverse      Inverse     against the drawing direction only
Sans objet        NC          both, *if* the section is drivable at all (see below)
(missing)         (missing)   both (counted in ``n_sens_missing``)
================  ==========  =====================================================

"Sans objet" / "NC" ("non concerné") say that a traffic direction does not apply. In the v3
fixture (Marseille 10e) "Sans objet" occurs only on Sentier (267), Escalier (10) and Piste
cyclable (3) sections, all ``acces_vehicule_leger`` = "Physiquement impossible": they are
excluded by nature and access anyway. In the v2 fixture (La Flèche) "NC" is on Sentier (19),
Piste cyclable (5), Chemin (4) and Route empierrée (36); the last are kept as two-way roads,
like IGN's route-graph-generator does (anything but direct/inverse is two-way).

Drivable (first reason that applies is the one counted in ``excluded_by_reason``):

1. ``etat_de_l_objet`` (v3): only "En service" (IGN route-graph-generator); v2 ``ETAT``:
   "En construction" and "En projet" excluded.
2. ``nature``:

   ==========================  =========  ============================================
   nature (fixtures: v3 / v2)   drivable   why
   ==========================  =========  ============================================
   Type autoroutier (40 / -)    yes        motorway
   Autoroute, Quasi-autoroute   yes        v2 only; timed as Type autoroutier
   (- / -)                                 (ASSUMPTION)
   Route à 2 chaussées (85/24)  yes
   Route à 1 chaussée (2012/    yes
   754)
   Bretelle (35 / -)            yes        slip road
   Rond-point (91 / -)          yes        roundabout (v3 only; one-way "Sens direct")
   Route empierrée (322/147)    yes        unpaved road; IGN gives every free-access one
                                           a positive average speed (10 km/h, 152 in
                                           the v3 fixture), i.e. drivable in IGN's graph
   Chemin (71 / 121)            no         IGN sets ``vitesse_moyenne_vl`` = 1 on all 71
                                           (free-access) v3 Chemin, which IGN's graph
                                           builder maps to 0 = not for cars; ONF: a
                                           chemin "n'est pas forcément aménagé pour la
                                           circulation des véhicules" (onf.fr, Chacun sa
                                           route... chacun son chemin)
   Sentier (267 / 19)           no         footpath
   Escalier (10 / -)            no         stairs
   Piste cyclable (3 / 5)       no         cycle track
   Bac ou liaison maritime,     no         ferry: its time is a timetable, not a length
   Bac auto, Bac piéton                    over a speed (ASSUMPTION: left out)
   (any other value)            no         unknown nature, counted under its value
   ==========================  =========  ============================================

3. ``acces_vehicule_leger`` (v3): "Libre" kept; "A péage" kept and flagged ``toll``;
   "Physiquement impossible" and "Restreint aux ayants droit" excluded; missing: kept
   (counted in ``n_access_missing``). v2 has no access field (``toll`` is False and
   ``n_toll_sections`` None).
4. ``vitesse_moyenne_vl`` = 1 on any other nature (IGN's "not for cars" value): excluded.

Speed: ``vitesse_moyenne_vl`` when > 0 (``speed_source`` "vitesse_moyenne_vl"), else the
:data:`DEFAULT_BDTOPO_KMH` table (v2 always), times ``profile.factor``. The table is IGN's own
average-speed model as published in BD TOPO v3: in the Marseille 10e extract
``vitesse_moyenne_vl`` is a function of (nature, urbain, importance) -- 31 of the 33 cells
present hold a single value -- and the table holds each cell's value (modal value for the two
others). Cells absent from the extract take the nearest importance of the same nature and
context (``speed_source`` "default_nearest_importance", an ASSUMPTION); v2 has no ``urbain``
field and uses the non-urban column (it overestimates speeds in built-up areas, where IGN's
values are 5 to 25 km/h lower). v2 "Autoroute" and "Quasi-autoroute" use "Type autoroutier";
``importance`` "NC" or 6 uses 5. ``profile.use_maxspeed=False`` ignores
``vitesse_moyenne_vl`` and times every section from the table.

Encoding: a Shapefile's ``.cpg`` is trusted first; text that is not valid in it is re-read as
ISO-8859-1 (Latin-1, which decodes any byte), and UTF-8 text decoded as Latin-1/CP1252
("Route Ã  1 chaussÃ©e") is re-read as UTF-8. Text already damaged in the file (U+FFFD
replacement characters, as in the v2 fixture, whose bytes are identical to the
IGNF/geoxygene original) is repaired for the enumerated fields by matching the BD TOPO value
lists (U+FFFD standing for one character); counts go to ``source["text_repaired"]`` and
``source["text_damaged"]`` (free text such as names cannot be repaired).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territorial_geo.errors import NetworkError
from territorial_geo.network.graph import (
    RoadNetwork,
    SpeedProfile,
    cached,
    network_from_segments,
)
from territorial_geo.sources import WORKING_CRS

#: Reader version, part of the cache key (bump when the decisions above change).
READER_VERSION = 1

# --- vocabularies (BD TOPO v3 structure file, BD TOPO v2 DC) -------------------------------

NATURE_VALUES = (
    "Type autoroutier", "Autoroute", "Quasi-autoroute", "Bretelle", "Rond-point",
    "Route à 2 chaussées", "Route à 1 chaussée", "Route empierrée", "Chemin", "Sentier",
    "Escalier", "Piste cyclable", "Bac ou liaison maritime", "Bac auto", "Bac piéton",
)
#: Natures a car may use (see the module docstring's table).
DRIVABLE_NATURES = frozenset({
    "Type autoroutier", "Autoroute", "Quasi-autoroute", "Bretelle", "Rond-point",
    "Route à 2 chaussées", "Route à 1 chaussée", "Route empierrée",
})
#: ``sens`` value -> (forward, backward).
SENS_DIRECTIONS: dict[str, tuple[bool, bool]] = {
    "Double sens": (True, True), "Sens direct": (True, False), "Sens inverse": (False, True),
    "Sans objet": (True, True),
    "Double": (True, True), "Direct": (True, False), "Inverse": (False, True),
    "NC": (True, True),
}
ACCESS_VALUES = ("Libre", "A péage", "Physiquement impossible", "Restreint aux ayants droit")
ACCESS_EXCLUDED = frozenset({"Physiquement impossible", "Restreint aux ayants droit"})
ACCESS_TOLL = "A péage"
ETAT_VALUES = ("En service", "En construction", "En projet", "Non exploité", "NR")
V2_ETAT_EXCLUDED = frozenset({"En construction", "En projet"})
CL_ADMIN_VALUES = ("Autoroute", "Nationale", "Départementale", "Autre")
#: IGN's "not for cars" average speed (route-graph-generator maps it to 0).
SPEED_NOT_FOR_CARS = 1.0

#: IGN's average light-vehicle speed model (km/h) by (nature, urban) and importance: the
#: ``vitesse_moyenne_vl`` of BD TOPO v3 (2022-23) cell by cell, read on every free-access
#: section of the Marseille 10e extract (n sections in comments; "mode" where a cell holds
#: two values). Non-urban values are under the R413-2 limits (130 / 110 / 80 km/h).
DEFAULT_BDTOPO_KMH: dict[tuple[str, bool], dict[int, float]] = {
    ("Type autoroutier", False): {1: 105.0},                      # n=6
    ("Type autoroutier", True): {1: 95.0},                        # n=34, mode (33 x 95, 1 x 100)
    ("Route à 2 chaussées", False): {2: 75.0, 3: 70.0, 4: 70.0},  # n=3, 31, 2
    ("Route à 2 chaussées", True): {1: 50.0, 3: 45.0, 4: 40.0, 5: 35.0},  # n=2, 5, 40, 2
    ("Route à 1 chaussée", False): {2: 67.0, 3: 63.0, 4: 58.0, 5: 35.0},  # n=24 (mode: 17 x 67,
    #                                                                 7 x 75), 41, 83, 149
    ("Route à 1 chaussée", True): {2: 50.0, 3: 45.0, 4: 40.0, 5: 30.0},   # n=1, 90, 248, 1006
    ("Bretelle", False): {1: 45.0, 2: 45.0, 3: 45.0, 4: 45.0},   # n=3, 1, 6, 2
    ("Bretelle", True): {1: 45.0, 2: 45.0, 3: 45.0, 5: 30.0},    # n=4, 4, 13, 2
    ("Rond-point", False): {3: 25.0, 5: 25.0},                    # n=13, 25
    ("Rond-point", True): {3: 25.0, 4: 25.0, 5: 25.0},            # n=11, 21, 21
    ("Route empierrée", False): {5: 10.0},                        # n=86
    ("Route empierrée", True): {5: 10.0},                         # n=66
}
#: v2 natures timed as their v3 equivalent.
NATURE_SPEED_ALIAS = {"Autoroute": "Type autoroutier", "Quasi-autoroute": "Type autoroutier"}

# --- schemas ------------------------------------------------------------------------------

#: canonical key -> column name, per schema. ``required`` keys must be present.
SCHEMAS: dict[str, dict] = {
    "v3": {  # GeoPackage / SQL naming
        "required": {"nature": "nature", "importance": "importance",
                     "sens": "sens_de_circulation", "speed": "vitesse_moyenne_vl",
                     "access": "acces_vehicule_leger"},
        "optional": {"id": "cleabs", "etat": "etat_de_l_objet", "urbain": "urbain",
                     "fictif": "fictif", "name": ("nom_collaboratif_gauche", "nom_1_gauche"),
                     "ref": "cpx_numero", "cl_admin": "cpx_classement_administratif"},
    },
    "v3-shp": {  # Shapefile naming (10 characters)
        "required": {"nature": "NATURE", "importance": "IMPORTANCE", "sens": "SENS",
                     "speed": "VIT_MOY_VL", "access": "ACCES_VL"},
        "optional": {"id": "ID", "etat": "ETAT", "urbain": "URBAIN", "fictif": "FICTIF",
                     "name": ("NOM_COLL_G", "NOM_1_G"), "ref": "NUMERO", "cl_admin": "CL_ADMIN"},
    },
    "v2": {
        "required": {"nature": "NATURE", "importance": "IMPORTANCE", "sens": "SENS"},
        "optional": {"id": "ID", "etat": "ETAT", "fictif": "FICTIF", "name": "NOM_RUE_G",
                     "ref": "NUMERO", "cl_admin": "CL_ADMIN"},
    },
}
#: enumerated fields and their value lists (for repairing damaged text).
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "nature": NATURE_VALUES, "sens": tuple(SENS_DIRECTIONS), "access": ACCESS_VALUES,
    "etat": ETAT_VALUES, "cl_admin": CL_ADMIN_VALUES,
}
#: layer names tried when ``layer`` is not given (case-insensitive).
LAYER_NAMES = ("troncon_de_route", "route")
SHAPEFILE_NAMES = ("TRONCON_DE_ROUTE.shp", "ROUTE.shp")


def detect_schema(columns, *, where: str = "layer") -> tuple[str, dict[str, str]]:
    """Recognise the BD TOPO version from a layer's columns.

    Parameters
    ----------
    columns
        Column names of the layer (case is ignored).
    where
        File and layer, for the error message.

    Returns
    -------
    (str, dict)
        ``"v3"`` or ``"v2"``, and the map canonical key -> actual column name (``nature``,
        ``importance``, ``sens``, ``speed``, ``access``, and the optional ``id``, ``etat``,
        ``urbain``, ``fictif``, ``name``, ``ref``, ``cl_admin`` when present).

    Raises
    ------
    NetworkError
        Not a BD TOPO road layer, or a required column is missing (named, with the version
        that was expected and why).
    """
    lower = {str(c).lower(): str(c) for c in columns}
    if {"sens_de_circulation", "vitesse_moyenne_vl", "acces_vehicule_leger"} & lower.keys():
        schema, why = "v3", "v3 GeoPackage/SQL field names"
    elif {"vit_moy_vl", "acces_vl"} & lower.keys():
        schema, why = "v3-shp", "v3 Shapefile field names (VIT_MOY_VL / ACCES_VL)"
    elif {"nature", "sens", "importance"} & lower.keys():
        schema, why = "v2", "v2 ROUTE fields (NATURE / SENS / IMPORTANCE, no speed or access)"
    else:
        v3 = ", ".join(SCHEMAS["v3"]["required"].values())
        v2 = ", ".join(SCHEMAS["v2"]["required"].values())
        raise NetworkError(
            f"{where}: not a BD TOPO road layer: expected the v3 troncon_de_route columns "
            f"({v3}) or the v2 ROUTE columns ({v2}); found {sorted(map(str, columns))}"
        )
    spec = SCHEMAS[schema]
    missing = [col for col in spec["required"].values() if col.lower() not in lower]
    version = "v3" if schema.startswith("v3") else "v2"
    if missing:
        raise NetworkError(
            f"{where}: BD TOPO {version} road layer expected ({why}) but column(s) "
            f"{', '.join(missing)} missing; required: {', '.join(spec['required'].values())}"
        )
    colmap = {k: lower[c.lower()] for k, c in spec["required"].items()}
    for k, names in spec["optional"].items():
        for c in (names if isinstance(names, tuple) else (names,)):
            if c.lower() in lower:
                colmap[k] = lower[c.lower()]
                break
    return version, colmap


# --- text repair --------------------------------------------------------------------------

_MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf]")


def _has_mojibake(values) -> bool:
    """UTF-8 text decoded as Latin-1/CP1252 ("Ã©" for "é")."""
    return any(isinstance(v, str) and _MOJIBAKE.search(v) for v in values)


def repair_values(values: pd.Series, vocabulary: tuple[str, ...]) -> tuple[pd.Series, int]:
    """Replace damaged enumerated values by the vocabulary value they uniquely match.

    A U+FFFD (or ``?``) character stands for any one character; matching ignores case.
    Returns the repaired series and the number of values changed.
    """
    s = values
    known = set(vocabulary)
    fixes = {}
    for v in pd.unique(s.dropna()):
        if not isinstance(v, str) or v in known or ("\ufffd" not in v and "?" not in v):
            continue
        pat = re.compile("".join("." if ch in "\ufffd?" else re.escape(ch) for ch in v.strip()),
                         re.IGNORECASE)
        hits = [w for w in vocabulary if pat.fullmatch(w)]
        if len(hits) == 1:
            fixes[v] = hits[0]
    if not fixes:
        return values, 0
    return s.replace(fixes), int(s.isin(list(fixes)).sum())


# --- pure part: sections -> network -------------------------------------------------------

def _text(frame: pd.DataFrame, col: str | None) -> pd.Series:
    """A text column, stripped, as pandas ``string`` dtype (``<NA>`` when missing)."""
    if col is None or col not in frame.columns:
        return pd.Series(pd.NA, index=range(len(frame)), dtype="string")
    return frame[col].astype("string").str.strip().reset_index(drop=True)


def _importance(values: pd.Series) -> np.ndarray:
    """Importance 1-5 as int (``NC``, missing or 6 -> 5)."""
    imp = pd.to_numeric(values, errors="coerce").fillna(5).astype(int).to_numpy()
    return np.clip(imp, 1, 5)


def _default_table() -> pd.DataFrame:
    """:data:`DEFAULT_BDTOPO_KMH` on the full grid nature x urban x importance 1-5, with
    the nearest importance filled in (ties go to the more important class)."""
    rows = []
    natures = {n for n, _ in DEFAULT_BDTOPO_KMH}
    for n in natures:
        for urban in (False, True):
            cell = DEFAULT_BDTOPO_KMH.get((n, urban)) or DEFAULT_BDTOPO_KMH[(n, not urban)]
            for imp in range(1, 6):
                if imp in cell:
                    rows.append((n, urban, imp, cell[imp], "default_ign_model"))
                else:
                    best = min(cell, key=lambda k, i=imp: (abs(k - i), k))
                    rows.append((n, urban, imp, cell[best], "default_nearest_importance"))
    return pd.DataFrame(rows, columns=["nature", "urban", "importance", "kmh", "src"])


def default_speeds(nature: pd.Series, urban: np.ndarray, importance: np.ndarray,
                   *, fallback_kmh: float) -> tuple[np.ndarray, np.ndarray]:
    """Default speed (km/h) and its source per section from :data:`DEFAULT_BDTOPO_KMH`.

    Sources: ``default_ign_model`` (the cell exists), ``default_nearest_importance`` (nearest
    importance of the same nature and context; ties go to the more important class),
    ``fallback`` (nature not in the table: ``fallback_kmh``).
    """
    nat = nature.astype("string").replace(NATURE_SPEED_ALIAS)
    keys = pd.DataFrame({"nature": nat.to_numpy(dtype=object, na_value=None),
                         "urban": np.asarray(urban, dtype=bool),
                         "importance": np.asarray(importance, dtype=np.int64)})
    table = _default_table().astype({"importance": np.int64})
    got = keys.merge(table, on=["nature", "urban", "importance"], how="left")
    kmh = got["kmh"].fillna(float(fallback_kmh)).to_numpy(float)
    src = got["src"].fillna("fallback").to_numpy(dtype=object)
    return kmh, src


def _single_lines(geom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LineStrings (multi-part sections merged, else split) and the source row of each."""
    multi = shapely.get_type_id(geom) == 5
    if not multi.any():
        return geom, np.arange(len(geom))
    geom = geom.copy()
    geom[multi] = shapely.line_merge(geom[multi])
    parts, idx = shapely.get_parts(geom, return_index=True)
    return parts, idx


def network_from_bdtopo(
    frame: gpd.GeoDataFrame,
    *,
    version: str | None = None,
    colmap: dict[str, str] | None = None,
    profile: SpeedProfile | None = None,
    source: dict | None = None,
    tolerance_m: float = 0.5,
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from BD TOPO road sections already read.

    Parameters
    ----------
    frame
        Road sections with their BD TOPO columns (v3 or v2 naming) and LineString
        geometries (Z allowed; any CRS, reprojected to EPSG:2154).
    version, colmap
        From :func:`detect_schema` (detected from the columns when ``None``).
    profile
        Speed factor, fallback speed, snap settings; ``use_maxspeed=False`` ignores
        ``vitesse_moyenne_vl``.
    source
        Provenance merged into ``network.source``.
    tolerance_m
        End points closer than this are joined into one node.

    Returns
    -------
    RoadNetwork
        Edges carry ``bdtopo_id``, ``nature``, ``importance``, ``sens``, ``toll``,
        ``urbain``, ``vitesse_moyenne_vl`` (v3), ``name``, ``ref``, ``cl_admin``;
        ``source`` has ``n_sections_read``, ``n_excluded_sections``, ``excluded_by_reason``,
        ``n_oneway_sections``, ``n_toll_sections``, ``speed_sources_sections``.

    Raises
    ------
    NetworkError
        No drivable section (with the exclusion counts).
    """
    profile = profile or SpeedProfile()
    if version is None or colmap is None:
        version, colmap = detect_schema(frame.columns)
    src = dict(source or {})
    where = src.get("path", "BD TOPO layer")
    layer = src.get("layer")
    where = f"{where} (layer {layer})" if layer else where
    n = len(frame)
    text = {k: _text(frame, colmap.get(k)) for k in ("nature", "sens", "access", "etat",
                                                      "cl_admin", "name", "ref", "id")}
    repaired, damaged = {}, {}
    for key, vocab in VOCABULARIES.items():
        if colmap.get(key) in frame.columns:
            text[key], k = repair_values(text[key], vocab)
            if k:
                repaired[colmap[key]] = k
    for key, s in text.items():
        bad = int(s.str.contains("\ufffd", regex=False).fillna(False).sum())
        if bad:
            damaged[colmap[key]] = bad
    for key in ("name", "ref"):  # v2 placeholders: NR "non renseigné", NC "non concerné"
        text[key] = text[key].mask(text[key].isin(["NR", "NC"]))
    nature = text["nature"]
    sens = text["sens"]
    access = text["access"]
    etat = text["etat"]
    speed_raw = (pd.to_numeric(frame[colmap["speed"]], errors="coerce").to_numpy(float)
                 if "speed" in colmap else np.full(n, np.nan))
    geom_ok = (frame.geometry.notna() & ~frame.geometry.is_empty).to_numpy()

    # exclusion, first reason that applies
    reason = np.full(n, None, dtype=object)

    def _exclude(mask: np.ndarray, field: str, values: pd.Series | None = None) -> None:
        take = mask & (reason == None)  # noqa: E711 (element-wise)
        if values is None:
            reason[take] = field
        else:
            reason[take] = (field + ": " + values[take].fillna("(missing)")).to_numpy(object)

    _exclude(~geom_ok, "geometry: empty")
    if "etat" in colmap:
        bad_etat = (etat.notna() & ~etat.isin(["En service"])) if version == "v3" else \
            etat.isin(V2_ETAT_EXCLUDED)
        _exclude(bad_etat.to_numpy(bool), "etat_de_l_objet", etat)
    _exclude(~nature.isin(DRIVABLE_NATURES).to_numpy(bool), "nature", nature)
    _exclude(access.isin(ACCESS_EXCLUDED).to_numpy(bool), "acces_vehicule_leger", access)
    _exclude(speed_raw == SPEED_NOT_FOR_CARS, "vitesse_moyenne_vl: 1")
    keep = reason == None  # noqa: E711
    excluded = pd.Series(reason[~keep]).value_counts()
    by_reason = {str(k): int(v) for k, v in excluded.items()}
    src.update(n_sections_read=int(n), n_excluded_sections=int((~keep).sum()),
               excluded_by_reason=by_reason)
    if not keep.any():
        raise NetworkError(
            f"{where}: no drivable road section among {n} (excluded: {by_reason or 'none'})"
        )

    # directions
    only_fwd = sens.isin([k for k, d in SENS_DIRECTIONS.items() if d == (True, False)])
    only_bwd = sens.isin([k for k, d in SENS_DIRECTIONS.items() if d == (False, True)])
    fwd = ~only_bwd.to_numpy(bool)
    bwd = ~only_fwd.to_numpy(bool)
    sens_unknown = (sens.notna() & ~sens.isin(list(SENS_DIRECTIONS))).to_numpy(bool)

    # speeds
    urban = (pd.to_numeric(frame[colmap["urbain"]], errors="coerce").fillna(0).to_numpy() > 0
             if "urbain" in colmap else np.zeros(n, dtype=bool))
    importance = _importance(frame[colmap["importance"]])
    dflt, dsrc = default_speeds(nature, urban, importance, fallback_kmh=profile.fallback_kmh)
    use_vl = (speed_raw > 0) & profile.use_maxspeed
    speed = np.where(use_vl, speed_raw, dflt) * profile.factor
    speed_source = np.where(use_vl, "vitesse_moyenne_vl", dsrc)
    toll = access.isin([ACCESS_TOLL]).to_numpy(bool)

    attrs = pd.DataFrame({
        "bdtopo_id": text["id"].array,
        "nature": nature.array,
        "importance": importance,
        "sens": sens.array,
        "toll": toll,
        "urbain": urban,
        "name": text["name"].array,
        "ref": text["ref"].array,
        "cl_admin": text["cl_admin"].array,
        "forward": fwd, "backward": bwd,
        "speed_kmh": speed, "speed_source": speed_source,
    })
    if "speed" in colmap:
        attrs["vitesse_moyenne_vl"] = speed_raw
    attrs = attrs[keep].reset_index(drop=True)
    crs = frame.crs or WORKING_CRS
    lines, row = _single_lines(frame.geometry.to_numpy()[keep])
    seg = gpd.GeoDataFrame(attrs.iloc[row].reset_index(drop=True),
                           geometry=gpd.GeoSeries(lines, crs=crs).to_crs(WORKING_CRS).to_numpy(),
                           crs=WORKING_CRS)
    kept_sp = pd.Series(speed_source[keep]).value_counts()
    src.update(
        kind="detailed", format="bdtopo", version=version,
        n_oneway_sections=int((fwd ^ bwd)[keep].sum()),
        n_toll_sections=int(toll[keep].sum()) if "access" in colmap else None,
        n_sens_missing=int(sens.isna().to_numpy(bool)[keep].sum()),
        n_sens_unknown=int(sens_unknown[keep].sum()),
        n_access_missing=int(access.isna().to_numpy(bool)[keep].sum()) if "access" in colmap
        else None,
        n_multipart_split=int(len(lines) - keep.sum()),
        speed_sources_sections={str(k): int(v) for k, v in kept_sp.items()},
        speed_factor=profile.factor,
        default_speed_table="IGN BD TOPO v3 vitesse_moyenne_vl model by nature/urbain/importance",
    )
    if repaired:
        src["text_repaired"] = repaired
    if damaged:
        src["text_damaged"] = damaged
    net = network_from_segments(seg, profile=profile, source=src, tolerance_m=tolerance_m)
    net.source.setdefault("n_endpoints_joined", 0)
    return net


# --- I/O edge -----------------------------------------------------------------------------

def _locate(path: Path, layer: str | None) -> tuple[Path, str]:
    """The file to open and its layer: a GeoPackage layer, a Shapefile, or a directory
    holding ``TRONCON_DE_ROUTE.shp`` / ``ROUTE.shp`` / one ``.gpkg``."""
    import pyogrio

    if path.is_dir():
        found = [p for name in SHAPEFILE_NAMES for p in sorted(path.rglob("*"))
                 if p.name.lower() == name.lower()]
        found += sorted(path.rglob("*.gpkg"))
        if not found:
            raise NetworkError(f"{path}: no TRONCON_DE_ROUTE.shp, ROUTE.shp or .gpkg in this "
                               "directory; pass the BD TOPO road file itself")
        path = found[0]
    try:
        layers = [str(x[0]) for x in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL raises its own errors on unreadable files
        raise NetworkError(f"{path}: cannot be opened as a GeoPackage or Shapefile ({exc})") \
            from exc
    if layer is not None:
        match = [x for x in layers if x.lower() == layer.lower()]
        if not match:
            raise NetworkError(f"{path}: no layer {layer!r}; layers: {', '.join(layers)}")
        return path, match[0]
    if len(layers) == 1:
        return path, layers[0]
    for name in LAYER_NAMES:
        match = [x for x in layers if x.lower() == name]
        if match:
            return path, match[0]
    raise NetworkError(f"{path}: no troncon_de_route or ROUTE layer; pass layer= one of: "
                       f"{', '.join(layers)}")


def _files(path: Path) -> list[Path]:
    """The file and, for a Shapefile, its sidecars (what the checksum covers)."""
    if path.suffix.lower() != ".shp":
        return [path]
    out = []
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        for cand in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if cand.is_file():
                out.append(cand)
                break
    return out


def _checksum(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.lower().encode())
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    return h.hexdigest()


class _InvalidText(ValueError):
    """A text column holds bytes that are not valid UTF-8 (Arrow defers the check)."""


def _check_utf8(frame: pd.DataFrame) -> None:
    """Raise :class:`_InvalidText` when an Arrow-backed text column is not valid UTF-8
    (pyogrio's Arrow path passes undecodable bytes through instead of failing)."""
    import pyarrow as pa

    for col in frame.columns:
        arr = frame[col].array
        if col == frame.geometry.name or not hasattr(arr, "__arrow_array__"):
            continue
        data = arr.__arrow_array__()
        if pa.types.is_string(data.type) or pa.types.is_large_string(data.type):
            try:
                data.validate(full=True)
            except pa.ArrowInvalid as exc:
                raise _InvalidText(f"column {col}: {exc}") from exc


def _read(path: Path, layer: str, columns: list[str], bbox, *, shapefile: bool,
          vocab_cols: list[str]) -> tuple[gpd.GeoDataFrame, str]:
    """Read the layer, choosing the text encoding from the data when the ``.cpg`` lies."""
    import pyogrio

    def read(encoding):
        frame = pyogrio.read_dataframe(path, layer=layer, columns=columns, bbox=bbox,
                                       encoding=encoding, use_arrow=True)
        _check_utf8(frame)
        return frame

    if not shapefile:
        return read(None), "UTF-8 (GeoPackage)"
    declared = "the .cpg" if path.with_suffix(".cpg").is_file() or \
        path.with_suffix(".CPG").is_file() else "no .cpg (GDAL default)"
    try:
        frame = read(None)
        used = f"as declared by {declared}"
    except (UnicodeDecodeError, _InvalidText):
        frame = read("ISO-8859-1")
        used = f"ISO-8859-1 (text not valid in the encoding of {declared})"
    if any(_has_mojibake(frame[c].dropna().unique()) for c in vocab_cols if c in frame):
        try:
            frame = read("UTF-8")
            used = f"UTF-8 (the text is UTF-8, not the encoding of {declared})"
        except (UnicodeDecodeError, _InvalidText):
            pass
    return frame, used


def _bbox_in(area, margin_m: float, crs) -> tuple[list[float], list[float]]:
    """The area's bounding box plus margin, in EPSG:2154 and in the layer's CRS."""
    minx, miny, maxx, maxy = shapely.bounds(area)
    box = [minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m]
    if crs is None or gpd.GeoSeries([], crs=crs).crs == WORKING_CRS:
        return box, box
    layer_box = gpd.GeoSeries([shapely.box(*box)], crs=WORKING_CRS).to_crs(crs).total_bounds
    return box, [float(v) for v in layer_box]


def read_bdtopo(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    area=None,
    margin_m: float = 20_000.0,
    profile: SpeedProfile | None = None,
    cache_dir: str | os.PathLike | None = None,
    tolerance_m: float = 0.5,
) -> RoadNetwork:
    """Read a drivable road network from IGN BD TOPO road sections.

    Parameters
    ----------
    path
        A BD TOPO v3 GeoPackage (layer ``troncon_de_route``), a v3
        ``TRONCON_DE_ROUTE.shp`` or a v2 ``ROUTE.shp``, or a directory holding one.
    layer
        Layer name (default: ``troncon_de_route`` / ``ROUTE``, or the only layer).
    area
        Optional shapely geometry in EPSG:2154: only sections intersecting its bounding
        box plus ``margin_m`` are read (a spatial filter in GDAL, so a département file
        stays cheap).
    margin_m
        Margin around ``area``.
    profile
        Speed profile (``factor``, ``fallback_kmh``, ``use_maxspeed``, snap settings).
    cache_dir
        Where the built graph is cached, keyed by the files' checksum, the layer, the
        bounding box, the tolerance and the profile.
    tolerance_m
        End points closer than this are joined (``source["n_endpoints_joined"]``).

    Returns
    -------
    RoadNetwork
        ``source``: ``kind`` "detailed", ``format`` "bdtopo", ``version`` "v2"/"v3",
        ``path``, ``layer``, ``sha256``, ``encoding``, ``n_excluded_sections``,
        ``excluded_by_reason``, ``n_toll_sections``, ``n_oneway_sections``,
        ``speed_sources_sections`` and the counts listed in the module docstring.

    Raises
    ------
    NetworkError
        File missing or unreadable, unknown layer (the layers are listed), missing columns
        (named, with the version expected), no section in the area, no drivable section.
    """
    import pyogrio

    path = Path(path)
    profile = profile or SpeedProfile()
    if not path.exists():
        raise NetworkError(f"BD TOPO file {path} not found")
    file, layer_name = _locate(path, layer)
    where = f"{file} (layer {layer_name})"
    info = pyogrio.read_info(file, layer=layer_name)
    version, colmap = detect_schema(list(info["fields"]), where=where)
    files = _files(file)
    checksum = _checksum(files)
    box = layer_box = None
    if area is not None:
        box, layer_box = _bbox_in(area, margin_m, info.get("crs"))
    shapefile = info.get("driver") == "ESRI Shapefile"
    source = {"kind": "detailed", "format": "bdtopo", "version": version, "path": str(file),
              "layer": layer_name, "files": [str(f) for f in files], "sha256": checksum,
              "bbox_2154": box}

    def build() -> RoadNetwork:
        columns = list(dict.fromkeys(colmap.values()))
        vocab_cols = [colmap[k] for k in VOCABULARIES if k in colmap]
        try:
            frame, encoding = _read(file, layer_name, columns,
                                    tuple(layer_box) if layer_box else None,
                                    shapefile=shapefile, vocab_cols=vocab_cols)
        except NetworkError:
            raise
        except Exception as exc:  # GDAL / decoding errors on a corrupt file
            raise NetworkError(f"{where}: cannot be read ({exc})") from exc
        if len(frame) == 0:
            raise NetworkError(f"{where}: no road section in the requested area "
                               f"(bbox {box} in EPSG:2154)")
        if frame.crs is None:
            frame = frame.set_crs(WORKING_CRS)
        return network_from_bdtopo(frame, version=version, colmap=colmap, profile=profile,
                                   source={**source, "encoding": encoding},
                                   tolerance_m=tolerance_m)

    return cached(["bdtopo", READER_VERSION, checksum, layer_name, box, tolerance_m], build,
                  profile=profile, cache_dir=cache_dir)
