"""The radio process: virtual sensors outside the host's process, as real sensors are.

It holds bumble's `LocalLink`, every virtual peripheral (with its simulated body and drill) and
the controller of the host's central; the host process keeps only the central's bumble
Host/Device, connected to that controller over an HCI transport (H4 packets on a socket pair,
bumble's `StreamPacketSource`/`StreamPacketSink`). What the host tells the virtual sensors
(attach, the body's next act, the send log, close) goes over a small typed control channel
(`multiprocessing.connection.Connection` on a second socket pair): requests below, each answered
by one reply. `sensors.ble.virtual.remote` is the host's side.

The process ends with its host: on `Close`, when the control channel closes (the host process
ended or was killed) and, on Linux, by a parent-death signal. It runs at default priority.

Run as `python -m sensors.ble.virtual.radio_process CONTROL_FD HCI_FD HOST_PID`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from sensors.ble.virtual.base import FaultPlan
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.simulator.drills.base import Drill
from sensors.simulator.sensor import SimulatedSensorSettings

if TYPE_CHECKING:
    from sensors.ble.virtual.base import VirtualSensor
    from sensors.ble.virtual.radio import VirtualRadio

log = logging.getLogger(__name__)

#: How often (s) the radio process checks that its host process is still there.
HOST_CHECK_S = 0.25


# Requests (host → radio) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attach:
    """Put one advertising virtual sensor per placement on the link (`attach_fleet`'s arguments);
    send_log: each sensor logs when it sent each block (benchmarks)."""

    drill: Drill
    placements: tuple[Placement, ...]
    family: SensorFamily
    settings: Mapping[Placement, SimulatedSensorSettings] | SimulatedSensorSettings | None
    seed: int
    faults: Mapping[Placement, FaultPlan] = field(default_factory=dict)
    keep_sent: bool = False
    send_log: bool = False

    async def attach_to(self, radio: VirtualRadio) -> dict[Placement, VirtualSensor]:
        """The fleet, attached to `radio` (in the radio process, or in the host's own for fast
        runs); by placement."""
        from sensors.ble.virtual.fleet import attach_fleet

        return await attach_fleet(
            radio,
            self.drill,
            self.placements,
            self.family,
            self.settings,
            seed=self.seed,
            faults=self.faults,
            keep_sent=self.keep_sent,
        )


@dataclass(frozen=True)
class Perform:
    """Have the sensors' body (a `Performance`) act out `drill` from world time not_before_s on."""

    drill: Drill
    not_before_s: float


@dataclass(frozen=True)
class Origin:
    """Ask for the host time (ns, CLOCK_MONOTONIC) of world time 0 (-1: no sensor started yet)."""


@dataclass(frozen=True)
class TakeSendLog:
    """Ask for each sensor's send log since the last ask."""


@dataclass(frozen=True)
class Close:
    """Stop the sensors, answer with what they sent, end the process."""


# Replies (radio → host) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attached:
    """address and battery (%) per placement."""

    addresses: dict[Placement, str]
    battery_pct: dict[Placement, int]


@dataclass(frozen=True)
class Value:
    """The answer to `Perform` (the act's start, world s) or `Origin` (ns)."""

    value: float | int


@dataclass(frozen=True)
class SendLog:
    """(monotonic ns handed to the sensor's stack, newest sample's counter) per block sent."""

    sends: dict[Placement, list[tuple[int, int]]]


@dataclass(frozen=True)
class Closed:
    """What each sensor sent (kept only when asked: `Attach.keep_sent`) and its counts."""

    sent: dict[Placement, list[SampleBlock]]
    spoiled: dict[Placement, list[SampleBlock]]
    notifications_sent: dict[Placement, int]
    samples_sent: dict[Placement, int]


@dataclass(frozen=True)
class Failed:
    """A request failed: what and why."""

    error: str


Request = Attach | Perform | Origin | TakeSendLog | Close
Reply = Attached | Value | SendLog | Closed | Failed


# The process ---------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: have the kernel kill this process when the one that started it ends."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _default_priority() -> None:
    """Run at the default priority, whatever the host process asked for itself."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, 0)


class RadioServer:
    """The link, the fleet and the central's controller, served on this process's loop."""

    def __init__(self, control: Connection, hci: socket.socket, host_pid: int) -> None:
        self.control = control
        self.hci = hci
        self.host_pid = host_pid
        self.done = asyncio.Event()
        self.fleet: dict[Placement, Any] = {}
        self.radio: Any = None

    async def serve(self) -> None:
        from bumble.controller import Controller
        from bumble.transport.common import StreamPacketSink, StreamPacketSource

        from sensors.ble.virtual.radio import CENTRAL_ADDRESS, VirtualRadio

        loop = asyncio.get_running_loop()
        server = self

        class HostSide(StreamPacketSource):
            def connection_lost(self, exc: Exception | None) -> None:
                log.debug("the host's HCI transport closed: %s", exc)
                loop.call_soon(server.done.set)

        transport, source = await loop.create_unix_connection(HostSide, sock=self.hci)
        self.radio = VirtualRadio(realtime=True, with_central=False)
        Controller(
            "stabmon host",
            host_source=source,
            host_sink=StreamPacketSink(transport),
            link=self.radio.link,
            public_address=CENTRAL_ADDRESS,
        )
        threading.Thread(target=self._read, args=(loop,), name="radio-control", daemon=True).start()
        await self.done.wait()
        await self.radio.close()
        transport.close()

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        """The control channel's reader thread: each request is handled on the loop."""
        while True:
            try:
                if not self.control.poll(HOST_CHECK_S):
                    if os.getppid() != self.host_pid:
                        raise EOFError("the host process is gone")
                    continue
                request = self.control.recv()
            except (EOFError, OSError) as error:
                log.debug("control channel closed: %s", error)
                loop.call_soon_threadsafe(self.done.set)
                return
            asyncio.run_coroutine_threadsafe(self._handle(request), loop)
            if isinstance(request, Close):
                return

    async def _handle(self, request: Request) -> None:
        try:
            reply = await self._answer(request)
        except Exception as error:
            log.exception("radio request %r failed", type(request).__name__)
            reply = Failed(f"{type(request).__name__}: {error}")
        with contextlib.suppress(OSError, ValueError):
            self.control.send(reply)
        if isinstance(request, Close):
            self.done.set()

    async def _answer(self, request: Request) -> Reply:
        radio = self.radio
        if isinstance(request, Attach):
            self.fleet = await request.attach_to(radio)
            for sensor in self.fleet.values():
                sensor.send_log = [] if request.send_log else None
            _warm_up(next(iter(self.fleet.values())))
            fleet = self.fleet.items()
            return Attached({p: s.address for p, s in fleet}, {p: s.battery_pct for p, s in fleet})
        if isinstance(request, Perform):
            body = next(iter(self.fleet.values())).drill
            return Value(body.perform(request.drill, request.not_before_s))
        if isinstance(request, Origin):
            return Value(int(radio.origin_ns))
        if isinstance(request, TakeSendLog):
            sends = {}
            for placement, sensor in self.fleet.items():
                if sensor.send_log is not None:
                    sends[placement], sensor.send_log = sensor.send_log, []
            return SendLog(sends)
        await radio.close()
        return Closed(
            {p: list(s.sent_blocks or []) for p, s in self.fleet.items()},
            {p: list(s.spoiled_blocks) for p, s in self.fleet.items()},
            {p: s.notifications_sent for p, s in self.fleet.items()},
            {p: s.samples_sent for p, s in self.fleet.items()},
        )


def _warm_up(sensor: Any) -> None:
    """Simulate and encode a little on a throwaway sensor, so that what that loads (the body model,
    rotations: seconds on a busy computer) is loaded before the host connects: loaded while the
    sensors stream, it held them, and their first notifications came seconds late."""
    import numpy as np

    from sensors.simulator import DrillOptions, make_drill
    from sensors.simulator.sensor import SimulatedSensor

    drill = make_drill("quiet-stance", DrillOptions(duration_s=5.0, seed=0))
    simulated = SimulatedSensor(drill, sensor.placement, sensor.settings, np.random.SeedSequence(0))
    block = simulated.generate_until(0.5, 0)
    if block is not None and len(block):
        sensor.encode(block)


def main(argv: list[str]) -> None:
    """The radio process's entry point: control fd, HCI fd, the host's process id."""
    _die_with_parent()
    _default_priority()
    control_fd, hci_fd, host_pid = (int(a) for a in argv[:3])
    if os.getppid() != host_pid:  # the host ended before the kernel could be asked to tell
        return
    logging.basicConfig(level=logging.WARNING, format="radio %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bumble").setLevel(logging.ERROR)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the window's; the host closes us
    control = Connection(control_fd)
    hci = socket.socket(fileno=hci_fd)
    asyncio.run(RadioServer(control, hci, host_pid).serve())
    logging.shutdown()
    os._exit(0)  # everything is answered and closed: skip the interpreter's slow teardown


if __name__ == "__main__":  # run from the module's own name, so its messages pickle by that name
    from sensors.ble.virtual.radio_process import main as _main

    _main(sys.argv[1:])
