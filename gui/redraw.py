"""How often the main window redraws, and the size it opens with.

The window's timer redraws at the display's refresh rate (at most MAX_REDRAW_HZ) on a grid of
frame deadlines, so the millisecond timer keeps that rate on average (`RedrawPacer`), while the
window's thread stays within GUI_CPU_SHARE of a core; when the live data run BUSY_BEHIND_S behind
the clock it redraws at BUSY_REDRAW_HZ only, leaving the processor to the session.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

#: The fastest redraw rate (Hz), reached on a display that refreshes at least this often: the
#: traces move ~17 px/s (60 s across ~1000 px), so redrawing faster shows nothing new and costs CPU.
MAX_REDRAW_HZ = 60.0
#: The slowest the pacer backs off to when a redraw costs more than GUI_CPU_SHARE of a core at
#: the display's rate (the window's thread, painting included).
MIN_REDRAW_HZ = 10.0
GUI_CPU_SHARE = 0.5
#: When the live data run this far (s) behind the clock, the computer is too busy: the window
#: redraws at BUSY_REDRAW_HZ only, leaving the processor to the session.
BUSY_BEHIND_S = 0.75
BUSY_REDRAW_HZ = 2.0


def fitting_size(window: QWidget, wanted: QSize | None = None) -> QSize:
    """The window's opening size: `wanted` (default 1366×768, a common laptop screen), or the
    screen's available area when that is smaller. A size the clinician chose is remembered in the
    settings."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    wanted = wanted or QSize(1366, 768)
    if screen is None:
        return wanted
    return wanted.boundedTo(screen.availableGeometry().size())


def fit_frame_on_screen(window: QWidget) -> None:
    """Once shown (the window manager's frame is known then): shrink the window so that its frame,
    title bar included, fits the screen's available area, and move it inside that area."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    frame, inner = window.frameGeometry(), window.geometry()
    margins = QSize(frame.width() - inner.width(), frame.height() - inner.height())
    size = window.size().boundedTo(available.size() - margins)
    if size != window.size():
        window.resize(size)
    width, height = size.width() + margins.width(), size.height() + margins.height()
    x = min(max(frame.x(), available.x()), available.x() + available.width() - width)
    y = min(max(frame.y(), available.y()), available.y() + available.height() - height)
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)  # move() places the frame


def display_rate_hz(widget: QWidget) -> float:
    """The refresh rate (Hz) of the screen `widget` shows on;
    MAX_REDRAW_HZ when the platform does not know its rate (RedrawPacer caps it at MAX_REDRAW_HZ)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    rate = screen.refreshRate() if screen is not None else math.nan
    return rate if math.isfinite(rate) and rate >= MIN_REDRAW_HZ else MAX_REDRAW_HZ


class RedrawPacer:
    """Paces a repeating timer whose every timeout calls `pace` first.

    The ticks keep to a grid of deadlines one redraw period apart, and each tick restarts the timer
    for the whole milliseconds to the next deadline (16 or 17 ms at 60 Hz): the rounding never
    accumulates, so the ticks come at the display's rate on average (a fixed 17 ms interval gave
    58.8 per second). A tick more than a period late keeps the grid: the frames it missed are
    skipped, never bunched. The period is the display's frame (`rate_hz`, Hz, at most
    MAX_REDRAW_HZ, read every half second: the window may move to another screen), lengthened up to
    1/MIN_REDRAW_HZ when the thread's CPU time over the wall time since the last look (ticks and
    Qt's painting alike) exceeds GUI_CPU_SHARE."""

    period_s = 0.5

    def __init__(self, timer: QTimer, rate_hz: Callable[[], float] = lambda: MAX_REDRAW_HZ) -> None:
        self.timer = timer
        self.rate_hz = rate_hz
        self.frame_s = self._frame_s()
        #: The redraw period (s): the display's frame, or longer when the CPU budget asks.
        self.interval_s = self.frame_s
        self.share = 0.0
        self._since = (time.monotonic(), time.thread_time())
        self._deadline = math.nan
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(round(1000 * self.interval_s))

    def pace(self, now_s: float, cpu_s: float | None = None) -> None:
        """At a tick at monotonic time `now_s` (s): schedule the next tick on the deadline grid (if
        the timer runs), and every `period_s` look at the thread's CPU time (`cpu_s`, s;
        time.thread_time() unless given) to set the period."""
        self._budget(now_s, cpu_s)
        deadline = self._deadline + self.interval_s
        if not math.isfinite(deadline):  # the first tick
            deadline = now_s + self.interval_s
        elif deadline <= now_s:  # more than a period late: the frames missed are skipped
            deadline += self.interval_s * (math.floor((now_s - deadline) / self.interval_s) + 1)
        self._deadline = deadline
        if self.timer.isActive():  # a stopped timer (tests drive the ticks) stays stopped
            self.timer.start(max(0, round(1000 * (deadline - now_s))))

    def _frame_s(self) -> float:
        return 1 / min(max(self.rate_hz(), MIN_REDRAW_HZ), MAX_REDRAW_HZ)

    def _budget(self, now_s: float, cpu_s: float | None) -> None:
        wall0, cpu0 = self._since
        if now_s - wall0 < self.period_s:
            return
        cpu = time.thread_time() if cpu_s is None else cpu_s
        self.share = (cpu - cpu0) / (now_s - wall0)
        self._since = (now_s, cpu)
        self.frame_s = self._frame_s()
        # Proportional: the period the measured share would have needed, moved halfway there.
        needed = self.interval_s * self.share / GUI_CPU_SHARE
        target = min(max(needed, self.frame_s), 1 / MIN_REDRAW_HZ)
        self.interval_s += 0.5 * (target - self.interval_s)
        if abs(self.interval_s - self.frame_s) < 1e-4:  # within 0.1 ms: the display's own rate
            self.interval_s = self.frame_s
