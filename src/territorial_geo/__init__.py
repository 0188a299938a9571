"""territorial_geo: drive-time zones, coworking demand and third-place coverage.

Stages, data flowing one way::

    sources -> network -> zoning -> demand -> coverage -> maps / report

tied together by :mod:`territorial_geo.study` and the ``territorial-geo`` CLI.
"""

from territorial_geo.errors import (
    DataFormatError,
    DataMissingError,
    TerritorialGeoError,
    UnknownPlaceError,
)

__version__ = "0.1.0"

__all__ = [
    "DataFormatError",
    "DataMissingError",
    "TerritorialGeoError",
    "UnknownPlaceError",
    "__version__",
]
