"""The render cache (outputs.rendercache): a chart or map is drawn again only when its
inputs or the code changed; what it gives back is what drawing gives; never a failure.
And the workbook writes text as text."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from territorial_geo import exports, study
from territorial_geo.config import load_config
from territorial_geo.outputs import rendercache
from territorial_geo.outputs.rendercache import RenderCache, digest

from .conftest import ROOT, counting


def _sha(path) -> str:
    """A file's SHA-256: compared instead of its bytes, so that a failing comparison of two
    PNGs is reported at once (pytest's diff of two large byte strings takes minutes)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["62041", "2A004"], "seats": [1.5, float("nan")]},
                            geometry=[box(0, 0, 1, 1), Point(3, 4)], crs=2154)


# --------------------------------------------------------------------------- digest

def test_equal_content_gives_the_same_digest_whatever_the_object():
    a = {"b": [1, 2.5, "x"], "a": (_frame(), np.arange(4), None)}
    b = {"b": [1, 2.5, "x"], "a": (_frame(), np.arange(4), None)}  # new, equal objects
    assert digest(a) == digest(b)


def test_dict_order_is_part_of_the_digest():
    """The web map draws its layers and tooltip fields in their dict's order."""
    assert digest({"b": 1, "a": 2}) != digest({"a": 2, "b": 1})


@pytest.mark.parametrize("change", [
    "value", "nan", "geometry", "crs", "column", "index", "dtype", "int-float", "list-tuple",
    "dict-value", "negative-zero", "text-number", "category-order", "index-name",
])
def test_any_change_a_drawing_could_show_gives_another_digest(change):
    base = _frame()
    other = base.copy()
    left: object = {"frame": base, "title": "Carte", "n": 1, "xs": [1, 2]}
    right: dict = {"frame": other, "title": "Carte", "n": 1, "xs": [1, 2]}
    if change == "value":
        other.loc[0, "seats"] = 1.5000001
    elif change == "nan":
        other.loc[1, "seats"] = 0.0
    elif change == "geometry":
        other.loc[1, "geometry"] = Point(3, 4.5)
    elif change == "crs":
        right["frame"] = other.set_crs(4326, allow_override=True)
    elif change == "column":
        right["frame"] = other.rename(columns={"seats": "places"})
    elif change == "index":
        right["frame"] = other.set_axis(["a", "b"])
    elif change == "dtype":
        other["seats"] = other["seats"].astype("float32")
    elif change == "int-float":
        right["n"] = 1.0
    elif change == "list-tuple":
        right["xs"] = (1, 2)
    elif change == "negative-zero":  # a label shows "-0,0"
        base.loc[0, "seats"] = 0.0
        other.loc[0, "seats"] = -0.0
    elif change == "text-number":  # an object column: a tooltip shows "1,0" or "1.0"
        base["label"] = pd.Series([1.0, "x"], dtype=object)
        other["label"] = pd.Series(["1.0", "x"], dtype=object)
    elif change == "category-order":  # a legend lists categories in order
        base["cls"] = pd.Categorical(["a", "b"], categories=["a", "b"])
        other["cls"] = pd.Categorical(["a", "b"], categories=["b", "a"])
    elif change == "index-name":
        right["frame"] = other.rename_axis("code")
    else:
        right["title"] = "Carte "
    assert digest(left) != digest(right)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=6), st.floats(allow_nan=True)), max_size=8),
       st.integers(0, 7))
def test_digest_follows_the_rows_of_a_frame(rows, i):
    """Equal frames hash equal; changing one cell's text changes the hash."""
    df = pd.DataFrame(rows, columns=["name", "x"])
    assert digest(df) == digest(df.copy())
    if rows:
        j = i % len(rows)
        changed = df.copy()
        changed.loc[j, "name"] = changed.loc[j, "name"] + "!"
        assert digest(changed) != digest(df)


# ----------------------------------------------------------------------- the cache

def test_second_render_comes_from_the_cache(tmp_path):
    cache = RenderCache(tmp_path / "r")
    draw, calls = counting(b"\x89PNG one")
    assert cache.get("chart", (_frame(), "t"), draw) == b"\x89PNG one"
    again = RenderCache(tmp_path / "r")  # another run
    assert again.get("chart", (_frame(), "t"), draw) == b"\x89PNG one"
    assert len(calls) == 1 and (again.hits, again.misses) == (1, 0)
    # other inputs, or another kind of render: drawn
    again.get("chart", (_frame(), "u"), draw)
    again.get("map", (_frame(), "t"), draw)
    assert len(calls) == 3


def test_changed_code_draws_again(tmp_path):
    draw, calls = counting(b"png")
    RenderCache(tmp_path).get("chart", "x", draw)
    RenderCache(tmp_path, fingerprint="another version").get("chart", "x", draw)
    assert len(calls) == 2
    assert RenderCache(tmp_path).fingerprint == rendercache.PROCESS_FINGERPRINT


def test_fingerprint_is_the_code_this_process_imported(tmp_path, monkeypatch):
    """A source file edited after the import (a notebook kernel still running the old code)
    does not change the key: the old code's drawing is not filed under the new code."""
    before = RenderCache(tmp_path).key("chart", "x")
    monkeypatch.setattr(rendercache, "code_fingerprint", lambda: "edited on disk")
    assert RenderCache(tmp_path).key("chart", "x") == before


def test_fingerprint_follows_the_package_source_not_its_bytecode(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    (pkg / "templates").mkdir(parents=True)
    (pkg / "__pycache__").mkdir()
    init = pkg / "__init__.py"
    init.write_text("x = 1\n")
    (pkg / "templates" / "report.html.j2").write_text("<p>{{ x }}</p>")
    (pkg / "__pycache__" / "mod.pyc").write_bytes(b"1")

    class Fake:
        __file__ = str(init)

    monkeypatch.setattr(rendercache, "import_module", lambda name: Fake)
    before = rendercache.code_fingerprint()
    (pkg / "__pycache__" / "mod.pyc").write_bytes(b"2")
    assert rendercache.code_fingerprint() == before
    (pkg / "templates" / "report.html.j2").write_text("<p>{{ x }} </p>")
    changed = rendercache.code_fingerprint()
    assert changed != before
    (pkg / "templates" / "report.html.j2").write_text("<p>{{ x }}</p>")
    init.write_text("x = 2\n")
    assert rendercache.code_fingerprint() not in (before, changed)


def test_damaged_entry_is_drawn_again_not_trusted(tmp_path, caplog):
    cache = RenderCache(tmp_path)
    draw, calls = counting(b"good")
    cache.get("chart", "x", draw)
    (entry,) = tmp_path.glob("chart-*.pkl")
    entry.write_bytes(b"\x80\x05 not a pickle")
    assert RenderCache(tmp_path).get("chart", "x", draw) == b"good"
    assert len(calls) == 2 and "unreadable" in caplog.text


def test_no_directory_draws_every_time(tmp_path):
    cache = RenderCache(None)
    draw, calls = counting(b"png")
    cache.get("chart", "x", draw)
    cache.get("chart", "x", draw)
    assert len(calls) == 2 and cache.misses == 2


def test_unwritable_directory_still_renders(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    draw, calls = counting(b"png")
    assert RenderCache(blocker / "r").get("chart", "x", draw) == b"png"


def test_a_failed_drawing_stores_nothing(tmp_path):
    def fail():
        raise ValueError("no data")

    with pytest.raises(ValueError, match="no data"):
        RenderCache(tmp_path).get("chart", "x", fail)
    assert not list(tmp_path.glob("*.pkl"))


def test_entry_kept_when_it_cannot_be_marked_recent(tmp_path, monkeypatch, caplog):
    """A read-only cache (another user's, a shared mirror) still serves its renders."""
    draw, calls = counting(b"png")
    RenderCache(tmp_path).get("chart", "x", draw)

    def refuse(*_a, **_k):
        raise PermissionError("read-only")

    monkeypatch.setattr(rendercache.os, "utime", refuse)
    cache = RenderCache(tmp_path)
    assert cache.get("chart", "x", draw) == b"png"
    assert len(calls) == 1 and cache.hits == 1 and "unreadable" not in caplog.text


def test_cache_bounded_in_bytes(tmp_path):
    cache = RenderCache(tmp_path, max_bytes=3000)
    for i in range(5):
        cache.get("map", i, lambda i=i: bytes([i]) * 1000)
    sizes = [p.stat().st_size for p in tmp_path.glob("*.pkl")]
    assert sum(sizes) <= 3000 and len(sizes) == 2
    # the newest is kept
    assert (tmp_path / f"map-{cache.key('map', 4)}.pkl").is_file()


def test_least_recently_used_renders_are_removed_first(tmp_path):
    cache = RenderCache(tmp_path, max_entries=3)
    for i in range(3):
        cache.get("chart", i, lambda i=i: bytes([i]))
    # the oldest entry, used again, is kept; the least recently used one goes
    old = time.time() - 100
    for k, p in enumerate(sorted(tmp_path.glob("*.pkl"), key=lambda p: p.stat().st_mtime_ns)):
        os.utime(p, (old + k, old + k))
    first = tmp_path / f"chart-{cache.key('chart', 0)}.pkl"
    second = tmp_path / f"chart-{cache.key('chart', 1)}.pkl"
    os.utime(first, (old - 50, old - 50))
    os.utime(second, (old - 10, old - 10))
    cache.get("chart", 0, lambda: b"unused")  # a hit: now the most recent
    cache.get("chart", 3, lambda: b"\x03")
    left = sorted(p.name for p in tmp_path.glob("*.pkl"))
    assert len(left) == 3
    assert first.name in left and second.name not in left


# ------------------------------------------------------------- a study's renders

@pytest.fixture(scope="module")
def small_result(data_dir):
    """The reference study with a few draws (tornado charts) and its printable maps."""
    cfg, keys = load_config(ROOT / "examples" / "campagnes-artois.toml")
    cfg.uncertainty.draws = 40
    cfg.output.raster = False
    cfg.output.qgis = False
    return study.run_study(cfg, overridden=keys, data_dir=data_dir)


def _with_cache(res, folder):
    return dataclasses.replace(res, prepared=dataclasses.replace(res.prepared,
                                                                 render_cache=folder))


def _count_drawings(monkeypatch) -> dict:
    """Wrap the drawing functions: how often each one runs."""
    from territorial_geo import maps, scenarios, uncertainty

    counts = {"tornado": 0, "static": 0, "web": 0, "sweep": 0}
    for mod, name, key in ((uncertainty, "_tornado_png", "tornado"),
                           (maps, "_static_pngs", "static"), (maps, "folium_map", "web"),
                           (scenarios, "_comparison_png", "sweep")):
        real = getattr(mod, name)

        def wrapped(*a, real=real, key=key, **k):
            counts[key] += 1
            return real(*a, **k)

        monkeypatch.setattr(mod, name, wrapped)
    return counts


def test_study_renders_reused_are_the_ones_drawing_gives(small_result, tmp_path,
                                                         monkeypatch):
    assert small_result.prepared.render_cache is not None  # on by default, in the data dir
    counts = _count_drawings(monkeypatch)
    res = _with_cache(small_result, tmp_path / "renders")
    first = study.write_outputs(res, tmp_path / "first")
    drawn_first = dict(counts)
    assert drawn_first["tornado"] >= 2 and drawn_first["static"] == drawn_first["web"] == 1
    n_entries = len(list((tmp_path / "renders").glob("*.pkl")))
    assert n_entries == sum(drawn_first.values())
    again = study.write_outputs(res, tmp_path / "again")
    assert counts == drawn_first  # nothing drawn the second time
    assert len(list((tmp_path / "renders").glob("*.pkl"))) == n_entries
    drawn = study.write_outputs(_with_cache(small_result, None), tmp_path / "drawn")
    pngs = sorted(p.name for p in first.glob("*.png"))
    assert any(n.startswith("tornado_") for n in pngs) and any(n.startswith("map_")
                                                              for n in pngs)
    for n in pngs:
        assert _sha(again / n) == _sha(drawn / n) == _sha(first / n), n
    assert _sha(again / "map.html") == _sha(first / "map.html")
    assert _sha(again / "report.html") == _sha(drawn / "report.html")


def test_study_in_another_language_draws_its_own_renders(small_result, tmp_path):
    res = _with_cache(small_result, tmp_path / "renders")
    fr = study.write_outputs(res, tmp_path / "fr")
    n_fr = len(list((tmp_path / "renders").glob("*.pkl")))
    cfg = dataclasses.replace(small_result.config,
                              output=dataclasses.replace(small_result.config.output, lang="en"))
    en = study.write_outputs(dataclasses.replace(res, config=cfg), tmp_path / "en")
    assert len(list((tmp_path / "renders").glob("*.pkl"))) == 2 * n_fr
    for p in fr.glob("*.png"):
        assert _sha(en / p.name) != _sha(p), p.name
    assert 'lang="en"' in (en / "map.html").read_text(encoding="utf-8")


def test_render_cache_off_in_the_config_keeps_nothing(data_dir, tmp_path, monkeypatch):
    cfg, keys = load_config(ROOT / "examples" / "campagnes-artois.toml")
    cfg.output.render_cache = False
    cfg.uncertainty.draws = 0
    cfg.output.raster = False
    res = study.run_study(cfg, overridden=keys, data_dir=data_dir)
    assert res.prepared.render_cache is None
    renders = data_dir / "cache" / "renders"
    before = sorted(renders.glob("*.pkl")) if renders.is_dir() else []
    counts = _count_drawings(monkeypatch)
    study.write_outputs(res, tmp_path / "a")
    study.write_outputs(res, tmp_path / "b")
    assert counts["static"] == counts["web"] == 2  # drawn each time
    assert (sorted(renders.glob("*.pkl")) if renders.is_dir() else []) == before


# ------------------------------------------------------------------ the workbook

def test_workbook_writes_text_as_text_numbers_as_numbers(tmp_path):
    df = pd.DataFrame({
        "name": ["=HYPERLINK(\"http://x\",\"clic\")", "http://example.org", "+33 1", "Arras"],
        "n": np.array([1, 2, 3, 4], dtype=np.int64),
        "x": [1.5, float("nan"), np.float32(2.25), -0.0],
        "flag": [True, False, True, False],
    })
    exports.write_workbook(tmp_path / "w.xlsx", {"a very long sheet name over 31 chars": df})
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    (ws,) = wb.worksheets
    assert ws.title == "a very long sheet name over 31 chars"[:31]
    assert [c.value for c in ws[1]] == ["name", "n", "x", "flag"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == list(df["name"])
    assert all(ws.cell(row=i, column=1).data_type == "s" for i in range(2, 6))
    assert not ws["A2"].hyperlink and not ws["A3"].hyperlink
    assert [r[1] for r in rows] == [1, 2, 3, 4]
    assert rows[0][2] == 1.5 and rows[1][2] is None and rows[2][2] == 2.25
    assert [r[3] for r in rows] == [True, False, True, False]
    assert ws.column_dimensions["A"].width >= len(df["name"].iloc[0])


def test_tornado_with_another_title_is_drawn_not_reused(small_result, tmp_path):
    from territorial_geo import demand, uncertainty

    cache = RenderCache(tmp_path / "r")
    y = int(small_result.sensitivity["year"].max())
    kw = {"zone": demand.ALL_ZONES, "variant": demand.UNION, "year": y, "cache": cache}
    a = uncertainty.tornado_chart(small_result.sensitivity, tmp_path / "a.png", title="A", **kw)
    b = uncertainty.tornado_chart(small_result.sensitivity, tmp_path / "b.png", title="B", **kw)
    c = uncertainty.tornado_chart(small_result.sensitivity, tmp_path / "c.png", title="A", **kw)
    assert _sha(a) != _sha(b) and _sha(c) == _sha(a)
    assert (cache.hits, cache.misses) == (1, 2)


def test_web_map_drawn_again_when_leaflet_becomes_available(small_result, tmp_path):
    """A map drawn while Leaflet was not fetched (loaded from a CDN) is not reused once it
    is: the page then inlines it."""
    assert small_result.prepared.leaflet is not None
    res = _with_cache(small_result, tmp_path / "r")
    online = dataclasses.replace(res, prepared=dataclasses.replace(res.prepared, leaflet=None))
    a = study.write_outputs(online, tmp_path / "online") / "map.html"
    b = study.write_outputs(res, tmp_path / "offline") / "map.html"
    cdn = '<script src="https://cdn.jsdelivr.net/npm/leaflet'
    assert cdn in a.read_text(encoding="utf-8")
    assert cdn not in b.read_text(encoding="utf-8")


def test_sweep_charts_reused_are_the_ones_drawing_gives(data_dir, tmp_path, monkeypatch):
    from territorial_geo import scenarios

    cfg, _keys = load_config(ROOT / "examples" / "campagnes-artois.toml")
    cfg.uncertainty.draws = 0
    sw = scenarios.build_sweep(cfg, vary={"zoning.budget_min": ["8", "12"]})
    res = scenarios.run_sweep(cfg, sw, data_dir=data_dir)
    assert res.render_cache is not None
    res = dataclasses.replace(res, render_cache=tmp_path / "r")
    counts = _count_drawings(monkeypatch)
    first = scenarios.write_sweep(res, tmp_path / "first")
    n = len(list((tmp_path / "r").glob("*.pkl")))
    assert n == 2 * len(list(first.glob("chart_*.png")))  # a chart and a tornado per zone
    drawn = dict(counts)
    assert drawn["sweep"] == drawn["tornado"] == n // 2
    again = scenarios.write_sweep(res, tmp_path / "again")
    assert counts == drawn
    drawn = scenarios.write_sweep(dataclasses.replace(res, render_cache=None), tmp_path / "d")
    assert len(list((tmp_path / "r").glob("*.pkl"))) == n
    for p in first.glob("*.png"):
        assert _sha(again / p.name) == _sha(drawn / p.name) == _sha(p)
    # another sweep of the same study: its charts are drawn, not taken from the first
    other = scenarios.run_sweep(cfg, scenarios.build_sweep(
        cfg, vary={"zoning.budget_min": ["8", "15"]}), data_dir=data_dir)
    out = scenarios.write_sweep(dataclasses.replace(other, render_cache=tmp_path / "r"),
                                tmp_path / "other")
    assert _sha(out / "chart_all.png") != _sha(first / "chart_all.png")


def test_inputs_that_cannot_be_hashed_are_drawn_not_cached(tmp_path):
    draw, calls = counting(b"png")
    unpicklable = {"f": lambda x: x}
    cache = RenderCache(tmp_path)
    assert cache.get("chart", unpicklable, draw) == b"png"
    assert cache.get("chart", unpicklable, draw) == b"png"
    assert len(calls) == 2 and not list(tmp_path.glob("*.pkl"))


def test_matplotlib_style_of_the_session_does_not_change_the_charts(small_result, tmp_path):
    """A chart is drawn in matplotlib's default style whatever the session's style: the
    cached bytes stay the ones any run would draw."""
    import matplotlib
    import matplotlib.pyplot as plt

    from territorial_geo import demand, uncertainty

    y = int(small_result.sensitivity["year"].max())
    kw = {"zone": demand.ALL_ZONES, "variant": demand.UNION, "year": y, "title": "A"}
    plain = uncertainty.tornado_chart(small_result.sensitivity, tmp_path / "a.png", **kw)
    with matplotlib.rc_context():
        plt.style.use("dark_background")
        matplotlib.rcParams["font.size"] = 20
        styled = uncertainty.tornado_chart(small_result.sensitivity, tmp_path / "b.png", **kw)
        assert matplotlib.rcParams["font.size"] == 20  # the session's style is restored
    assert _sha(styled) == _sha(plain)


def test_workbook_sheet_names_made_valid_and_unique(tmp_path):
    df = pd.DataFrame({"a": [1]})
    names = ["places par zone et par année de l'étude", "Places par zone et par année de "
             "l'étude (copie)", "a/b:c"]
    exports.write_workbook(tmp_path / "w.xlsx", dict.fromkeys(names, df))
    titles = openpyxl.load_workbook(tmp_path / "w.xlsx").sheetnames
    assert titles == ["places par zone et par année de", "Places par zone et par anné (2)",
                      "a-b-c"]
