"""bumble writes every HCI packet and ATT PDU into its debug messages with f-strings, so each
packet is rendered as text (fields, colours) on its way even when nobody logs at debug level:
5 renderings per notification in the virtual radio, 2 in the host's central (a tenth of the radio
process's CPU with 6 sensors at 200 Hz). `render_packets_only_for_debug` has an f-string (a
`format`, not `str`) of such an object give its full text only while bumble's logger
("bumble") is enabled for debug, and just its class name otherwise: `str()` and the debug
messages, when on, are unchanged; a warning that embeds a packet shows its class name.
"""

from __future__ import annotations

import logging
from typing import Any

_BUMBLE = logging.getLogger("bumble")
_DONE: list[bool] = []


def _format(self: Any, spec: str) -> str:
    if spec or _BUMBLE.isEnabledFor(logging.DEBUG):
        return object.__format__(self, spec)
    return type(self).__name__


def render_packets_only_for_debug() -> None:
    """Install the lazy rendering on bumble's HCI packets and ATT PDUs (once per process)."""
    if _DONE:
        return
    from bumble import att, hci

    for cls in (hci.HCI_Packet, att.ATT_PDU):
        if "__format__" in vars(cls):  # bumble renders these its own way now: leave them
            continue
        cls.__format__ = _format  # type: ignore[method-assign]
    _DONE.append(True)
