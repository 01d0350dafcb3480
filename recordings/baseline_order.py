"""A baseline comes before its re-test: a change is reported since an earlier session, never
since a later one (a baseline recorded after the re-test reversed every change's sign with no
word of it, walkthrough s11 #5). `compare` takes two files in either order (the order is a slip
of the hand, the recording times are facts) and says when it swapped them; a report is about one
session, so a named baseline recorded after it is refused."""

from __future__ import annotations

from datetime import UTC, datetime

from recordings.reader import Recording
from sensors.errors import StabmonError


class BaselineAfterRetestError(StabmonError, ValueError):
    """A baseline recorded after the session it would be the baseline of."""


def recorded_utc(recording: Recording) -> datetime:
    """When the recording started (its `created_utc`, UTC; a time without zone is UTC)."""
    value = datetime.fromisoformat(recording.attributes["created_utc"])
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(recording: Recording) -> str:
    return f"{recording.path.name}, recorded {recorded_utc(recording):%Y-%m-%d %H:%M:%S} UTC"


def in_recording_order(first: Recording, second: Recording) -> tuple[Recording, Recording, str]:
    """(baseline, re-test) of two recordings named as baseline then re-test: the earlier one is
    the baseline; the note says they were swapped ("" when they were named in order)."""
    if recorded_utc(first) <= recorded_utc(second):
        return first, second, ""
    note = (
        f"note: the baseline named ({_when(first)}) was recorded after the re-test ({_when(second)}): "
        "compared the other way round, the earlier session as the baseline"
    )
    return second, first, note


def check_baseline_before(baseline: Recording, recording: Recording) -> None:
    """Refuse (BaselineAfterRetestError) a baseline recorded after `recording`."""
    if recorded_utc(baseline) > recorded_utc(recording):
        raise BaselineAfterRetestError(
            f"the baseline {_when(baseline)} was recorded after this session ({_when(recording)}): "
            "a report shows the change since an earlier session; name a baseline recorded before "
            f"it, or report on {baseline.path.name} with this session as its baseline"
        )
