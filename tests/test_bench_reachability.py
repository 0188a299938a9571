"""The reachability benchmark's short mode runs and agrees with networkx (CI keeps it alive).

``benchmarks/bench_reachability.py --quick`` computes the 10- and 20-minute commune tables
on the Hauts-de-France skeleton for 300 origins with the engine and with networkx (points
snapped to road segments on both sides) and asserts identical pairs and times; this test
fails when it crashes or when the two differ. No timing is asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import territorial_geo

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_reachability_quick_runs_and_matches_networkx(data_dir):
    # the package this test imported (the worktree's, or a mutation check's copy)
    pkg = Path(territorial_geo.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(pkg), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_reachability.py"), "--quick",
         "--data-dir", str(data_dir)],
        capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    tables = [ln for ln in lines if ln.startswith("distancier table")]
    assert len(tables) == 2 and all("300 origins" in ln and "identical to networkx" in ln
                                    for ln in tables), out.stdout
    assert any(ln.startswith("node to node identical to networkx on 300") for ln in lines)
    assert lines[-1].startswith("speedup_vs_networkx=")
