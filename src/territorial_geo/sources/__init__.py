"""Stage 1, sources: the dataset catalog, fetching, builders and loaders for the public data.

Every dataset the engine reads is declared once in :data:`CATALOG` with its official source,
vintage, licence and checksum (:mod:`.catalog`). ``territorial-geo data fetch``
(:func:`fetch`, :mod:`.fetching`) fills a data directory by copying from a local mirror (the
``../shared/data`` layout) or, without one, by downloading the official files and turning them
into the mirror's layout (:mod:`.builders`); regional OpenStreetMap extracts come from
Geofabrik (:mod:`.osm`). Loaders (:mod:`.communes`, :mod:`.cog`, :mod:`.census`,
:mod:`.sirene`, :mod:`.third_places`) return typed tables in the working CRS (Lambert-93,
EPSG:2154) with commune codes as 5-character strings, and cope with the files' quirks (lost
leading zeros, ``;`` separators, decimal commas, BOMs, communes merged since a file's vintage).
"""

from territorial_geo.codes import normalize_codes
from territorial_geo.errors import DataFormatError, DataMissingError, UnknownPlaceError
from territorial_geo.sources.builders import (
    BUILDERS,
    SIRENE_BANDS,
    build_communes_gpkg,
    build_csp_shares,
    build_density_grid,
    build_employee_bands,
    build_naf,
)
from territorial_geo.sources.catalog import (
    CATALOG,
    ENV_DATA_DIR,
    ENV_MIRROR,
    OPTIONAL,
    REQUIRED,
    WEB_CRS,
    WORKING_CRS,
    Dataset,
    OfficialSource,
    SourceFile,
    manifest,
)
from territorial_geo.sources.census import (
    CENSUS_COLUMNS,
    CENSUS_LABELS,
    CSP_KEYS,
    CSP_LABELS,
    CSP_YEARS,
    load_census,
    load_csp_shares,
    load_density_grid,
    read_census_rp2018,
)
from territorial_geo.sources.cog import Harmonized, code_mapping, harmonize, load_commune_list
from territorial_geo.sources.communes import (
    find_epci,
    load_chefs_lieux,
    load_communes,
    load_epci,
)
from territorial_geo.sources.datasets import Datasets
from territorial_geo.sources.fetching import (
    FetchResult,
    atomic_dir,
    atomic_write,
    clean_stale_temp_folders,
    dataset_path,
    default_mirror,
    download,
    fetch,
    fetch_osm_extract,
    file_digest,
    mirror_candidates,
    resolve_data_dir,
    sha256_of,
    stale_temp_folders,
    status,
)
from territorial_geo.sources.osm import (
    DEPARTEMENT_REGIONS,
    REGION_DEPARTMENTS,
    regions_for_departments,
)
from territorial_geo.sources.sirene import (
    SIRENE_COLUMNS,
    SOLO_BANDS,
    STUDY_NAF_CODES,
    count_sirene_solos,
    load_employee_bands,
    load_establishments_2014,
    load_naf,
)
from territorial_geo.sources.tables import read_csv, require_columns, to_number
from territorial_geo.sources.third_places import load_third_places

__all__ = [
    "BUILDERS", "CATALOG", "CENSUS_COLUMNS", "CENSUS_LABELS", "CSP_KEYS", "CSP_LABELS", "CSP_YEARS",
    "DEPARTEMENT_REGIONS", "DataFormatError", "DataMissingError", "Dataset", "Datasets", "ENV_DATA_DIR",
    "ENV_MIRROR", "FetchResult", "Harmonized", "OPTIONAL", "OfficialSource", "REGION_DEPARTMENTS",
    "REQUIRED", "SIRENE_BANDS", "SIRENE_COLUMNS", "SOLO_BANDS", "STUDY_NAF_CODES", "SourceFile",
    "UnknownPlaceError", "WEB_CRS", "WORKING_CRS", "read_csv", "require_columns",
    "atomic_dir", "atomic_write", "clean_stale_temp_folders", "build_communes_gpkg", "build_csp_shares", "build_density_grid",
    "build_employee_bands", "build_naf", "code_mapping", "count_sirene_solos", "dataset_path",
    "default_mirror", "download", "fetch", "fetch_osm_extract", "file_digest", "find_epci", "harmonize",
    "load_census", "load_chefs_lieux", "load_commune_list", "load_communes",
    "load_csp_shares", "load_density_grid", "load_employee_bands", "load_epci",
    "load_establishments_2014", "load_naf", "load_third_places", "manifest",
    "mirror_candidates", "normalize_codes", "read_census_rp2018",
    "regions_for_departments", "resolve_data_dir", "sha256_of", "stale_temp_folders", "status", "to_number",
]
