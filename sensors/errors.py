"""Errors raised by the core sensor types, the simulator and sources."""


class SensorsError(Exception):
    """Base class of every error raised by the `sensors` package."""


class InvalidSamplesError(SensorsError, ValueError):
    """A sample block or frame was built from arrays of the wrong shape, dtype or order."""


class UnknownPlacementError(SensorsError, ValueError):
    """A placement name that is not one of `Placement`'s values."""


class UnknownDrillError(SensorsError, ValueError):
    """A drill name that the simulator's catalogue does not know."""


class SourceError(SensorsError):
    """A source could not start, or failed while streaming."""
