"""bumble writes every HCI packet and ATT PDU into its debug messages with f-strings, so each
packet is rendered as text (fields, ANSI colours) on its way even when nobody logs at debug level:
5 renderings and 8 colourings per notification in the virtual radio, 2 and 2 in the host's
central (about 60 µs of the radio process's CPU per notification). `render_packets_only_for_debug`
has an f-string (a `format`, not `str`) of such an object give its full text only while bumble's
logger ("bumble") is enabled for debug, and just its class name otherwise; and the colouring in
bumble's host and controller modules colour only then. `str()` and the debug messages, when on,
are unchanged; a warning that embeds a packet shows its class name, uncoloured.
"""

from __future__ import annotations

import logging
from typing import Any

_BUMBLE = logging.getLogger("bumble")
_DONE: list[bool] = []


def _debugging() -> bool:
    return _BUMBLE.isEnabledFor(logging.DEBUG)


def _format(self: Any, spec: str) -> str:
    if spec or _debugging():
        return object.__format__(self, spec)
    return type(self).__name__


def render_packets_only_for_debug() -> None:
    """Install the lazy rendering on bumble's HCI packets and ATT PDUs, and the lazy colouring
    in its host and controller (once per process)."""
    if _DONE:
        return
    from bumble import att, colors, controller, hci, host

    for cls in (hci.HCI_Packet, att.ATT_PDU):
        if "__format__" in vars(cls):  # bumble renders these its own way now: leave them
            continue
        cls.__format__ = _format  # type: ignore[method-assign]

    def color(message: str, *args: Any, **kwargs: Any) -> str:
        return colors.color(message, *args, **kwargs) if _debugging() else message

    for module in (host, controller):
        if getattr(module, "color", None) is colors.color:
            module.color = color  # type: ignore[attr-defined]
    _DONE.append(True)
