"""Data directory, mirror discovery, downloads (resume, retry, checksum) and run.sh fetching."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from territorial_geo import sources
from territorial_geo.errors import DataFormatError, DataMissingError
from territorial_geo.sources import fetching

from .conftest import ROOT
from .http_stub import Stub

SRC = Path(sources.__file__).resolve().parents[2]  # the package tested (or its mutated copy)


@pytest.fixture
def fake_checkout(tmp_path, monkeypatch):
    """tmp/work/repo (a checkout with a sub-directory) and tmp/work/shared/data (a mirror)."""
    repo = tmp_path / "work" / "repo"
    (repo / "examples" / "deeper").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    mirror = tmp_path / "work" / "shared" / "data"
    (mirror / "sirene").mkdir(parents=True)
    monkeypatch.delenv(sources.ENV_MIRROR, raising=False)
    monkeypatch.setattr(fetching, "package_repo_root", lambda: None)
    return repo, mirror


def test_mirror_found_from_any_directory_of_the_checkout(fake_checkout, monkeypatch):
    """Issue 13 defect 7: the mirror was found only from the repository root."""
    repo, mirror = fake_checkout
    for cwd in (repo, repo / "examples", repo / "examples" / "deeper"):
        monkeypatch.chdir(cwd)
        assert sources.default_mirror() == mirror.resolve()


def test_mirror_search_order(fake_checkout, monkeypatch, tmp_path):
    repo, mirror = fake_checkout
    monkeypatch.chdir(repo / "examples")
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv(sources.ENV_MIRROR, str(other))
    assert sources.default_mirror() == other  # the environment wins over ../shared/data
    monkeypatch.setenv(sources.ENV_MIRROR, "none")
    assert sources.default_mirror() is None  # official sources only
    monkeypatch.setenv(sources.ENV_MIRROR, str(tmp_path / "typo"))
    with pytest.raises(DataMissingError, match="TERRITORIAL_GEO_MIRROR=.*typo.*not a directory"):
        sources.default_mirror()


def test_explicit_mirror_wins_over_environment(tmp_path, monkeypatch):
    bogus = tmp_path / "bogus" / "sirene"
    bogus.mkdir(parents=True)
    (bogus / "tranches-effectifs.csv").write_text("code,libelle\nNN,x\n")
    good = tmp_path / "good"
    (good / "sirene").mkdir(parents=True)
    sources.build_employee_bands(good / "sirene" / "tranches-effectifs.csv")  # pinned edition
    monkeypatch.setenv(sources.ENV_MIRROR, str(bogus.parent))
    res = sources.fetch(["sirene-bands"], data_dir=tmp_path / "d", mirror=good)
    assert res[0].action == "copied" and res[0].sha256 == sources.CATALOG["sirene-bands"].sha256


@pytest.mark.parametrize("quiet", [True, False])
def test_cli_quiet_means_no_progress_callback(tmp_path, quiet, capsys):
    """--quiet hands the library no progress callback: no progress bar nor message; without
    it the copy shows its byte progress bar on stderr."""
    from territorial_geo import cli

    good = tmp_path / "good"
    (good / "sirene").mkdir(parents=True)
    sources.build_employee_bands(good / "sirene" / "tranches-effectifs.csv")
    argv = ["--data-dir", str(tmp_path / "d"), "data", "fetch", "--dataset", "sirene-bands",
            "--mirror", str(good)]
    assert cli.main((["--quiet"] if quiet else []) + argv) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("", "") if quiet else ("sirene-bands" in out and "sirene-bands" in err)


def test_fetch_all_skips_mirror_only_datasets_the_mirror_lacks(tmp_path, data_dir):
    """`data fetch` with no dataset named reports what it could not get instead of failing."""
    partial = tmp_path / "partial-mirror"
    for ds in sources.CATALOG.values():
        if not ds.path.startswith(("roads/", "webassets/")):
            (partial / ds.path).parent.mkdir(parents=True, exist_ok=True)
            (partial / ds.path).symlink_to(sources.dataset_path(ds.name, data_dir).resolve())
    res = {r.name: r.action for r in sources.fetch(None, data_dir=tmp_path / "d", mirror=partial,
                                                   download=False)}
    assert res.pop("roads-france") == res.pop("roads-hdf") == res.pop("leaflet") == "unavailable"
    assert set(res.values()) == {"copied"}
    with pytest.raises(DataMissingError, match="roads-hdf"):  # named: an error
        sources.fetch(["roads-hdf"], data_dir=tmp_path / "d", mirror=partial)


def test_package_repo_root_is_this_checkout():
    """The package-relative fallback points at the checkout, not its parent's parent."""
    assert fetching.package_repo_root() == ROOT
    labels = [lab for lab, _ in sources.mirror_candidates(ROOT)]
    assert labels[-1] == "../shared/data beside the installed package's repository"
    assert sources.mirror_candidates(ROOT)[-1][1] == ROOT.parent / "shared" / "data"


# --------------------------------------------------------------------------------------
# downloads
# --------------------------------------------------------------------------------------

BLOB = bytes(range(256)) * 4096  # 1 MiB, every byte value
MD5 = hashlib.md5(BLOB).hexdigest()


def test_download_file_url_verifies_and_renames(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(BLOB)
    dst = tmp_path / "out" / "file.bin"
    digest = sources.download(src.as_uri(), dst, expected=("md5", MD5))
    assert dst.read_bytes() == BLOB and digest == hashlib.sha256(BLOB).hexdigest()
    assert not (tmp_path / "out" / "file.bin.part").exists()


def test_download_wrong_checksum_leaves_nothing(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(BLOB[:1000])  # a truncated copy
    dst = tmp_path / "file.bin"
    with pytest.raises(DataFormatError, match="md5 of the downloaded file"):
        sources.download(src.as_uri(), dst, expected=("md5", MD5))
    assert not dst.exists() and not dst.with_name("file.bin.part").exists()


class _FlakyResponse:
    """A response whose reader fails after ``fail_at`` bytes (a dropped connection)."""

    def __init__(self, body: bytes, *, status=200, headers=None, fail_at=None):
        self.body, self.status, self.headers = body, status, headers or {}
        self.fail_at, self.pos = fail_at, 0

    def read(self, n=-1):
        if self.fail_at is not None and self.pos >= self.fail_at:
            raise ConnectionResetError("connection reset by peer")
        end = len(self.body) if n < 0 else self.pos + n
        if self.fail_at is not None:
            end = min(end, self.fail_at)
        chunk = self.body[self.pos:end]
        self.pos += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_interrupted_download_keeps_only_the_part_and_resumes(tmp_path):
    calls = []

    def opener(req, timeout):
        rng = req.get_header("Range")
        calls.append(rng)
        if rng is None:  # first attempt: the reader fails after 300 000 bytes
            return _FlakyResponse(BLOB, headers={"Content-Length": str(len(BLOB))},
                                  fail_at=300_000)
        start = int(rng[6:-1])
        return _FlakyResponse(BLOB[start:], status=206, headers={
            "Content-Length": str(len(BLOB) - start),
            "Content-Range": f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}"})

    dst = tmp_path / "extract.osm.pbf"
    with pytest.raises(DataMissingError, match="kept and the next fetch resumes it"):
        sources.download("https://example.invalid/x", dst, expected=("md5", MD5), retries=0,
                         opener=opener)
    assert not dst.exists()  # nothing half-written under the final name
    assert dst.with_name(dst.name + ".part").stat().st_size == 300_000
    sources.download("https://example.invalid/x", dst, expected=("md5", MD5), retries=0,
                     opener=opener)
    assert calls == [None, "bytes=300000-"]
    assert dst.read_bytes() == BLOB


def test_server_without_range_restarts_cleanly(tmp_path):
    dst = tmp_path / "f.bin"
    dst.with_name("f.bin.part").write_bytes(b"stale bytes from another file")
    with Stub({"/f.bin": BLOB}, support_range=False) as srv:
        sources.download(f"{srv.url}/f.bin", dst, expected=("md5", MD5), retries=0)
    assert srv.requests == [("/f.bin", "bytes=29-")]
    assert dst.read_bytes() == BLOB


def test_dropped_connection_is_retried_from_where_it_stopped(tmp_path):
    """A real socket closed part-way (loopback server): the retry asks for the rest."""
    with Stub({"/big.pbf": BLOB}, drop_after=200_000) as srv:
        out = tmp_path / "big.pbf"
        sources.download(f"{srv.url}/big.pbf", out, expected=("md5", MD5), retries=2)
    assert out.read_bytes() == BLOB
    assert srv.requests[0] == ("/big.pbf", None)
    assert srv.requests[1][1].startswith("bytes=") and int(srv.requests[1][1][6:-1]) > 0


def test_missing_remote_file_is_not_retried(tmp_path):
    with Stub({}) as srv:
        with pytest.raises(DataMissingError, match="404"):
            sources.download(f"{srv.url}/nothing", tmp_path / "x", retries=3)
    assert len(srv.requests) == 1


def test_url_overrides_from_environment(monkeypatch):
    ds = sources.CATALOG["csp-shares"]
    monkeypatch.setenv("TERRITORIAL_GEO_URL_CSP_SHARES__2011", "file:///tmp/iris2011.zip")
    got = fetching.source_urls(ds)
    assert got["2011"] == "file:///tmp/iris2011.zip"
    assert got["2016"] == ds.official.files[1].url
    monkeypatch.setenv("TERRITORIAL_GEO_URL_THIRD_PLACES", "file:///tmp/tl.csv")
    assert fetching.source_urls(sources.CATALOG["third-places"]) == {"data": "file:///tmp/tl.csv"}
    assert fetching.source_urls(ds, {"csp-shares": {"2016": "file:///x"}})["2016"] == "file:///x"


# --------------------------------------------------------------------------------------
# run.sh
# --------------------------------------------------------------------------------------


def _fake_checkout_for_run_sh(tmp_path: Path) -> Path:
    """A copy of run.sh beside a fake .venv whose tools log their arguments."""
    d = tmp_path / "clone"
    (d / ".venv" / "bin").mkdir(parents=True)
    (d / "run.sh").write_text((ROOT / "run.sh").read_text())
    (d / "pyproject.toml").write_text("")
    log = d / "calls.log"
    for tool in ("python", "territorial-geo", "ruff"):
        p = d / ".venv" / "bin" / tool
        p.write_text(f"#!/bin/sh\necho \"{tool} $*\" >> {log}\n")
        p.chmod(0o755)
    installed = d / ".venv" / ".installed"
    installed.write_text("")
    os.utime(d / "pyproject.toml", (1, 1))  # older than .installed: no pip install
    return d


def test_run_sh_test_does_not_fetch_data(tmp_path):
    """Issue 13 defect 7: `./run.sh test` fetched every dataset before running pytest."""
    d = _fake_checkout_for_run_sh(tmp_path)
    subprocess.run(["bash", "run.sh", "test", "-k", "x"], cwd=d, check=True, timeout=60)
    calls = (d / "calls.log").read_text().splitlines()
    assert calls == ["ruff check .", "python -m pytest -q -k x"]


def test_run_sh_study_fetches_first(tmp_path):
    d = _fake_checkout_for_run_sh(tmp_path)
    subprocess.run(["bash", "run.sh"], cwd=d, check=True, timeout=60)
    calls = (d / "calls.log").read_text().splitlines()
    assert calls == ["territorial-geo --quiet data fetch",
                     "territorial-geo study examples/campagnes-artois.toml"]
    (d / "calls.log").unlink()
    subprocess.run(["bash", "run.sh", "data", "status"], cwd=d, check=True, timeout=60)
    assert (d / "calls.log").read_text().splitlines() == ["territorial-geo data status"]



def test_atomic_dir_keeps_the_old_folder_when_writing_fails(tmp_path):
    out = tmp_path / "study"
    sources.atomic_dir(out, lambda d: (d / "zones.csv").write_text("v1"))
    assert (out / "zones.csv").read_text() == "v1"

    def half(d):
        (d / "zones.csv").write_text("v2 half")
        raise RuntimeError("map failed")

    with pytest.raises(RuntimeError):
        sources.atomic_dir(out, half)
    # the previous outputs stay whole, and no temporary folder is left beside them
    assert (out / "zones.csv").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["study"]
    sources.atomic_dir(out, lambda d: (d / "report.html").write_text("v3"))
    assert [p.name for p in out.iterdir()] == ["report.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["study"]


def _killed_writer(out: Path, *, before_swap: bool = False) -> None:
    """Run atomic_dir in another Python process killed (SIGKILL) in the middle: while writing,
    or (``before_swap``) after moving the previous folder aside, before renaming the new one."""
    if before_swap:
        kill = ("real = os.replace\n"
                "def replace(a, b):\n"
                "    real(a, b)\n"
                "    if '.old-' in str(b): os.kill(os.getpid(), signal.SIGKILL)\n"
                "os.replace = replace\n"
                "def writer(d): (d / 'zones.csv').write_text('v2')\n")
    else:
        kill = ("def writer(d):\n"
                "    (d / 'zones.csv').write_text('v2 half')\n"
                "    os.kill(os.getpid(), signal.SIGKILL)\n")
    code = ("import os, signal, sys\nfrom pathlib import Path\nfrom territorial_geo import sources\n"
            + kill + f"sources.atomic_dir(Path({str(out)!r}), writer)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=os.environ | {"PYTHONPATH": str(SRC)},
                          timeout=120, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def test_temporary_folder_of_a_killed_run_is_removed_by_the_next_run(tmp_path, caplog):
    out = tmp_path / "study"
    sources.atomic_dir(out, lambda d: (d / "zones.csv").write_text("v1"))
    _killed_writer(out)
    left = [p.name for p in tmp_path.iterdir() if p.name != "study"]
    assert len(left) == 1 and left[0].startswith(".study.tmp-")  # what the dead run left
    assert (out / "zones.csv").read_text() == "v1"  # the previous outputs stayed whole
    assert sources.stale_temp_folders(out) == [tmp_path / left[0]]
    with caplog.at_level(logging.WARNING, logger="territorial_geo"):
        sources.atomic_dir(out, lambda d: (d / "zones.csv").write_text("v3"))
    assert [p.name for p in tmp_path.iterdir()] == ["study"]
    assert (out / "zones.csv").read_text() == "v3"
    assert left[0] in caplog.text and "interrupted" in caplog.text


def test_run_killed_between_the_two_renames_gets_its_previous_outputs_back(tmp_path, caplog):
    out = tmp_path / "study"
    sources.atomic_dir(out, lambda d: (d / "zones.csv").write_text("v1"))
    _killed_writer(out, before_swap=True)
    assert not out.exists()  # killed after moving v1 aside
    with caplog.at_level(logging.WARNING, logger="territorial_geo"):
        found = sources.clean_stale_temp_folders(out)
    assert len(found) == 2  # v1 moved aside, v2 complete but never renamed
    assert (out / "zones.csv").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["study"]
    assert "restored the previous outputs" in caplog.text


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_folders_of_live_or_unknown_writers_are_kept(tmp_path):
    out = tmp_path / "study"
    host = fetching._host_tag()
    live = tmp_path / f".study.tmp-{host}-{os.getpid()}-abc123_z"  # a concurrent run
    dead = tmp_path / f".study.tmp-{host}-{_dead_pid()}-abc123_z"
    other = tmp_path / ".study.tmp-otherhost-1-abc123_z"  # another host: age decides
    legacy = tmp_path / ".study.k2j4h5g6"  # an older version's name: age decides
    unrelated = tmp_path / ".studyx.tmp-otherhost-1-abc123_z"
    for p in (live, dead, other, legacy, unrelated):
        p.mkdir()
    now = time.time()
    assert sources.stale_temp_folders(out, now=now) == [dead]
    day = fetching.STALE_TEMP_AGE_S
    old = now - day - 60
    for p in (live, other, legacy, unrelated):
        os.utime(p, (old, old))
    assert sources.stale_temp_folders(out, now=now) == sorted([dead, other, legacy])
    assert sources.clean_stale_temp_folders(out, now=now) == sorted([dead, other, legacy])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, unrelated.name])


def test_cli_shows_the_cleanup_warning(tmp_path, monkeypatch, capsys):
    from territorial_geo import cli

    out = tmp_path / "study"
    stale = tmp_path / f".study.tmp-{fetching._host_tag()}-{_dead_pid()}-abc123_z"
    stale.mkdir()

    def fake_data_cmd(args):
        sources.atomic_dir(out, lambda d: (d / "zones.csv").write_text("v1"))
        return 0

    monkeypatch.setattr(cli, "_cmd_data", fake_data_cmd)
    assert cli.main(["data", "status"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: removed 1 temporary folder(s)") and stale.name in err
    assert not stale.exists()
