"""Outputs read only the study result: the folder is written from a ``StudyResult`` whose
road network and routing engine are gone and whose data directory is empty, and it is the
same folder."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import rasterio

from territorial_geo import outputs, sources, study
from territorial_geo.config import load_config

from .conftest import ROOT


@pytest.fixture(scope="module")
def artois_result(data_dir):
    """The reference study, light (no Monte Carlo, no printable maps)."""
    cfg, keys = load_config(ROOT / "examples" / "campagnes-artois.toml")
    cfg.uncertainty.draws = 0
    cfg.output.static_maps = False
    return study.run_study(cfg, overridden=keys, data_dir=data_dir)


@pytest.fixture(scope="module")
def two_folders(artois_result, tmp_path_factory, data_dir):
    """The folder written from the result as it is, and from the result without its
    network and engine while the data directory is an empty folder."""
    d = tmp_path_factory.mktemp("outputs")
    full = study.write_outputs(artois_result, d / "full")
    bare = dataclasses.replace(artois_result, network=None, engine=None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(sources.ENV_DATA_DIR, str(d / "empty-data-dir"))
        stripped = study.write_outputs(bare, d / "stripped")
    return full, stripped


def test_writing_needs_no_network_engine_or_data_dir(two_folders, artois_result):
    full, stripped = two_folders
    names = sorted(p.name for p in full.iterdir())
    assert names == sorted(p.name for p in stripped.iterdir())
    for n in ("communes.csv", "zones.csv", "zone_members.csv", "coverage.csv",
              "drive_time.tif", "report.html"):
        assert (full / n).read_bytes() == (stripped / n).read_bytes(), n
    # the same map (folium's random element ids aside), Leaflet inlined: read before
    # writing, not from the (empty) data directory
    maps = [re.sub(r"_[0-9a-f]{32}", "_ID", (f / "map.html").read_text(encoding="utf-8"))
            for f in (full, stripped)]
    assert maps[0] == maps[1]
    assert artois_result.prepared.leaflet is not None
    assert not re.search(r'<script src="[^"]*leaflet', maps[1])
    # the offline background's main roads came from the result, not from the network
    assert len(artois_result.prepared.roads) > 0 and "#d9483b" in maps[1]


def test_drive_time_raster_holds_the_prepared_minutes(two_folders, artois_result):
    """``drive_time.tif`` is the grid computed before writing: the towns' band is 0 near
    nothing but within a few minutes at each market town's chef-lieu cell."""
    full, _stripped = two_folders
    grid = artois_result.prepared.drive_times
    with rasterio.open(full / "drive_time.tif") as src:
        assert src.descriptions == tuple(grid.bands)
        assert src.shape == grid.shape
        towns = src.read(1)
        np.testing.assert_array_equal(towns, grid.bands["minutes_to_market_town"])
        for pt in artois_result.zones.towns.geometry:
            row, col = src.index(pt.x, pt.y)
            assert 0 <= towns[row, col] < 3  # a cell at a market town is minutes from it
    inside = towns[towns >= 0]
    assert inside.size > 1000 and inside.max() > 10


def test_a_result_without_prepared_outputs_is_refused(artois_result, tmp_path):
    bare = dataclasses.replace(artois_result, prepared=None)
    with pytest.raises(ValueError, match="prepare_outputs"):
        study.write_outputs(bare, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_network_label_reads_the_facts_like_the_network(artois_result):
    facts = artois_result.prepared.network
    assert facts.n_nodes == artois_result.network.n_nodes
    for lang in ("fr", "en"):
        assert (outputs.network_label(facts, lang=lang)
                == outputs.network_label(artois_result.network, lang=lang))
