"""Builders: turn the official published files into the files the loaders read.

Each builder takes the downloaded official files (``inputs``: role -> local path, roles as in
the catalog's :class:`~territorial_geo.sources.catalog.SourceFile`) and writes one output file
in the mirror's layout. They are pure file-to-file functions, tested on small fixtures written
in the official layouts; :func:`territorial_geo.sources.fetch` calls them through
:data:`BUILDERS` and writes the result atomically.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territorial_geo.codes import normalize_codes
from territorial_geo.errors import DataFormatError
from territorial_geo.sources.catalog import CATALOG, WEB_CRS, WORKING_CRS
from territorial_geo.sources.tables import read_csv, require_columns, to_number

#: Distance (m) under which a town-hall point is kept as the commune's chef-lieu; beyond it
#: (a misplaced point) a point inside the polygon is used. Same rule as the mirror's file.
MAIRIE_MAX_DISTANCE_M = 200.0


# --------------------------------------------------------------------------------------
# reading published containers
# --------------------------------------------------------------------------------------


def _open_maybe_gzip(path: Path) -> bytes:
    data = Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def read_geojson(path: str | Path) -> gpd.GeoDataFrame:
    """A (possibly gzipped) GeoJSON FeatureCollection as a GeoDataFrame in EPSG:4326."""
    try:
        fc = json.loads(_open_maybe_gzip(Path(path)))
        feats = fc["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFormatError(f"{path}: not a GeoJSON FeatureCollection ({exc})") from exc
    if not feats:
        raise DataFormatError(f"{path}: empty FeatureCollection")
    return gpd.GeoDataFrame.from_features(feats, crs=WEB_CRS)


def _members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if not n.endswith("/")]


def _pick_member(path: Path, suffixes: tuple[str, ...], *, contains: str = "",
                 exclude: tuple[str, ...] = ("meta", "doc", "-com")) -> str:
    cands = [n for n in _members(path)
             if n.lower().endswith(suffixes) and contains in Path(n).name
             and not any(Path(n).name.lower().startswith(e) or e in Path(n).name.lower()
                         for e in exclude)]
    if not cands:
        raise DataFormatError(
            f"{path}: no {'/'.join(suffixes)} member{f' with {contains!r}' if contains else ''} "
            f"in the zip; members: {_members(path)[:10]}"
        )
    return sorted(cands, key=len)[0]


def read_sheet(src: str | Path | bytes, *, key: str, label: str,
               sheet: str | None = None) -> pd.DataFrame:
    """Read an INSEE spreadsheet (.xls or .xlsx) whose header row holds the code ``key``.

    INSEE files put title rows above the variable codes; the header row is found by looking
    for ``key`` (e.g. ``"CODGEO"``, ``"IRIS"``) in the first 30 rows. The sheet named ``sheet``
    is read when it exists, else the first one. Values are kept as read (no type guessing).
    """
    def buf():
        return io.BytesIO(src) if isinstance(src, bytes) else src

    try:
        with pd.ExcelFile(buf(), engine="calamine") as xl:
            names = xl.sheet_names
        name = sheet if (sheet and sheet in names) else names[0]
        raw = pd.read_excel(buf(), sheet_name=name, header=None, dtype=object, engine="calamine")
    except ImportError as exc:
        raise DataFormatError(f"{label}: reading spreadsheets needs python-calamine "
                              "(pip install python-calamine)") from exc
    except Exception as exc:  # the reader raises several types on corrupt files
        raise DataFormatError(f"{label}: cannot be read as a spreadsheet ({exc})") from exc
    for i in range(min(30, len(raw))):
        cells = [str(v).strip() for v in raw.iloc[i].tolist()]
        if key in cells:
            df = raw.iloc[i + 1:].copy()
            df.columns = cells
            return df.dropna(how="all").reset_index(drop=True)
    raise DataFormatError(f"{label}: no header row with {key!r} in the first 30 rows")


def read_table(path: str | Path, *, key: str, label: str | None = None, sheet: str | None = None,
               member_contains: str = "") -> pd.DataFrame:
    """An INSEE table from a zip (CSV or spreadsheet member), a ``;`` CSV, or a spreadsheet."""
    path = Path(path)
    label = label or str(path)
    try:
        if zipfile.is_zipfile(path):
            member = _pick_member(path, (".csv", ".xls", ".xlsx"), contains=member_contains)
            with zipfile.ZipFile(path) as zf:
                data = zf.read(member)
            label = f"{label}:{member}"
            if member.lower().endswith(".csv"):
                return read_csv(io.BytesIO(data), label=label, sep=";", engine="c")
            return read_sheet(data, key=key, label=label, sheet=sheet)
    except zipfile.BadZipFile as exc:
        raise DataFormatError(f"{path}: corrupt zip ({exc})") from exc
    if path.suffix.lower() in (".xls", ".xlsx"):
        return read_sheet(path, key=key, label=label, sheet=sheet)
    return read_csv(path, label=label, sep=";", engine="c")


# --------------------------------------------------------------------------------------
# communes
# --------------------------------------------------------------------------------------


def build_communes_gpkg(
    contours: str | Path,
    mairies: str | Path,
    communes_list: str | Path,
    epci: str | Path,
    out: str | Path,
) -> None:
    """Build the communes GeoPackage (layers ``communes`` and ``chefs_lieux``).

    Parameters
    ----------
    contours
        Etalab ``communes-<res>.geojson(.gz)``: properties ``code``, ``nom``, ``departement``,
        ``epci``; arrondissements carry ``commune`` and are left out.
    mairies
        Etalab ``mairies.geojson(.gz)``: points with ``commune`` and ``type``.
    communes_list, epci
        The ``communes-list`` and ``epci`` datasets (populations, EPCI names).
    out
        Output GeoPackage (EPSG:4326, the mirror's columns).

    Raises
    ------
    DataFormatError
        When a current commune of metropolitan France or a DROM has no contour (the
        contours and the list are not the same COG edition).
    """
    rows = json.loads(Path(communes_list).read_text(encoding="utf-8"))
    current = {r["code"]: r for r in rows if r.get("type") == "commune-actuelle"
               and r.get("zone", "metro") in ("metro", "drom")}
    epcis = json.loads(Path(epci).read_text(encoding="utf-8"))
    member_of = {m["code"]: e for e in epcis for m in e.get("membres", [])}
    g = read_geojson(contours)
    require_columns(g, ["code", "nom"], contours)
    g = g[g["code"].isin(current)]  # drops arrondissements and collectivities (not current).drop_duplicates("code").copy()
    missing = sorted(set(current) - set(g["code"]))
    if missing:
        raise DataFormatError(
            f"{contours}: {len(missing)} current commune(s) of {communes_list} have no contour "
            f"(e.g. {missing[:5]}): the two files are not the same COG edition"
        )
    g["geometry"] = g.geometry.make_valid()
    out_c = gpd.GeoDataFrame(
        {
            "code": g["code"].to_numpy(),
            "nom": [current[c]["nom"] for c in g["code"]],
            "departement": [current[c].get("departement") for c in g["code"]],
            "epci_siren": [(member_of.get(c) or {}).get("code") for c in g["code"]],
            "epci_nom": [(member_of.get(c) or {}).get("nom") for c in g["code"]],
            "population": [float(current[c].get("population") or 0) for c in g["code"]],
        },
        geometry=g.geometry.to_numpy(),
        crs=WEB_CRS,
    ).sort_values("code").reset_index(drop=True)
    m = read_geojson(mairies)
    require_columns(m, ["commune"], mairies)
    if "type" in m.columns:
        m = m[m["type"].fillna("mairie") == "mairie"]
    m = m.drop_duplicates("commune").set_index("commune")
    poly = out_c.set_index("code").geometry.to_crs(WORKING_CRS)
    pts = gpd.GeoSeries(m.geometry, crs=WEB_CRS).to_crs(WORKING_CRS).reindex(poly.index)
    has = pts.notna() & ~pts.is_empty.fillna(True)
    dist = pd.Series(np.inf, index=poly.index)
    dist[has] = pts[has].distance(poly[has], align=True)
    use = dist <= MAIRIE_MAX_DISTANCE_M
    interior = poly.representative_point()
    chef = gpd.GeoSeries(np.where(use, pts.where(has, interior), interior), index=poly.index,
                         crs=WORKING_CRS).to_crs(WEB_CRS)
    out_p = gpd.GeoDataFrame(
        {"code": poly.index.to_numpy(), "nom": out_c["nom"].to_numpy(),
         "source": np.where(use, "mairie", "interior")},
        geometry=chef.to_numpy(), crs=WEB_CRS,
    )
    out_c.to_file(out, layer="communes", driver="GPKG")
    out_p.to_file(out, layer="chefs_lieux", driver="GPKG", mode="a")


def _build_communes(inputs: Mapping[str, Path], out: Path, *, data_dir: Path) -> None:
    build_communes_gpkg(inputs["contours"], inputs["mairies"],
                        Path(data_dir) / CATALOG["communes-list"].path,
                        Path(data_dir) / CATALOG["epci"].path, out)


# --------------------------------------------------------------------------------------
# CSP shares from the IRIS census files
# --------------------------------------------------------------------------------------

#: Socio-professional groups of the 15+ population: key -> (PCS 2003 code, PCS 2020 code).
#: 2011 and 2016 files use ``C<yy>_POP15P_CS1..CS8``; from 2022 (PCS 2020)
#: ``C<yy>_POP15P_STAT_GSEC..``.
CSP_GROUPS: dict[str, tuple[str, str]] = {
    "agri": ("CS1", "STAT_GSEC11_21"),
    "artis": ("CS2", "STAT_GSEC12_22"),
    "cadres": ("CS3", "STAT_GSEC13_23"),
    "profint": ("CS4", "STAT_GSEC14_24"),
    "employes": ("CS5", "STAT_GSEC15_25"),
    "ouvriers": ("CS6", "STAT_GSEC16_26"),
    "retraites": ("CS7", "STAT_GSEC32"),
    "inactifs": ("CS8", "STAT_GSEC40"),
}


def csp_variables(year: int) -> dict[str, str]:
    """INSEE variable of each CSP group's 15+ count for a census year (PCS 2020 from 2022)."""
    yy = f"{year % 100:02d}"
    return {k: f"C{yy}_POP15P_{v[1] if year >= 2022 else v[0]}" for k, v in CSP_GROUPS.items()}


def csp_shares_from_iris(iris: pd.DataFrame, year: int, *, label: str) -> pd.DataFrame:
    """Commune CSP shares (%) from one IRIS table: sum the counts over IRIS, divide by 15+.

    Returns
    -------
    pandas.DataFrame
        Indexed by commune code (``COM``): ``P<yy>_POP``, ``n_iris`` and
        ``dsp_csp_<key>_pct_<yy>`` for the eight groups (NaN where the 15+ count is 0).
    """
    yy = f"{year % 100:02d}"
    vars_ = csp_variables(year)
    need = ["COM", f"P{yy}_POP", f"C{yy}_POP15P", *vars_.values()]
    require_columns(iris, need, label)
    num = pd.DataFrame({c: to_number(iris[c], source=f"{label}:{c}").to_numpy() for c in need[1:]})
    num["COM"] = normalize_codes(iris["COM"], source=f"{label}:COM").to_numpy()
    sums = num.groupby("COM").sum(min_count=1)
    pop15 = sums[f"C{yy}_POP15P"].replace(0, np.nan)
    out = pd.DataFrame(index=sums.index)
    out[f"P{yy}_POP"] = sums[f"P{yy}_POP"]
    out["n_iris"] = num.groupby("COM").size()
    for k, v in vars_.items():
        out[f"dsp_csp_{k}_pct_{yy}"] = 100.0 * sums[v] / pop15
    return out


def build_csp_shares(files: Mapping[int | str, str | Path], out: str | Path) -> None:
    """Write the CSP-shares Parquet (one row per commune ``COM``) from IRIS census files.

    Parameters
    ----------
    files
        Census year -> INSEE ``base-ic-evol-struct-pop-<year>`` file (zip of CSV or XLS, or the
        CSV / spreadsheet itself).
    out
        Output Parquet with ``COM``, ``P<yy>_POP``, ``n_iris`` (latest year) and
        ``dsp_csp_<group>_pct_<yy>`` columns, as the mirror's file.
    """
    parts = []
    n_iris = None
    for year in sorted(int(y) for y in files):
        path = Path(files[year] if year in files else files[str(year)])
        table = read_table(path, key="IRIS", sheet="IRIS", member_contains=f"{year}")
        shares = csp_shares_from_iris(table, year, label=str(path))
        n_iris = shares.pop("n_iris")
        parts.append(shares)
    if not parts:
        raise DataFormatError("build_csp_shares: no census file given")
    df = pd.concat(parts, axis=1, join="outer")
    df.insert(0, "n_iris", n_iris.reindex(df.index).fillna(0).astype("int64"))
    df = df.rename_axis("COM").reset_index()
    df.to_parquet(out, index=False)


def _build_csp(inputs: Mapping[str, Path], out: Path, *, data_dir: Path) -> None:
    build_csp_shares({int(k): v for k, v in inputs.items()}, out)


# --------------------------------------------------------------------------------------
# density grid
# --------------------------------------------------------------------------------------


def build_density_grid(path: str | Path, out: str | Path, *, edition: int = 2015) -> None:
    """Write the density-grid CSV (``;``, the mirror's columns) from INSEE's grid file.

    Parameters
    ----------
    path
        INSEE ``grille_densite_7_niveaux_2015-2020.zip`` (one spreadsheet per edition) or one
        edition's spreadsheet / CSV.
    edition
        Edition to extract from a multi-edition zip (the member whose name has this year).
    """
    path = Path(path)
    df = read_table(path, key="CODGEO", member_contains=str(edition))
    require_columns(df, ["CODGEO", "DENS", "LIBDENS"], path)
    df = df.copy()
    df["CODGEO"] = normalize_codes(df["CODGEO"], source=f"{path}:CODGEO").to_numpy()
    dens = to_number(df["DENS"].astype(str), source=f"{path}:DENS")
    if not dens.dropna().between(1, 7).all():
        raise DataFormatError(f"{path}: DENS outside 1..7 ({sorted(dens.dropna().unique())[:8]})")
    df["DENS"] = dens.astype("Int64").to_numpy()
    df.to_csv(out, sep=";", index=False, encoding="utf-8-sig")


def _build_density(inputs: Mapping[str, Path], out: Path, *, data_dir: Path) -> None:
    build_density_grid(inputs["data"], out)


# --------------------------------------------------------------------------------------
# NAF
# --------------------------------------------------------------------------------------


def _label_table(path: Path) -> dict[str, str]:
    t = read_table(path, key="Code")
    cols = list(t.columns)
    i = cols.index("Code")
    if i + 1 >= len(cols):
        raise DataFormatError(f"{path}: no label column after 'Code'")
    codes = t["Code"].astype(str).str.strip().str.replace(r"^SECTION\s+", "", regex=True)
    return dict(zip(codes, t[cols[i + 1]].astype(str).str.strip(), strict=True))


def build_naf(structure: str | Path, labels: Mapping[int, str | Path], out: str | Path) -> None:
    """Write the 5-level NAF CSV (``NIV5..NIV1``, ``LIB_NIV5..LIB_NIV1``) from INSEE's lists.

    Parameters
    ----------
    structure
        ``naf2008_5_niveaux.xls``: one row per sub-class, columns NIV5, NIV4, NIV3, NIV2, NIV1.
    labels
        Level (1-5) -> ``naf2008_liste_n<level>.xls`` (``Code`` and label columns).
    """
    s = read_table(Path(structure), key="NIV5")
    cols = ["NIV5", "NIV4", "NIV3", "NIV2", "NIV1"]
    require_columns(s, cols, structure)
    s = s[cols].astype(str).apply(lambda c: c.str.strip())
    for level in range(1, 6):
        if level not in labels:
            continue
        lab = _label_table(Path(labels[level]))
        col = f"NIV{level}"
        s[f"LIB_{col}"] = s[col].map(lab)
        miss = s.loc[s[f"LIB_{col}"].isna(), col].unique().tolist()
        if miss:
            raise DataFormatError(f"{labels[level]}: no label for {col} code(s) {miss[:5]}")
    s.to_csv(out, index=False)


def _build_naf(inputs: Mapping[str, Path], out: Path, *, data_dir: Path) -> None:
    build_naf(inputs["structure"], {int(k[-1]): v for k, v in inputs.items()
                                    if k.startswith("labels")}, out)


# --------------------------------------------------------------------------------------
# SIRENE employee bands (transcribed nomenclature)
# --------------------------------------------------------------------------------------

#: The SIRENE ``trancheEffectifsEtablissement`` codes and labels as documented by INSEE,
#: with the bounds in employees they denote and whether the band counts as a small
#: office-type unit (fewer than 3 employees) for the study. Transcribed, not downloaded.
SIRENE_BANDS: tuple[tuple[str, str, int, int | None, int], ...] = (
    ("NN", "Etablissement non-employeur ou présumé non-employeur (faute de déclaration reçue)",
     0, 0, 1),
    ("00", "0 salarié (n'ayant pas d'effectif au 31/12 mais ayant employé des salariés au cours "
     "de l'année de référence)", 0, 0, 1),
    ("01", "1 ou 2 salariés", 1, 2, 1),
    ("02", "3 à 5 salariés", 3, 5, 0),
    ("03", "6 à 9 salariés", 6, 9, 0),
    ("11", "10 à 19 salariés", 10, 19, 0),
    ("12", "20 à 49 salariés", 20, 49, 0),
    ("21", "50 à 99 salariés", 50, 99, 0),
    ("22", "100 à 199 salariés", 100, 199, 0),
    ("31", "200 à 249 salariés", 200, 249, 0),
    ("32", "250 à 499 salariés", 250, 499, 0),
    ("41", "500 à 999 salariés", 500, 999, 0),
    ("42", "1 000 à 1 999 salariés", 1000, 1999, 0),
    ("51", "2 000 à 4 999 salariés", 2000, 4999, 0),
    ("52", "5 000 à 9 999 salariés", 5000, 9999, 0),
    ("53", "10 000 salariés et plus", 10000, None, 0),
)


def build_employee_bands(out: str | Path) -> None:
    """Write the employee-band CSV from :data:`SIRENE_BANDS` (the mirror's byte layout:
    labels with parentheses quoted, LF line ends), so it matches the pinned checksum."""
    lines = ["code,libelle,min_salaries,max_salaries,solo_lt3"]
    for code, label, lo, hi, solo in SIRENE_BANDS:
        lab = f'"{label}"' if ("(" in label or "," in label) else label
        lines.append(f"{code},{lab},{lo},{'' if hi is None else hi},{solo}")
    Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _build_bands(inputs: Mapping[str, Path], out: Path, *, data_dir: Path) -> None:
    build_employee_bands(out)


#: Builder name (catalog ``OfficialSource.builder``) -> ``f(inputs, out, *, data_dir)``.
BUILDERS: dict[str, Callable[..., None]] = {
    "communes": _build_communes,
    "csp-shares": _build_csp,
    "density-grid": _build_density,
    "naf": _build_naf,
    "sirene-bands": _build_bands,
}
