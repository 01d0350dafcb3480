"""How often the main window redraws, and the size it opens with.

The window's timer redraws as often as MAX_REDRAW_HZ while the window's thread stays within
GUI_CPU_SHARE of a core (`RedrawPacer`); when the live data run BUSY_BEHIND_S behind the clock it
redraws at BUSY_REDRAW_HZ only, leaving the processor to the session.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

#: The redraw rate the timer aims at, and the slowest it backs off to when a redraw costs more
#: than GUI_CPU_SHARE of a core at that rate (the window's thread, painting included).
MAX_REDRAW_HZ = 60.0
MIN_REDRAW_HZ = 10.0
GUI_CPU_SHARE = 0.5
#: When the live data run this far (s) behind the clock, the computer is too busy: the window
#: redraws at BUSY_REDRAW_HZ only, leaving the processor to the session.
BUSY_BEHIND_S = 0.75
BUSY_REDRAW_HZ = 2.0


def fitting_size(window: QWidget) -> QSize:
    """The window's opening size: 1366×768 (a common laptop screen), or the screen's available area
    when that is smaller. A size the clinician chose is remembered in the settings."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    wanted = QSize(1366, 768)
    if screen is None:
        return wanted
    return wanted.boundedTo(screen.availableGeometry().size())


class RedrawPacer:
    """Sets a timer's interval so the thread it runs on spends at most GUI_CPU_SHARE of a core:
    every half second, the thread's CPU time over the wall time since the last look (ticks and
    Qt's painting alike) decides whether the next interval shortens (to 1/MAX_REDRAW_HZ) or
    lengthens (to 1/MIN_REDRAW_HZ)."""

    period_s = 0.5

    def __init__(self, timer: QTimer) -> None:
        self.timer = timer
        self.interval_ms = 1000 / MAX_REDRAW_HZ
        self.share = 0.0
        self._since = (time.monotonic(), time.thread_time())
        timer.setInterval(round(self.interval_ms))

    def pace(self, now_s: float, cpu_s: float | None = None) -> None:
        """Look at the thread's CPU time (`cpu_s`, s; time.thread_time() unless given) at
        monotonic time `now_s` (s), and set the timer's interval when a period has passed."""
        wall0, cpu0 = self._since
        if now_s - wall0 < self.period_s:
            return
        cpu = time.thread_time() if cpu_s is None else cpu_s
        self.share = (cpu - cpu0) / (now_s - wall0)
        self._since = (now_s, cpu)
        # Proportional: the interval the measured share would have needed, moved halfway there.
        needed = self.interval_ms * self.share / GUI_CPU_SHARE
        target = min(max(needed, 1000 / MAX_REDRAW_HZ), 1000 / MIN_REDRAW_HZ)
        self.interval_ms += 0.5 * (target - self.interval_ms)
        self.timer.setInterval(round(self.interval_ms))
