"""The tasks of a batch: départements cut into tasks of at most a few EPCIs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territorial_geo.errors import TerritorialGeoError

#: Largest number of EPCIs in one task (a département with more is split).
EPCIS_PER_TASK = 8


def task_groups(epcis: pd.DataFrame, epcis_per_task: int = EPCIS_PER_TASK) -> dict:
    """The tasks of a batch: task id -> its EPCIs. A département (``partition``) with at
    most ``epcis_per_task`` EPCIs is one task named after it (``"62"``); a larger one is
    cut, in SIREN order, into ``ceil(n / epcis_per_task)`` balanced tasks ``"62-1"``,
    ``"62-2"``... Each task loads the network of its own EPCIs plus the margin."""
    if epcis_per_task < 1:
        raise TerritorialGeoError(f"epcis_per_task must be >= 1, got {epcis_per_task}")
    out = {}
    for dep, g in epcis.groupby("partition", sort=True):
        g = g.sort_values("siren").reset_index(drop=True)
        k = -(-len(g) // epcis_per_task)
        if k == 1:
            out[str(dep)] = g
            continue
        for i, idx in enumerate(np.array_split(np.arange(len(g)), k), start=1):
            out[f"{dep}-{i}"] = g.iloc[idx].reset_index(drop=True)
    return out

