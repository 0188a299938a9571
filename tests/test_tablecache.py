"""The data directory's cache of parsed tables (sources.tablecache): found again while the
inputs and parsers are unchanged, rebuilt when they change, never a failure."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pandas as pd
import pytest

from territorial_geo import sources
from territorial_geo.sources import tablecache
from territorial_geo.sources.catalog import CATALOG

from .conftest import counting


def test_second_read_comes_from_the_cache(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("abc")
    frame = pd.DataFrame({"code": ["62041", "2A004"], "x": [1.5, float("nan")]})
    load, calls = counting(frame)
    first = tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint="f")
    again = tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint="f")
    assert len(calls) == 1
    assert first is frame and again is not frame
    pd.testing.assert_frame_equal(again, frame)
    assert again["code"].dtype == frame["code"].dtype


@pytest.mark.parametrize("change", ["input", "code"])
def test_a_changed_input_or_parser_reads_again(tmp_path, change):
    src = tmp_path / "in.txt"
    src.write_text("abc")
    load, calls = counting({"a": 1})
    tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint="f")
    fingerprint = "f"
    if change == "input":
        src.write_text("abcd")
    else:
        fingerprint = "g"
    tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint=fingerprint)
    assert len(calls) == 2
    # the former entry of the table is gone: one file per table
    assert len(list((tmp_path / "c").glob("t-*.pkl"))) == 1


def test_same_size_but_newer_file_reads_again(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("abc")
    load, calls = counting(1)
    tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint="f")
    st = src.stat()
    src.write_text("xyz")
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint="f")
    assert len(calls) == 2


def test_damaged_entry_is_rebuilt(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("abc")
    load, calls = counting([1, 2])
    tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint="f")
    (entry,) = (tmp_path / "c").glob("t-*.pkl")
    entry.write_bytes(b"not a pickle")
    assert tablecache.cached_table(tmp_path / "c", "t", [src], load, fingerprint="f") == [1, 2]
    assert len(calls) == 2
    assert pickle.loads(entry.read_bytes()) == [1, 2]


def test_unwritable_cache_is_no_failure(tmp_path):
    blocker = tmp_path / "c"
    blocker.write_text("a file where the cache folder should be")
    load, calls = counting(7)
    assert tablecache.cached_table(blocker, "t", [None], load, fingerprint="f") == 7
    assert tablecache.cached_table(blocker, "t", [None], load, fingerprint="f") == 7
    assert len(calls) == 2


def test_loader_error_is_not_cached(tmp_path):
    def boom():
        raise sources.DataFormatError("bad file")

    for _ in range(2):
        with pytest.raises(sources.DataFormatError):
            tablecache.cached_table(tmp_path / "c", "t", [None], boom, fingerprint="f")
    assert not list(tmp_path.rglob("*.pkl"))


def test_datasets_reads_the_cache_of_a_former_run(data_dir, tmp_path, monkeypatch):
    # a data directory of links to the real files, with its own (empty) cache
    d = tmp_path / "data"
    for name in ("communes-list", "density-grid"):
        target = d / CATALOG[name].path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to((data_dir / CATALOG[name].path).resolve())
    first = sources.Datasets(d).density_grid()
    calls = []

    def fake(name, value):
        return lambda *a, **k: calls.append(name) or value

    monkeypatch.setattr(sources.datasets, "load_density_grid", fake("grid", "fresh"))
    monkeypatch.setattr(sources.datasets, "load_commune_list",
                        fake("list", pd.DataFrame(index=pd.Index([], dtype=object))))
    again = sources.Datasets(d).density_grid()
    assert calls == []
    pd.testing.assert_frame_equal(again, first)
    assert sources.Datasets(d, cache=False).density_grid() == "fresh"  # the loaders
    assert calls == ["list", "grid"]


def test_relative_and_absolute_paths_are_one_entry(tmp_path, monkeypatch):
    """``data`` and ``/abs/data`` name the same files: one entry, not two that replace
    each other at every run."""
    (tmp_path / "in.txt").write_text("abc")
    monkeypatch.chdir(tmp_path)
    load, calls = counting(1)
    tablecache.cached_table(tmp_path / "c", "t", [Path("in.txt")], load, fingerprint="f")
    tablecache.cached_table(tmp_path / "c", "t", [tmp_path / "in.txt"], load, fingerprint="f")
    assert len(calls) == 1
