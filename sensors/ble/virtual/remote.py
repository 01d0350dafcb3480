"""The host's side of the radio process (`sensors.ble.virtual.radio_process`): the central's
bumble Host/Device, connected over an HCI transport to its controller in that process, which
bleak's virtual backends drive as they drive an in-process radio; and stand-ins for the virtual
sensors there (their addresses, and what they sent once the radio is closed).

If the radio process dies, its sensors vanish as real ones out of range do: every connection of
the central ends with a supervision timeout (bleak reports the disconnections, the link tries to
reconnect and finally reports the sensors lost) and `RemoteRadio.lost` says why."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bumble import hci
from bumble.device import Device
from bumble.host import Host
from bumble.transport.common import StreamPacketSink, StreamPacketSource

from sensors.ble.errors import BleError
from sensors.ble.virtual.late_responses import drop_late_command_responses
from sensors.ble.virtual.radio import CENTRAL_ADDRESS, CentralRadio, MonotonicClock
from sensors.ble.virtual.radio_process import (
    Attach,
    Attached,
    Close,
    Closed,
    Failed,
    Origin,
    Perform,
    Reply,
    Request,
    SendLog,
    TakeSendLog,
)
from sensors.placements import Placement
from sensors.simulator.drills.base import Drill

log = logging.getLogger(__name__)

#: Longest wait (s) for the radio process to start and attach its sensors.
START_TIMEOUT_S = 60.0
#: Longest wait (s) for any other answer of the radio process.
REPLY_TIMEOUT_S = 10.0
#: How long (s) a closed radio process is given to end before it is killed.
EXIT_TIMEOUT_S = 5.0


def radio_process_wanted() -> bool:
    """Whether real-time virtual sensors run in a radio process: on POSIX systems (it needs
    socket pairs passed to a child), unless STABMON_RADIO_PROCESS=0."""
    return os.name == "posix" and os.environ.get("STABMON_RADIO_PROCESS", "1") != "0"


class RadioProcessError(BleError):
    """The radio process could not be started, did not answer, or failed a request."""


@dataclass
class RemoteSensor:
    """A virtual sensor in the radio process, as the host knows it. sent_blocks /
    spoiled_blocks: what it sent (filled when the radio closes, if kept: `Attach.keep_sent`)."""

    radio: RemoteRadio
    placement: Placement
    address: str
    battery_pct: int
    sent_blocks: Any = None
    spoiled_blocks: Any = field(default_factory=list)
    notifications_sent: int = 0
    samples_sent: int = 0


class RemoteBody:
    """The sensors' body in the radio process: `perform` as `Performance.perform` (a request)."""

    def __init__(self, radio: RemoteRadio) -> None:
        self.radio = radio

    def perform(self, drill: Drill, not_before_s: float = 0.0) -> float:
        return float(self.radio.ask(Perform(drill, not_before_s)).value)  # type: ignore[union-attr]


class _Channel(StreamPacketSource):
    """The host's end of the HCI transport; notes when the radio side goes away."""

    on_lost: Any = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.on_lost is not None:
            self.on_lost()


class RemoteRadio(CentralRadio):
    """The central of a radio process (realtime only). Start it with `start`; `close` ends the
    process. `lost`: why the radio went away on its own (None while it is there)."""

    realtime = True

    def __init__(self) -> None:
        self.clock = MonotonicClock()
        self.closed = False
        self.lost: str | None = None
        self.fleet: dict[Placement, RemoteSensor] = {}
        self.body = RemoteBody(self)
        self._origin_ns = -1
        self._process: subprocess.Popen[bytes] | None = None
        self._control: Connection | None = None
        self._transport: asyncio.Transport | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def origin_ns(self) -> int:
        """Host time (ns) of the sensors' world time 0 (-1 until one has started)."""
        if self._origin_ns < 0 and self.lost is None and not self.closed:
            self._origin_ns = int(self.ask(Origin()).value)  # type: ignore[union-attr]
        return self._origin_ns

    @classmethod
    async def start(cls, attach: Attach) -> RemoteRadio:
        """Start a radio process with the sensors of `attach` advertising on its link."""
        radio = cls()
        try:
            await radio._start(attach)
        except BaseException:
            await radio.close()
            raise
        return radio

    async def _start(self, attach: Attach) -> None:
        loop = self._loop = asyncio.get_running_loop()
        control_here, control_there = socket.socketpair()
        hci_here, hci_there = socket.socketpair()
        root = Path(__file__).resolve().parents[3]
        path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        try:
            fds = (control_there.fileno(), hci_there.fileno())
            self._process = subprocess.Popen(
                [sys.executable, "-m", "sensors.ble.virtual.radio_process", *map(str, fds), str(os.getpid())],
                pass_fds=fds,
                env=env,
            )
        finally:
            control_there.close()
            hci_there.close()
        self._control = Connection(control_here.detach())
        transport, channel = await loop.create_unix_connection(_Channel, sock=hci_here)
        self._transport = transport
        channel.on_lost = lambda: self._on_lost("its HCI transport closed")
        host = Host(controller_source=channel, controller_sink=StreamPacketSink(transport))
        drop_late_command_responses(host)  # an answer after its wait was cancelled: no traceback
        self.central = Device(name="stabmon host", address=hci.Address(CENTRAL_ADDRESS), host=host)
        attached = await asyncio.to_thread(self.ask, attach, START_TIMEOUT_S)
        assert isinstance(attached, Attached)
        battery = attached.battery_pct
        self.fleet = {p: RemoteSensor(self, p, a, battery[p]) for p, a in attached.addresses.items()}
        threading.Thread(target=self._watch, name="radio-watch", daemon=True).start()

    def ask(self, request: Request, timeout_s: float = REPLY_TIMEOUT_S) -> Reply:
        """Send one request and wait for its reply (blocking; quick except `Attach`)."""
        if self._control is None or self.lost is not None:
            why = self.lost or "not started"
            raise RadioProcessError(f"the virtual sensors' radio process is gone ({why})")
        with self._lock:
            try:
                self._control.send(request)
                if not self._control.poll(timeout_s):
                    raise RadioProcessError(
                        f"the virtual sensors' radio process did not answer {type(request).__name__} "
                        f"within {timeout_s:.0f} s"
                    )
                reply = self._control.recv()
            except (EOFError, OSError) as error:
                raise RadioProcessError(f"the virtual sensors' radio process is gone ({error})") from None
        if isinstance(reply, Failed):
            raise RadioProcessError(f"the virtual sensors' radio process failed: {reply.error}")
        return reply

    def send_log(self) -> dict[Placement, list[tuple[int, int]]]:
        """Each sensor's (send ns, newest counter) per block sent since the last call (empty
        unless `Attach.send_log`)."""
        reply = self.ask(TakeSendLog())
        assert isinstance(reply, SendLog)
        return reply.sends

    async def power_on(self) -> None:
        if self.lost is not None:
            raise RadioProcessError(f"the virtual sensors' radio process is gone ({self.lost})")
        await super().power_on()

    def _watch(self) -> None:
        """Thread: notice the radio process ending on its own."""
        process = self._process
        assert process is not None
        code = process.wait()
        if not self.closed and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended
                self._loop.call_soon_threadsafe(self._on_lost, f"it ended with exit code {code}")

    def _on_lost(self, why: str) -> None:
        """The radio went away without being closed: its sensors' links time out."""
        if self.closed or self.lost is not None:
            return
        self.lost = why
        log.error("the virtual sensors' radio process is gone (%s): their links are lost", why)
        for handle in list(self.central.connections):
            event = hci.HCI_Disconnection_Complete_Event(
                status=hci.HCI_SUCCESS, connection_handle=handle, reason=hci.HCI_CONNECTION_TIMEOUT_ERROR
            )
            with contextlib.suppress(Exception):
                self.central.host.on_hci_packet(event)

    async def close(self) -> None:
        """Close the sensors (collecting what they sent) and end the process."""
        if self.closed:
            return
        self.closed = True
        closed: Reply | None = None
        if self._control is not None and self.lost is None:
            try:
                closed = await asyncio.to_thread(self.ask, Close())
            except RadioProcessError as error:
                log.warning("closing the radio process: %s", error)
        if isinstance(closed, Closed):
            for placement, sensor in self.fleet.items():  # append: a compact log has only that
                for block in closed.sent.get(placement, []) if sensor.sent_blocks is not None else []:
                    sensor.sent_blocks.append(block)
                for block in closed.spoiled.get(placement, []):
                    sensor.spoiled_blocks.append(block)
                sensor.notifications_sent = closed.notifications_sent.get(placement, 0)
                sensor.samples_sent = closed.samples_sent.get(placement, 0)
        if self._transport is not None:
            self._transport.close()
        if self._control is not None:
            self._control.close()
        process = self._process
        if process is not None:
            try:
                await asyncio.to_thread(process.wait, EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("the radio process did not end: killed")
                process.kill()
                await asyncio.to_thread(process.wait)
