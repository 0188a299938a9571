"""Writers of small files in the official publishers' layouts (test stand-ins).

Each function writes one file as the publisher serves it (container, title rows, header
codes, separators) from rows given by the caller, so builder tests and the first-run test can
serve them from ``file://`` URLs. Layouts: INSEE IRIS 'Population' bases (2011/2016 .xls with
5 title rows and a sheet ``IRIS``; 2022 zipped ``;`` CSV), INSEE density grid (zip of one
.xlsx per edition, title rows above ``CODGEO``), INSEE NAF lists (.xls), Etalab contours
(gzipped GeoJSON), Geofabrik extracts with their ``.md5``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path


def write_xls(path: Path, header: Sequence[str], rows: Sequence[Sequence], *,
              title_rows: Sequence[str] = (), sheet: str = "Feuil1") -> Path:
    """A BIFF8 .xls (Excel 97) with title rows above the header row, as INSEE publishes."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    r = 0
    for t in title_rows:
        ws.write(r, 0, t)
        r += 1
    for j, h in enumerate(header):
        ws.write(r, j, h)
    for row in rows:
        r += 1
        for j, v in enumerate(row):
            ws.write(r, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence], *,
               title_rows: Sequence[str] = (), sheet: str = "Sheet1") -> bytes:
    """An .xlsx workbook (bytes) with title rows above the header row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for t in title_rows:
        ws.append([t])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def iris_2022_csv_zip(path: Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """``base-ic-evol-struct-pop-2022_csv.zip``: one ``;``-separated CSV member."""
    text = ";".join(header) + "\n" + "\n".join(";".join(str(v) for v in r) for r in rows) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("base-ic-evol-struct-pop-2022.CSV", text.encode("utf-8"))
        zf.writestr("meta_base-ic-evol-struct-pop-2022.CSV", "COD_VAR;LIB_VAR\nIRIS;Code IRIS\n")
    return path


INSEE_TITLES = ("Base infracommunale - Population", "Recensement de la population",
                "Source : Insee", "", "")


def iris_xls_zip(path: Path, year: int, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """``base-ic-evol-struct-pop-<year>.zip`` holding the .xls (sheet IRIS, 5 title rows) and
    the overseas collectivities' file ``-com.xls`` which must be ignored."""
    tmp = path.parent / f"_xls{year}"
    main = write_xls(tmp / f"base-ic-evol-struct-pop-{year}.xls", header, rows,
                     title_rows=INSEE_TITLES, sheet="IRIS")
    com = write_xls(tmp / f"base-ic-evol-struct-pop-{year}-com.xls", header,
                    [["975010000", "97501", *([1] * (len(header) - 2))]],
                    title_rows=INSEE_TITLES, sheet="IRIS")
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(main, main.name)
        zf.write(com, com.name)
    shutil.rmtree(tmp)
    return path


def density_zip(path: Path, editions: dict[int, tuple[Sequence[str], Sequence[Sequence]]]) -> Path:
    """``grille_densite_7_niveaux_2015-2020.zip``: one .xlsx per edition, title rows above."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for year, (header, rows) in editions.items():
            zf.writestr(f"grille_densite_7_niveaux_{year}.xlsx",
                        xlsx_bytes(header, rows, title_rows=(
                            f"Grille communale de densité à 7 niveaux - {year}",
                            "Source : Insee", "", ""), sheet=f"Grille_{year}"))
    return path


def geojson_gz(path: Path, features: Sequence[dict]) -> Path:
    """A gzipped GeoJSON FeatureCollection (Etalab contours-administratifs layout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(
        {"type": "FeatureCollection", "features": list(features)}).encode("utf-8")))
    return path


def feature(props: dict, geom: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geom}


def geofabrik_tree(root: Path, region: str, pbf: Path, *, served: bytes | None = None) -> Path:
    """``<root>/europe/france/<region>-latest.osm.pbf`` and its ``.md5`` (md5sum format).

    ``served`` replaces the served bytes (e.g. a truncated copy) while the ``.md5`` keeps the
    checksum of the real file.
    """
    d = root / "europe" / "france"
    d.mkdir(parents=True, exist_ok=True)
    data = pbf.read_bytes()
    name = f"{region}-latest.osm.pbf"
    (d / name).write_bytes(data if served is None else served)
    (d / (name + ".md5")).write_text(f"{hashlib.md5(data).hexdigest()}  {name}\n")
    return d / name
