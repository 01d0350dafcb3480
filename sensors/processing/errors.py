"""Errors raised by the processing pipeline."""

from sensors.errors import StabmonError


class ProcessingError(StabmonError):
    """Base class of every error raised by `sensors.processing`."""


class CalibrationError(ProcessingError):
    """Sensor-to-segment calibration could not be done (patient moving, sensor missing, ...)."""


class SynchronizerError(ProcessingError, ValueError):
    """Data pushed to the synchroniser for an unknown placement or with inconsistent shapes."""


class SettingsError(ProcessingError, ValueError):
    """A processing setting outside what the pipeline (and the C code under it) can run with."""
