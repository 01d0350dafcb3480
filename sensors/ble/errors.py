"""Errors of the BLE layer. Each names the sensor or packet and what was wrong."""

from __future__ import annotations

from sensors.errors import SensorsError


class BleError(SensorsError):
    """Base class of BLE-layer errors."""


class DecodeError(BleError, ValueError):
    """Bytes that are not a valid packet of the named protocol. The link counts and logs these
    and carries on streaming; it never stops on one."""

    def __init__(self, protocol: str, problem: str, data: bytes | bytearray | memoryview = b"") -> None:
        self.protocol = protocol
        self.problem = problem
        self.data = bytes(data)
        preview = self.data[:24].hex(" ")
        more = " …" if len(self.data) > 24 else ""
        super().__init__(f"{protocol}: {problem} ({len(self.data)} bytes: {preview}{more})")


class LinkSettingsError(BleError, ValueError):
    """A link setting that cannot work; the message names the setting and why."""


class SensorNotFoundError(BleError):
    """A sensor asked for by id was not seen in a scan."""


class ConnectionFailedError(BleError):
    """Connecting to, or starting, a sensor failed."""


class BluetoothUnavailableError(BleError):
    """The computer's Bluetooth stack cannot be used (no adapter, adapter off, no BlueZ/D-Bus)."""


class StaleNotificationError(DecodeError):
    """A valid notification the stream has already had (`duplicate`) or has gone past (it came
    after its successor): dropped and counted as such, not as malformed."""

    def __init__(self, protocol: str, problem: str, data: bytes = b"", *, duplicate: bool) -> None:
        super().__init__(protocol, problem, data)
        self.duplicate = duplicate
