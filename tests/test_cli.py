"""Command-line arguments: unambiguous options, one-line errors, help everywhere, --study."""

import argparse
import json
import re

import numpy as np
import pytest

from territorial_geo import cli, pipeline
from territorial_geo import coverage as C
from territorial_geo.errors import TerritorialGeoError


def _parse(*argv):
    return cli.build_parser().parse_args(list(argv))


def _subparsers(parser):
    """Every (command path, parser) pair, depth first."""
    out = [("territorial-geo", parser)]
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                out += [(f"{path} {name}" if path != "territorial-geo" else name, p)
                        for path, p in _subparsers(sp)]
    return out


# ---------------------------------------------------------------- list options vs territory

@pytest.mark.parametrize("argv, dest, value", [
    (["zones", "--towns", "62045,62063", "200069482"], "towns", ["62045", "62063"]),
    (["zones", "--towns", "62045", "--towns", "62063", "200069482"], "towns",
     ["62045", "62063"]),
    (["zones", "--towns", "62045", "--bands", "5,10", "200069482"], "bands", [5.0, 10.0]),
    (["coverage", "--planned", "59481", "200069482"], "planned", ["59481"]),
    (["coverage", "--minutes", "10,20", "200069482"], "minutes", [10.0, 20.0]),
    (["site-selection", "--planned", "Bavay,59481", "200069482"], "planned",
     ["Bavay", "59481"]),
])
def test_list_options_do_not_swallow_the_territory(argv, dest, value):
    args = _parse(*argv)
    assert args.territory == "200069482"
    assert getattr(args, dest) == value


def test_list_option_defaults_are_not_extended():
    # action="extend" appends to a default list: the defaults must not leak into user values
    assert _parse("zones", "T", "--towns", "A", "--bands", "7").bands == [7.0]
    assert _parse("coverage", "T", "--minutes", "15").minutes == [15.0]


def test_space_separated_list_is_a_one_line_error(capsys):
    rc = cli.main(["zones", "200069482", "--towns", "62045", "62063"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "unrecognized arguments: 62063" in err and "--towns 62045,62063" in err


# ---------------------------------------------------------------- bad values: exit 2, one line

@pytest.mark.parametrize("argv, names", [
    (["site-selection", "200069482", "--weight", "jobs"], ["--weight", "jobs"]),
    (["coverage", "200069482", "--sites", "nowhere"], ["--sites", "nowhere"]),
    (["zones", "200069482", "--towns", "62045", "--direction", "up"], ["--direction", "up"]),
    (["site-selection", "200069482", "--k", "-1"], ["--k", ">= 0"]),
    (["site-selection", "200069482", "--k", "two"], ["--k", "'two'"]),
    (["site-selection", "200069482", "--target-share", "1.5"], ["--target-share", "(0, 1]"]),
    (["site-selection", "200069482", "--time-limit", "0"], ["--time-limit", "> 0"]),
    (["coverage", "200069482", "--minutes", "10,,20"], ["--minutes", "empty"]),
    (["zones", "200069482", "--towns", "62045", "--zone-minutes", "-5"], ["--zone-minutes"]),
    (["data", "status", "--jsonn"], ["--jsonn"]),
])
def test_unknown_option_value_is_exit_2_one_line(argv, names, capsys):
    rc = cli.main(argv)
    assert rc == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: territorial-geo")
    assert "usage:" not in err and "Traceback" not in err
    for n in names:
        assert n in err


def test_help_and_version_still_exit_0(capsys):
    assert cli.main(["--version"]) == 0
    assert "territorial-geo" in capsys.readouterr().out
    assert cli.main(["site-selection", "--help"]) == 0
    assert "--within-minutes" in capsys.readouterr().out


# ---------------------------------------------------------------- each option means one thing

def test_budget_was_split_into_two_names(capsys):
    assert _parse("zones", "T", "--towns", "A", "--zone-minutes", "12").zone_minutes == 12
    assert _parse("site-selection", "T", "--within-minutes", "7").within_minutes == 7
    rc = cli.main(["zones", "200069482", "--towns", "62045", "--budget", "10"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--zone-minutes" in err and "--within-minutes" in err and err.count("\n") == 1
    # no abbreviations: --zone would otherwise silently mean --zone-minutes
    assert cli.main(["zones", "200069482", "--towns", "62045", "--zone", "10"]) == 2


def _meaning(help_text: str) -> str:
    """An option's meaning: its help text up to the first ':' or ' (' (defaults vary)."""
    return re.split(r":| \(", help_text, maxsplit=1)[0]


def test_an_option_name_means_the_same_thing_in_every_command():
    meanings: dict[str, dict[str, str]] = {}
    for path, p in _subparsers(cli.build_parser()):
        for a in p._actions:
            for opt in a.option_strings:
                if opt not in ("-h", "--help"):
                    meanings.setdefault(opt, {})[path] = _meaning(a.help or "")
    shared = {o: m for o, m in meanings.items() if len(m) > 1}
    assert {"--json", "--out", "--network", "--ring-km"} <= set(shared)
    for opt, by_cmd in shared.items():
        assert len(set(by_cmd.values())) == 1, (opt, by_cmd)


def test_every_option_has_help():
    seen = 0
    for path, p in _subparsers(cli.build_parser()):
        for a in p._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            seen += 1
            assert a.help and a.help.strip() and a.help != argparse.SUPPRESS, (path, a.dest)
            if isinstance(a, argparse._SubParsersAction):
                for ch in a._choices_actions:
                    assert ch.help and ch.help.strip(), (path, ch.dest)
    assert seen > 40


# ---------------------------------------------------------------- --study

STUDY = """
name = "Mormal, recent telework"
territory = "200043321"
ring_km = 10
[demand]
telework_preset = "insee2022"
[coverage]
minutes = [15]
sites = "existing"
k = 5
weight = "teleworkers"
"""


def test_study_file_then_command_line_overrides(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(STUDY)
    cfg, file_keys, cli_keys = cli._study_config(_parse("site-selection", "--study", str(f),
                                                        "--k", "2"))
    assert cfg.territory == "200043321" and cfg.ring_km == 10
    assert cfg.demand.telework_preset == "insee2022"
    assert cfg.coverage.weight == "teleworkers" and cfg.coverage.minutes == [15]
    assert cfg.coverage.k == 2 and cli_keys == {"coverage.k"}
    assert "demand.telework_preset" in file_keys
    cfg, _, cli_keys = cli._study_config(_parse("coverage", "200069482", "--study", str(f),
                                                "--minutes", "10,20", "--planned", "59481"))
    assert cfg.territory == "200069482" and cfg.coverage.minutes == [10.0, 20.0]
    assert cfg.supply.planned == ["59481"] and cfg.demand.telework_preset == "insee2022"
    assert cli_keys == {"territory", "coverage.minutes", "supply.planned"}
    # no study file: the method's defaults, every demand parameter labelled as such
    cfg, file_keys, _ = cli._study_config(_parse("coverage", "200069482"))
    params = cli._demand_parameters(cfg, file_keys, set())
    assert params["demand.telework_preset"] == {
        "value": "dares2004", "from": "default",
        "source": cfg.provenance()["demand.telework_preset"]}
    assert {p["from"] for p in params.values()} == {"default"}
    with pytest.raises(TerritorialGeoError, match="--study"):
        cli._study_config(_parse("coverage"))


def test_bad_study_file_is_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text("[coverage]\nweight = 'jobs'\n")
    assert cli.main(["coverage", "--study", str(f)]) == 2
    assert "coverage.weight" in capsys.readouterr().err


def test_study_changes_the_demand_used(data_dir, tmp_path, capsys):
    from territorial_geo import territory
    from territorial_geo.config import load_config

    f = tmp_path / "s.toml"
    f.write_text(STUDY)
    base = ["--data-dir", str(data_dir), "coverage", "--json"]
    assert cli.main([*base, "200043321", "--sites", "existing", "--ring-km", "10",
                     "--minutes", "15"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert cli.main([*base, "--study", str(f)]) == 0
    studied = json.loads(capsys.readouterr().out)
    # without a study file the output says the demand parameters are defaults
    assert default["study_file"] is None
    assert "demand.telework_preset" in default["demand_defaults"]
    assert studied["study_file"] == str(f)
    assert "demand.telework_preset" not in studied["demand_defaults"]
    assert studied["demand_parameters"]["demand.telework_preset"]["from"] == "study file"
    # the teleworkers counted are the study's (insee2022), computed independently here
    cfg, _ = load_config(f)
    t = territory.load_territory("200043321", ring_km=10, data_dir=data_dir)
    expect = pipeline.commune_demand_from_data(t.codes, cfg.demand, data_dir=data_dir).table[
        "teleworkers"].sum()
    assert studied["total_teleworkers"] == pytest.approx(expect)
    assert studied["total_teleworkers"] > 1.5 * default["total_teleworkers"]
    assert studied["total_population"] == default["total_population"]
    assert studied["covered_teleworkers_within"]["15"] != pytest.approx(
        default["covered_teleworkers_within"]["15"])


# ---------------------------------------------------------------- solver status in the output

def test_selection_output_says_time_limit(monkeypatch):
    import pulp

    tri = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], bool)

    class StoppedCBC(pulp.PULP_CBC_CMD):
        def actualSolve(self, lp, **kw):
            super().actualSolve(lp, **kw)
            lp.assignStatus(pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
            return lp.status

    monkeypatch.setattr(pulp, "PULP_CBC_CMD", StoppedCBC)
    sel = C.select_sites(tri, np.ones(4), 2)
    out = json.loads(cli._selection_text(sel, {"notes": sel.notes}, as_json=True))
    assert out["status"] == "time limit"
    assert out["gap"] == pytest.approx(1 / 7) and out["bound"] == pytest.approx(3.5)
    text = cli._selection_text(sel, {}, as_json=False)
    assert "solver status: time limit" in text and "LP-relaxation bound: 14.29%" in text
    monkeypatch.undo()
    sel = C.select_sites(tri, np.ones(4), 2)
    text = cli._selection_text(sel, {}, as_json=False)
    assert "solver status: optimal" in text and "0.00%" in text
