import json

import pytest

from territorial_geo import cli, territory
from territorial_geo.errors import UnknownPlaceError


def test_artois_territory(artois):
    s = artois.summary()
    assert s["siren"] == "200069482"
    assert s["n_communes"] == 96
    assert 33_000 <= s["population"] <= 33_600
    assert "62041" in artois.ring.index  # Arras lies in the ring, outside the EPCI
    assert "62041" in artois.chefs_lieux.index
    assert not artois.chefs_lieux.loc["62041", "in_territory"]


def test_resolve_communes_by_name(data_dir):
    assert territory.resolve_communes(["Arras", "aubigny-en-artois"], data_dir=data_dir) == [
        "62041", "62045"]
    with pytest.raises(UnknownPlaceError, match=r"Closest: .*Arras \(62041\)"):
        territory.resolve_communes(["Arass"], data_dir=data_dir)
    with pytest.raises(UnknownPlaceError, match="99999"):
        territory.resolve_communes(["99999"], data_dir=data_dir)


def test_department_territory(data_dir):
    t = territory.from_department("02", ring_km=0, data_dir=data_dir)
    assert 790 <= len(t.codes) <= 810  # the Aisne has ~800 communes


def test_cli_territory_show_json(data_dir, capsys):
    rc = cli.main(["--data-dir", str(data_dir), "territory", "show", "Campagnes de l'Artois",
                   "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["siren"] == "200069482"
    assert out["n_communes"] == 96
    assert out["name"] == "CC des Campagnes de l'Artois"
    assert 33_000 <= out["population"] <= 33_600


def test_cli_unknown_epci_is_one_line(data_dir, capsys):
    rc = cli.main(["--data-dir", str(data_dir), "territory", "show", "Campagnes de Lartoiss"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no EPCI named") and "Traceback" not in err


def test_cli_missing_data(tmp_path, capsys):
    rc = cli.main(["--data-dir", str(tmp_path), "territory", "show", "200069482"])
    assert rc == 2
    assert "territorial-geo data fetch --dataset" in capsys.readouterr().err
