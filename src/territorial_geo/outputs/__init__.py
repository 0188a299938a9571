"""Stage 7, outputs: the study folder written from a
:class:`~territorial_geo.result.StudyResult` alone.

* :mod:`.prepared`: what the outputs need from the road network, the routing engine and
  the data directory, computed once by :func:`prepare_outputs` before anything is written
  (``StudyResult.prepared``): the drive-time grid, the main roads, Leaflet, the network's
  facts.
* :mod:`.tables`: the commune and member tables, ``parameters.json``, labels.
* :mod:`.webmap`: the web map and the printable maps.
* :mod:`.studyreport`: the report's sections.
* :mod:`.write`: :func:`write_outputs`, the folder, atomically.
* :mod:`.rendercache`: charts and maps an earlier run drew from equal inputs, reused.

The rendering itself lives in :mod:`territorial_geo.maps`, :mod:`territorial_geo.report`
and :mod:`territorial_geo.exports` (templates in ``territorial_geo/templates``).
"""

from territorial_geo.outputs.prepared import (
    NetworkFacts,
    OutputInputs,
    drive_time_grid,
    prepare_outputs,
)
from territorial_geo.outputs.tables import (
    commune_table,
    engine_label,
    fallbacks,
    network_label,
    parameters_doc,
    town_times,
    zone_members,
)
from territorial_geo.outputs.webmap import map_help, proposed_sites
from territorial_geo.outputs.write import write_outputs

__all__ = ["NetworkFacts", "OutputInputs", "commune_table", "drive_time_grid",
           "engine_label", "fallbacks", "map_help", "network_label", "parameters_doc",
           "prepare_outputs", "proposed_sites", "town_times", "write_outputs",
           "zone_members"]
