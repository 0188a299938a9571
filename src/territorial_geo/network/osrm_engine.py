"""OSRM as the routing engine (``engine = "osrm"``): times computed by OSRM itself.

OSRM (Open Source Routing Machine) is the router INSEE adopted for its Metric distance tool.
For an OpenStreetMap network, this module prepares OSRM's data once per extract and profile
(``osrm-extract``, ``osrm-partition``, ``osrm-customize``: the multi-level Dijkstra, MLD,
pipeline of osrm-bindings) and answers the routing questions of zoning and coverage with
OSRM's ``table`` service, through :class:`OsrmEngine`, whose methods are those of the
built-in :class:`~territorial_geo.network.engine.BuiltinEngine`.

What OSRM routes on
    The OSM file the built-in network was read from: the clipped extract of
    :func:`~territorial_geo.network.osm.read_pbf` (drivable ways with a node in the study box
    plus margin, whole, with their tagged nodes: traffic signals and barriers count), or the
    whole file when there was no clip. The clip keeps ways only, so OSM turn-restriction
    relations are not seen by OSRM (nor by the built-in engine).
Where the data is cached
    Beside the clipped extract (``DATA/cache/networks``), in one folder per extract and
    profile, ``routing-osrm-<extract sha256>-<profile key>``, built in a temporary folder
    and renamed into place when the three steps succeeded: a killed or failed build leaves
    only a ``.routing-osrm-...`` temporary folder that no run reads (removed after a day).
What the times are
    OSRM ``table`` durations (seconds) between the points as OSRM snaps them (nearest road
    of its profile's network). Unlike the built-in engine, the leg from a point to its road
    is not timed (OSRM's convention); the snap distances on the built-in network are still
    reported in the outputs. Zone members and coverage are asked point by point; isochrone
    polygons and the raster are drawn from one sample node per :data:`SAMPLE_M` cell.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from territorial_geo import sources
from territorial_geo.errors import NetworkError
from territorial_geo.network.graph import RoadNetwork
from territorial_geo.sources import WORKING_CRS

log = logging.getLogger(__name__)

#: How to get OSRM when it is missing (the ``osrm`` extra of ``pyproject.toml``).
INSTALL_HINT = "pip install 'territorial-geo[osrm]'"
#: The three OSRM steps of the MLD pipeline, in order.
STEPS = ("extract", "partition", "customize")
#: Manifest written last in a prepared OSRM folder.
MANIFEST = "osrm.json"
#: Number of sources per ``table`` request (bounds the size of one answer; ASSUMPTION:
#: a memory/speed trade-off, not a method parameter).
CHUNK = 20_000
#: Fastest plausible car speed (km/h) used to bound the isochrone sample points around a
#: town: 130 km/h is the French motorway limit (Code de la route R413-2); the built-in
#: network's own fastest edge is used when faster. OSRM's car.lua never exceeds the tagged
#: limit (it drives at 80 % of it, ``speed_reduction = 0.8``).
MAX_KMH = 130.0
#: Side (metres) of the square cells in which one network node is asked to OSRM as an
#: isochrone / raster sample point; every other node of the cell takes that node's time.
#: ASSUMPTION (a cost/precision trade-off, ``zoning.osrm_sample_m``): OSRM's multi-level
#: ``table`` costs a search per source point (about 1-5 ms each on the region-sized
#: benchmark), so asking every node of a detailed network (hundreds of thousands) is
#: impractical; at 1000 m the polygon's frontier is drawn to about one cell's drive time
#: (1-1.5 min at 40-60 km/h); 500 m halves that for about four times the OSRM time
#: (benchmarks/bench_osrm.py).
#: Zone members and coverage times are always asked point by point, never sampled.
SAMPLE_M = 1000.0
#: Stale temporary build folders older than this are removed before a new build
#: (ASSUMPTION: no build of a study extract runs for a day).
STALE_BUILD_S = 86_400


def require_osrm():
    """Import osrm-bindings, or raise a one-line error saying how to install it.

    Raises
    ------
    NetworkError
        osrm-bindings is not installed.
    """
    try:
        import osrm
    except ImportError as exc:
        raise NetworkError(
            f"engine = 'osrm' needs osrm-bindings, which is not installed: {INSTALL_HINT} "
            "(wheels for CPython >= 3.12 on Linux x86_64), or use engine = 'builtin'") from exc
    return osrm


def osrm_version() -> str:
    """Version of the installed osrm-bindings (``""`` when unknown)."""
    from importlib import metadata

    try:
        return metadata.version("osrm-bindings")
    except metadata.PackageNotFoundError:
        return ""


def stock_profile() -> Path:
    """OSRM's stock ``car.lua`` shipped with osrm-bindings."""
    osrm = require_osrm()
    return Path(osrm.__file__).parent / "share" / "profiles" / "car.lua"


def resolve_profile(profile: str | os.PathLike | None) -> Path:
    """The profile file to use: ``None``/``""``/``"car"`` is the stock car.lua, else a path.

    Raises
    ------
    NetworkError
        The file does not exist (named, with what to do).
    """
    if profile is None or str(profile).strip() in ("", "car", "car.lua"):
        return stock_profile()
    p = Path(profile).expanduser()
    if not p.is_file():
        raise NetworkError(
            f"OSRM profile {p} not found: give an existing .lua profile file "
            "(zoning.osrm_profile / --osrm-profile) or leave it unset for OSRM's stock car.lua")
    return p.resolve()


def _binary(name: str) -> Path:
    osrm = require_osrm()
    exe = Path(osrm.__file__).parent / "bin" / f"osrm-{name}"
    if not exe.is_file():
        found = shutil.which(f"osrm-{name}")
        if not found:
            raise NetworkError(f"osrm-{name} not found in osrm-bindings ({exe}); reinstall it: "
                               f"{INSTALL_HINT}")
        exe = Path(found)
    return exe


def _error_line(log_path: Path) -> str:
    """The most telling line of an OSRM tool's log (its last error, else its last line)."""
    try:
        lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines()
                 if ln.strip()]
    except OSError:
        return "no output"
    errors = [ln for ln in lines if "[error]" in ln.lower() or "error" in ln.lower()]
    text = (errors or lines or ["no output"])[-1]
    return text.split("] ", 2)[-1][:300]


def _vm_hwm_mb(pid: int) -> float:
    """Peak resident memory (``VmHWM``) of a running process in MB (Linux; 0 elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _run_step(step: str, args: list[str], log_path: Path) -> dict:
    """Run one OSRM tool; its wall time and its own peak resident memory (``VmHWM`` of its
    process, read until it exits: ``wait4``'s ``ru_maxrss`` would count the memory of the
    Python process it was started from)."""
    t0 = time.perf_counter()
    peak = 0.0
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(_binary(step)), *args], stdout=out, stderr=subprocess.STDOUT)
        while True:
            peak = max(peak, _vm_hwm_mb(proc.pid))
            try:
                proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                continue
    return {"seconds": round(time.perf_counter() - t0, 3), "peak_rss_mb": round(peak, 1),
            "returncode": proc.returncode}


def profile_key(profile: Path) -> str:
    """Key of a profile: its text and the OSRM version (the stock profile's ``lib/`` changes
    with it)."""
    h = hashlib.sha256(profile.read_bytes())
    h.update(osrm_version().encode())
    return h.hexdigest()[:12]


def osrm_folder(pbf: Path, profile: Path, cache_dir: Path) -> Path:
    """Where the OSRM data of ``pbf`` prepared with ``profile`` lives (built or not)."""
    # no ".osrm" in a folder name: OSRM's tools strip it from paths (atomic_dir's temporary
    # folder is the name with a leading dot)
    return cache_dir / f"routing-osrm-{sources.sha256_of(pbf)[:12]}-{profile_key(profile)}"


def prepare(
    pbf: str | os.PathLike,
    *,
    profile: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    threads: int | None = None,
) -> Path:
    """OSRM's MLD data for an OSM extract and profile, built once and cached atomically.

    Parameters
    ----------
    pbf
        The OpenStreetMap extract (the clipped extract of a study).
    profile
        A ``.lua`` OSRM profile; ``None`` is OSRM's stock ``car.lua``.
    cache_dir
        Folder of the cache (default: beside ``pbf``).
    threads
        Threads of the OSRM tools (default: every core).

    Returns
    -------
    pathlib.Path
        The ``.osrm`` base path to open with ``osrm.OSRM``.

    Raises
    ------
    NetworkError
        osrm-bindings missing, the profile or the PBF missing, or an OSRM step failing (the
        file and the tool's message named; nothing is left in the cache).
    """
    require_osrm()
    pbf = Path(pbf)
    prof = resolve_profile(profile)
    if not pbf.is_file():
        raise NetworkError(f"OpenStreetMap file {pbf} not found: OSRM needs the extract the "
                           "network was read from; run the study again without the cache")
    cache = Path(cache_dir) if cache_dir is not None else pbf.parent
    folder = osrm_folder(pbf, prof, cache)
    base = folder / "data.osrm"
    if (folder / MANIFEST).is_file():
        return base
    _remove_stale_builds(cache)
    threads = str(threads or os.cpu_count() or 1)

    def build(tmp: Path) -> None:
        out = tmp / "data.osrm"
        steps = {}
        args = {"extract": ["-p", str(prof), "-t", threads, "-o", str(tmp / "data"),
                            str(pbf.resolve())],
                "partition": ["-t", threads, str(out)],
                "customize": ["-t", threads, str(out)]}
        for step in STEPS:
            log.info("osrm-%s %s", step, pbf.name)
            res = _run_step(step, args[step], tmp / f"{step}.log")
            if res["returncode"] != 0:
                what = (f"OSRM cannot extract {pbf} with profile {prof}"
                        if step == "extract" else f"osrm-{step} failed on {pbf}")
                raise NetworkError(
                    f"{what} ({_error_line(tmp / f'{step}.log')}); check that the file is a "
                    "valid OSM PBF with drivable roads and that the profile is a valid OSRM "
                    "profile")
            steps[step] = res
        (tmp / MANIFEST).write_text(json.dumps({
            "pbf": str(pbf), "pbf_sha256": sources.sha256_of(pbf), "profile": str(prof),
            "profile_key": profile_key(prof), "osrm_bindings": osrm_version(),
            "algorithm": "MLD", "steps": steps}, indent=2))

    sources.atomic_dir(folder, build)
    return base


def _remove_stale_builds(cache: Path) -> None:
    if not cache.is_dir():
        return
    now = time.time()
    for d in cache.glob(".routing-osrm-*"):
        try:
            if d.is_dir() and now - d.stat().st_mtime > STALE_BUILD_S:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def manifest(base: str | os.PathLike) -> dict:
    """The manifest of prepared OSRM data (steps' seconds and peak memory, inputs)."""
    return json.loads((Path(base).parent / MANIFEST).read_text())


def network_extract(net: RoadNetwork) -> Path:
    """The OSM file OSRM must route on for a network read by
    :func:`~territorial_geo.network.osm.read_pbf`: its clipped extract, else its source file.

    A clipped extract missing from the cache (removed by hand while the graph cache stayed)
    is clipped again from the source file.

    Raises
    ------
    NetworkError
        The network was not read from an OpenStreetMap extract (approximate, BD TOPO, the
        classified skeleton): OSRM needs one.
    """
    src = net.source
    if src.get("format") != "osm-pbf" or net.kind != "detailed":
        what = src.get("spec") or src.get("format") or net.kind
        raise NetworkError(
            f"engine = 'osrm' needs an OpenStreetMap extract (network = 'osm:REGION' or a "
            f".osm.pbf path), not the {net.kind} network {what!r}; use engine = 'builtin' "
            "with it")
    clipped = src.get("clipped_pbf")
    if clipped:
        p = Path(clipped)
        if not p.is_file():
            if isinstance(src.get("pbf"), list):
                raise NetworkError(f"the merged extract {p} is missing from the cache; "
                                   "remove the cache folder and run again")
            from territorial_geo.network.osm import clip_pbf

            clip_pbf(src["pbf"], src["bbox_4326"], p)
        return p
    pbf = src.get("pbf") or src.get("path")
    if isinstance(pbf, list) or not pbf:
        raise NetworkError(f"engine = 'osrm': no single OpenStreetMap file for {src.get('path')}")
    return Path(pbf)


_TO_LONLAT = Transformer.from_crs(WORKING_CRS, 4326, always_xy=True)


def _lonlat(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
    lon, lat = _TO_LONLAT.transform(np.asarray(x, float), np.asarray(y, float))
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def _snap_xy(snap: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return snap["x"].to_numpy(float), snap["y"].to_numpy(float)


class OsrmEngine:
    """Routing by OSRM on prepared MLD data, with the methods of the built-in engine.

    Points are given as snap frames of the built-in network (:meth:`RoadNetwork.snap`),
    whose ``x``/``y`` (the points themselves, EPSG:2154) are what OSRM routes between; the
    network's nodes are the isochrone sample points (their OSRM times draw the polygons).

    Parameters
    ----------
    net
        The built-in network read from the same OSM file (polygons, raster, snap report).
    base
        ``.osrm`` base path from :func:`prepare`.
    profile
        The profile used (reported).
    sample_m
        Cell side of the isochrone / raster sample points (:data:`SAMPLE_M`); ``0`` asks
        every node.
    """

    name = "osrm"

    def __init__(self, net: RoadNetwork, base: str | os.PathLike, *, profile: Path,
                 sample_m: float = SAMPLE_M) -> None:
        osrm = require_osrm()
        self.net = net
        self.sample_m = float(sample_m)
        self.base = Path(base)
        self.profile = Path(profile)
        try:
            self._osrm = osrm.OSRM(storage_config=str(self.base), algorithm="MLD",
                                   use_shared_memory=False)
        except RuntimeError as exc:
            raise NetworkError(f"OSRM data {self.base} cannot be opened ({exc}); remove "
                               f"{self.base.parent} and run again") from exc
        self._TableParameters = osrm.TableParameters

    # -- the table service -------------------------------------------------------------
    def table(self, src: list[tuple[float, float]],
              dst: list[tuple[float, float]]) -> np.ndarray:
        """OSRM ``table`` durations (seconds, inf when unreachable), sources x destinations,
        for lon/lat points; requests of at most :data:`CHUNK` sources."""
        out = np.full((len(src), len(dst)), np.inf)
        if not len(src) or not len(dst):
            return out
        for a in range(0, len(src), CHUNK):
            part = src[a:a + CHUNK]
            p = self._TableParameters(
                coordinates=part + dst, sources=list(range(len(part))),
                destinations=list(range(len(part), len(part) + len(dst))),
                annotations=["duration"], generate_hints=False)
            p.skip_waypoints = True
            try:
                res = self._osrm.Table(p)
            except RuntimeError as exc:
                raise NetworkError(f"OSRM table on {self.base} failed: {exc}") from exc
            d = np.array([[np.inf if v is None else v for v in row] for row in res["durations"]],
                         dtype=float)
            out[a:a + len(part)] = d.reshape(len(part), len(dst))
        return out

    def _times(self, origin_snap: pd.DataFrame, tx: np.ndarray, ty: np.ndarray, *,
               reverse: bool) -> np.ndarray:
        """Origins x targets seconds; ``reverse``: travel from each target to the origin."""
        o = _lonlat(*_snap_xy(origin_snap))
        t = _lonlat(tx, ty)
        return self.table(t, o).T if reverse else self.table(o, t)

    @staticmethod
    def _pairs(m: np.ndarray, budget_s: float) -> pd.DataFrame:
        oi, ti = np.nonzero(m <= budget_s)
        return pd.DataFrame({"origin": oi.astype(np.int64), "target": ti.astype(np.int64),
                             "time_s": m[oi, ti]})

    # -- the methods of the built-in engine -------------------------------------------
    def snapped_times(self, origin_snap: pd.DataFrame, target_snap: pd.DataFrame,
                      budget_s: float, *, reverse: bool) -> pd.DataFrame:
        """Point-to-point times within a budget (``origin``, ``target`` rows, ``time_s``);
        ``reverse``: from each target to the origin."""
        m = self._times(origin_snap, *_snap_xy(target_snap), reverse=reverse)
        return self._pairs(m, budget_s)

    def samples(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sample points among ``nodes`` (positions): per :attr:`sample_m` cell, the node
        nearest the cell's centre. Returns the sample nodes and, for each of ``nodes``, the
        row of its cell's sample."""
        x = self.net.nodes["x"].to_numpy(float)[nodes]
        y = self.net.nodes["y"].to_numpy(float)[nodes]
        if self.sample_m <= 0 or len(nodes) == 0:
            return nodes, np.arange(len(nodes))
        cx, cy = np.floor(x / self.sample_m), np.floor(y / self.sample_m)
        d2 = (x - (cx + 0.5) * self.sample_m) ** 2 + (y - (cy + 0.5) * self.sample_m) ** 2
        cell = np.unique(np.c_[cx, cy], axis=0, return_inverse=True)[1].ravel()
        order = np.lexsort((d2, cell))
        first = order[np.r_[True, np.diff(cell[order]) != 0]]  # nearest the centre, per cell
        row_of_cell = np.empty(cell.max() + 1, np.int64)
        row_of_cell[cell[first]] = np.arange(len(first))
        return nodes[first], row_of_cell[cell]

    def node_times(self, origin_snap: pd.DataFrame, budget_s: float, *,
                   reverse: bool) -> pd.DataFrame:
        """Times between each origin and the network's nodes within the budget, for the
        isochrone polygons. Only nodes within ``budget_s`` at the fastest speed
        (:data:`MAX_KMH` or the network's fastest edge) of an origin can be reached; among
        them one sample node per :attr:`sample_m` cell is asked to OSRM and every node takes
        its cell's sample time."""
        nodes = self.net.nodes
        nx, ny = nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)
        ox, oy = _snap_xy(origin_snap)
        e = self.net.edges
        with np.errstate(divide="ignore", invalid="ignore"):
            fastest = np.nanmax(np.where(e["time_s"] > 0, e["length_m"] / e["time_s"], 0.0)) \
                if len(e) else 0.0
        radius = budget_s * max(MAX_KMH / 3.6, float(fastest))
        parts = []
        # one request per origin, with its own sample points: OSRM's table runs one search
        # per source point, which then only has to reach this origin
        for i, (x, y) in enumerate(zip(ox, oy, strict=True)):
            cand = np.flatnonzero((nx - x) ** 2 + (ny - y) ** 2 <= radius ** 2)
            sample, row = self.samples(cand)
            m = self._times(origin_snap.iloc[[i]], nx[sample], ny[sample],
                            reverse=reverse)[:, row]
            r = self._pairs(m, budget_s)
            parts.append(pd.DataFrame({"origin": np.full(len(r), i, np.int64),
                                       "target": cand[r["target"].to_numpy()],
                                       "time_s": r["time_s"].to_numpy()}))
        if not parts:
            return self._pairs(np.zeros((0, 0)), budget_s)
        return pd.concat(parts, ignore_index=True)

    def points_from_node_times(self, reached: pd.DataFrame, origin_snap: pd.DataFrame,
                               target_snap: pd.DataFrame, budget_s: float, *,
                               reverse: bool) -> pd.DataFrame:
        """Point times within the budget: OSRM is asked directly (``reached`` is not used)."""
        return self.snapped_times(origin_snap, target_snap, budget_s, reverse=reverse)

    def nearest_point_times(self, point_snap: pd.DataFrame, site_snap: pd.DataFrame, *,
                            direction: str = "to") -> tuple[np.ndarray, np.ndarray]:
        """Per point: seconds to (``"to"``) or from its nearest site, and that site's row."""
        from territorial_geo.network.routing import check_direction

        reverse = check_direction(direction)
        if len(site_snap) == 0:
            return np.full(len(point_snap), np.inf), np.full(len(point_snap), -1, np.int64)
        m = self._times(site_snap, *_snap_xy(point_snap), reverse=reverse)
        best = np.argmin(m, axis=0)
        t = m[best, np.arange(m.shape[1])]
        return t, np.where(np.isfinite(t), best, -1).astype(np.int64)

    def node_times_to_nearest(self, site_snap: pd.DataFrame, *,
                              direction: str = "to") -> np.ndarray:
        """Per node of the network, seconds to (``"to"``) or from the nearest site (one
        sample node per :attr:`sample_m` cell asked, its time given to the cell's nodes)."""
        from territorial_geo.network.routing import check_direction

        reverse = check_direction(direction)
        nodes = self.net.nodes
        if len(site_snap) == 0:
            return np.full(len(nodes), np.inf)
        sample, row = self.samples(np.arange(len(nodes)))
        m = self._times(site_snap, nodes["x"].to_numpy(float)[sample],
                        nodes["y"].to_numpy(float)[sample], reverse=reverse)
        return m.min(axis=0)[row]

    def info(self) -> dict:
        """What computed the times (written to parameters.json and the report)."""
        man = manifest(self.base)
        return {"engine": "osrm", "algorithm": "MLD", "osrm_bindings": man["osrm_bindings"],
                "profile": man["profile"], "extract": man["pbf"], "data": str(self.base),
                "snap_legs": "not timed (OSRM table convention)",
                "isochrone_sample_m": self.sample_m}
