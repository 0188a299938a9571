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
    """The reference study, light (no Monte Carlo, no printable maps), every render drawn
    (the render cache would make the second folder's map a copy of the first's)."""
    cfg, keys = load_config(ROOT / "examples" / "campagnes-artois.toml")
    cfg.uncertainty.draws = 0
    cfg.output.static_maps = False
    cfg.output.render_cache = False
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


def _squares(values: list[float]):
    """Communes as unit squares of 10 km in a row, EPSG:2154, with a ``v`` column."""
    import geopandas as gpd
    from shapely.geometry import box

    geoms = [box(700_000 + i * 10_000, 7_000_000, 710_000 + i * 10_000, 7_010_000)
             for i in range(len(values))]
    return gpd.GeoDataFrame({"code": [f"6200{i}" for i in range(len(values))],
                             "nom": [f"C{i}" for i in range(len(values))], "v": values,
                             "w": values[::-1]}, geometry=geoms, crs="EPSG:2154")


def test_printable_maps_drawn_once_equal_each_drawn_alone(tmp_path):
    """One figure for every theme: each PNG is the one its theme gives alone (no legend,
    title or colour left over from the theme before)."""
    from territorial_geo import maps

    communes = _squares([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    maps.static_maps(communes, [("v", "Theme v", "v", tmp_path / "v.png"),
                                ("w", "Theme w", "w", tmp_path / "w.png")], lang="fr")
    maps.static_map(communes, "w", "Theme w", tmp_path / "w-alone.png", legend_title="w",
                    lang="fr")
    assert (tmp_path / "w.png").read_bytes() == (tmp_path / "w-alone.png").read_bytes()
    assert (tmp_path / "v.png").read_bytes() != (tmp_path / "w.png").read_bytes()


def test_printable_map_colours_each_commune_by_its_class(tmp_path):
    """Six communes in five classes: every class colour covers at least a commune's area
    (far more than its legend key)."""
    import matplotlib.image as mpimg

    from territorial_geo import maps

    communes = _squares([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    maps.static_maps(communes, [("v", "Theme v", "v", tmp_path / "v.png")], lang="fr")
    img = (mpimg.imread(tmp_path / "v.png")[..., :3] * 255).round().astype(int)
    for colour in maps.SEQ_COLOURS:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        n = int((np.abs(img - rgb).max(axis=-1) <= 2).sum())
        assert n > 5000, (colour, n)


def test_templates_escape_every_value_not_marked_safe():
    from markupsafe import Markup

    from territorial_geo import templating

    env = templating.environment()
    t = env.from_string("<p title='{{ a }}'>{{ a }}</p>{{ b }}")
    out = t.render(a="l'<b>\"x\"&", b=Markup("<i>kept</i>"))
    assert out == ("<p title='l&#x27;&lt;b&gt;&quot;x&quot;&amp;'>l&#x27;&lt;b&gt;&quot;x&quot;&amp;"
                   "</p><i>kept</i>")


def test_map_script_values_cannot_close_the_script_element():
    """A commune name holding ``</script>`` stays inside the map's script (JSON written
    ``<\\/script>``), and only identifiers pass as Folium element names."""
    from territorial_geo import templating

    script = templating.render(
        "map_controls.html.j2", map="map_1", communes=[{"nom": "X</script><script>alert(1)"}],
        layers=["geo_json_1"], themes=["feature_group_1"], bands="feature_group_2",
        background="feature_group_3", tile_url="https://t/{z}/{x}/{y}.png",
        tile_attribution="© OSM </script>", tile_name="Fond", control="layer_control_1",
        search_none="Aucune commune")
    assert script.startswith("<script>\n") and script.endswith("</script>")
    assert script.count("</script>") == 1
    assert '"nom": "X<\\/script><script>alert(1)"' in script
    with pytest.raises(ValueError, match="identifier"):
        templating.render(
            "map_controls.html.j2", map="map_1; alert(1)", communes=[], layers=[], themes=[],
            bands="b", background="g", tile_url="", tile_attribution="", tile_name="",
            control="c", search_none="")
