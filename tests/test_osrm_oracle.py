"""OSRM as the oracle of detailed-network drive times.

For each OSM fixture of the mirror (Saint-Barthélemy, Gibraltar), OSRM data are built with
osrm-bindings' own tools and stock ``car.lua`` (extract, partition, customize: MLD) in a
temporary folder, and OSRM's ``table`` is compared with our times on every ordered pair of
300 seeded points.

Fair comparison: OSRM does not time the leg from a coordinate to the road (it projects the
coordinate on the nearest road segment and starts there). The points are therefore drawn ON
our drivable roads (a random directed edge, weighted by length, at a random fraction in
[0.15, 0.85] of it, away from junctions), so that both engines start on the same road with a
snap leg of ~0 m on our side (checked: max ``snap_m`` < 0.5 m). Only pairs both engines
time (finite, origin != target) are compared.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from territorial_geo import network as N
from territorial_geo import sources

MIRROR = sources.default_mirror() or Path("/nonexistent")
FIXTURES = {name: MIRROR / "roads" / "fixtures" / f"{name}.osm.pbf"
            for name in ("saint_barthelemy", "gibraltar")}
N_POINTS = 300
HAVE_OSRM = importlib.util.find_spec("osrm") is not None

pytestmark = pytest.mark.skipif(
    not HAVE_OSRM, reason="osrm-bindings is not installed (pip install 'territorial-geo[osrm]')")


def osrm_build(pbf: Path, folder: Path) -> Path:
    """OSRM MLD data of ``pbf`` with the stock car profile; returns the ``.osrm`` base."""
    import osrm

    root = Path(osrm.__file__).parent
    bindir, profile = root / "bin", root / "share" / "profiles" / "car.lua"
    shutil.copy(pbf, folder / pbf.name)
    src = folder / pbf.name
    base = folder / pbf.name.replace(".osm.pbf", ".osrm")
    for cmd in ([bindir / "osrm-extract", "-p", profile, src, "-t", "1"],
                [bindir / "osrm-partition", base, "-t", "1"],
                [bindir / "osrm-customize", base, "-t", "1"]):
        subprocess.run([str(c) for c in cmd], check=True, capture_output=True, cwd=folder)
    return base


def road_points(net: N.RoadNetwork, n: int, seed: int) -> gpd.GeoSeries:
    """``n`` seeded points on the network's drivable roads (EPSG:2154), away from nodes."""
    rng = np.random.default_rng(seed)
    e = net.edges
    w = e["length_m"].to_numpy(float)
    idx = rng.choice(len(e), size=n, replace=False, p=w / w.sum())
    frac = rng.uniform(0.15, 0.85, size=n)
    pts = shapely.line_interpolate_point(e.geometry.to_numpy()[idx], frac, normalized=True)
    return gpd.GeoSeries(pts, crs=sources.WORKING_CRS)


def osrm_table(base: Path, pts: gpd.GeoSeries) -> np.ndarray:
    """OSRM ``table`` durations (s) between all points (NaN when OSRM finds no route)."""
    import osrm

    ll = pts.to_crs(sources.WEB_CRS)
    engine = osrm.OSRM(storage_config=str(base), algorithm="MLD", use_shared_memory=False)
    params = osrm.TableParameters(coordinates=list(zip(ll.x, ll.y, strict=True)))
    res = engine.Table(params)
    return np.array([[np.nan if d is None else float(d) for d in row]
                     for row in res["durations"]])


def our_table(net: N.RoadNetwork, pts: gpd.GeoSeries) -> tuple[np.ndarray, pd.DataFrame]:
    snap = net.snap(pts)
    t = N.snapped_times(net, snap, snap, 1e7, reverse=False)
    m = np.full((len(pts), len(pts)), np.nan)
    m[t["origin"].to_numpy(), t["target"].to_numpy()] = t["time_s"].to_numpy()
    return m, snap


def ratio_figures(ours: np.ndarray, ref: np.ndarray) -> dict:
    """Median ratio ours/OSRM, p10, p90, median |log ratio| and the share of pairs within
    5 % over comparable pairs."""
    off = ~np.eye(len(ours), dtype=bool)
    ok = off & np.isfinite(ours) & np.isfinite(ref) & (ref > 0) & (ours > 0)
    r = ours[ok] / ref[ok]
    return {"pairs": int(ok.sum()), "median": float(np.median(r)),
            "p10": float(np.quantile(r, 0.1)), "p90": float(np.quantile(r, 0.9)),
            "median_abs_log": float(np.median(np.abs(np.log(r)))),
            "within_5pct": float(np.mean(np.abs(np.log(r)) < np.log(1.05)))}


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """Per fixture: our network, the points, OSRM's table (built once per module)."""
    out = {}
    for name, pbf in FIXTURES.items():
        if not pbf.is_file():
            pytest.skip(f"mirror fixture {pbf} missing")
        base = osrm_build(pbf, tmp_path_factory.mktemp(f"osrm-{name}"))
        net = N.read_pbf(pbf)
        pts = road_points(net, N_POINTS, seed=18)
        out[name] = (pbf, net, pts, osrm_table(base, pts))
    return out


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_our_times_agree_with_osrm_car(oracle, name):
    """Median ratio ours/OSRM in [0.95, 1.05] and median |log ratio| <= 0.08 on 300 road
    points (every ordered pair), snap legs ~0 on both sides; p10 >= 0.90, p90 <= 1.10 and
    at least 75 % of the pairs within 5 %."""
    _, net, pts, ref = oracle[name]
    ours, snap = our_table(net, pts)
    assert float(snap["snap_m"].max()) < 0.5
    f = ratio_figures(ours, ref)
    assert f["pairs"] >= 0.8 * N_POINTS * (N_POINTS - 1), f
    assert 0.95 <= f["median"] <= 1.05, f
    assert f["median_abs_log"] <= 0.08, f
    # the tails too: one rule broken (a class speed, one-way tags) moves a tenth of the
    # pairs by more than 10 % while the median barely moves
    assert 0.90 <= f["p10"] and f["p90"] <= 1.10, f
    assert f["within_5pct"] >= 0.75, f


def test_osrm_is_a_real_oracle(oracle):
    """The comparison can fail: the same points on a network timed at twice the speed give a
    median ratio near 0.5 (the check is not true by construction)."""
    pbf, net, pts, ref = oracle["gibraltar"]
    fast = N.read_pbf(pbf, profile=dataclasses.replace(net.profile, factor=2.0))
    ours, _ = our_table(fast, pts)
    f = ratio_figures(ours, ref)
    assert f["median"] < 0.8, f


def main() -> None:  # pragma: no cover - figures for the report: python tests/test_osrm_oracle.py
    import tempfile

    for name, pbf in FIXTURES.items():
        with tempfile.TemporaryDirectory() as d:
            base = osrm_build(pbf, Path(d))
            net = N.read_pbf(pbf)
            pts = road_points(net, N_POINTS, seed=18)
            ref = osrm_table(base, pts)
            ours, snap = our_table(net, pts)
            sys.stdout.write(f"{name}: {ratio_figures(ours, ref)} max snap "
                             f"{snap['snap_m'].max():.3f} m\n")


if __name__ == "__main__":  # pragma: no cover
    main()
