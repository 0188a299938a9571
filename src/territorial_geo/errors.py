"""Exceptions raised for bad input: each names the file, code or key at fault."""

from __future__ import annotations


class TerritorialGeoError(Exception):
    """Base class: a problem the user can fix (bad input, missing data)."""


class DataMissingError(TerritorialGeoError):
    """A dataset is not in the data directory; the message says which fetch to run."""


class DataFormatError(TerritorialGeoError):
    """A file exists but is corrupt or wrongly shaped; the message names file and column."""


class UnknownPlaceError(TerritorialGeoError):
    """A commune, EPCI or department that does not exist; the message lists close matches."""


class ConfigError(TerritorialGeoError):
    """A study file with an unknown key or an impossible value; the message names the key."""


class NetworkError(TerritorialGeoError):
    """An empty or unusable road network, or a point that cannot be placed on it."""
