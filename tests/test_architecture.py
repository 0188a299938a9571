"""Package structure: no import cycle (not even through function-level imports), public
``__all__`` lists."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import territorial_geo

PACKAGE = "territorial_geo"
ROOT = Path(territorial_geo.__file__).resolve().parent


def module_files(root: Path = ROOT) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is_package) for every ``.py`` file under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> project modules it imports, anywhere in its file (module level, inside
    functions and classes, under ``if TYPE_CHECKING``).

    ``import territorial_geo.a.b``, ``from territorial_geo.a import b`` (``b`` a module) and
    ``from .a import b`` are edges to ``territorial_geo.a.b``; ``from territorial_geo.a import
    name`` (``name`` not a module) is an edge to ``territorial_geo.a``. The implicit import of
    a module's parent package by Python is not an edge (else every sub-module would form a cycle
    with its package's ``__init__``).
    """
    mods = module_files(root)
    graph: dict[str, set[str]] = {}
    for name, (path, is_pkg) in mods.items():
        here = name if is_pkg else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod
                           for a in node.names]
            else:
                continue
            for t in targets:
                # ``import territorial_geo.a.b.c`` where c is a name: climb to the module
                while t and t not in mods and "." in t:
                    t = t.rpartition(".")[0]
                if t in mods and t != name:
                    deps.add(t)
        graph[name] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None when it is acyclic."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state and (found := visit(w)) is not None:
                return found
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)) is not None:
            return found
    return None


def test_graph_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from territorial_geo.high import g\n    return g\n")
    (pkg / "high.py").write_text("from territorial_geo import low\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("from . import b\n")
    (pkg / "sub" / "b.py").write_text("import territorial_geo.sub.c\n")
    (pkg / "sub" / "c.py").write_text("from .a import thing\n")
    g = import_graph(pkg)
    assert g["territorial_geo.low"] == {"territorial_geo.high"}
    assert g["territorial_geo.high"] == {"territorial_geo.low"}
    assert g["territorial_geo.sub.a"] == {"territorial_geo.sub.b"}
    assert g["territorial_geo.sub.b"] == {"territorial_geo.sub.c"}
    assert g["territorial_geo.sub.c"] == {"territorial_geo.sub.a"}
    assert find_cycle(g) == ["territorial_geo.high", "territorial_geo.low", "territorial_geo.high"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_graph_of_the_package_has_known_edges():
    g = import_graph()
    assert "territorial_geo.sources.fetching" in g["territorial_geo.sources.communes"]
    assert "territorial_geo.errors" in g["territorial_geo.codes"]  # a function-level import
    assert not g["territorial_geo.errors"]


def _cycles_left(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found after removing one edge of each cycle found before."""
    graph = {k: set(v) for k, v in graph.items()}
    out = []
    while (c := find_cycle(graph)) is not None:
        out.append(c)
        graph[c[0]].discard(c[1])
    return out


def test_no_import_cycle():
    cycles = _cycles_left(import_graph())
    assert not cycles, "import cycle(s): " + "; ".join(" -> ".join(c) for c in cycles)


def _all_modules() -> list[str]:
    return [PACKAGE] + [m.name for m in pkgutil.walk_packages([str(ROOT)], f"{PACKAGE}.")]


@pytest.mark.parametrize("name", _all_modules())
def test_all_lists_existing_public_names(name):
    mod = importlib.import_module(name)
    names = getattr(mod, "__all__", None)
    if names is None:
        return
    private = [n for n in names if n.startswith("_") and not (n.startswith("__") and n.endswith("__"))]
    assert not private, f"{name}.__all__ exports private names {private}"
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ lists names it does not define: {missing}"
    assert len(set(names)) == len(names), f"{name}.__all__ lists a name twice"


#: Literal variant/segment names the lead or another helper still has to replace (issue 21):
#: (module, name). Emptied as they are replaced; the test fails when one is gone but still listed.
LITERAL_NAMES_LEFT: set[tuple[str, str]] = set()


def literal_variant_names(root: Path = ROOT) -> set[tuple[str, str]]:
    """(module, name) of every string literal compared with a ``["variant"]`` or
    ``["segment"]`` column (``==``, ``!=``, ``.isin([...])``) or passed as ``variant=`` /
    ``segment=`` outside :mod:`territorial_geo.demand`, where the names are defined."""

    def column(node: ast.AST) -> bool:
        return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                and node.slice.value in ("variant", "segment"))

    def strings(nodes) -> list[str]:
        return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]

    found = set()
    for name, (path, _pkg) in module_files(root).items():
        if name == f"{PACKAGE}.demand":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            hits: list[str] = []
            if isinstance(node, ast.Compare) and any(map(column, [node.left, *node.comparators])):
                hits = strings([node.left, *node.comparators])
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "isin" and column(node.func.value) and node.args
                  and isinstance(node.args[0], ast.List | ast.Tuple | ast.Set)):
                hits = strings(node.args[0].elts)
            elif isinstance(node, ast.keyword) and node.arg in ("variant", "segment"):
                hits = strings([node.value])
            found |= {(name, h) for h in hits}
    return found


def test_literal_names_are_detected(tmp_path):
    pkg = tmp_path / PACKAGE
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "demand.py").write_text('UNION = "union"\nx = t[t["variant"] == "union"]\n')
    (pkg / "a.py").write_text('x = t[t["variant"] == "union"]\ny = t[t["segment"] != "total"]\n')
    (pkg / "b.py").write_text('x = t[t["variant"].isin(["zone", UNION])]\nf(variant="exclusive")\n'
                              'y = t[t["zone"] == "all"]\n')
    assert literal_variant_names(pkg) == {
        ("territorial_geo.a", "union"), ("territorial_geo.a", "total"),
        ("territorial_geo.b", "zone"), ("territorial_geo.b", "exclusive")}


def test_variant_and_segment_names_come_from_demand_constants():
    found = literal_variant_names()
    assert found <= LITERAL_NAMES_LEFT, (
        "compare with territorial_geo.demand's constants (UNION, TOTAL, ...), not literals: "
        f"{sorted(found - LITERAL_NAMES_LEFT)}")
    assert found == LITERAL_NAMES_LEFT, f"replaced, remove from LITERAL_NAMES_LEFT: {sorted(LITERAL_NAMES_LEFT - found)}"


#: Modules still printing (issue 21: batch.py's progress, h-batch's), emptied as fixed.
PRINTING_LEFT: set[str] = set()


def printing_modules(root: Path = ROOT) -> set[str]:
    """Modules other than the CLI that call ``print``."""
    return {name for name, (path, _pkg) in module_files(root).items()
            if name != f"{PACKAGE}.cli"
            and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
                    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))}


def test_only_the_cli_prints():
    found = printing_modules()
    assert found <= PRINTING_LEFT, (
        f"print() outside the CLI in {sorted(found - PRINTING_LEFT)}: take a progress callback "
        "(Callable[[str], None] | None) or log with logging.getLogger(__name__)")
    assert found == PRINTING_LEFT, f"fixed, remove from PRINTING_LEFT: {sorted(PRINTING_LEFT - found)}"
