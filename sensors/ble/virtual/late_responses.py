"""A controller's answer to an HCI command nobody waits for any more is dropped, with a log line.

bumble's Host keeps one future for the command in flight (`Host.pending_response`). When the task
awaiting it is cancelled (a connection attempt that timed out, a session stopping), asyncio
cancels that future at once, but the Host lets go of it only when that task next runs. An answer
(Command Complete or Command Status) that the controller sent in between (over the radio
process's socket, or by `call_soon` on the in-process link) then met a cancelled future:
`set_result` raised InvalidStateError and bumble printed its traceback in the middle of a good
recording (walkthrough s9 #8). Nothing else goes wrong: the Host's own clean-up of the cancelled
command frees its command slot. `drop_late_command_responses` drops just such an answer (also a
second answer to one command) and logs which command it answered; every other answer goes on to
bumble as before.
"""

from __future__ import annotations

import logging
from typing import Any

from bumble.host import Host

log = logging.getLogger(__name__)


def drop_late_command_responses(host: Host) -> None:
    """Make `host` drop (and log at INFO) a command answer whose waiting future is already done."""
    answer = host.on_command_processed

    def on_command_processed(event: Any) -> None:
        pending = host.pending_response
        if pending is not None and pending.done():
            why = "its wait was cancelled" if pending.cancelled() else "it was already answered"
            log.info(
                "HCI: an answer for command 0x%04X (status %s) came after %s; dropped",
                event.command_opcode,
                getattr(event, "status", getattr(event, "return_parameters", "?")),
                why,
            )
            return
        answer(event)

    setattr(host, "on_command_processed", on_command_processed)  # noqa: B010 (a method of this instance)
