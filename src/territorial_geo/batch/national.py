"""National coverage: minutes from every commune to the nearest CGET third place, one task
per département, and population shares per département and region."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from territorial_geo import coverage, pipeline, sources
from territorial_geo.batch.inputs import (
    _datasets,
    _national_futures,
    _with_national,
    national_frames,
)
from territorial_geo.batch.template import template, template_key
from territorial_geo.config import StudyConfig
from territorial_geo.errors import TerritorialGeoError
from territorial_geo.territory import build_territory

log = logging.getLogger(__name__)

#: Coverage thresholds of the national coverage.
NATIONAL_MINUTES = (10.0, 20.0, 30.0)


@dataclass
class NationalCoverage:
    """Minutes from every commune to the nearest CGET third place, and population shares.

    Attributes
    ----------
    communes
        ``code``, ``nom``, ``departement``, ``region``, ``population``, ``minutes`` (inf when
        no third place is reachable on the partition's network), ``error`` (empty, or why the
        département could not be computed; its communes then have NaN minutes).
    departements, regions
        ``departement`` / ``region``, ``minutes`` (10, 20, 30), ``covered_population``,
        ``total_population``, ``share_population``.
    """

    communes: pd.DataFrame
    departements: pd.DataFrame
    regions: pd.DataFrame


def coverage_partition(
    cfg: StudyConfig, dep: str, *, nat: dict, data_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Minutes from each commune of département ``dep`` to the nearest existing third place
    (inventory within the département plus ``zoning.margin_km``), on the template's network
    over the département plus that margin. The Dask task of :func:`national_coverage`.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``nom``, ``departement``, ``population``, ``minutes``, ``error``.
    """
    communes = nat["communes"]
    codes = sorted(communes.index[communes["departement"] == dep])
    out = pd.DataFrame({"code": codes, "nom": communes.loc[codes, "nom"].to_numpy(),
                        "departement": dep,
                        "population": communes.loc[codes, "population"].to_numpy(float)})
    try:
        inventory = nat["inventory"]
        if inventory is None:
            raise TerritorialGeoError(nat["inventory_label"])
        cl = nat["chefs_lieux"]
        terr = build_territory(f"Département {dep}", "department", codes, communes=communes,
                               chefs_lieux=cl, ring_km=0.0)
        net = pipeline.network_for(cfg, terr, data=_datasets(nat, data_dir))
        reach = terr.outline.buffer(cfg.zoning.margin_km * 1000)
        sites = inventory[inventory.geometry.within(reach)]
        if len(sites):
            t = coverage.nearest_site_times(net, terr.chefs_lieux.loc[codes].geometry, sites)
            out["minutes"] = t["time_min"].to_numpy()
        else:
            out["minutes"] = np.inf
        out["error"] = ""
    except Exception as exc:  # noqa: BLE001  (reported per département)
        out["minutes"] = np.nan
        out["error"] = " ".join(str(exc).split()) or type(exc).__name__
    return out


def coverage_tables(
    communes: pd.DataFrame, by: str, minutes: tuple[float, ...] = NATIONAL_MINUTES,
) -> pd.DataFrame:
    """Population within each threshold of a third place, per value of column ``by``
    (``departement`` or ``region``): ``covered_population``, ``total_population``,
    ``share_population`` (NaN when the group has no population with a result),
    ``communes_without_result`` (communes whose département could not be computed, left out
    of both sums)."""
    rows = []
    for key, all_sub in communes.groupby(by, sort=True):
        failed = all_sub["minutes"].isna()
        sub = all_sub[~failed]
        tot = float(sub["population"].sum())
        for n in minutes:
            cov = float(sub.loc[sub["minutes"] <= n, "population"].sum())
            rows.append({by: key, "minutes": float(n), "covered_population": cov,
                         "total_population": tot,
                         "share_population": cov / tot if tot > 0 else np.nan,
                         "communes_without_result": int(failed.sum())})
    return pd.DataFrame(rows)


def national_coverage(
    cfg: StudyConfig, deps: list[str], *, client=None,
    data_dir: str | os.PathLike | None = None, minutes: tuple[float, ...] = NATIONAL_MINUTES,
    progress: Callable[[str], None] | None = None,
) -> NationalCoverage:
    """Coverage of the CGET 2019 third places over départements ``deps``, one task per
    département (``client``: Dask; ``None``: serially here), merged.

    Parameters
    ----------
    cfg
        Study file giving the network settings (``zoning.network``, speeds, margin).
    deps
        Département codes (all of them for France: :func:`all_departements`).
    client
        A ``distributed.Client``; ``None`` computes the départements here, one after the
        other.
    data_dir
        Data directory.
    minutes
        Thresholds of the coverage tables.
    progress
        Called with one line per finished département (also logged at INFO level).
    """
    dd = str(sources.resolve_data_dir(data_dir))
    tcfg = template(cfg)
    data = sources.Datasets(dd)
    t0 = time.perf_counter()

    def done(i: int, dep: str) -> None:
        msg = (f"coverage of département {dep} done: {i}/{len(deps)}, "
               f"{time.perf_counter() - t0:.0f} s")
        log.info(msg)
        if progress is not None:
            progress(msg)

    if client is None:
        nat = national_frames(tcfg, data)
        parts = []
        for i, d in enumerate(deps, start=1):
            parts.append(coverage_partition(tcfg, d, nat=nat, data_dir=dd))
            done(i, d)
    else:
        from distributed import as_completed

        nat_f = _national_futures(client, tcfg, dd, template_key(cfg))
        futs = [client.submit(_with_national, coverage_partition, tcfg, d, nat_parts=nat_f,
                              data_dir=dd, pure=False, key=f"coverage-{d}-{template_key(cfg)}")
                for d in deps]
        names = {f.key: d for f, d in zip(futs, deps, strict=True)}
        for i, f in enumerate(as_completed(futs), start=1):
            done(i, names[f.key])
        parts = client.gather(futs)
    com = pd.concat(parts, ignore_index=True)
    regions = data.commune_list()["region"].astype(str)
    com.insert(3, "region", com["code"].map(regions).fillna("").to_numpy())
    com = com.sort_values("code").reset_index(drop=True)
    return NationalCoverage(com, coverage_tables(com, "departement", minutes),
                            coverage_tables(com, "region", minutes))


def all_departements(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Every département with a commune in the communes layer."""
    return sorted(sources.load_communes(data_dir)["departement"].dropna().astype(str).unique())


def write_coverage(cov: NationalCoverage, out: str | os.PathLike) -> None:
    """``coverage_communes.csv``, ``coverage_departements.csv``, ``coverage_regions.csv``,
    each atomically (unreachable communes: empty minutes)."""
    o = Path(out)
    com = cov.communes.assign(minutes=cov.communes["minutes"].replace(np.inf, np.nan))
    for name, df in (("communes", com), ("departements", cov.departements),
                     ("regions", cov.regions)):
        sources.atomic_write(o / f"coverage_{name}.csv",
                             lambda p, df=df: df.to_csv(p, index=False, float_format="%.4f"))
