"""A controller's answer to an HCI command whose wait was cancelled (walkthrough s9 #8: a bumble
traceback ending in "pending_response.set_result(event) InvalidStateError: invalid state" in the
middle of a good recording), acted out on bumble's own in-process controller and host."""

from __future__ import annotations

import asyncio
import logging

import pytest
from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from sensors.ble.virtual.radio import make_device


async def _cancel_a_command_in_flight(guarded: bool) -> tuple[list[dict], object]:
    """Power a device on, send a command and cancel its waiting task before the controller's
    answer (already on its way by `call_soon`) arrives; then send another command. Returns what
    reached the loop's exception handler and the second command's answer."""
    loop = asyncio.get_running_loop()
    unhandled: list[dict] = []
    loop.set_exception_handler(lambda _, context: unhandled.append(context))
    address = "C0:5A:B1:00:00:09"
    if guarded:  # a virtual radio's device (the radio process's central is guarded alike)
        device = make_device(LocalLink(), address, "test")
    else:  # bumble's parts as they come
        controller = Controller("test", link=LocalLink(), public_address=address)
        device = Device(
            name="test", address=hci.Address(address), host=Host(controller, AsyncPipeSink(controller))
        )
    await device.power_on()
    waiting = asyncio.create_task(device.host.send_command(hci.HCI_Read_BD_ADDR_Command()))
    while device.host.pending_response is None:  # the command is sent
        await asyncio.sleep(0)
    await asyncio.sleep(0)  # the controller has it: its answer is queued on the loop
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    for _ in range(5):
        await asyncio.sleep(0)
    answer = await asyncio.wait_for(device.host.send_command(hci.HCI_Read_BD_ADDR_Command()), 5.0)
    return unhandled, answer


def test_without_the_guard_bumble_raises_on_the_late_answer():
    """The failure as bumble 0.0.236 has it: the late answer raises InvalidStateError (when a
    bumble release handles it, this fails and the guard can go)."""
    unhandled, _ = asyncio.run(_cancel_a_command_in_flight(guarded=False))
    assert any(isinstance(c.get("exception"), asyncio.InvalidStateError) for c in unhandled), unhandled


def test_a_late_answer_is_dropped_with_a_log_line_and_the_host_goes_on(caplog):
    with caplog.at_level(logging.INFO, logger="sensors.ble.virtual.late_responses"):
        unhandled, answer = asyncio.run(_cancel_a_command_in_flight(guarded=True))
    assert unhandled == []
    assert any("came after its wait was cancelled; dropped" in r.getMessage() for r in caplog.records)
    assert isinstance(answer, hci.HCI_Command_Complete_Event)  # the next command is answered


def test_other_failures_in_a_callback_still_reach_the_handler():
    """The guard hides nothing else: an exception raised in another callback is still reported."""

    async def run() -> list[dict]:
        loop = asyncio.get_running_loop()
        unhandled: list[dict] = []
        loop.set_exception_handler(lambda _, context: unhandled.append(context))
        device = make_device(LocalLink(), "C0:5A:B1:00:00:0A", "test")  # guarded
        await device.power_on()
        loop.call_soon(lambda: 1 / 0)
        await asyncio.sleep(0.01)
        return unhandled

    assert any(isinstance(c.get("exception"), ZeroDivisionError) for c in asyncio.run(run()))
