"""Generated parts of the documentation, so that they cannot drift from the code.

Used two ways:

* as a MkDocs hook (``hooks:`` in ``mkdocs.yml``): in every page, a marker
  ``<!-- gen:NAME -->`` is replaced, at build time, by the section :data:`GENERATORS` makes
  from the code (the command-line reference from ``territorial_geo.cli.build_parser()``, the
  dataset catalog, the sourced parameter tables); an unknown marker fails the build;
* as a script, to read one generated section: ``python tools/docs_gen.py cli``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the repository's own sources win over any installed copy
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

MARKER = re.compile(r"<!--\s*gen:([a-z0-9-]+)\s*-->")
PROG = "territorial-geo"
#: Options every command accepts, before or after its name (documented once).
GLOBAL_OPTIONS = ("--data-dir", "--quiet")


def _md(text: str | None) -> str:
    """Help text as Markdown: pipes and angle brackets escaped, whitespace folded."""
    text = " ".join(str(text or "").split())
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------------------ command line


def _subcommands(parser: argparse.ArgumentParser):
    """(name, help, sub-parser) of a parser's sub-commands, in declaration order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _value_text(action: argparse.Action) -> str:
    """What an option takes: ``{a,b}`` choices, its metavar or the type's name."""
    if action.nargs == 0:
        return ""
    if action.choices:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    if action.metavar:
        return str(action.metavar)
    kind = getattr(action.type, "__name__", None)
    if kind in (None, "str"):
        return action.dest.upper()
    if kind in ("int", "float"):
        return f"{action.dest.upper()} ({'an integer' if kind == 'int' else 'a number'})"
    return f"{action.dest.upper()} ({kind})"


def option_lines(parser: argparse.ArgumentParser, *, skip: tuple[str, ...] = ()) -> list[str]:
    """One Markdown bullet per argument of a parser (positionals first)."""
    lines = []
    actions = [a for a in parser._actions
               if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
               and not set(a.option_strings) & set(skip)]
    for a in sorted(actions, key=lambda a: bool(a.option_strings)):
        if a.option_strings:
            name = ", ".join(f"`{o}`" for o in a.option_strings)
            value = _value_text(a)
            head = f"{name} `{value}`" if value else name
        else:
            head = f"`{a.metavar or a.dest}` (positional"
            head += ", optional)" if a.nargs == "?" else ")"
        notes = []
        if a.required:
            notes.append("required")
        if isinstance(a, argparse._AppendAction | argparse._ExtendAction):
            notes.append("repeatable")
        if a.default not in (None, False, argparse.SUPPRESS) and a.nargs != 0 \
                and not isinstance(a, argparse._VersionAction):
            notes.append(f"default `{a.default}`")
        extra = f" *({', '.join(notes)})*" if notes else ""
        lines.append(f"- {head}{extra}: {_md(a.help)}")
    return lines


def _usage(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "92"
    try:
        text = parser.format_usage().strip()
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return text.removeprefix("usage: ")


def command_paths(parser: argparse.ArgumentParser | None = None, prefix: tuple[str, ...] = ()):
    """Every command path of the CLI (``("data", "fetch")``...) with its parser, depth first."""
    if parser is None:
        from territorial_geo.cli import build_parser

        parser = build_parser()
    for name, helptext, sub in _subcommands(parser):
        path = (*prefix, name)
        yield path, helptext, sub
        yield from command_paths(sub, path)


def cli_reference() -> str:
    """The command-line reference: global options, then every command and its options."""
    from territorial_geo.cli import build_parser

    parser = build_parser()
    out = ["### Global options", "",
           f"Given before the command (`{PROG} --quiet study ...`) or after it "
           f"(`{PROG} study ... --quiet`).", "",
           "```text", f"{_usage(parser)}", "```", "", *option_lines(parser), ""]
    for path, helptext, sub in command_paths(parser):
        title = " ".join(path)
        level = "#" * (2 + len(path))
        about = _md(sub.description or helptext)
        out += [f"{level} `{title}`", "", about[:1].upper() + about[1:] + ".", ""]
        out += ["```text", _usage(sub), "```", ""]
        children = list(_subcommands(sub))
        if children:
            out += ["Actions:", ""]
            out += [f"- [`{title} {n}`](#{'-'.join((*path, n))}): {_md(h)}"
                    for n, h, _ in children]
            out.append("")
        lines = option_lines(sub, skip=GLOBAL_OPTIONS)
        if lines:
            out += lines + [""]
        elif not children:
            out += ["No option besides the global ones.", ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------ datasets


def catalog_reference() -> str:
    """Every dataset of the catalog: file, edition, licence, official source, how it is built."""
    from territorial_geo.sources import CATALOG, REQUIRED

    out = []
    for d in CATALOG.values():
        o = d.official
        out += [f"### `{d.name}`", "", f"**{_md(d.title)}**", "",
                "| | |", "|---|---|",
                f"| file in the data directory | `{d.path}` |",
                f"| source | {_md(d.source)} |",
                f"| vintage | {_md(d.vintage)} |",
                f"| licence | {_md(d.licence)} |",
                f"| required by a study | {'yes' if d.name in REQUIRED else 'no (optional)'} |",
                f"| SHA-256 of the mirrored edition | `{d.sha256}` |"]
        if o is None:
            out += ["| official source | none: mirror only |"]
        else:
            page = f"<{o.page}>" if o.page else "no landing page known"
            out += [f"| publisher | {_md(o.publisher)} |", f"| landing page | {page} |",
                    f"| built by | {'builder `' + o.builder + '`' if o.builder else 'used as published'} |",
                    f"| depends on | {', '.join(f'`{x}`' for x in o.depends) or '-'} |",
                    f"| layout verified offline | {'yes' if o.verified_offline else 'no'} |",
                    f"| address serves the newest edition | {'yes' if o.live else 'no'} |"]
        out.append("")
        if o is not None and o.files:
            out += ["Published files:", ""]
            for f in o.files:
                url = f"<{f.url}>" if f.url else "*no verified address* (give one, see above)"
                pin = f" (SHA-256 pinned: `{f.sha256[:16]}...`)" if f.sha256 else ""
                out.append(f"- `{f.role}`: {url}{pin}. {_md(f.format)}")
            out.append("")
        if o is not None and o.note:
            out += [f"How it is obtained: {_md(o.note)}", ""]
        if d.notes:
            out += [f"Note: {_md(d.notes)}", ""]
    return "\n".join(out)


def osm_regions() -> str:
    """The Geofabrik regions and the départements each covers."""
    from territorial_geo.sources.osm import REGION_DEPARTMENTS

    rows = ["| region (`osm:REGION`) | départements |", "|---|---|"]
    rows += [f"| `{r}` | {', '.join(d)} |" for r, d in REGION_DEPARTMENTS.items()]
    return "\n".join(rows)


# ------------------------------------------------------------------------------ method tables


def approx_params() -> str:
    """Defaults of the approximate network with their sources."""
    from territorial_geo.network.approximate import DENSITY_LEVELS, ApproxParams

    p = ApproxParams()
    rows = ["| parameter | default | source |", "|---|---|---|"]
    for key, item in p.to_dict().items():
        value = item["value"]
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v:g}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(value)
        rows.append(f"| `{key}` | {_md(value)} | {_md(item['source'])} |")
    levels = ["", "INSEE density levels (keys of `speed_kmh` and `builtup_m`):", "",
              "| level | label | open-road speed (km/h) | built-up stretch each side (m) | "
              "penalty per end (s) |", "|---|---|---|---|---|"]
    pen = p.end_penalty_s()
    levels += [f"| {k} | {lab} | {p.speed_kmh[k]:g} | {p.builtup_m[k]:g} | {pen[k]:.1f} |"
               for k, lab in DENSITY_LEVELS.items()]
    return "\n".join(rows + levels)


def highway_speeds() -> str:
    """Default speed per OSM ``highway`` class."""
    from territorial_geo.network import DEFAULT_HIGHWAY_KMH, SpeedProfile

    prof = SpeedProfile()
    rows = ["| `highway` | km/h |", "|---|---|"]
    rows += [f"| `{k}` | {v:g} |" for k, v in DEFAULT_HIGHWAY_KMH.items()]
    rows.append(f"| any other class | {prof.fallback_kmh:g} |")
    return "\n".join(rows)


def bdtopo_speeds() -> str:
    """IGN's average-speed table used when ``vitesse_moyenne_vl`` is missing (and for v2)."""
    from territorial_geo.network import DEFAULT_BDTOPO_KMH

    rows = ["| nature | urban | km/h by importance |", "|---|---|---|"]
    for (nature, urban), table in DEFAULT_BDTOPO_KMH.items():
        speeds = ", ".join(f"{k}: {v:g}" for k, v in table.items())
        rows.append(f"| {nature} | {'yes' if urban else 'no'} | {speeds} |")
    return "\n".join(rows)


def telework_presets() -> str:
    """Telework rate presets by CSP, with their sources."""
    from territorial_geo.method import PRESET_SOURCES, TELEWORK_PRESETS

    rows = ["| preset | cadres | prof. intermédiaires | employés | ouvriers | source |",
            "|---|---|---|---|---|---|"]
    for name, r in TELEWORK_PRESETS.items():
        rows.append(f"| `{name}` | " + " | ".join(f"{r[k]:.1%}" for k in
                                                  ("cadres", "profint", "employes", "ouvriers"))
                    + f" | {_md(PRESET_SOURCES[name])} |")
    return "\n".join(rows)


def default_sources() -> str:
    """Every sourced default of a study and its provenance, as written to parameters.json."""
    from territorial_geo.config import DEFAULT_SOURCES, StudyConfig, config_from_dict

    cfg: StudyConfig = config_from_dict({})[0]

    def value(key: str):
        obj = cfg
        for part in key.split("."):
            obj = getattr(obj, part)
        if isinstance(obj, list) and obj and hasattr(obj[0], "__dataclass_fields__"):
            return "; ".join(", ".join(f"{k}={v}" for k, v in vars(x).items() if v is not None)
                             for x in obj)
        if isinstance(obj, dict):
            return f"{len(obj)} entries"
        if isinstance(obj, list) and len(obj) > 6:
            return f"{len(obj)} values"
        if isinstance(obj, float):
            return f"{obj:g}"
        return obj

    rows = ["| key | default | source |", "|---|---|---|"]
    for key, src in DEFAULT_SOURCES.items():
        try:
            v = value(key)
        except AttributeError:
            v = "see source"
        rows.append(f"| `{key}` | {_md(v)} | {_md(src)} |")
    return "\n".join(rows)


def naf_codes() -> str:
    """The default office-activity NAF list and the employee bands counted."""
    from territorial_geo.sources import SOLO_BANDS, STUDY_NAF_CODES

    return (", ".join(f"`{c}`" for c in STUDY_NAF_CODES) + f" ({len(STUDY_NAF_CODES)} codes); "
            "employee bands " + ", ".join(f"`{b}`" for b in SOLO_BANDS) + ".")


def parameter_ranges() -> str:
    """Low / central / high of every uncertain parameter and its source (issue 11)."""
    from territorial_geo.method import PARAMETER_RANGES, PRESET_RANGE, RANGE_SOURCES

    rows = ["| parameter | low | central (default) | high | source |", "|---|---|---|---|---|"]
    lo, mid, hi = PRESET_RANGE
    rows.append(f"| `demand.telework_preset` | `{lo}` | `{mid}` | `{hi}` | "
                f"{_md(RANGE_SOURCES['demand.telework_preset'])} |")
    for key, (lo, mid, hi) in PARAMETER_RANGES.items():
        rows.append(f"| `{key}` | {lo:g} | {mid:g} | {hi:g} | {_md(RANGE_SOURCES[key])} |")
    return "\n".join(rows)


#: Marker name -> generator.
GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "catalog": catalog_reference,
    "osm-regions": osm_regions,
    "approx-params": approx_params,
    "highway-speeds": highway_speeds,
    "bdtopo-speeds": bdtopo_speeds,
    "telework-presets": telework_presets,
    "default-sources": default_sources,
    "naf-codes": naf_codes,
    "parameter-ranges": parameter_ranges,
}


def expand(markdown: str, *, where: str = "page") -> str:
    """Replace every ``<!-- gen:NAME -->`` marker; an unknown name raises ``KeyError``."""

    def repl(m: re.Match) -> str:
        name = m.group(1)
        if name not in GENERATORS:
            raise KeyError(f"{where}: unknown generated section {name!r} "
                           f"(known: {', '.join(GENERATORS)})")
        return GENERATORS[name]()

    return MARKER.sub(repl, markdown)


# ------------------------------------------------------------------------------ MkDocs hook


def on_page_markdown(markdown: str, *, page, config, files) -> str:
    """MkDocs hook: expand the generated sections of a page."""
    from mkdocs.exceptions import PluginError

    try:
        return expand(markdown, where=page.file.src_path)
    except KeyError as exc:
        raise PluginError(str(exc.args[0])) from exc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Print a generated documentation section.")
    ap.add_argument("name", choices=list(GENERATORS))
    args = ap.parse_args(argv)
    print(GENERATORS[args.name]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
