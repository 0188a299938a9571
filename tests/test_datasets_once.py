"""The runner reads each dataset once, at the edge, and hands frames to the stages."""

from __future__ import annotations

import collections
import functools
import sys

import pytest

from territorial_geo import sources, study
from territorial_geo.config import load_config

LOADERS = ("load_communes", "load_chefs_lieux", "load_density_grid", "load_census",
           "load_csp_shares", "load_commune_list", "code_mapping", "load_third_places",
           "load_epci")


@pytest.fixture
def loader_calls(monkeypatch):
    """Count every call of the source loaders, wherever a module imported them from."""
    calls: collections.Counter[str] = collections.Counter()
    for name in LOADERS:
        orig = getattr(sources, name)

        def counted(*a, _name=name, _orig=orig, **k):
            calls[_name] += 1
            return _orig(*a, **k)

        functools.update_wrapper(counted, orig)
        for mod in list(sys.modules.values()):
            if (getattr(mod, "__name__", "").startswith("territorial_geo")
                    and getattr(mod, name, None) is orig):
                monkeypatch.setattr(mod, name, counted)
    return calls


def test_study_reads_each_dataset_once(data_dir, loader_calls):
    cfg, keys = load_config("examples/campagnes-artois.toml")
    data = sources.Datasets(data_dir, cache=False)  # the table cache would skip the loaders
    res = study.run_study(cfg, overridden=keys, data=data)
    assert len(res.territory.codes) == 96
    # the study needs all of these (approximate network, density, census, supply, EPCI)...
    assert set(loader_calls) == set(LOADERS)
    # ...and reads each one once
    assert dict(loader_calls) == dict.fromkeys(LOADERS, 1)
    assert all(n == 1 for n in data.reads.values())


def test_datasets_hands_out_the_same_frame(data_dir, loader_calls):
    data = sources.Datasets(data_dir, cache=False)
    assert data.communes() is data.communes()
    assert data.csp_shares(2016) is data.csp_shares(2016)
    assert data.csp_shares(2016) is not data.csp_shares(2022)
    assert loader_calls["load_communes"] == 1
    assert loader_calls["load_csp_shares"] == 2


def test_tables_given_to_datasets_are_not_read_again(data_dir, loader_calls):
    """A batch task gets the national tables from another task: its Datasets hands them
    out as they are (no loader call), and a table name it does not know is refused."""
    import pandas as pd

    frame = pd.DataFrame({"nom": ["x"]}, index=["01001"])
    data = sources.Datasets(data_dir, cache=False, tables={"communes": frame})
    assert data.communes() is frame and loader_calls["load_communes"] == 0
    data.chefs_lieux()  # the others are read as usual
    assert loader_calls["load_chefs_lieux"] == 1
    with pytest.raises(ValueError, match="'csp_shares' is not one of"):
        sources.Datasets(data_dir, tables={"csp_shares": frame})
