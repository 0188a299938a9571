"""The method's constants in one place: presets, ranges, speed tables, defaults, choices.

Every value names its source (document, version, field) or is labelled an ASSUMPTION
(``docs/method.md`` §8). The study configuration (:mod:`territorial_geo.config`), the road
network (``territorial_geo.network``) and the sources (``territorial_geo.sources``)
import them from here, so each is written once; so does the grammar of a road-network
spec (``zoning.network``), which the configuration checks against ``zoning.engine``. This module imports nothing from the
package but :mod:`territorial_geo.errors`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from territorial_geo.errors import NetworkError

# ---------------------------------------------------------------------------- territory

#: Neighbouring communes within this distance (km) of the territory form its ring
#: (``ring_km``). ASSUMPTION: the reference study's ring, wide enough for a 20-minute band.
RING_KM = 15.0
#: The road network is clipped to the study area plus this margin (km, ``zoning.margin_km``).
#: ASSUMPTION: 25 km lets a 20-minute route leave the area and come back.
MARGIN_KM = 25.0

# ---------------------------------------------------------------------------- zoning

#: Zone budget (minutes; ``zoning.budget_min``, ``--zone-minutes``): the reference study's
#: 10-minute zones.
BUDGET_MIN = 10.0
#: Time bands (minutes; ``zoning.bands``, ``--bands``). ASSUMPTION: 5-minute steps up to
#: twice the budget (docs/method.md §2.5); the budget may not exceed the widest.
BANDS_MIN = (5.0, 10.0, 15.0, 20.0)
#: Directions of travel time (``zoning.direction``, ``--direction``): towards the market
#: town (``to``, docs/method.md §2) or from it.
DIRECTIONS = ("to", "from")
#: Routing engines (``zoning.engine``, ``--engine``).
ENGINES = ("builtin", "osrm")
#: Speed models of a speed profile (``zoning.speed_model``).
SPEED_MODELS = ("osrm-car", "legal")
#: Speed (km/h) of the leg between a point and the road it is attached to
#: (``zoning.snap_kmh``; docs/method.md §2, ASSUMPTION: low speed on local roads).
SNAP_KMH = 30.0
#: Points farther (m) than this from the network are flagged (``zoning.max_snap_m``).
MAX_SNAP_M = 2000.0

#: OSRM car.lua v26.x ``speeds.highway`` (km/h): a class's speed when no speed is tagged.
OSRM_CAR_HIGHWAY_KMH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "winter_road": 20.0,
    "ice_road": 15.0,
}
#: OSRM car.lua v26.x ``speed_reduction``: tagged maxspeed is driven at 80 % of the limit.
OSRM_CAR_SPEED_REDUCTION = 0.8
#: OSRM car.lua v26.x ``turn_penalty`` (s): the ceiling of the angle-dependent turn cost.
OSRM_CAR_TURN_PENALTY_S = 7.5
#: OSRM car.lua v26.x ``turn_bias``: right turns (right-hand traffic) cost less than left.
OSRM_CAR_TURN_BIAS = 1.075
#: OSRM car.lua v26.x ``properties.u_turn_penalty`` (s).
OSRM_CAR_U_TURN_S = 20.0
#: OSRM car.lua v26.x ``oncoming_turn_penalty`` (s): crossing oncoming traffic (left turns).
OSRM_CAR_ONCOMING_TURN_S = 2.0
#: OSRM lib/obstacles.lua v26.x: ``highway=traffic_signals`` node duration (s).
OSRM_CAR_TRAFFIC_SIGNAL_S = 2.0

# ---------------------------------------------------------------------------- network specs

#: Catalog datasets that are road networks (the classified-road skeleton).
SKELETON_DATASETS = ("roads-hdf", "roads-france")
FORMS = ("approximate", "osm:REGION", "bdtopo:PATH", *SKELETON_DATASETS, "PATH.osm.pbf",
         "PATH.gpkg", "PATH.shp")


@dataclass(frozen=True)
class NetworkSpec:
    """A parsed network spec.

    Attributes
    ----------
    text
        The spec as written.
    format
        ``approximate``, ``osm-pbf`` or ``bdtopo``.
    path
        File path (``osm-pbf``/``bdtopo`` given as a path), else ``None``.
    region
        Geofabrik region (``osm:REGION``), else ``None``.
    dataset
        Catalog dataset (skeleton), else ``None``.
    """

    text: str
    format: str
    path: str | None = None
    region: str | None = None
    dataset: str | None = None


def parse_network_spec(text: str) -> NetworkSpec:
    """Parse a network spec (forms in :mod:`territorial_geo.network.load`); no file is read.

    Raises
    ------
    NetworkError
        Unknown spec: the closest valid forms are named.
    """
    t = str(text).strip()
    low = t.lower()
    if low in ("approximate", "approx"):
        return NetworkSpec(t, "approximate")
    if low.startswith("osm:"):
        region = t[4:].strip()
        if not region:
            raise NetworkError("network 'osm:' needs a region, e.g. 'osm:nord-pas-de-calais'")
        if region.lower().endswith(".pbf") or "/" in region:
            return NetworkSpec(t, "osm-pbf", path=region)
        return NetworkSpec(t, "osm-pbf", region=region.lower())
    if low.startswith("bdtopo:"):
        path = t[7:].strip()
        if not path:
            raise NetworkError("network 'bdtopo:' needs a path, e.g. 'bdtopo:TRONCON_DE_ROUTE.shp'")
        return NetworkSpec(t, "bdtopo", path=path)
    if t in SKELETON_DATASETS:
        return NetworkSpec(t, "osm-pbf", dataset=t)
    if low.endswith(".pbf"):
        return NetworkSpec(t, "osm-pbf", path=t)
    if low.endswith((".gpkg", ".shp")):
        return NetworkSpec(t, "bdtopo", path=t)
    close = difflib.get_close_matches(t, ["approximate", *SKELETON_DATASETS], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise NetworkError(
        f"unknown road network {t!r}: expected one of {', '.join(FORMS)}.{hint}")


def check_engine(name: str) -> str:
    """Validate an engine name (``builtin`` or ``osrm``).

    Raises
    ------
    NetworkError
        Any other name.
    """
    if name not in ENGINES:
        raise NetworkError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    return name


def check_engine_network(name: str, spec) -> None:
    """Refuse, before any file is read, an engine that cannot route on a network spec.

    Parameters
    ----------
    name
        Engine name.
    spec
        :class:`NetworkSpec` or its text.

    Raises
    ------
    NetworkError
        ``"osrm"`` with a network that is not an OpenStreetMap extract (approximate, BD
        TOPO, the classified-road skeleton).
    """
    if check_engine(name) != "osrm":
        return
    s = spec if isinstance(spec, NetworkSpec) else parse_network_spec(spec)
    if s.format != "osm-pbf" or s.dataset:
        raise NetworkError(
            f"engine = 'osrm' needs an OpenStreetMap extract (network = 'osm:REGION' or a "
            f".osm.pbf path), not network = {s.text!r}; use engine = 'builtin' with it")


# ---------------------------------------------------------------------------- demand

#: Office-activity NAF codes of the reference study (docs/method.md §4).
STUDY_NAF_CODES: tuple[str, ...] = (
    "70.22Z", "71.12B", "82.19Z", "62.01Z", "71.11Z", "47.91A", "47.91B", "74.20Z",
    "62.02A", "74.10Z", "73.11Z", "74.90B", "71.20B", "70.21Z", "82.11Z", "74.30Z",
    "74.90A", "62.02B", "63.12Z", "61.90Z",
)
#: Employee bands under 3 employees: NN (none or unknown), 00 (0), 01 (1-2).
SOLO_BANDS: tuple[str, ...] = ("NN", "00", "01")

#: CSP groups 1-6 of the census (INSEE PCS 2003 level 1), keys of the telework rates
#: (``demand.telework_rates``).
CSP_KEYS = ("agri", "artis", "cadres", "profint", "employes", "ouvriers")
#: Census years with CSP shares (``demand.csp_year``; INSEE tables of 2011, 2016, 2022).
CSP_YEARS = (2011, 2016, 2022)
#: Rules for a solo count whose data year differs from the base year (``data_year_rule``).
DATA_YEAR_RULES = ("hold", "grow")
#: Teleworker rule of a year (``demand.seats.teleworkers_rule``).
TELEWORKER_RULES = ("share_of_users", "share_of_teleworkers")
#: Rules of the variant without a competing pole (``[[poles]] rule``).
POLE_RULES = ("closer_to_pole", "within_budget")

# ---------------------------------------------------------------------------- coverage, outputs

#: Which third places cover (``coverage.sites``, ``--sites``).
SITES = ("existing", "planned", "both")
#: Candidate sites of the selection (``coverage.candidates``).
CANDIDATES = ("density", "towns", "list", "all")
#: Demand weighting a coverage share (``coverage.weight``, ``--weight``).
WEIGHTS = ("population", "teleworkers", "solos", "seats")
#: Languages with a full catalogue; the first is the default (``output.lang``, ``--lang``).
LANGS: tuple[str, ...] = ("fr", "en")
#: CSV dialects of the tables (``output.csv_dialect``).
CSV_DIALECTS = ("standard", "excel-fr")

#: Telework rate presets: share of employed people of each CSP who telework.
TELEWORK_PRESETS: dict[str, dict[str, float]] = {
    "dares2004": {"cadres": 0.30, "profint": 0.11, "employes": 0.039, "ouvriers": 0.0},
    "dares2004-home": {"cadres": 0.10, "profint": 0.02, "employes": 0.009, "ouvriers": 0.0},
    "dares2017": {"cadres": 0.111, "profint": 0.032, "employes": 0.014, "ouvriers": 0.002},
    "dares2017-occasional": {"cadres": 0.151, "profint": 0.056, "employes": 0.012,
                             "ouvriers": 0.002},
    "insee2022": {"cadres": 0.522, "profint": 0.194, "employes": 0.085, "ouvriers": 0.002},
}
PRESET_SOURCES: dict[str, str] = {
    "dares2004": "INSEE EPCV May 2004, DARES Premières Synthèses 51.3 (Dec. 2004): home + "
    "nomadic telework",
    "dares2004-home": "INSEE EPCV May 2004, DARES Premières Synthèses 51.3: home telework only",
    "dares2017": "DARES Analyses 2019-051: regular telework (>= 1 day a week), 2017",
    "dares2017-occasional": "DARES Analyses 2019-051: occasional telework, 2017",
    "insee2022": "INSEE Enquête Emploi 2022",
}

#: Provenance of every default (``docs/method.md`` §8); shown next to the value in every output.
DEFAULT_SOURCES: dict[str, str] = {
    "zoning.budget_min": "reference study (10-minute zones)",
    "zoning.direction": "docs/method.md §2: towards the bourg",
    "zoning.speeds": "OSRM car.lua v26.x speeds.highway (osrm-bindings 26.10): motorway 90, "
    "trunk 85, primary 65, secondary 55, tertiary 40, residential 25 (docs/method.md §2)",
    "zoning.speed_model": "docs/method.md §2: OSRM car.lua v26.x way rules (tagged maxspeed x "
    "speed_reduction, surface caps); 'legal' = the former legal-limit model",
    "zoning.speed_reduction": "OSRM car.lua v26.x speed_reduction",
    "zoning.junction_costs": "docs/method.md §2: OSRM car.lua v26.x process_turn on an "
    "edge-based graph (detailed networks)",
    "zoning.turn_penalty_s": "OSRM car.lua v26.x turn_penalty",
    "zoning.turn_bias": "OSRM car.lua v26.x turn_bias",
    "zoning.u_turn_s": "OSRM car.lua v26.x properties.u_turn_penalty",
    "zoning.oncoming_turn_s": "OSRM car.lua v26.x oncoming_turn_penalty",
    "zoning.traffic_signal_s": "OSRM lib/obstacles.lua v26.x traffic_signals duration",
    "zoning.snap_kmh": "docs/method.md §2 (assumption: low speed on local roads)",
    "zoning.max_snap_m": "docs/method.md §2",
    "zoning.network": "approximate network when no detailed network is named: speeds and "
    "per-link cost fitted to OSRM car times (neocarto/rspatial osrm/data 2021: Isère matrix and "
    "times to Paris; docs/method.md §2.6.7); every parameter and its source in "
    "parameters.json network.params",
    "zoning.osrm_sample_m": "ASSUMPTION: cost/precision trade-off of OSRM's isochrone "
    "sample points (docs/method.md §2.6.6)",
    "zoning.engine": "built-in engine (docs/method.md §2); 'osrm' computes the times with "
    "OSRM (osrm-bindings, stock car.lua profile unless zoning.osrm_profile is set)",
    "demand.telework_preset": "see preset source",
    "demand.secondary_residence_rate": "ASSUMPTION: no published source (docs/method.md §3)",
    "demand.csp_year": "census year of CSP shares closest to the base year",
    "demand.solos.naf_codes": "reference study's office-activity list (docs/method.md §4)",
    "demand.solos.bands": "SIRENE bands NN, 00, 01 (< 3 employees)",
    "demand.solos.growth_rate": "reference study (+6 %/year)",
    "demand.solos.data_year_rule": "docs/method.md §4: growth applies after the base year, so a "
    "count from another year is held at the base year ('hold'); 'grow' compounds from the "
    "data year instead",
    "demand.solos.fallback_office_share": "ASSUMPTION (range 0.10 / 0.19 / 0.24): share of "
    "office-type activities among non-salaried workers in services other than commerce, set "
    "so that the fallback's national total matches INSEE's count of non-salaried workers at "
    "end 2017 in information-communication (82,000), management consulting (112,000), "
    "architecture-engineering (73,000) and other specialised activities (94,000) (Insee "
    "Références 'Emploi et revenus des indépendants' 2020, fiche 'Services aux entreprises et "
    "services mixtes', figure 1): 361,000 / 1,887,600 (the national sum over the communes of "
    "the census 2018 comparateur of non-salaried jobs x the smoothed services share) = 0.19; "
    "low 0.10 counts consulting and architecture-engineering only (185,000), high 0.24 adds "
    "legal and accounting activities (90,000); supply a SIRENE extract to replace it",
    "demand.solos.fallback_sirene_ratio": "derived from ACOSS Stat'ur n° 289 (July 2019, "
    "'Les auto-entrepreneurs fin 2018'): 1,357,000 micro-entrepreneurs administratively active "
    "(registered, so counted by SIRENE) for 1,012,000 economically active (counted by INSEE "
    "as non-salaried), ratio 1.34; micro-entrepreneurs are 42 % of the non-salaried (same "
    "source), so 1 + 0.42 x 0.34 = 1.14 SIRENE establishments per non-salaried worker; range "
    "1.00 (no registered-but-inactive entrepreneur) to 1.34 (all solos micro-entrepreneurs). "
    "ASSUMPTION beyond that: SAS presidents (salaried, yet SIRENE establishments) and "
    "non-salaried workers with several establishments are not counted",
    "demand.seats.seat_hours_per_month": "35 h x 52 / 12 (one full-time seat)",
    "demand.seats.occupancy": "docs/method.md §5",
    "demand.seats.solos": "CDC / consultancy (25 % in 2018, 30 % in 2025, 35 h/month)",
    "demand.seats.teleworkers": "CDC, Externalités des télécentres (2014): 20 % of users in "
    "2018; 11 % of teleworkers, 35 h/month in 2025",
    "supply.seats_per_site": "ASSUMPTION: CGET 2019 gives no seat counts (a seats column of "
    "supply.file, or supply.site_seats, wins)",
    "poles.rule": "docs/method.md §6.1: members closer in time to the pole than to the market "
    "town are dropped ('closer_to_pole'); the market town is never dropped",
}


#: Low / central / high values of uncertain parameters for scenario and sensitivity work
#: (issue 11); the central value is the default, each range's source is in DEFAULT_SOURCES.
PARAMETER_RANGES: dict[str, tuple[float, float, float]] = {
    "demand.solos.fallback_office_share": (0.10, 0.19, 0.24),
    "demand.solos.fallback_sirene_ratio": (1.0, 1.14, 1.34),
    "demand.secondary_residence_rate": (0.0, 0.05, 0.10),
    "demand.solos.growth_rate": (0.03, 0.06, 0.09),
    "demand.seats.occupancy": (0.8, 1.0, 1.0),
    "demand.seats.solos[0].usage_share": (0.20, 0.25, 0.30),
    "demand.seats.solos[1].usage_share": (0.25, 0.30, 0.35),
    "demand.seats.solos[1].hours_per_month": (20.0, 35.0, 50.0),
    "demand.seats.teleworkers[0].share_of_users": (0.15, 0.20, 0.25),
    "demand.seats.teleworkers[1].usage_share": (0.08, 0.11, 0.14),
    "demand.seats.teleworkers[1].hours_per_month": (20.0, 35.0, 50.0),
}
#: Low / central / high telework-rate preset (a choice, not a number): the 2017 regular
#: telework rates (DARES 2019), the reference study's 2004 rates, the 2022 rates (INSEE).
PRESET_RANGE: tuple[str, str, str] = ("dares2017", "dares2004", "insee2022")

#: Source of each range of :data:`PARAMETER_RANGES` and :data:`PRESET_RANGE` (issue 11).
RANGE_SOURCES: dict[str, str] = {
    "demand.telework_preset": "sourced presets: DARES 2019-051 (2017 regular telework, low), "
    "DARES 2004 (reference study, central), INSEE Enquête Emploi 2022 (high)",
    "demand.solos.fallback_office_share": "INSEE Références 2020 non-salaried counts by "
    "activity (see demand.solos.fallback_office_share)",
    "demand.secondary_residence_rate": "ASSUMPTION: no published source; 0 (nobody in a "
    "secondary residence teleworks there) to 0.10, twice the engine's default 0.05 (itself "
    "an ASSUMPTION)",
    "demand.solos.fallback_sirene_ratio": "ACOSS Stat'ur 289 (see "
    "demand.solos.fallback_sirene_ratio)",
    "demand.solos.growth_rate": "ASSUMPTION: the reference study's +6 %/year, +/- half",
    "demand.seats.occupancy": "ASSUMPTION: full use of a seat's hours (1.0) down to 20 % idle",
    "demand.seats.solos[0].usage_share": "ASSUMPTION: CDC / consultancy 25 % +/- 5 points",
    "demand.seats.solos[1].usage_share": "ASSUMPTION: CDC / consultancy 30 % +/- 5 points",
    "demand.seats.solos[1].hours_per_month": "ASSUMPTION: CDC 35 h/month, 20 to 50 h",
    "demand.seats.teleworkers[0].share_of_users": "ASSUMPTION: CDC 2014 (20 % of users) "
    "+/- 5 points",
    "demand.seats.teleworkers[1].usage_share": "ASSUMPTION: CDC 11 % of teleworkers +/- 3 "
    "points",
    "demand.seats.teleworkers[1].hours_per_month": "ASSUMPTION: CDC 35 h/month, 20 to 50 h",
}
