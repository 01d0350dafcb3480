"""Errors raised by the processing pipeline."""

from sensors.errors import StabmonError


class ProcessingError(StabmonError):
    """Base class of every error raised by `sensors.processing`."""


class CalibrationError(ProcessingError):
    """Sensor-to-segment calibration could not be done (patient moving, sensor missing, ...):
    `cause` says what the capture showed, `advice` what the people in the room can do about it
    ("" for none); the message is both."""

    def __init__(self, cause: str, advice: str = "") -> None:
        super().__init__(f"{cause}; {advice}" if advice else cause)
        self.cause, self.advice = cause, advice


class SynchronizerError(ProcessingError, ValueError):
    """Data pushed to the synchroniser for an unknown placement or with inconsistent shapes."""


class SettingsError(ProcessingError, ValueError):
    """A processing setting outside what the pipeline (and the C code under it) can run with."""
