"""Which recordings the clinician made as one: protocol runs, and the visits they form.

A protocol run is what the clinician started once: the repetitions a protocol recorded back to
back. Its recordings carry the run's id (`protocol_run` in protocol_json, which the engine's
protocol runs write); older protocol recordings carry only the protocol's key and the
repetition number, so their run is the subject's consecutive recordings of one protocol
numbered 1, 2, … (a new run starts at repetition 1). Recordings made on their own (`stabmon
record`, an import) are one run when they follow each other the same day in one drill and
condition, each begun within `REPEAT_GAP` of the previous one's end (trials repeated back to
back); a longer pause (a treatment between a pre- and a post-test) starts a new run.

A visit is the day's runs up to the point a drill is run again in the same condition: that run
(a re-test after treatment the same day, say) starts a new visit. So recordings are never
averaged as repetitions because they share a date, and a left/right pair or the McGill battery
is formed within one visit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recordings.library import SessionEntry

if TYPE_CHECKING:
    from recordings.protocol_results import ProtocolSummary

_NEVER = datetime.min.replace(tzinfo=UTC)

#: Recordings made on their own are repetitions of one run when each begins within this long of
#: the previous one's end (a rest and re-placing the patient); a longer pause starts a new run.
REPEAT_GAP = timedelta(minutes=10)


def _number(value: Any) -> int | None:
    """A repetition number from protocol_json (an int, or a digit string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def run_keys(entries: Sequence[SessionEntry]) -> dict[Path, str]:
    """The protocol run of each (sound) entry of one subject, as a key equal for the recordings
    of one run and different for any two runs."""
    keys: dict[Path, str] = {}
    last: tuple[str, int, int | None, str] | None = None  # protocol, repetition, of how many, key
    alone: SessionEntry | None = None  # the previous recording, when it was made on its own
    for e in sorted(entries, key=lambda e: (e.created_utc or _NEVER, e.path.name)):
        explicit = str(e.protocol.get("protocol_run") or "")
        protocol = str(e.protocol.get("protocol") or "")
        repetition = _number(e.protocol.get("repetition"))
        of = _number(e.protocol.get("repetitions"))
        if explicit:
            key, last, alone = f"run {explicit}", None, None
        elif protocol and repetition is not None:
            follows = last is not None and last[:3] == (protocol, repetition - 1, of)
            key = last[3] if follows and last is not None else f"run from {e.path.name}"
            last, alone = (protocol, repetition, of, key), None
        else:
            key = keys[alone.path] if alone and _repeats(alone, e) else f"recording {e.path.name}"
            last, alone = None, e
        keys[e.path] = key
    return keys


def _repeats(before: SessionEntry, entry: SessionEntry) -> bool:
    """Whether `entry`, made on its own, repeats `before`: the same drill and condition the same
    (local) day, begun within REPEAT_GAP of its end."""
    if before.created_utc is None or entry.created_utc is None:
        return False
    end = before.created_utc + timedelta(seconds=before.duration_s)
    return (
        (before.drill, before.condition) == (entry.drill, entry.condition)
        and before.created_utc.astimezone().date() == entry.created_utc.astimezone().date()
        and entry.created_utc - end <= REPEAT_GAP
    )


def split_visits(summaries: Sequence[ProtocolSummary]) -> list[list[ProtocolSummary]]:
    """The day's protocol results (one per run, drill and condition) in visits: in the order the
    runs began, a run whose drill and condition the current visit already has starts a new one."""
    runs: dict[str, list[ProtocolSummary]] = {}
    for s in sorted(summaries, key=lambda s: s.sessions[0].when):
        runs.setdefault(s.run, []).append(s)
    visits: list[list[ProtocolSummary]] = []
    seen: set[tuple[str, object]] = set()
    for run in runs.values():
        kinds = {(s.drill, s.condition) for s in run}
        if not visits or kinds & seen:
            visits.append([])
            seen = set()
        visits[-1] += run
        seen |= kinds
    return visits
