"""The walkthrough notebook runs top to bottom on the mirror data."""

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT


@pytest.mark.slow
def test_walkthrough_notebook_runs(data_dir, monkeypatch):
    monkeypatch.setenv("TERRITORIAL_GEO_DATA", str(data_dir))
    nb = nbformat.read(ROOT / "notebooks" / "walkthrough.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
                   for o in outputs)
    assert "communes in at least one zone" in text
    assert "9 scenarios, 6 routing passes" in text  # the scenario section ran
