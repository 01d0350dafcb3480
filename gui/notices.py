"""Where the session's notices show in the main window, chosen by their severity and topic
(`engine.messages.Notice`), never by their text.

- Topic.TOO_BUSY: the amber "computer too busy" note under the top bar; it goes once the live
  data caught up (`NoticeBoard.caught_up`).
- Severity.ERROR: the banner, red; Severity.WARNING: the banner, amber. The banner keeps one line
  per topic (the newest notice of each, the most severe first, in the colour of the most severe)
  until the clinician starts the next drill (`NoticeBoard.clear`), or until an INFO of the same
  topic says the matter is over (saving caught up, a scan found the sensors): a WARNING line goes
  then, an ERROR stays.
- Severity.INFO: the status bar only, for a few seconds.
Every notice's first line also goes to the status bar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.messages import Notice, Severity, Topic

log = logging.getLogger(__name__)

#: The banner's look per severity (background, text colour).
BANNER_COLOURS: dict[Severity, tuple[str, str]] = {
    Severity.ERROR: ("#fdecea", "#b00020"),
    Severity.WARNING: ("#fff4e5", "#8a4b00"),
    Severity.INFO: ("#e8f0fe", "#0d47a1"),
}
BUSY_STYLE = "background: #fff4e5; color: #8a4b00; font-size: 11pt; padding: 4px;"
#: How long (ms) a notice stays in the status bar.
STATUS_MS = {Severity.ERROR: 15000, Severity.WARNING: 15000, Severity.INFO: 8000}


class Place(Enum):
    """Where a notice shows."""

    BANNER = "banner"
    BUSY_NOTE = "busy note"
    STATUS_BAR = "status bar"


def place_of(notice: Notice) -> Place:
    """Where `notice` shows: see the module docstring."""
    if notice.topic is Topic.TOO_BUSY:
        return Place.BUSY_NOTE
    if notice.severity >= Severity.WARNING:
        return Place.BANNER
    return Place.STATUS_BAR


def banner_style(severity: Severity) -> str:
    background, colour = BANNER_COLOURS[severity]
    return f"background: {background}; color: {colour}; font-size: 12pt; padding: 6px;"


class NoticeBoard(QWidget):
    """The banner and the busy note, stacked; `status` shows a line in the window's status bar
    (text, ms)."""

    def __init__(self, status: Callable[[str, int], None]) -> None:
        super().__init__()
        self._status = status
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.busy_note = QLabel("")
        self.busy_note.setWordWrap(True)
        self.busy_note.setStyleSheet(BUSY_STYLE)
        self.busy_note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.banner)
        layout.addWidget(self.busy_note)
        self.hide()  # takes no room (nor the layout's spacing) while it says nothing
        self._shown: dict[Topic, Notice] = {}  # in the banner, the newest per topic
        #: The severity of what the banner shows (its colour); None while it is hidden.
        self.banner_severity: Severity | None = None

    def show_notice(self, notice: Notice, place: Place | None = None) -> None:
        """Show `notice` where its severity and topic say (or at `place`)."""
        log.debug("notice (%s, %s): %s", notice.severity.name, notice.topic.value, notice.text)
        self._status(notice.text.splitlines()[0] if notice.text else "", STATUS_MS[notice.severity])
        where = place_of(notice) if place is None else place
        if where is Place.BUSY_NOTE:
            self.busy_note.setText(notice.text)
            self.busy_note.show()
            self._fit()
        elif where is Place.BANNER:
            self._shown.pop(notice.topic, None)  # the newest of a topic shows last among equals
            self._shown[notice.topic] = notice
            self._show_banner()
        elif notice.severity is Severity.INFO:
            shown = self._shown.get(notice.topic)
            if shown is not None and shown.severity is Severity.WARNING:  # that matter is over
                del self._shown[notice.topic]
                self._show_banner()

    def clear(self) -> None:
        """Take the banner down (a new drill starts)."""
        self._shown.clear()
        self.banner_severity = None
        self.banner.hide()
        self._fit()

    def caught_up(self) -> None:
        """The live data caught up with the clock: the busy note goes."""
        if not self.busy_note.isHidden():
            self.busy_note.hide()
            self._fit()

    def _show_banner(self) -> None:
        if not self._shown:
            self.clear()
            return
        notices = sorted(self._shown.values(), key=lambda n: -n.severity)  # stable: newest last
        severity = notices[0].severity
        self.banner.setText("\n".join(n.text for n in notices))
        if severity is not self.banner_severity:
            self.banner.setStyleSheet(banner_style(severity))
            self.banner_severity = severity
        self.banner.show()
        self._fit()

    def _fit(self) -> None:
        """Shown while the banner or the busy note is."""
        self.setVisible(not (self.banner.isHidden() and self.busy_note.isHidden()))
