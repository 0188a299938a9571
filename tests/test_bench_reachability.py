"""The reachability benchmark's short mode runs and agrees with networkx (CI keeps it alive).

``benchmarks/bench_reachability.py --quick`` computes the 10- and 20-minute commune tables
on the Hauts-de-France skeleton for 300 origins with the engine and with networkx (points
snapped to road segments on both sides), with junction costs (edge-based graph: states and
turn arcs) and without (node-based, the legal-limit skeleton), and asserts identical pairs
and times; this test fails when it crashes or when the two differ. No timing is asserted.
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
    assert len(tables) == 4 and all("300 origins" in ln and "identical to networkx" in ln
                                    for ln in tables), out.stdout
    for model in ("junction costs (edge-based)", "no junction costs (node-based)"):
        assert sum(model in ln for ln in tables) == 2, out.stdout
        assert any(ln.startswith("vertex times identical to networkx on 300") and model in ln
                   for ln in lines), out.stdout
    assert lines[-1].startswith("speedup_vs_networkx=")
