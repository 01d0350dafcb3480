"""A recording on a started source: the writer (a process of its own in real time, else a thread),
the recording sink, the LSL outlet when the specification asks for it, other sinks, and the runner
with the specification's processing settings; and the metadata and path of such a recording.
Loads no BLE stack (the XDF import records through it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.spec import SessionSpec
from recordings import RecordingSink, RecordingWriter, SessionMetadata, session_file_name
from recordings.conditions import Condition
from recordings.consolidate import consolidate
from recordings.errors import RecordingError
from recordings.library import SessionLibrary
from recordings.lsl import LslOutletSink
from recordings.writer_messages import SessionWriter
from recordings.writer_process import WriterProcess, prestart, writer_process_wanted
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.session import SessionReport, SessionRunner, SessionSink
from sensors.source import SensorHealth, Source

log = logging.getLogger(__name__)


@dataclass
class OpenedSource:
    """A started source and what to store about it (`about`: source kind, seed, sensors…)."""

    source: Source
    about: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    #: The virtual sensors by placement (virtual BLE sources only): what they sent, for tests.
    fleet: dict[Placement, Any] = field(default_factory=dict)


def recording_metadata(
    spec: SessionSpec,
    subject_id: str,
    opened: OpenedSource,
    notes: str = "",
    protocol: Mapping[str, Any] | None = None,
    condition: Condition | None = None,
) -> SessionMetadata:
    """The root attributes of a recording of `spec` (its drill in `spec.processing.drill`):
    the source's details and `protocol` in protocol_json, the whole specification stored."""
    return SessionMetadata(
        subject_id=subject_id,
        drill=spec.processing.drill,
        settings=spec.processing,
        operator_notes=notes,
        protocol={**opened.about, **(protocol or {})},
        condition=condition,
        spec_json=spec.to_json(),
    )


def recording_path(
    metadata: SessionMetadata, data_dir: Path | None = None, out_dir: Path | None = None
) -> Path:
    """Where a recording goes: `out_dir` when given, else the session library (in data_dir)."""
    if out_dir is not None:
        token = metadata.session_condition.file_token
        return Path(out_dir) / session_file_name(
            metadata.subject_id, metadata.drill, metadata.created_utc, token
        )
    return SessionLibrary(data_dir).path_for(
        metadata.subject_id, metadata.drill, metadata.created_utc, metadata.session_condition
    )


def session_runner(spec: SessionSpec, source: Source, sinks: Iterable[SessionSink] = ()) -> SessionRunner:
    """The runner of `spec` on a started source: its processing settings (the rate given once),
    `sinks`, and the LSL outlet when the specification asks for it. For sessions that record
    nothing (calibration, benchmarks' references); `Recording` adds the writer."""
    all_sinks = list(sinks)
    if spec.lsl.outlet:
        all_sinks.append(LslOutletSink(source.sensors, spec.rate_hz))
    return SessionRunner(source, all_sinks, spec.processing)


def prepare_writer(spec: SessionSpec) -> None:
    """Before a recording of `spec` is started: when its writer will run in a process of its own
    (real-time sessions), start that process now, so that the recording does not wait for it."""
    if writer_process_wanted(spec.source.realtime):
        prestart()


class Recording:
    """One recording on a started source: the writer (in a process of its own for real-time
    sessions, `recordings.writer_process`; else a thread of this process), the recording sink, the
    LSL outlet when the specification asks for it, `sinks`, and the runner with the
    specification's processing settings. `run()` records until the source ends, the duration
    passes or `runner.stop()`, and closes the file whatever happens; then, unless `consolidate`
    is False, rewrites it in large chunks."""

    def __init__(
        self,
        spec: SessionSpec,
        source: Source,
        metadata: SessionMetadata,
        path: Path,
        sinks: Iterable[SessionSink] = (),
        free_space: Any = None,
        consolidate: bool = True,
    ) -> None:
        self.spec = spec
        self._consolidate = consolidate
        self.path = path
        self.writer: SessionWriter
        if free_space is None and writer_process_wanted(spec.source.realtime):
            self.writer = WriterProcess(path, metadata, source.sensors)
        else:  # fast runs; or a disk made full on purpose, which stays in this process
            kwargs = {"free_space": free_space} if free_space is not None else {}
            self.writer = RecordingWriter(path, metadata, source.sensors, **kwargs)
        self.runner = session_runner(spec, source, [RecordingSink(self.writer), *sinks])
        self._closed = False

    async def run(self) -> SessionReport:
        """Record to the end; the file is closed (everything received on disk) on the way out."""
        try:
            return await self.runner.run()
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the file (once), off the event loop; then rewrite it in large chunks, which reads
        several times faster (`recordings.consolidate`; short files are left as they are). A file
        the writer could not close cleanly is not touched, and one that cannot be consolidated
        stays as the writer left it."""
        if not self._closed:
            self._closed = True
            self._note_kept_out()
            path = await asyncio.to_thread(self.writer.close)
            if self._consolidate:
                await asyncio.to_thread(_consolidate_closed, path)

    def _note_kept_out(self) -> None:
        """Put in the file's event log, per sensor, what its link kept out of the session
        (`kept_out_label`), so that the file accounts for every fault, not only the live view."""
        try:
            health = self.runner.health()
        except Exception:  # a source that cannot say any more: the file closes all the same
            log.exception("%s: the link's counts could not be read for the event log", self.path.name)
            return
        at_s = self.runner.session_time_s
        for placement, sensor in health.items():
            label = kept_out_label(placement, sensor)
            if label:
                try:
                    self.writer.add_event(Event(at_s, EventKind.ANNOTATION, label, source="link"))
                except RecordingError as error:  # the writer stopped: closing says why
                    log.warning("%s: %s not stored (%s)", self.path.name, label, error.problem)
                    return


def kept_out_label(placement: Placement, health: SensorHealth) -> str:
    """What a sensor's link kept out of the session ('' when nothing): malformed notifications,
    duplicated and out-of-order blocks, implausible blocks (their samples), as the event log
    says it. Samples lost on the way are in the file's lost_before; restarts are logged when
    they happen."""
    parts = [
        f"{count} {what}"
        for count, what in (
            (health.decode_errors, "malformed notifications"),
            (health.duplicates, "duplicated blocks"),
            (health.out_of_order, "out-of-order blocks"),
            (health.rejected_blocks, f"implausible blocks ({health.rejected_samples} samples)"),
        )
        if count
    ]
    return f"{placement.value} link kept out: {'; '.join(parts)}" if parts else ""


def _consolidate_closed(path: Path) -> None:
    try:
        consolidate(path)
    except RecordingError as error:  # the file is left exactly as the writer closed it
        log.warning("%s keeps the writer's small chunks: %s", path.name, error)
    except Exception:  # optional: never turns a good recording into a failed one
        log.exception("%s keeps the writer's small chunks: consolidating it failed", path.name)
