"""Griffe extension for the API pages: reStructuredText habits of the docstrings as Markdown.

The docstrings use Sphinx cross-reference roles (``:func:`build_zones```,
``:class:`~territorial_geo.network.graph.RoadNetwork```, ``:mod:`.catalog```). MkDocs does not
know them; this extension rewrites each one, before mkdocstrings renders the docstring, as

* an autorefs link ``[name][full.path]`` when the name resolves (in the docstring's scope, or
  as an absolute ``territorial_geo`` path) to a public object that has a docstring, hence an
  anchor on one of the API pages;
* inline code otherwise (a dataclass field, a constant without docstring, a private helper).

A link is only written to an object the API pages render, so ``mkdocs build --strict``
(which fails on an unresolved cross-reference) stays meaningful.

Once the docstring is parsed (numpy style), the text of each section and item description
is also converted: reStructuredText definition lists (a term, then its definition indented
below it) become Markdown bullets, simple tables (``====`` borders) are kept as preformatted
text, and a paragraph ending in ``::`` ends in ``:`` (its indented block is Markdown code
already). Loaded by mkdocstrings (``extensions`` in ``mkdocs.yml``).
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|data|attr|obj|exc|const):`(~?)([^`]+)`")
PACKAGE = "territorial_geo"


def _lookup(pkg: griffe.Module, path: str):
    """The object at a full dotted path inside the package, aliases followed, or None."""
    if path == PACKAGE:
        return pkg
    if not path.startswith(PACKAGE + "."):
        return None
    try:
        obj = pkg[path[len(PACKAGE) + 1:]]
        while obj.is_alias:
            obj = obj.target
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return obj


def _rendered(obj) -> bool:
    """Public, documented, and not inside a function: it has an anchor on an API page."""
    if obj is None or not obj.docstring:
        return False
    parts = obj.path.split(".")
    if any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts):
        return False
    parent = obj.parent
    while parent is not None:
        if parent.is_function:
            return False
        parent = parent.parent
    return True


def _target(pkg: griffe.Module, scope, name: str):
    """Resolve ``name`` as written in a docstring of ``scope``."""
    name = name.strip().rstrip("()")
    candidates = []
    if name.startswith("."):
        mod = scope if scope.is_module else scope.module
        base = mod.path if mod.is_init_module else mod.path.rpartition(".")[0]
        candidates.append(base + name)
    elif name.startswith(PACKAGE):
        candidates.append(name)
    else:
        head, _, rest = name.partition(".")
        obj = scope
        while obj is not None:
            try:
                resolved = obj.resolve(head)
            except (griffe.NameResolutionError, AttributeError, KeyError):
                resolved = None
            if resolved:
                candidates.append(resolved + ("." + rest if rest else ""))
                break
            obj = obj.parent
        candidates.append(f"{PACKAGE}.{name}")
    for path in candidates:
        obj = _lookup(pkg, path)
        if _rendered(obj):
            return obj
    return None


def rewrite(text: str, pkg: griffe.Module, scope) -> str:
    """Replace every Sphinx role in ``text`` by a link or inline code."""

    def repl(m: re.Match) -> str:
        _role, tilde, name = m.groups()
        shown = name.strip().lstrip(".")
        if tilde:
            shown = shown.rpartition(".")[2]
        obj = _target(pkg, scope, name)
        if obj is None:
            return f"`{shown}`"
        return f"[`{shown}`][{obj.path}]"

    return ROLE.sub(repl, text)


TABLE_BORDER = re.compile(r"^(\s*)=+(\s+=+)+\s*$")
LIST_START = re.compile(r"^\s*([-*+]|\d+[.)])\s")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def rst_to_markdown(text: str) -> str:
    """Definition lists, simple tables and ``::`` paragraphs of reStructuredText as Markdown."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    in_fence = False
    def_indent: int | None = None  # indent of the terms of the definition list being read
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            out.append(line)
            i += 1
            continue
        if in_fence:
            out.append(line)
            i += 1
            continue
        m = TABLE_BORDER.match(line)
        if m:  # a simple table: three border lines at the same indent
            pad = m.group(1)
            j, borders = i, 0
            while j < len(lines) and borders < 3:
                if TABLE_BORDER.match(lines[j]) and _indent(lines[j]) == len(pad):
                    borders += 1
                j += 1
            if borders == 3:
                out += [pad + "```text", *lines[i:j], pad + "```"]
                i = j
                def_indent = None
                continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            line = line.rstrip()[:-1]
        prev = out[-1] if out else ""
        ind = _indent(line)
        is_term = (
            stripped
            and not LIST_START.match(line)
            and not stripped.startswith(("|", ">"))
            and i + 1 < len(lines) and lines[i + 1].strip()
            and _indent(lines[i + 1]) > ind
            and (not prev.strip() or (def_indent == ind))
        )
        if is_term:
            body = []
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > ind):
                body.append(lines[j])
                j += 1
            while body and not body[-1].strip():
                body.pop()
            deeper = min(_indent(b) for b in body if b.strip())
            pad = " " * ind
            if out and out[-1].strip():
                out.append("")
            out.append(f"{pad}- {stripped}")
            out.append("")
            out += [(pad + "    " + b[deeper:]) if b.strip() else "" for b in body]
            out.append("")
            def_indent = ind
            i = j
            continue
        if stripped and def_indent is not None and ind <= def_indent:
            def_indent = None
        out.append(line)
        i += 1
    return "\n".join(out)


def _convert_sections(docstring: griffe.Docstring) -> None:
    """Apply :func:`rst_to_markdown` to the text of every parsed section and item."""
    for section in docstring.parsed:
        value = section.value
        if isinstance(value, str):
            section.value = rst_to_markdown(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(getattr(item, "description", None), str):
                    item.description = rst_to_markdown(item.description)
        elif isinstance(getattr(value, "description", None), str):
            value.description = rst_to_markdown(value.description)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:  # noqa: D102
        if pkg.path != PACKAGE:
            return
        seen = set()

        def walk(obj) -> None:
            if obj.is_alias or id(obj) in seen:
                return
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, pkg, obj)
                if obj.docstring.parser is not None:
                    _convert_sections(obj.docstring)
            for member in list(obj.members.values()):
                walk(member)

        walk(pkg)
