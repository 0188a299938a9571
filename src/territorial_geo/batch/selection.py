"""Which EPCIs a batch runs: the ``--epcis`` spec (département, region, France or SIRENs)
and the partition (département) of each EPCI."""

from __future__ import annotations

import pandas as pd

from territorial_geo.codes import department_of
from territorial_geo.errors import UnknownPlaceError


def select_epcis(
    spec: str, *, epci: pd.DataFrame, commune_list: pd.DataFrame,
) -> pd.DataFrame:
    """The EPCIs a ``--epcis`` spec names, with their partition (département).

    Parameters
    ----------
    spec
        ``dep:62``, ``region:32``, ``france`` or comma-separated SIRENs.
    epci
        :func:`territorial_geo.sources.load_epci`.
    commune_list
        :func:`territorial_geo.sources.load_commune_list` (``departement``, ``region``).

    Returns
    -------
    pandas.DataFrame
        ``siren``, ``name``, ``members`` (list of codes), ``partition`` (the département of
        most members; ties: the smallest code), sorted by partition then SIREN.

    Raises
    ------
    UnknownPlaceError
        Unknown form, département, region or SIREN (named).
    """
    text = str(spec).strip()
    df = epci[["siren", "nom", "members"]].rename(columns={"nom": "name"}).copy()
    df["siren"] = df["siren"].astype(str)
    deps = commune_list["departement"].astype(str)
    regs = commune_list["region"].astype(str)

    def main_dep(members: list[str]) -> str:
        d = pd.Series([deps.get(c, department_of(c)) for c in members])
        counts = d.value_counts()
        return str(min(counts.index[counts == counts.max()]))

    df["partition"] = [main_dep(m) for m in df["members"]]
    low = text.lower()
    if low == "france":
        out = df
    elif low.startswith("dep:"):
        code = text[4:].strip().upper().zfill(2)
        if code not in set(deps):
            raise UnknownPlaceError(f"--epcis {text}: no département {code!r} "
                                    "(départements look like 02, 62, 2A, 974)")
        out = df[df["partition"] == code]
    elif low.startswith("region:"):
        code = text[7:].strip()
        in_region = set(deps[regs == code])
        if not in_region:
            raise UnknownPlaceError(f"--epcis {text}: no region {code!r} (regions are INSEE "
                                    "codes: 32 Hauts-de-France, 11 Île-de-France, ...)")
        out = df[df["partition"].isin(in_region)]
    else:
        wanted = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in wanted if s not in set(df["siren"])]
        if not wanted or bad:
            raise UnknownPlaceError(
                f"--epcis {text}: unknown EPCI SIREN(s) {bad or [text]}; give dep:CODE, "
                "region:CODE, france or comma-separated 9-digit SIRENs")
        out = df[df["siren"].isin(wanted)]
    if out.empty:
        raise UnknownPlaceError(f"--epcis {text}: no EPCI selected")
    return out.sort_values(["partition", "siren"]).reset_index(drop=True)
