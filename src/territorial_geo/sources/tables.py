"""Reading the published tables: CSV quirks, numbers with decimal commas, required columns."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from territorial_geo.errors import DataFormatError


def require_columns(df: pd.DataFrame, cols: Sequence[str], path: Path | str) -> None:
    """Raise unless every column of ``cols`` is in ``df``.

    Parameters
    ----------
    df
        The table as read.
    cols
        Column names the reader needs.
    path
        File named in the error message.

    Raises
    ------
    territorial_geo.errors.DataFormatError
        Naming ``path``, the missing columns and the first columns found.
    """
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataFormatError(
            f"{path}: missing column(s) {missing}; found {list(df.columns)[:12]}..."
        )


def read_csv(path: Path | str | io.IOBase, *, label: str | None = None, **kw) -> pd.DataFrame:
    """Read a CSV guessing separator and BOM; all columns as strings, blanks as missing.

    Parameters
    ----------
    path
        File (or open file object) to read.
    label
        Name used in the error message (default: ``path``).
    **kw
        Options of :func:`pandas.read_csv` overriding the defaults (``sep``, ``engine``...).

    Returns
    -------
    pandas.DataFrame
        Every column as strings (``dtype=str``).

    Raises
    ------
    territorial_geo.errors.DataFormatError
        The file cannot be decoded or parsed as CSV (naming ``label``).
    """
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


def _json(path: str) -> list:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}: invalid JSON ({exc})") from exc
