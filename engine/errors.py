"""Errors raised by the session engine."""

from sensors.errors import StabmonError


class EngineError(StabmonError):
    """Base class of every error raised by the `engine` package."""


class SpecError(EngineError, ValueError):
    """A session specification that cannot run (missing sensor, bad value, unreadable JSON)."""


class EngineDiedError(EngineError, RuntimeError):
    """The engine process ended without being asked to (crashed or was killed)."""
