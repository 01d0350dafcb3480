"""What the clinician is told while a recording runs: a full disk, a failed write, saving that
falls behind, a computer too busy to keep up, a radio process that ended. Each is told once per
recording (saving that falls behind again once it has caught up)."""

from __future__ import annotations

from collections.abc import Callable

from engine.messages import Severity, Topic
from recordings.writer_messages import SessionWriter
from sensors.processing.session import SessionRunner

#: How much longer than usual (s) live frames must wait for late data before the clinician is told.
BEHIND_WARNING_S = 0.5
#: Seconds of data waiting to be written (`SessionWriter.backlog_s`) beyond which the clinician is
#: told that saving falls behind (usually under 1 s: a 0.5-s chunk and a flush interval), and
#: below which, once told, that it caught up.
WRITER_BEHIND_S = 3.0
WRITER_CAUGHT_UP_S = 1.0

#: Sends one notice: severity, text, topic.
Notify = Callable[[Severity, str, Topic], None]


class SessionWarnings:
    """The notices of one recording, each sent once; `check` runs with every status report."""

    def __init__(self, notice: Notify) -> None:
        self._notice = notice
        self._warned: set[str] = set()

    def check(self, runner: SessionRunner, writer: SessionWriter, radio_lost: str | None) -> None:
        """Look at the runner, the writer and why the radio process ended (None: it runs, or
        there is none), and tell what is new."""
        self._disk_and_load(runner, writer)
        self._writer_behind(writer)
        self._radio(radio_lost)

    def _once(self, key: str, severity: Severity, text: str, topic: Topic) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._notice(severity, text, topic)

    def _disk_and_load(self, runner: SessionRunner, writer: SessionWriter) -> None:
        """A full disk, a failed write, a computer too busy to keep up."""
        if writer.disk_space_low:
            self._once(
                "disk",
                Severity.WARNING,
                "The disk is almost full: the recording is kept in memory and written as soon as "
                "there is room. Free some disk space.",
                Topic.DISK,
            )
        if writer.rescue_file is not None:
            self._once(
                "rescue",
                Severity.ERROR,
                "Writing the recording failed (is the disk full?). Nothing is lost: it is being "
                "written again to a new file, which replaces it when the recording ends.",
                Topic.DISK,
            )
        if runner.live_wait_s > runner.settings.max_wait_s + BEHIND_WARNING_S:
            self._once(
                "behind",
                Severity.WARNING,
                f"The computer is too busy to keep up: the live view now runs up to "
                f"{runner.live_wait_s:.1f} s behind so that no sensor's data are left out. "
                "The recording is complete. Closing other programs helps.",
                Topic.TOO_BUSY,
            )

    def _writer_behind(self, writer: SessionWriter) -> None:
        """Seconds of data waiting to be written (the disk or the writer's process stalls), and
        again once they are written. A disk too full to write is told as such, not as this."""
        backlog_s = writer.backlog_s
        if backlog_s > WRITER_BEHIND_S and not writer.disk_space_low:
            self._once(
                "writer behind",
                Severity.WARNING,
                f"Saving the recording is falling behind: {backlog_s:.0f} s of data are not on disk "
                "yet (the disk or the computer is too slow). They are kept in memory until they are; "
                "the recording goes on.",
                Topic.SAVING,
            )
        elif backlog_s < WRITER_CAUGHT_UP_S and "writer behind" in self._warned:
            self._warned.discard("writer behind")
            self._notice(Severity.INFO, "Saving the recording caught up with the sensors.", Topic.SAVING)

    def saved(self) -> None:
        """The recording's file was closed with everything on disk: a saving warning still
        standing (the recording ended before its writer caught up) is over."""
        if "writer behind" in self._warned:
            self._warned.discard("writer behind")
            self._notice(
                Severity.INFO,
                "Saving the recording caught up: everything recorded is on disk.",
                Topic.SAVING,
            )

    def _radio(self, lost: str | None) -> None:
        """The virtual sensors' radio process ended on its own."""
        if lost is not None:
            self._once(
                "radio",
                Severity.ERROR,
                f"The virtual sensors' radio process stopped ({lost}): their links are lost. "
                "What was recorded until then is kept.",
                Topic.RECORDING,
            )
