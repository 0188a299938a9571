"""SIRENE: the NAF nomenclature, employee bands, establishment counts, stock-file counts."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import pandas as pd

from territorial_geo.codes import normalize_codes
from territorial_geo.errors import DataFormatError
from territorial_geo.method import SOLO_BANDS, STUDY_NAF_CODES
from territorial_geo.sources.cog import Harmonized, code_mapping, harmonize, load_commune_list
from territorial_geo.sources.fetching import dataset_path
from territorial_geo.sources.tables import read_csv, require_columns, to_number


def load_naf(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """NAF rév. 2 sub-classes (``NIV5`` e.g. ``70.22Z``) with their French labels."""
    p = dataset_path("naf", data_dir)
    raw = read_csv(p, sep=",", engine="c")
    require_columns(raw, ["NIV5", "LIB_NIV5", "NIV1"], p)
    return raw.set_index("NIV5", drop=False).rename_axis(None)


def load_employee_bands(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """SIRENE employee bands (``NN``, ``00``, ``01``...) with labels, kept as strings."""
    p = dataset_path("sirene-bands", data_dir)
    raw = read_csv(p, sep=",", engine="c")
    require_columns(raw, ["code", "libelle"], p)
    return raw.set_index("code", drop=False).rename_axis(None)


def load_establishments_2014(data_dir: str | os.PathLike | None = None) -> Harmonized:
    """Establishments per commune by employee band (2014), moved to COG 2026.

    ``E14TS0ND`` counts establishments with no employee or unknown size.
    """
    p = dataset_path("establishments-2014", data_dir)
    raw = read_csv(p, sep=";", engine="c")
    cols = ["E14TST", "E14TS0ND", "E14TS1"]
    require_columns(raw, ["CODGEO", *cols], p)
    df = pd.DataFrame(
        {c: to_number(raw[c], source=f"{p}:{c}").to_numpy() for c in cols},
        index=normalize_codes(raw["CODGEO"], source=f"{p}:CODGEO"),
    )
    return harmonize(
        df, current=load_commune_list(data_dir).index, mapping=code_mapping(data_dir),
        sum_cols=cols,
    )


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

