"""The documentation: strict MkDocs build, generated sections, no pointer outside the repo.

The site is built once per session (``mkdocs build --strict`` into a temporary folder, about
15-25 s: marked slow); the generated command-line reference must list every option of
``territorial_geo.cli.build_parser()``, hand-written pages must name no option the parser
lacks, and no tracked file may point at files outside the repository except the data mirror.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import docs_gen  # noqa: E402
import griffe_sphinx_roles as roles  # noqa: E402

from territorial_geo import cli  # noqa: E402
from territorial_geo.sources import CATALOG  # noqa: E402

# spelled in two parts so that this file does not match its own check
OUTSIDE_METHOD = "METHOD" + ".md"
SHARED = "../" + "shared/"
OTHER_PROGRAMS = re.compile(r"\b(mkdocs|pip|pytest|ruff)\b")
NAV_PAGES = ["index", "method", "data", "cli", "api/index", "api/network", "api/zoning",
             "api/demand", "api/coverage", "api/study", "api/outputs", "api/sources", "api/config",
             "api/other"]


# ----------------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built strictly (warnings are errors) into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    if "No module named mkdocs" in log:
        pytest.fail("mkdocs is not installed: pip install -e '.[docs]' (./run.sh does it)")
    problems = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert proc.returncode == 0, (
        "mkdocs build --strict failed (warnings are errors):\n" + "\n".join(problems)
        + "\n--- end of the log ---\n" + log[-3000:])
    return out


def _page(site: Path, name: str) -> str:
    path = site / f"{name}.html" if name.endswith("index") else site / name / "index.html"
    return path.read_text(encoding="utf-8")


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def _main(page_html: str) -> str:
    """The article of a Material page (navigation and footer left out)."""
    m = re.search(r"<article[^>]*>(.*)</article>", page_html, re.S)
    assert m, "no <article> in the page"
    return m.group(1)


def _sections(page_html: str) -> dict[str, str]:
    """Heading id -> the HTML from that heading to the next h2/h3/h4."""
    parts = re.split(r'(<h[234] id="[^"]+")', _main(page_html))
    out = {}
    for head, body in zip(parts[1::2], parts[2::2], strict=True):
        out[re.search(r'id="([^"]+)"', head).group(1)] = body
    return out


@pytest.mark.slow
def test_every_page_is_built_with_real_content(site):
    for name in NAV_PAGES:
        page = _page(site, name)
        text = " ".join(_text(_main(page)).split())
        assert len(text) > 1500, f"{name}: only {len(text)} characters of text"
        assert "gen:" not in page and ":::" not in text, f"{name}: unexpanded marker"
    for name in NAV_PAGES[5:]:
        page = _main(_page(site, name))
        assert page.count('class="doc doc-heading"') >= 3, f"{name}: no documented object"
        # Sphinx roles and reST tables were converted (links, code, preformatted text)
        text = re.sub(r"<pre.*?</pre>", "", page, flags=re.S)
        assert not re.search(r":(func|class|meth|mod|data|attr):`", text), name
        assert not re.search(r"^\s*={4,}\s+={4,}", _text(text), re.M), name


@pytest.mark.slow
def test_method_tables_come_from_the_code(site):
    from territorial_geo.config import DEFAULT_SOURCES, TELEWORK_PRESETS
    from territorial_geo.network.approximate import PARAM_SOURCES

    text = " ".join(_text(_main(_page(site, "method"))).split())
    for key in [*PARAM_SOURCES, *DEFAULT_SOURCES, *TELEWORK_PRESETS]:
        assert key in text, key
    # the built-up stretch of a rural bourg (level 5) and its penalty, with the defaults fitted
    # to OSRM: 600 m x (3.6/32.5 - 3.6/27.5) = -12.1 s (village streets beat communal lanes)
    assert "| 5 | Bourgs ruraux | 27.5 | 600 | -12.1 |" in docs_gen.approx_params()
    assert "Bourgs ruraux 27.5 600 -12.1" in text


@pytest.mark.slow
def test_cli_reference_lists_every_option_of_the_parser(site):
    sections = _sections(_page(site, "cli"))
    parser = cli.build_parser()
    glob = _text(sections["global-options"])
    for opt in ("--data-dir", "--quiet", "--version"):
        assert opt in glob
    n = 0
    for path, _help, sub in docs_gen.command_paths(parser):
        key = "-".join(path)
        assert key in sections, f"no section for `{' '.join(path)}` in the CLI page"
        body = _text(sections[key])
        for action in sub._actions:
            names = [o for o in action.option_strings if o not in docs_gen.GLOBAL_OPTIONS
                     and o not in ("-h", "--help")]
            if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
                names = [action.metavar or action.dest]
            for name in names:
                assert name in body, f"`{' '.join(path)}`: {name} missing from the CLI page"
                n += 1
            if action.help and names and not isinstance(action, argparse._SubParsersAction):
                assert " ".join(action.help.split())[:40] in " ".join(body.split()), name
    assert n > 40


def _parser_vocabulary() -> tuple[set[str], set[str]]:
    options, commands = set(), set()
    parser = cli.build_parser()
    for action in parser._actions:
        options.update(action.option_strings)
    for path, _h, sub in docs_gen.command_paths(parser):
        commands.add(path[0])
        for action in sub._actions:
            options.update(action.option_strings)
    return options, commands


def test_hand_written_pages_name_only_real_options_and_commands():
    options, commands = _parser_vocabulary()
    pages = sorted((ROOT / "docs").rglob("*.md"))
    assert len(pages) >= 12
    for page in pages:
        # lines about other programs (mkdocs build --strict, pip, pytest) are not ours
        text = "\n".join(line for line in page.read_text(encoding="utf-8").splitlines()
                         if not OTHER_PROGRAMS.search(line))
        for opt in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text):
            assert opt in options, f"{page.relative_to(ROOT)} names {opt}, which no command has"
        for cmd in re.findall(r"territorial-geo ([a-z][a-z-]*)\b", text):
            assert cmd in commands, f"{page.relative_to(ROOT)} names `territorial-geo {cmd}`"


@pytest.mark.slow
def test_data_page_lists_every_dataset(site):
    sections = _sections(_page(site, "data"))
    for name, ds in CATALOG.items():
        assert name in sections, f"dataset {name} has no section on the data page"
        body = " ".join(_text(sections[name]).split())
        for fact in (ds.path, ds.vintage, ds.licence, ds.sha256):
            assert fact in body, f"{name}: {fact!r} missing"
        for f in ds.official.files if ds.official else ():
            if f.url:
                assert f.url in body, f"{name}: {f.url} missing"
    assert "nord-pas-de-calais" in _text(_page(site, "data"))


def test_unknown_generated_section_is_an_error():
    assert "territorial-geo" in docs_gen.expand("<!-- gen:cli -->")
    with pytest.raises(KeyError, match="no-such-table"):
        docs_gen.expand("text <!-- gen:no-such-table --> text")


# ----------------------------------------------------------------------------- conversion


def test_rst_definition_lists_tables_and_literal_paragraphs_become_markdown():
    src = ("A spec is one of:\n\n"
           "``\"approximate\"``\n    the approximate network;\n"
           "``\"osm:REGION\"``\n    a regional extract,\n    downloaded.\n\n"
           "Then::\n\n    x = 1\n\n"
           "====  ====\na     b\n====  ====\n1     2\n====  ====\n"
           "1. ``nature``:\n   kept\n")
    md = roles.rst_to_markdown(src)
    assert "- ``\"approximate\"``\n\n    the approximate network;" in md
    assert "- ``\"osm:REGION\"``\n\n    a regional extract,\n    downloaded." in md
    assert "Then:\n\n    x = 1" in md
    assert "```text\n====  ====\na     b\n====  ====\n1     2\n====  ====\n```" in md
    # a numbered list item with a continuation line is not a definition
    assert "1. ``nature``:\n   kept" in md


def test_sphinx_roles_become_links_only_to_rendered_objects():
    import griffe

    pkg = griffe.load("territorial_geo", search_paths=[str(ROOT / "src")],
                      docstring_parser="numpy")
    zoning = pkg["zoning"]
    text = roles.rewrite(":func:`build_zones`, :class:`~territorial_geo.network.graph."
                         "RoadNetwork`, :data:`CATALOG`, :func:`_fill_density`",
                         pkg, zoning["Zones"])
    assert "[`build_zones`][territorial_geo.zoning.build_zones]" in text
    assert "[`RoadNetwork`][territorial_geo.network.graph.RoadNetwork]" in text
    # a constant without docstring and a private function have no anchor: code, not a link
    assert "`CATALOG`" in text and "[`CATALOG`]" not in text
    assert "`_fill_density`" in text and "[`_fill_density`]" not in text
    # relative module names resolve from the package
    src = roles.rewrite(":mod:`.catalog`", pkg, pkg["sources"])
    assert src == "[`catalog`][territorial_geo.sources.catalog]"


# ----------------------------------------------------------------------------- the repository


def _repository_files() -> list[Path]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [ROOT / p for p in out.split("\0") if p and not p.startswith("data/")]


def outside_references(files: list[Path]) -> list[tuple[str, int, str]]:
    """(file, line number, line) of every pointer to a file outside the repository.

    The data mirror (``../shared/data``, which ``data fetch`` reads) is the one allowed
    outside path; the method document that lived beside it is now ``docs/method.md``.
    """
    bad = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_METHOD in line:
                bad.append((os.path.relpath(f, ROOT), n, line.strip()[:90]))
            for m in re.finditer(re.escape(SHARED), line):
                if not line[m.end():].startswith("data"):
                    bad.append((os.path.relpath(f, ROOT), n, line.strip()[:90]))
    return bad


def test_no_file_points_outside_the_repository_except_the_data_mirror():
    files = _repository_files()
    assert any(f.name == "README.md" for f in files) and len(files) > 50
    bad = outside_references(files)
    assert not bad, "pointers outside the repository:\n" + "\n".join(
        f"{f}:{n}: {line}" for f, n, line in bad)


def test_outside_reference_check_catches_both_forms(tmp_path):
    f = tmp_path / "x.md"
    f.write_text(f"see [{OUTSIDE_METHOD}]({SHARED}{OUTSIDE_METHOD})\nmirror {SHARED}data ok\n"
                 f"{SHARED}notes.txt\n", encoding="utf-8")
    bad = outside_references([f])
    assert [n for _f, n, _line in bad] == [1, 1, 3]
