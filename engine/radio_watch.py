"""Watching the radio process of a source's virtual sensors (`sensors.ble.virtual.remote`):
whether it ended on its own, its CPU, and when its sensors sent each block (for the latency
probe). Every function answers None or nothing when the source has no radio process (real
sensors, the plain simulator, virtual sensors in the engine's own process)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.factory import OpenedSource
from sensors.process_cpu import process_cpu_ns

if TYPE_CHECKING:
    from sensors.ble.virtual.remote import RemoteRadio


def radio_process(opened: OpenedSource | None) -> RemoteRadio | None:
    """The radio process of the source's virtual sensors (None: none)."""
    from sensors.ble.virtual.remote import RemoteRadio

    fleet = list(opened.fleet.values()) if opened is not None else []
    radio = getattr(fleet[0], "radio", None) if fleet else None
    return radio if isinstance(radio, RemoteRadio) else None


def radio_lost(opened: OpenedSource | None) -> str | None:
    """Why the radio process ended on its own (None: it runs, or there is none)."""
    radio = radio_process(opened)
    return radio.lost if radio is not None else None


def radio_cpu_ns(opened: OpenedSource) -> tuple[int, int] | None:
    """The radio process's (ns on a CPU, ns waiting for one) so far, over its threads (Linux's
    schedstat; None elsewhere or without a radio process)."""
    radio = radio_process(opened)
    if radio is None or radio.pid is None:
        return None
    return process_cpu_ns(radio.pid)


def send_log(opened: OpenedSource) -> dict[str, list[tuple[int, int]]]:
    """When the source's virtual sensors in a radio process sent each block since the last call:
    placement → [(monotonic ns, newest counter)] (empty without a radio process)."""
    radio = radio_process(opened)
    if radio is None or radio.lost is not None:
        return {}
    return {placement.value: sends for placement, sends in radio.send_log().items()}
