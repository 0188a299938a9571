"""Geofabrik regional extracts: département table, region names, download, checksum, resume.

The served extract is the real Saint-Barthélemy OSM fixture, copied into a temporary
``download.geofabrik.de``-like tree (never committed)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from territorial_geo import sources
from territorial_geo.errors import DataFormatError, DataMissingError, UnknownPlaceError
from territorial_geo.sources import osm

from .http_stub import Stub
from .official_layouts import geofabrik_tree

PBF_FIXTURE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "roads" / \
    "fixtures" / "saint_barthelemy.osm.pbf"


@pytest.fixture
def pbf(tmp_path, data_dir):
    """A temporary copy of the real Saint-Barthélemy extract (from the mirror)."""
    mirror = sources.default_mirror() or Path("/work/shared/data")
    src = mirror / "roads" / "fixtures" / "saint_barthelemy.osm.pbf"
    if not src.is_file():
        src = PBF_FIXTURE
    if not src.is_file():
        pytest.skip("saint_barthelemy.osm.pbf fixture not available (no mirror)")
    dst = tmp_path / "saint_barthelemy.osm.pbf"
    shutil.copyfile(src, dst)
    return dst


def test_regions_for_departments():
    assert sources.regions_for_departments(["62", "59"]) == ["nord-pas-de-calais"]
    assert sources.regions_for_departments([80, "2", "62"]) == ["picardie", "nord-pas-de-calais"]
    assert sources.regions_for_departments(["2a", "20"]) == ["corse"]
    assert sources.regions_for_departments(["971", "974"]) == ["guadeloupe", "reunion"]
    assert sources.regions_for_departments(["01", "69", "63"]) == ["rhone-alpes", "auvergne"]
    with pytest.raises(UnknownPlaceError, match="département '99'"):
        sources.regions_for_departments(["99"])


def test_every_departement_has_exactly_one_extract(data_dir):
    rows = json.loads(sources.dataset_path("communes-list", data_dir).read_text())
    deps = {r["departement"] for r in rows
            if r.get("type") == "commune-actuelle" and r.get("zone") in ("metro", "drom")}
    assert len(deps) == 101
    assert set(sources.DEPARTEMENT_REGIONS) == deps
    listed = [d for ds in sources.REGION_DEPARTMENTS.values() for d in ds]
    assert len(listed) == len(set(listed)) == 101
    assert len(sources.REGION_DEPARTMENTS) == 27  # 22 pre-2016 regions + 5 overseas


def test_unknown_region_lists_closest_names():
    with pytest.raises(UnknownPlaceError, match=r"Closest: nord-pas-de-calais"):
        osm.check_region("nord-pas-de-calai")
    with pytest.raises(UnknownPlaceError, match=r"Closest: picardie"):
        sources.fetch_osm_extract("picardy", download=False)
    assert osm.check_region("Nord Pas de Calais") == "nord-pas-de-calais"
    assert osm.parse_osm_spec("osm:62,80") == ["nord-pas-de-calais", "picardie"]


def test_download_extract_from_file_url(tmp_path, pbf):
    base = tmp_path / "geofabrik"
    geofabrik_tree(base, "nord-pas-de-calais", pbf)
    data = tmp_path / "data"
    with pytest.raises(DataMissingError, match="data fetch --dataset osm:nord-pas-de-calais"):
        sources.fetch_osm_extract("nord-pas-de-calais", data_dir=data)
    got = sources.fetch_osm_extract("nord-pas-de-calais", data_dir=data, download=True,
                                    base_url=base.as_uri())
    assert got.action == "downloaded"
    p = got.path
    assert p == data / "osm" / "nord-pas-de-calais-latest.osm.pbf"
    assert hashlib.md5(p.read_bytes()).hexdigest() == hashlib.md5(pbf.read_bytes()).hexdigest()
    shutil.rmtree(base)  # present now: no second download
    again = sources.fetch_osm_extract("nord-pas-de-calais", data_dir=data, download=True,
                                      base_url=base.as_uri())
    assert (again.path, again.action) == (p, "present")


def test_fetch_osm_by_departement_through_env_base(tmp_path, pbf, monkeypatch):
    base = tmp_path / "geofabrik"
    geofabrik_tree(base, "picardie", pbf)
    monkeypatch.setenv(osm.ENV_GEOFABRIK, base.as_uri())
    res = sources.fetch(["osm:80"], data_dir=tmp_path / "d", mirror=False)
    assert [(r.name, r.action) for r in res] == [("osm:picardie", "downloaded")]
    assert res[0].path.read_bytes() == pbf.read_bytes()


def test_truncated_extract_fails_its_md5_and_leaves_nothing(tmp_path, pbf):
    base = tmp_path / "geofabrik"
    geofabrik_tree(base, "alsace", pbf, served=pbf.read_bytes()[:10_000])
    data = tmp_path / "data"
    with pytest.raises(DataFormatError, match="md5 of the downloaded file"):
        sources.fetch_osm_extract("alsace", data_dir=data, download=True, base_url=base.as_uri())
    assert list((data / "osm").iterdir()) == []  # neither the file nor a .part


def test_interrupted_extract_download_resumes(tmp_path, pbf):
    body = pbf.read_bytes()
    name = "/europe/france/bretagne-latest.osm.pbf"
    files = {name: body,
             name + ".md5": f"{hashlib.md5(body).hexdigest()}  bretagne-latest.osm.pbf\n".encode()}
    data = tmp_path / "data"
    final = data / "osm" / "bretagne-latest.osm.pbf"
    with Stub(files, drop_after=30_000) as srv:
        with pytest.raises(DataMissingError, match="resumes it"):
            sources.fetch_osm_extract("bretagne", data_dir=data, download=True, base_url=srv.url,
                                     retries=0)
        assert not final.exists()
        part = final.with_name(final.name + ".part")
        assert part.stat().st_size == 30_000
        p = sources.fetch_osm_extract("bretagne", data_dir=data, download=True, base_url=srv.url).path
    assert p.read_bytes() == body and not part.exists()
    gets = [r for r in srv.requests if r[0] == name]
    assert gets == [(name, None), (name, "bytes=30000-")]


def test_md5_file_format_is_checked(tmp_path, pbf):
    base = tmp_path / "g"
    geofabrik_tree(base, "corse", pbf)
    md5 = base / "europe" / "france" / "corse-latest.osm.pbf.md5"
    md5.write_text("<html>not found</html>")
    with pytest.raises(DataFormatError, match="not an md5 checksum file"):
        sources.fetch_osm_extract("corse", data_dir=tmp_path / "d", download=True,
                                 base_url=base.as_uri())
