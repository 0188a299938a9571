"""The official list of communes (COG 2026) and moving older tables onto it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territorial_geo.codes import is_in
from territorial_geo.i18n import Note
from territorial_geo.sources.fetching import dataset_path
from territorial_geo.sources.tables import _json, require_columns


def load_commune_list(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The official COG 2026 list of current communes (``commune-actuelle``)."""
    p = dataset_path("communes-list", data_dir)
    rows = [r for r in _json(str(p)) if r.get("type") == "commune-actuelle"]
    df = pd.DataFrame(rows)
    require_columns(df, ["code", "nom", "departement", "region"], p)
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
        """One line saying how many codes were remapped or dropped, with examples (a
        :class:`~territorial_geo.i18n.Note`: English as a string, any language rendered)."""
        note = None
        if self.remapped:
            ex = ", ".join(f"{a}->{b}" for a, b in list(self.remapped.items())[:5])
            note = Note("cog_merged", n=len(self.remapped), examples=ex)
        if self.dropped:
            dropped = Note("cog_dropped", n=len(self.dropped), examples=self.dropped[:5])
            note = dropped if note is None else Note("cog_both", first=note, then=dropped)
        return note if note is not None else Note("cog_all_matched")


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
    not_current = ~is_in(idx, current)
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
    work = work[is_in(work["_target"], current)]
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

