"""Data directory, mirror discovery, downloads and ``territorial-geo data fetch``.

Where the mirror is looked for (first match wins):

1. an explicit ``mirror=`` argument (``territorial-geo data fetch --mirror DIR``);
   ``mirror=False`` uses no mirror at all;
2. ``$TERRITORIAL_GEO_MIRROR`` (the value ``none`` disables the search: official sources only);
3. ``../shared/data`` beside the repository that contains the current directory (its nearest
   ancestor holding ``pyproject.toml`` or ``.git``), so any sub-directory of a clone works;
4. ``../shared/data`` beside the current directory;
5. ``../shared/data`` beside the repository the package is installed from (editable installs).

A dataset is *present* when its file matches the catalog's pinned checksum (the mirror's
edition) or the checksum recorded in the data directory's state file (``.fetch-state.json``)
when it was built from official sources or downloaded from a live address, so a locally
built file is not fetched again on every run.

Downloads go to ``<file>.part`` and are renamed into place only once complete and verified:
an interrupted download never leaves a half-written file under the final name, and the next
fetch resumes it (HTTP ``Range`` or a local seek) or restarts cleanly when the server cannot
resume.

Why not pooch: it has no resume of partial downloads (regional OSM extracts are hundreds of
MB), no ``file://`` scheme (mirrors, proxy caches and tests use it), and retries only through
its registry objects; the ~150 lines here do exactly those three things and are tested
against ``file://`` URLs and a loopback HTTP server.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from territorial_geo.errors import DataFormatError, DataMissingError, UnknownPlaceError
from territorial_geo.sources.catalog import (
    CATALOG,
    ENV_DATA_DIR,
    ENV_MIRROR,
    ENV_URL_PREFIX,
    OPTIONAL,
    Dataset,
)
from territorial_geo.sources.osm import (
    OSM_DIR,
    check_region,
    extract_url,
    parse_md5_file,
    parse_osm_spec,
)

log = logging.getLogger(__name__)

STATE_FILE = ".fetch-state.json"
OFFICIAL_DIR = "official"
USER_AGENT = "territorial-geo/0.1 (+https://pypi.org/project/territorial-geo)"


# --------------------------------------------------------------------------------------
# data directory and mirror
# --------------------------------------------------------------------------------------


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the data directory: the argument, else ``$TERRITORIAL_GEO_DATA``, else ``data/``."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA_DIR) or "data"
    return Path(data_dir)


def find_repo_root(start: str | os.PathLike) -> Path | None:
    """Nearest ancestor of ``start`` (itself included) holding ``pyproject.toml`` or ``.git``."""
    p = Path(start).resolve()
    for cand in (p, *p.parents):
        if (cand / "pyproject.toml").is_file() or (cand / ".git").exists():
            return cand
    return None


def package_repo_root() -> Path | None:
    """The repository the package is imported from (``src/territorial_geo/..``), if any."""
    here = Path(__file__).resolve()
    for cand in here.parents:
        if (cand / "pyproject.toml").is_file() and (cand / "src" / "territorial_geo").is_dir():
            return cand
    return None


def mirror_candidates(cwd: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The places searched for a mirror, in order, each with a label (see the module doc)."""
    out: list[tuple[str, Path]] = []
    env = os.environ.get(ENV_MIRROR)
    if env and env.strip().lower() == "none":
        return out
    if env:
        out.append((f"${ENV_MIRROR}", Path(env)))
    here = Path(cwd) if cwd is not None else Path.cwd()
    repo = find_repo_root(here)
    if repo is not None:
        out.append(("../shared/data beside the repository of the current directory",
                    repo.parent / "shared" / "data"))
    out.append(("../shared/data beside the current directory", here.resolve().parent / "shared" / "data"))
    pkg = package_repo_root()
    if pkg is not None:
        out.append(("../shared/data beside the installed package's repository",
                    pkg.parent / "shared" / "data"))
    return out


def default_mirror(cwd: str | os.PathLike | None = None) -> Path | None:
    """The local mirror found by the documented search order, or ``None``.

    Raises
    ------
    DataMissingError
        When ``$TERRITORIAL_GEO_MIRROR`` is set to something that is not a directory.
    """
    env = os.environ.get(ENV_MIRROR)
    if env and env.strip().lower() == "none":
        return None
    if env and not Path(env).is_dir():
        raise DataMissingError(f"${ENV_MIRROR}={env} is not a directory; unset it or point it at "
                               "a mirror in the shared/data layout")
    for _label, cand in mirror_candidates(cwd):
        if cand.is_dir():
            return cand
    return None


# --------------------------------------------------------------------------------------
# files: checksums, atomic writes, downloads
# --------------------------------------------------------------------------------------


def file_digest(path: str | os.PathLike, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file (``sha256``, ``md5``...), read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    return file_digest(path, "sha256", chunk)


def atomic_write(path: Path, writer: Callable[[Path], None]) -> Path:
    """Write a file through ``writer(tmp_path)`` then rename it into place.

    Nothing is left at ``path`` if ``writer`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


#: ASSUMPTION (no source: an order of magnitude): a temporary folder whose writer cannot be
#: checked (written on another host, or named by an older version) is abandoned once older
#: than this; a study or an OSRM preparation writes its folder in minutes.
STALE_TEMP_AGE_S = 24 * 3600


def _host_tag() -> str:
    """This host's name as written in temporary folder names (letters, digits, ``-``, ``_``:
    never ``.osrm``, which OSRM's tools strip from paths)."""
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "host"


def _pid_alive(pid: int) -> bool | None:
    """Whether process ``pid`` of this host runs (``None``: cannot tell on this platform)."""
    if os.name != "posix":
        return None  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by another user
        return True
    return True


def stale_temp_folders(path: str | os.PathLike, *, now: float | None = None,
                       max_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Temporary folders :func:`atomic_dir` left beside ``path`` by runs that died.

    :func:`atomic_dir` writes ``path`` into ``.<name>.tmp-<host>-<pid>-<random>`` and moves the
    previous folder aside as ``.<name>.old-<host>-<pid>-<random>`` while it swaps them. Such a
    folder is stale when its writer is a process of this host that no longer runs, or, when
    that cannot be checked (another host sharing the disk, a non-POSIX system, a name without
    host and pid written by an older version), when it was last modified more than
    ``max_age_s`` seconds ago. A folder of a run still writing is never listed.

    Parameters
    ----------
    path
        The output folder (``maps/my-study``).
    now
        Current time (``time.time()``), for tests.
    max_age_s
        Age beyond which an uncheckable temporary folder is stale.

    Returns
    -------
    list of pathlib.Path
        The stale folders, sorted by name.
    """
    out = Path(path)
    if not out.parent.is_dir():
        return []
    now = time.time() if now is None else now
    name = re.escape(out.name)
    current = re.compile(rf"\.{name}\.(?:tmp|old)-(?P<host>.+)-(?P<pid>\d+)-[a-z0-9_]+")
    legacy = re.compile(rf"\.{name}\.(?:[a-z0-9_]{{8}}|old-\d+)")
    host = _host_tag()
    stale = []
    for p in sorted(out.parent.iterdir()):
        if not p.name.startswith(f".{out.name}.") or not p.is_dir() or p.is_symlink():
            continue
        m = current.fullmatch(p.name)
        alive = (_pid_alive(int(m["pid"])) if m and m["host"] == host
                 else None if m or legacy.fullmatch(p.name) else True)
        if alive is False or (alive is None and now - p.stat().st_mtime > max_age_s):
            stale.append(p)
    return stale


def clean_stale_temp_folders(path: str | os.PathLike, **kw) -> list[Path]:
    """Remove the stale temporary folders beside ``path`` (see :func:`stale_temp_folders`)
    and log a warning naming them.

    A run killed between moving the previous folder aside and renaming the new one into place
    leaves no folder at ``path``: the most recent stale ``.old-`` folder is then renamed back to
    ``path`` (the previous outputs, complete) instead of being removed.

    Parameters
    ----------
    path
        The output folder.
    **kw
        ``now``, ``max_age_s`` of :func:`stale_temp_folders`.

    Returns
    -------
    list of pathlib.Path
        The stale folders found (removed, or the one restored to ``path``).
    """
    out = Path(path)
    stale = stale_temp_folders(out, **kw)
    olds = [p for p in stale if p.name.startswith(f".{out.name}.old-")]
    restored = None
    if olds and not out.exists():
        restored = max(olds, key=lambda p: p.stat().st_mtime)
        os.replace(restored, out)
        log.warning("%s was missing after an interrupted run: restored the previous outputs "
                    "from %s", out, restored.name)
    removed = [p for p in stale if p != restored]
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    if removed:
        log.warning("removed %d temporary folder(s) left beside %s by interrupted runs: %s",
                    len(removed), out, ", ".join(p.name for p in removed))
    return stale


def atomic_dir(path: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    """Build a folder through ``writer(tmp_dir)`` beside ``path``, then rename it into place.

    An existing folder at ``path`` is replaced only once the new one is complete; nothing
    half-written is ever left at ``path`` if ``writer`` fails. The temporary folder is named
    ``.<name>.tmp-<host>-<pid>-<random>``; those left by killed runs are removed first (with a
    warning, see :func:`clean_stale_temp_folders`), those of runs still writing are kept.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_folders(out)
    tag = f"{_host_tag()}-{os.getpid()}-"
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{tag}", dir=out.parent))
    try:
        writer(tmp)
        os.chmod(tmp, 0o755)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{tag}{tmp.name.rpartition('-')[2]}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


class IncompleteDownload(OSError):
    """The connection ended before the announced size was received (retried, resumable)."""


#: Progress callback of the library: called with one short message per step (the CLI prints
#: them, ``--quiet`` passes none).
Progress = Callable[[str], None]


def _bar(total: int | None, initial: int, label: str, progress: Progress | None):
    """A byte progress bar on stderr, shown only when a ``progress`` callback is given."""
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=label,
                disable=progress is None, leave=False)


def _check_space(folder: Path, needed: int | None) -> None:
    if not needed:
        return
    free = shutil.disk_usage(folder).free
    if free < needed + (64 << 20):
        raise DataMissingError(
            f"not enough disk space in {folder}: the download needs {needed / 1e6:.0f} MB, "
            f"{free / 1e6:.0f} MB free"
        )


def _transfer(url: str, part: Path, *, resume: bool, label: str, progress: Progress | None,
              timeout: float, opener: Callable | None) -> None:
    """Append the rest of ``url`` to ``part`` (or rewrite it), raising if it ends early."""
    offset = part.stat().st_size if (resume and part.exists()) else 0
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "file":
        src = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
        if not src.is_file():
            raise FileNotFoundError(f"{src} not found")
        total = src.stat().st_size
        if offset > total:
            offset = 0
        _check_space(part.parent, total - offset)
        with open(src, "rb") as fin, open(part, "ab" if offset else "wb") as fout, \
                _bar(total, offset, label, progress) as bar:
            fin.seek(offset)
            while block := fin.read(1 << 20):
                fout.write(block)
                bar.update(len(block))
        got = part.stat().st_size
        if got != total:
            raise IncompleteDownload(f"{url}: got {got} of {total} bytes")
        return
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = (opener or urllib.request.urlopen)(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the part is complete or stale: restart cleanly
            part.unlink(missing_ok=True)
            raise IncompleteDownload(f"{url}: cannot resume at byte {offset}, restarting") from exc
        raise
    with resp:
        status = getattr(resp, "status", 200)
        length = resp.headers.get("Content-Length")
        if offset and status == 206:
            start = resp.headers.get("Content-Range", "")
            if not start.startswith(f"bytes {offset}-"):
                part.unlink(missing_ok=True)
                raise IncompleteDownload(f"{url}: unexpected Content-Range {start!r}, restarting")
            mode, total = "ab", (offset + int(length)) if length else None
        else:  # no resume support (200): start again from zero
            offset, mode, total = 0, "wb", int(length) if length else None
        _check_space(part.parent, (total - offset) if total else None)
        with open(part, mode) as fout, _bar(total, offset, label, progress) as bar:
            while block := resp.read(1 << 20):
                fout.write(block)
                bar.update(len(block))
    got = part.stat().st_size
    if total is not None and got != total:
        raise IncompleteDownload(f"{url}: got {got} of {total} bytes")


def download(
    url: str,
    dst: str | os.PathLike,
    *,
    expected: tuple[str, str] | None = None,
    label: str | None = None,
    progress: Progress | None = None,
    retries: int = 3,
    timeout: float = 60,
    resume: bool = True,
    opener: Callable | None = None,
) -> str:
    """Download ``url`` to ``dst`` through ``dst.part``, resuming and retrying; verify; rename.

    Parameters
    ----------
    url
        ``http(s)://`` or ``file://`` address.
    dst
        Final path; written only once the file is complete and its checksum verified.
    expected
        ``(algorithm, hexdigest)`` to verify, e.g. ``("md5", "...")``; ``None`` to skip.
    label
        Name shown beside the progress bar (default: the file name).
    progress
        Progress callback; when given, a byte progress bar is shown on stderr.
    retries
        Further attempts after a network failure, each resuming where the last one stopped.
    opener
        Replacement for :func:`urllib.request.urlopen` (tests).

    Returns
    -------
    str
        SHA-256 of the downloaded file.

    Raises
    ------
    DataMissingError
        When the download fails after all attempts (the ``.part`` file is kept for a resume).
    DataFormatError
        When the complete file does not match ``expected`` (the ``.part`` file is removed).
    """
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    label = label or dst.name
    last: BaseException | None = None
    for attempt in range(retries + 1):
        try:
            _transfer(url, part, resume=resume, label=label, progress=progress, timeout=timeout,
                      opener=opener)
            last = None
            break
        except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as exc:
            if isinstance(exc, FileNotFoundError) or (
                    isinstance(exc, urllib.error.HTTPError) and exc.code in (403, 404, 410)):
                raise DataMissingError(f"{url}: {exc}") from exc
            last = exc
            if attempt < retries:
                time.sleep(min(2.0 ** attempt, 30.0) if not url.startswith("file:") else 0)
    if last is not None:
        raise DataMissingError(
            f"download of {url} failed after {retries + 1} attempt(s) ({last}); "
            f"{part.name} was kept and the next fetch resumes it"
        ) from last
    if expected is not None:
        algo, want = expected
        got = file_digest(part, algo)
        if got.lower() != want.lower():
            part.unlink(missing_ok=True)
            raise DataFormatError(
                f"{url}: {algo} of the downloaded file is {got}, expected {want}; the file was "
                "removed (a truncated or changed file): fetch again"
            )
    digest = sha256_of(part)
    os.chmod(part, 0o644)
    os.replace(part, dst)
    return digest


def read_url_text(url: str, *, timeout: float = 60, opener: Callable | None = None) -> str:
    """Small text resource (a ``.md5`` file, a JSON index) from ``http(s)://`` or ``file://``."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with (opener or urllib.request.urlopen)(req, timeout=timeout) as resp:
            return resp.read().decode("utf-8")
    except (urllib.error.URLError, OSError) as exc:
        raise DataMissingError(f"{url}: {exc}") from exc


# --------------------------------------------------------------------------------------
# state file: checksums of what this data directory built or downloaded
# --------------------------------------------------------------------------------------


def load_state(root: Path) -> dict:
    """The data directory's fetch state (``{}`` when absent or unreadable)."""
    p = Path(root) / STATE_FILE
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def save_state(root: Path, state: dict) -> None:
    """Write the fetch state atomically."""
    text = json.dumps(state, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write(Path(root) / STATE_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def record(root: Path, key: str, entry: dict) -> None:
    """Record one entry of the fetch state (read-modify-write)."""
    state = load_state(root)
    entry = dict(entry)
    entry.setdefault("at", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    state[key] = entry
    save_state(root, state)


def checksum_status(ds: Dataset, path: Path, state: dict, digest: str | None = None) -> str:
    """``pinned`` (mirror edition), ``recorded`` (built here), ``mismatch`` or ``missing``."""
    if not path.is_file():
        return "missing"
    digest = digest or sha256_of(path)
    if digest == ds.sha256:
        return "pinned"
    if (state.get(ds.name) or {}).get("sha256") == digest:
        return "recorded"
    return "mismatch"


# --------------------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------------------


@dataclass
class FetchResult:
    """What :func:`fetch` did for one dataset."""

    name: str
    path: Path | None
    action: str  # present, copied, downloaded, built, npm-pack, unavailable
    sha256: str | None


def _env_key(*parts: str) -> str:
    return ENV_URL_PREFIX + "__".join(p.upper().replace("-", "_") for p in parts)


def source_urls(ds: Dataset, urls: dict | None = None) -> dict[str, str | None]:
    """URL of each official file of ``ds``, after overrides.

    An override comes from ``urls[ds.name]`` (a string for a single-file source, or a
    ``{role: url}`` dict), else from ``$TERRITORIAL_GEO_URL_<DATASET>`` (single file) or
    ``$TERRITORIAL_GEO_URL_<DATASET>__<ROLE>``.
    """
    files = ds.official.files if ds.official else ()
    given = (urls or {}).get(ds.name)
    out: dict[str, str | None] = {}
    for f in files:
        url = None
        if isinstance(given, dict):
            url = given.get(f.role)
        elif isinstance(given, str) and len(files) == 1:
            url = given
        url = url or os.environ.get(_env_key(ds.name, f.role))
        if len(files) == 1:
            url = url or os.environ.get(_env_key(ds.name))
        out[f.role] = url or f.url
    return out


def _expand(names: list[str]) -> list[str]:
    """Datasets with the ones their builders depend on placed first."""
    out: list[str] = []

    def add(n: str) -> None:
        if n in out:
            return
        ds = CATALOG.get(n)
        if ds is not None and ds.official is not None:
            for dep in ds.official.depends:
                add(dep)
        out.append(n)

    for n in names:
        add(n)
    return out


def _npm_pack_leaflet(tmp: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.run([npm, "pack", "leaflet@1.9.4", "--pack-destination", d],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"npm pack failed: {proc.stderr.strip()[-300:]}")
        shutil.copyfile(Path(d) / "leaflet-1.9.4.tgz", tmp)


def _copy(src: Path, dst: Path, *, label: str, progress: Progress | None) -> None:
    def writer(tmp: Path) -> None:
        with open(src, "rb") as fin, open(tmp, "wb") as fout, \
                _bar(src.stat().st_size, 0, label, progress) as bar:
            while block := fin.read(1 << 20):
                fout.write(block)
                bar.update(len(block))

    atomic_write(dst, writer)


def fetch(
    names: Iterable[str] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    mirror: str | os.PathLike | bool | None = None,
    download: bool = True,
    progress: Progress | None = None,
    urls: dict | None = None,
) -> list[FetchResult]:
    """Fill the data directory from a mirror, else from the official sources.

    Parameters
    ----------
    names
        Dataset names (keys of :data:`CATALOG`) and/or OpenStreetMap extracts
        (``osm:nord-pas-de-calais``, or ``osm:62,59`` for the extracts covering those
        départements); all catalog datasets when ``None`` (optional datasets,
        :data:`~territorial_geo.sources.catalog.OPTIONAL`, that cannot be obtained are then
        reported ``unavailable`` instead of failing).
    data_dir
        Target directory (see :func:`resolve_data_dir`).
    mirror
        Local mirror in the ``shared/data`` layout; searched for when ``None`` (module doc);
        ``False`` for none (official sources only).
    download
        Allow downloads from the official sources for what the mirror lacks.
    progress
        Called with a message per dataset built; when given, byte progress bars are shown
        on stderr. Datasets skipped are logged as warnings (``logging``), whatever it is.
    urls
        Override official addresses per dataset (see :func:`source_urls`); ``file://``
        works (tests, proxy caches, files downloaded by hand).

    Returns
    -------
    list of FetchResult
        One per dataset, dependencies of builders included.

    Raises
    ------
    DataMissingError
        A dataset neither in the mirror nor obtainable (the message says what to do).
    DataFormatError
        A copied or downloaded file whose checksum does not match (the file is removed).
    UnknownPlaceError
        An unknown dataset or OpenStreetMap region (closest names listed).
    """
    target = resolve_data_dir(data_dir)
    if mirror is False:
        src_root = None
    else:
        src_root = Path(mirror) if mirror not in (None, True) else default_mirror()
    explicit = names is not None
    selected = list(CATALOG) if names is None else list(names)
    osm_names = [n for n in selected if n.startswith("osm:")]
    unknown = [n for n in selected if n not in CATALOG and not n.startswith("osm:")]
    if unknown:
        raise UnknownPlaceError(
            f"unknown dataset(s) {unknown}; known: {', '.join(CATALOG)}, or osm:<region> / "
            "osm:<département codes>"
        )
    results: list[FetchResult] = []
    for name in _expand([n for n in selected if n in CATALOG]):
        named = explicit or name not in selected
        try:
            results.append(_fetch_one(CATALOG[name], target, src_root, download=download,
                                      progress=progress, urls=urls, explicit=named))
        except DataMissingError as exc:
            if named or name not in OPTIONAL:
                raise
            # an optional dataset (studies run without it and say so): skip, do not fail
            log.warning("%s: not obtained (%s); optional, skipped. %s", name, exc,
                        CATALOG[name].notes)
            results.append(FetchResult(name, None, "unavailable", None))
    for spec in osm_names:
        for region in parse_osm_spec(spec):
            results.append(fetch_osm_extract(region, data_dir=target, download=download,
                                             progress=progress))
    return results


def _fetch_one(ds: Dataset, target: Path, src_root: Path | None, *, download: bool,
               progress: Progress | None,
               urls: dict | None, explicit: bool) -> FetchResult:
    from territorial_geo.sources.builders import BUILDERS

    name = ds.name
    dst = target / ds.path
    state = load_state(target)
    if dst.is_file():
        digest = sha256_of(dst)
        if checksum_status(ds, dst, state, digest) in ("pinned", "recorded"):
            return FetchResult(name, dst, "present", digest)
    src = src_root / ds.path if src_root is not None else None
    where = f"the mirror {src_root}" if src_root is not None else "any mirror (none found)"
    if src is not None and src.is_file():
        _copy(src, dst, label=name, progress=progress)
        digest = sha256_of(dst)
        if digest != ds.sha256:
            dst.unlink()
            raise DataFormatError(
                f"dataset {name!r}: checksum of {src} is {digest[:12]}..., expected "
                f"{ds.sha256[:12]}... (edition {ds.vintage}); the copy was removed"
            )
        record(target, name, {"sha256": digest, "action": "copied", "from": str(src)})
        return FetchResult(name, dst, "copied", digest)
    o = ds.official
    if o is None or not download:
        if not explicit and (o is None or name == "leaflet"):
            log.warning("%s: not in %s and %s; skipped. %s", name, where,
                        "mirror-only" if o is None else "downloads are disabled", ds.notes)
            return FetchResult(name, None, "unavailable", None)
        how = "downloads are disabled (--no-download)" if o is not None else \
            "it has no official source (mirror only)"
        raise DataMissingError(
            f"dataset {name!r} ({ds.path}) is not in {where} and {how}. {ds.notes}".strip()
        )
    if o.builder == "npm-pack":
        try:
            atomic_write(dst, _npm_pack_leaflet)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            log.warning("leaflet: not fetched (%s); maps will load Leaflet from a CDN", exc)
            return FetchResult(name, None, "unavailable", None)
        digest = sha256_of(dst)
        if digest != ds.sha256:
            dst.unlink()
            raise DataFormatError(f"leaflet: npm pack gave a file with checksum {digest[:12]}..., "
                                  f"expected {ds.sha256[:12]}...; removed")
        record(target, name, {"sha256": digest, "action": "npm-pack"})
        return FetchResult(name, dst, "npm-pack", digest)
    addresses = source_urls(ds, urls)
    missing = [r for r, u in addresses.items() if u is None]
    if missing:
        raise DataMissingError(
            f"dataset {name!r} is not in {where} and its official address is unknown for "
            f"{missing}: {o.note}"
        )
    if o.builder is None:
        (role, url), = addresses.items()
        pinned = o.files[0].sha256 if (url == o.files[0].url and not o.live) else None
        digest = download_or_fail(name, url, dst, expected=("sha256", pinned) if pinned else None,
                                  progress=progress)
        record(target, name, {"sha256": digest, "action": "downloaded",
                              "sources": {role: {"url": url, "sha256": digest}}})
        return FetchResult(name, dst, "downloaded", digest)
    inputs: dict[str, Path] = {}
    provenance = {}
    for f in o.files:
        url = addresses[f.role]
        basename = Path(urllib.parse.urlsplit(url).path).name or f.role
        local = target / OFFICIAL_DIR / name / f.role / basename
        pinned = f.sha256 if url == f.url else None
        prev = (state.get(name) or {}).get("sources", {}).get(f.role, {})
        if local.is_file() and prev.get("url") == url and prev.get("sha256") == sha256_of(local):
            digest = prev["sha256"]
        else:
            digest = download_or_fail(name, url, local,
                                      expected=("sha256", pinned) if pinned else None, progress=progress)
        inputs[f.role] = local
        provenance[f.role] = {"url": url, "sha256": digest}
    builder = BUILDERS[o.builder]
    if progress is not None:
        progress(f"{name}: building {ds.path} from {', '.join(inputs) or 'the transcription'}")
    atomic_write(dst, lambda tmp: builder(inputs, tmp, data_dir=target))
    digest = sha256_of(dst)
    record(target, name, {"sha256": digest, "action": "built", "builder": o.builder,
                          "sources": provenance})
    return FetchResult(name, dst, "built", digest)


#: :func:`download` for functions whose ``download`` parameter (a flag) shadows it
_download = download


def download_or_fail(name: str, url: str, dst: Path, *, expected,
                     progress: Progress | None) -> str:
    """:func:`download` with the dataset named in the error."""
    try:
        return download(url, dst, expected=expected, label=name, progress=progress)
    except DataMissingError as exc:
        raise DataMissingError(
            f"dataset {name!r}: {exc}. Use a mirror (`territorial-geo data fetch --mirror DIR`) "
            f"or give another address in ${_env_key(name)}."
        ) from exc


def status(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Table of the catalog's datasets: present, checksum (pinned/recorded), origin, vintage."""
    root = resolve_data_dir(data_dir)
    state = load_state(root)
    rows = []
    for ds in CATALOG.values():
        p = root / ds.path
        present = p.is_file()
        chk = checksum_status(ds, p, state)
        rows.append(
            {
                "dataset": ds.name,
                "present": present,
                "checksum_ok": chk in ("pinned", "recorded"),
                "checksum": chk,
                "origin": (state.get(ds.name) or {}).get("action", "-") if present else "-",
                "size_mb": round(p.stat().st_size / 1e6, 2) if present else None,
                "vintage": ds.vintage,
                "licence": ds.licence,
                "path": str(p),
            }
        )
    return pd.DataFrame(rows)


def dataset_path(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of a dataset in the data directory, or a clear error naming the fetch to run."""
    ds = CATALOG[name]
    p = resolve_data_dir(data_dir) / ds.path
    if not p.is_file():
        raise DataMissingError(
            f"missing dataset {name!r}: {p} not found. Run "
            f"`territorial-geo data fetch --dataset {name}` (data directory: "
            f"{resolve_data_dir(data_dir)}; set --data-dir or ${ENV_DATA_DIR})."
        )
    return p


def fetch_osm_extract(
    region: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    base_url: str | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
    retries: int = 3,
) -> FetchResult:
    """A Geofabrik regional extract in the data directory, downloaded when asked.

    Parameters
    ----------
    region
        Geofabrik name (``"nord-pas-de-calais"``); see :func:`.osm.regions_for_departments`.
    data_dir
        Data directory; the file goes to ``<data_dir>/osm/<region>-latest.osm.pbf``.
    download
        Download it when absent (or when ``refresh``); else a missing file is an error.
    base_url
        Mirror of ``download.geofabrik.de`` (``file://`` works).
    refresh
        Download the newest extract even if one is present.
    progress
        Progress callback; when given, a byte progress bar is shown during the download.
    retries
        Further attempts after a network failure (each resumes the partial file).

    Returns
    -------
    FetchResult
        ``name`` ``osm:<region>``, ``path`` the verified ``.osm.pbf`` file, ``action``
        ``present`` or ``downloaded``.

    Raises
    ------
    UnknownPlaceError
        Unknown region (closest names listed).
    DataMissingError
        File absent and ``download`` false, or the download failed (partial file kept for a
        resume).
    DataFormatError
        The downloaded file does not match Geofabrik's md5 (removed).
    """
    region = check_region(region)
    root = resolve_data_dir(data_dir)
    dst = root / OSM_DIR / f"{region}-latest.osm.pbf"
    key = f"osm:{region}"
    recorded = load_state(root).get(key) or {}
    if dst.is_file() and not refresh and (
            not download or recorded.get("size") == dst.stat().st_size):
        return FetchResult(key, dst, "present", None)
    if not download:
        raise DataMissingError(
            f"OpenStreetMap extract {region!r} not found at {dst}. Run `territorial-geo data "
            f"fetch --dataset osm:{region}` (about 100-600 MB from Geofabrik)."
        )
    url = extract_url(region, base_url)
    md5 = parse_md5_file(read_url_text(url + ".md5"), url=url + ".md5")
    if dst.is_file() and not refresh and file_digest(dst, "md5") == md5:
        action = "present"  # placed by hand, and it is the published extract
    else:
        _download(url, dst, expected=("md5", md5), label=f"osm:{region}", progress=progress,
                  retries=retries)
        action = "downloaded"
    record(root, key, {"url": url, "md5": md5, "size": dst.stat().st_size, "action": action})
    return FetchResult(key, dst, action, None)
