"""Shared fixtures: a data directory filled from the mirror (``../shared/data``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from territorial_geo import sources

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The project's data directory, filled from the mirror when files are missing."""
    d = Path(os.environ.get(sources.ENV_DATA_DIR) or ROOT / "data")
    # the required datasets and the optional ones the tests read (all in the mirror)
    sources.fetch([n for n in sources.CATALOG if n != "leaflet"], data_dir=d, download=False)
    # Leaflet (npm pack), inlined in every web map so that the browser tests run offline;
    # without it a map points at a CDN the tests cannot reach
    try:
        sources.fetch(["leaflet"], data_dir=d)
    except Exception:
        if os.environ.get("CI"):
            raise
    return d


@pytest.fixture(scope="session")
def artois(data_dir):
    from territorial_geo import territory

    return territory.from_epci("200069482", data_dir=data_dir)


@pytest.fixture(scope="session")
def artois_net(artois, data_dir):
    from territorial_geo import network

    # the classified-road skeleton, read as load_network reads it (legal-limit speeds, no
    # junction model: the approximate network's parameters were fitted on it)
    return network.read_pbf(sources.dataset_path("roads-hdf", data_dir), area=artois.outline,
                            cache_dir=data_dir / "cache" / "networks",
                            profile=network.legal_profile(network.SpeedProfile()))


def counting(value):
    """A loader returning ``value`` and the list its calls are appended to (one item per
    call): the cache tests count how often the expensive work ran."""
    calls = []

    def load():
        calls.append(1)
        return value

    return load, calls
