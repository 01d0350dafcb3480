"""Errors raised by the core sensor types, the simulator and sources, and `StabmonError`, the
root of every error stabmon raises on purpose (sensors is the lowest package, so every other
package's errors derive from it here)."""


class StabmonError(Exception):
    """Base class of every error stabmon raises for bad input or a failed operation: the command
    line reports these as one line. Each package's `errors.py` base class derives from it."""


class SensorsError(StabmonError):
    """Base class of every error raised by the `sensors` package."""


class InvalidSamplesError(SensorsError, ValueError):
    """A sample block or frame was built from arrays of the wrong shape, dtype or order."""


class UnknownPlacementError(SensorsError, ValueError):
    """A placement name that is not one of `Placement`'s values."""


class UnknownDrillError(SensorsError, ValueError):
    """A drill name that the simulator's catalogue does not know."""


class SourceError(SensorsError):
    """A source could not start, or failed while streaming."""
