"""The study file as a batch template, and the short hash that partition markers name."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from territorial_geo.config import StudyConfig


def template(cfg: StudyConfig) -> StudyConfig:
    """The study file as a batch template: no market town, pole, planned site or supply file
    of its own territory (towns come from the density grid per EPCI; existing third places
    from the national CGET inventory)."""
    z = dataclasses.replace(cfg.zoning, market_towns=[], auto_towns=True)
    s = dataclasses.replace(cfg.supply, planned=[], file="")
    return dataclasses.replace(cfg, zoning=z, supply=s, poles=[])


def template_key(cfg: StudyConfig) -> str:
    """A short hash of the template's parameters (partition markers name it)."""
    text = json.dumps(template(cfg).to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
