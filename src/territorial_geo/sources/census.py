"""INSEE census tables: the RP2018 comparateur, CSP shares, the density grid."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pandas as pd

from territorial_geo.codes import normalize_codes
from territorial_geo.errors import DataFormatError
from territorial_geo.method import CSP_KEYS, CSP_YEARS
from territorial_geo.sources.cog import Harmonized, code_mapping, harmonize, load_commune_list
from territorial_geo.sources.fetching import dataset_path
from territorial_geo.sources.tables import read_csv, require_columns, to_number

CENSUS_COLUMNS = [
    "P18_POP", "P18_LOG", "P18_RP", "P18_RSECOCC", "P18_LOGVAC", "P18_POP1564",
    "P18_ACT1564", "P18_CHOM1564", "P18_EMPLT", "P18_EMPLT_SAL", "ETTOT18", "SUPERF",
    "ETAZ18", "ETBE18", "ETFZ18", "ETGU18", "ETGZ18", "ETOQ18", "ETTEF118", "ETTEFP1018",
]
#: INSEE long labels (LIB_VAR_LONG of meta_base_cc_comparateur.CSV) of the comparateur
#: variables the solo-worker fallback reads or rules out. The ``ET*`` counts are *employer* establishments (INSEE, Flores 2018: the
#: same figures are published as "Établissements actifs employeurs par secteur d'activité
#: agrégé et taille fin 2018", e.g. 21,812 in Vaucluse), so their "0 salarié" difference
#: (ETTOT18 - ETTEF118 - ETTEFP1018) counts employers with nobody on the payroll on
#: 31 December, not the non-employer self-employed.
CENSUS_LABELS = {
    "P18_EMPLT": "Nombre d'emplois au lieu de travail en 2018",
    "P18_EMPLT_SAL": "Nombre d'emplois salariés au lieu de travail en 2018",
    "ETTOT18": "Total des établissements actifs fin 2018",
    "ETGU18": "Établissements actifs du commerce, transports et services divers fin 2018",
    "ETGZ18": "dont Établissements actifs du commerce et réparation automobile fin 2018",
    "ETTEF118": "Établissements actifs de 1 à 9 salariés fin 2018",
    "ETTEFP1018": "Établissements actifs de 10 salariés ou plus fin 2018",
}


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
                raw = read_csv(io.BytesIO(zf.read(members[0])), label=f"{path}:{members[0]}",
                                sep=";", engine="c")
        else:
            raw = read_csv(path, sep=";", engine="c")
    except zipfile.BadZipFile as exc:
        raise DataFormatError(f"{path}: corrupt zip ({exc})") from exc
    require_columns(raw, ["CODGEO", *CENSUS_COLUMNS], path)
    out = pd.DataFrame(index=normalize_codes(raw["CODGEO"], source=f"{path}:CODGEO"))
    for c in CENSUS_COLUMNS:
        out[c] = to_number(raw[c], source=f"{path}:{c}").to_numpy()
    return out


def load_census(
    data_dir: str | os.PathLike | None = None, *, current=None, mapping=None,
) -> Harmonized:
    """Census RP2018 counts per commune, moved to COG 2026 (merged communes summed).

    ``current`` (codes of the COG 2026 communes) and ``mapping`` (former -> current code)
    are read from the data directory when not given (:class:`~territorial_geo.sources.Datasets`
    passes the ones it has already read).

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
        current=load_commune_list(data_dir).index if current is None else current,
        mapping=code_mapping(data_dir) if mapping is None else mapping,
        sum_cols=sum_cols,
    )


CSP_LABELS = {
    "agri": "1 agriculteurs",
    "artis": "2 artisans, commerçants, chefs d'entreprise",
    "cadres": "3 cadres",
    "profint": "4 professions intermédiaires",
    "employes": "5 employés",
    "ouvriers": "6 ouvriers",
}


def load_csp_shares(
    year: int, data_dir: str | os.PathLike | None = None, *, current=None, mapping=None,
) -> Harmonized:
    """Shares (%) of the 15+ population by CSP for census year 2011, 2016 or 2022.

    ``current`` and ``mapping`` as in :func:`load_census`.

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
        current=load_commune_list(data_dir).index if current is None else current,
        mapping=code_mapping(data_dir) if mapping is None else mapping,
        sum_cols=["population"],
        mean_cols=list(CSP_KEYS),
        weight_col="population",
    )


def load_density_grid(
    data_dir: str | os.PathLike | None = None, *, current=None, mapping=None,
) -> pd.DataFrame:
    """INSEE 7-level density grid (2015), indexed by code: ``dens`` (1-7), ``libdens``.

    ``current`` and ``mapping`` as in :func:`load_census`."""
    p = dataset_path("density-grid", data_dir)
    raw = read_csv(p, sep=";", engine="c")
    require_columns(raw, ["CODGEO", "DENS", "LIBDENS"], p)
    df = pd.DataFrame(
        {
            "dens": to_number(raw["DENS"], source=f"{p}:DENS").astype("Int64").to_numpy(),
            "libdens": raw["LIBDENS"].to_numpy(),
        },
        index=normalize_codes(raw["CODGEO"], source=f"{p}:CODGEO"),
    )
    mapping = code_mapping(data_dir) if mapping is None else mapping
    current = set(load_commune_list(data_dir).index if current is None else current)
    df["code2026"] = [c if c in current else mapping.get(c) for c in df.index]
    # a merged commune takes the densest level of its former parts (lowest DENS)
    kept = df.dropna(subset=["code2026"]).sort_values("dens")
    out = kept.groupby("code2026").first()
    return out.rename_axis(None)

