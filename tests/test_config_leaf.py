"""The study configuration as a declarative leaf (issue 21, items 3 and 5).

- config.py imports nothing from the package but ``errors`` and ``method`` (checked on its
  syntax tree, function-level imports included), and ``method`` only ``errors``;
- bounds and choices are declared once, in the fields: errors name the full key and the
  closest valid name; the command line offers the same choice lists;
- a ``budget_min`` above the widest band is refused with the key named;
- the ring / margin defaults are one constant each.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

import territorial_geo
from territorial_geo import cli, config, method, network, territory
from territorial_geo.errors import ConfigError

#: The package imported (the sources the tests run on).
PKG = Path(territorial_geo.__file__).parent


def _package_imports(path) -> set[str]:
    """Every ``territorial_geo`` module a file imports, anywhere in it (functions too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("territorial_geo")}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            if (node.module or "").startswith("territorial_geo"):
                # ``from territorial_geo import x`` imports the module x
                out |= ({f"territorial_geo.{a.name}" for a in node.names}
                        if node.module == "territorial_geo" else {node.module})
    return out


def test_config_is_a_leaf():
    assert _package_imports(PKG / "config.py") == {"territorial_geo.errors",
                                                   "territorial_geo.method"}
    assert _package_imports(PKG / "method.py") == {"territorial_geo.errors"}


def test_leaf_check_sees_function_level_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import os\n\ndef f():\n    from territorial_geo.params import x\n"
                 "    import territorial_geo.network\n    from territorial_geo import study\n")
    assert _package_imports(f) == {"territorial_geo.params", "territorial_geo.network",
                                   "territorial_geo.study"}


@pytest.mark.parametrize("data,message", [
    ({"zoning": {"budget_mn": 10}},
     "unknown key zoning.budget_mn; closest: budget_min; known here: "),
    ({"demand": {"solos": {"growth": 0.05}}},
     "unknown key demand.solos.growth; closest: growth_rate; known here: "),
    ({"demand": {"seats": {"solos": [{"year": 2018, "usage_shre": 0.2}]}}},
     "unknown key demand.seats.solos[0].usage_shre; closest: usage_share; known here: "),
    ({"zoning": {"direction": "fromm"}},
     "zoning.direction must be one of to, from, got 'fromm'; closest: from"),
    ({"demand": {"telework_rates": {"cadre": 0.3}}},
     "demand.telework_rates.cadre: unknown name 'cadre'; closest: cadres"),
    ({"coverage": {"weight": "teleworker"}},
     "coverage.weight must be one of population, teleworkers, solos, seats, got 'teleworker'; "
     "closest: teleworkers"),
])
def test_errors_name_the_key_and_the_closest_name(data, message):
    with pytest.raises(ConfigError) as exc:
        config.config_from_dict(data)
    text = str(exc.value)
    assert text.startswith(message) and "\n" not in text


@pytest.mark.parametrize("data,message", [
    ({"zoning": {"budget_min": True}}, "zoning.budget_min must be a number, got True"),
    ({"zoning": {"budget_min": "10"}}, "zoning.budget_min must be a number, got '10'"),
    ({"zoning": {"speeds": {"primary": 0}}}, "zoning.speeds.primary must be > 0, got 0"),
    ({"zoning": {"u_turn_s": -1}}, "zoning.u_turn_s must be >= 0, got -1"),
    ({"demand": {"seats": {"occupancy": 1.2}}}, "demand.seats.occupancy must be <= 1, got 1.2"),
    ({"coverage": {"k": 2.5}}, "coverage.k must be an integer, got 2.5"),
    ({"output": {"excel": "yes"}}, "output.excel must be true or false, got 'yes'"),
    ({"poles": [{"zone": "62279"}]}, "poles[0].pole is required"),
])
def test_bounds_and_types_declared_in_the_fields(data, message):
    with pytest.raises(ConfigError) as exc:
        config.config_from_dict(data)
    assert str(exc.value) == message


def test_values_are_converted_like_toml():
    cfg, keys = config.config_from_dict({"territory": 200069482, "zoning": {
        "budget_min": 12, "market_towns": [62045]}})
    assert cfg.territory == "200069482" and cfg.zoning.market_towns == ["62045"]
    assert cfg.zoning.budget_min == 12.0 and isinstance(cfg.zoning.budget_min, float)
    assert keys == {"territory", "zoning", "zoning.budget_min", "zoning.market_towns"}


def test_budget_above_the_widest_band_is_refused():
    with pytest.raises(ConfigError) as exc:
        config.config_from_dict({"zoning": {"budget_min": 25, "bands": [10, 20]}})
    assert str(exc.value) == (
        "zoning.budget_min = 25 is above the widest band (20 min in zoning.bands): lower "
        "zoning.budget_min to 20 or less, or add a band of at least 25 to zoning.bands")
    # the widest band itself, or a wider band, is fine
    assert config.config_from_dict({"zoning": {"budget_min": 20, "bands": [10, 20]}})[0]
    cfg, _ = config.config_from_dict({"zoning": {"budget_min": 25, "bands": [10, 20, 30]}})
    assert cfg.zoning.budget_min == 25.0
    # a sweep to a budget beyond the default bands (5-20) names the scenario and the key
    with pytest.raises(ConfigError, match=r"^scenario zoning.budget_min=25.0: zoning.budget_min "
                                          r"= 25 is above the widest band \(20 min"):
        config.with_values(config.StudyConfig(), {"zoning.budget_min": 25.0})


def test_a_change_in_place_is_validated_again():
    cfg, _ = config.config_from_dict({})
    cfg.coverage.sites = "nearby"
    with pytest.raises(ConfigError, match=r"^coverage.sites must be one of existing, planned, "
                                          r"both, got 'nearby'"):
        cfg.validate()
    demand = config.DemandConfig(base_year=2018, horizon_year=2025)
    demand.horizon_year = 2010
    with pytest.raises(ConfigError, match=r"^demand.horizon_year \(2010\) is before base_year"):
        demand.validate("demand")
    # built in Python: the same one-line error
    with pytest.raises(ConfigError, match=r"^horizon_year \(2010\) is before base_year"):
        config.DemandConfig(base_year=2018, horizon_year=2010)
    with pytest.raises(ConfigError, match=r"^usage_share must be <= 1, got 1.5$"):
        config.SoloAnchor(2018, 1.5)
    with pytest.raises(ConfigError, match=r"^budget_min must be > 0, got 0$"):
        dataclasses.replace(cfg.zoning, budget_min=0)


def test_choice_lists_declared_once():
    """The config's choices, the sweep's and the command line's are the method's lists."""
    assert config.choices("zoning.direction") == method.DIRECTIONS
    assert config.choices("demand.csp_year") == method.CSP_YEARS
    assert config.choices("demand.telework_preset") == tuple(method.TELEWORK_PRESETS)
    assert config.choices("demand.solos.growth_rate") is None
    with pytest.raises(ConfigError, match="closest: grow"):
        config.parse_value(config.StudyConfig(), "demand.solos.data_year_rule", "grwo")
    actions = {}
    for sub in cli.build_parser()._subparsers._group_actions[0].choices.values():
        for a in sub._actions:
            if a.choices is not None and a.option_strings:
                actions.setdefault(a.option_strings[0], []).append(a.choices)
    assert {"--engine", "--direction", "--lang", "--sites", "--weight"} <= set(actions)
    lists = (method.ENGINES, method.DIRECTIONS, method.LANGS, method.SITES, method.WEIGHTS)
    for opt, found in actions.items():
        for c in found:  # the very tuples of the method, not a copy written again
            assert any(c is t for t in lists), opt


def test_flatten():
    cfg = config.StudyConfig()
    flat = config.flatten(cfg, keep=("speeds",))
    assert flat["zoning.budget_min"] == 10.0 and flat["zoning.speeds"] == {}
    assert flat["demand.seats.solos"][1] == {"year": 2025, "usage_share": 0.30,
                                             "hours_per_month": 35.0}
    cfg.demand.telework_rates = {"cadres": 0.2}
    assert config.flatten(cfg)["demand.telework_rates.cadres"] == 0.2
    assert config.flatten(cfg.demand, "demand", tables=False)["demand.telework_rates"] == {
        "cadres": 0.2}
    items = config.flatten(cfg.demand, "demand", items=True)
    assert items["demand.seats.solos[1].usage_share"] == 0.30
    assert items["demand.seats.teleworkers[0].share_of_users"] == 0.20
    assert config.flatten({"a": {"b": 1, "c": {}}, "d": [1]}, nodes=True) == {
        "a": {"b": 1, "c": {}}, "a.b": 1, "a.c": {}, "d": [1]}


def _numeric_defaults(names: dict[str, float]) -> list[str]:
    """``name = <number>`` defaults of src/ repeating a method default (name -> value)."""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            pairs = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                pos = a.posonlyargs + a.args
                pairs += list(zip(pos[len(pos) - len(a.defaults):], a.defaults, strict=True))
                pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d]
                pairs = [(k.arg, d) for k, d in pairs]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                pairs = [(node.target.id, node.value)]
            for name, default in pairs:
                if name in names and isinstance(default, ast.Constant) \
                        and default.value == names[name]:
                    bad.append(f"{path.relative_to(PKG)}:{default.lineno} {name}")
    return bad


def test_ring_and_margin_defaults_are_one_constant():
    assert _numeric_defaults({"ring_km": method.RING_KM, "margin_km": method.MARGIN_KM,
                              "margin_m": method.MARGIN_KM * 1000}) == []
    assert config.StudyConfig().ring_km == method.RING_KM
    assert config.ZoningConfig().margin_km == method.MARGIN_KM
    sig = inspect.signature(territory.load_territory).parameters
    assert sig["ring_km"].default == method.RING_KM
    assert inspect.signature(network.load_network).parameters["margin_m"].default == \
        method.MARGIN_KM * 1000


def test_speed_profile_from_the_zoning_settings():
    z = config.ZoningConfig(speeds={**method.OSRM_CAR_HIGHWAY_KMH, "primary": 70.0},
                            speed_factor=0.5, u_turn_s=5.0, junction_costs=False)
    p = network.speed_profile(z)
    assert (p.highway_kmh["primary"], p.factor, p.u_turn_s, p.turns) == (70.0, 0.5, 5.0, False)
    assert p.snap_kmh == method.SNAP_KMH and p.speed_model == "osrm-car"
    legal = network.speed_profile(config.ZoningConfig(speed_model="legal"))
    assert legal.speed_model == "legal" and legal.highway_kmh["motorway"] == 130.0
