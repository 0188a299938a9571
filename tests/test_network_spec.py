"""Network specs (study files, CLI) and ``network info``."""

import json
from pathlib import Path

import pytest

from territorial_geo import cli, sources
from territorial_geo.errors import NetworkError
from territorial_geo.network import parse_network_spec


@pytest.mark.parametrize("text,fmt,attr,value", [
    ("approximate", "approximate", "path", None),
    ("osm:nord-pas-de-calais", "osm-pbf", "region", "nord-pas-de-calais"),
    ("osm:Picardie", "osm-pbf", "region", "picardie"),
    ("bdtopo:/x/TRONCON_DE_ROUTE.shp", "bdtopo", "path", "/x/TRONCON_DE_ROUTE.shp"),
    ("roads-hdf", "osm-pbf", "dataset", "roads-hdf"),
    ("region.osm.pbf", "osm-pbf", "path", "region.osm.pbf"),
    ("D062.gpkg", "bdtopo", "path", "D062.gpkg"),
])
def test_parse_network_spec(text, fmt, attr, value):
    s = parse_network_spec(text)
    assert s.format == fmt and getattr(s, attr) == value


def test_unknown_spec_names_closest():
    with pytest.raises(NetworkError, match="roads-hdf"):
        parse_network_spec("roads-hfd")
    with pytest.raises(NetworkError, match="region"):
        parse_network_spec("osm:")


def test_network_info_json(capsys, data_dir):

    pbf = (sources.default_mirror() or Path("/nonexistent")) / "roads/fixtures/gibraltar.osm.pbf"
    if not pbf.is_file():
        pytest.skip("mirror fixture missing")
    assert cli.main(["--data-dir", str(data_dir), "network", "info", str(pbf), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "detailed" and info["format"] == "osm-pbf"
    # counted on the file: 9260 directed edges, 2708 of them one-way
    assert info["n_edges"] == 9260 and info["n_oneway_edges"] == 2708
    assert cli.main(["--data-dir", str(data_dir), "network", "info", "roads-hfd"]) == 2
    assert "roads-hdf" in capsys.readouterr().err


def test_network_info_bdtopo(capsys, data_dir):
    gpkg = (sources.default_mirror() or Path("/nonexistent")) / \
        "roads/fixtures/bdtopo-v3-marseille-10e.gpkg"
    if not gpkg.is_file():
        pytest.skip("mirror fixture missing")
    assert cli.main(["--data-dir", str(data_dir), "network", "info", f"bdtopo:{gpkg}",
                     "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    # counted on the file with pyogrio (tests/test_bdtopo.py): 891 of 2,936 sections excluded,
    # 3,408 directed edges
    assert info["kind"] == "detailed" and info["format"] == "bdtopo"
    assert info["n_excluded_sections"] == 891 and info["n_edges"] == 3408
