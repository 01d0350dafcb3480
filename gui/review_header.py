"""The review window's header (rich text): which recording the plots and tables below show, and
what happened to the file asked for last. The data shown are always named: while another file
loads, or after it failed to open, the header still names the recording below it."""

from __future__ import annotations

import html

from gui.model.review import ReviewedRecording
from recordings.catalogue import catalogue
from sensors.events import EventKind

RED = "#b00020"
AMBER = "#b45f06"
GREY = "#555555"


def recording_header(reviewed: ReviewedRecording) -> str:
    """Subject, drill and condition (each said once), start time, length, samples lost, the
    file's path, and any problem with its measures or data."""
    rec = reviewed.recording
    created = str(rec.attributes.get("created_utc", "?")).replace("T", " ")[:19]
    lost = {p.value: int(rec.lost_before[p].sum()) for p in rec.samples}
    quality = ", ".join(f"{p} {n} samples lost" for p, n in lost.items())
    title = catalogue().drill_title(rec.drill)
    lines = [
        f"<b>Subject {html.escape(rec.subject_id)}</b> · {html.escape(title)} · "
        f"{html.escape(rec.condition.label_after(title))} · {created} UTC · "
        f"{rec.duration_s:.1f} s · {quality}",
        html.escape(str(rec.path)),
    ]
    if reviewed.problem:
        lines.append(_coloured(RED, f"No measures: {reviewed.problem}"))
    problems = (*rec.problems, rec.ended_early, stopped_early(reviewed))
    lines.extend(_coloured(AMBER, problem) for problem in problems if problem)
    return "<br>".join(lines)


def stopped_early(reviewed: ReviewedRecording) -> str:
    """'Stopped by the clinician at 12.8 s, before the planned end of the task' when the run was stopped
    (the engine's note in the file; the measures then cover a shorter task), else ''."""
    for event in reviewed.recording.events:
        stop = event.kind is EventKind.ANNOTATION and event.source == "protocol"
        if stop and event.label.startswith("stopped"):
            why = event.label[:1].upper() + event.label[1:]
            return f"{why} at {event.time_s:.1f} s, before the planned end of the task"
    return ""


def loading_header(name: str, shown: str) -> str:
    """While `name` loads: the recording still shown below (`shown`, its header) is named."""
    if not shown:
        return html.escape(f"Loading {name}…")
    return f"{html.escape(f'Loading {name}…')}<br>{_still_shown(shown, 'Shown below until it is loaded:')}"


def failed_header(name: str, error: object, shown: str) -> str:
    """`name` could not be opened (`error`); the recording still shown below, if any, is named."""
    failure = _coloured(RED, f"Cannot open {name}: {error}")
    if not shown:
        return f"{failure}<br>{_coloured(GREY, 'Nothing is shown.')}"
    return f"{failure}<br>{_still_shown(shown, 'Still shown below:')}"


def _still_shown(shown: str, lead: str) -> str:
    return f"{_coloured(GREY, lead)}<br>{shown}"


def _coloured(colour: str, text: str) -> str:
    return f"<span style='color:{colour}'>{html.escape(text)}</span>"
