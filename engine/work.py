"""What the engine does for the clinic, on its asyncio loop: scan, the calibration step, and
drill protocols (every repetition recorded to its own file). It reports through `send` (typed
reports, see `engine.messages`) and feeds the live view through `live` (a session sink); it
never sees the window. Whatever happens (stop, sensor lost, error, window gone), a recording
that was started is closed properly and kept."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from engine.calibration_check import judge_calibration
from engine.factory import (
    Impairments,
    OpenedSource,
    Recording,
    open_shared_source,
    open_source,
    recording_metadata,
    recording_path,
    scan_sensors,
)
from engine.messages import (
    CalibrationChecked,
    Discovered,
    HealthReport,
    Notice,
    Phase,
    ProbeReport,
    ProtocolPlan,
    RecordingFinished,
    Report,
    RunStatus,
    Severity,
    StatusReport,
    Topic,
)
from engine.probe import Probe
from engine.radio_watch import radio_cpu_ns, radio_lost, send_log
from engine.recording import prepare_writer
from engine.segments import Cue, SharedSource
from engine.sensor_wait import SensorWait
from engine.session_warnings import SessionWarnings
from engine.spec import SessionSpec
from engine.stopping import runner_stopped
from recordings.conditions import COGNITIVE_CONDITIONS, condition_for
from recordings.writer_messages import SessionWriter
from sensors.events import Event, EventKind
from sensors.processing.collector import SessionCollector
from sensors.processing.errors import ProcessingError
from sensors.processing.session import SessionRunner, SessionSink, session_processing
from sensors.simulator import fresh_seed

log = logging.getLogger(__name__)

#: How often (s) status and health go to the window.
REPORT_INTERVAL_S = 0.05


def prepare_processing(spec: SessionSpec) -> None:
    """Set up the processing `spec` runs once, so that what it loads (scipy: a second or two on a
    busy computer) is in memory before any sensor streams."""
    every_measure = replace(spec.processing, drill="")  # whichever the drill, all it may load
    for settings in (spec.processing, every_measure):
        _, live_measures = session_processing(spec.source.chosen_placements, settings)
        live_measures.prepare()


def freeze_the_heap() -> None:
    """Collect, then leave every object alive now (modules, the BLE stack, the processing) out of
    later garbage collections: a full collection over them held the loop 0.1-0.3 s in the middle
    of a recording, every frame of that time late."""
    gc.collect()
    gc.freeze()


class SessionWork:
    """Runs one job at a time for the window; flags set from the command thread end or skip
    phases. `send` must be quick and thread-safe."""

    def __init__(self, send: Callable[[Report], None], live: SessionSink) -> None:
        self.send = send
        self.live = live
        self.stop_requested = threading.Event()
        self.end_task_requested = threading.Event()
        self.skip_wait_requested = threading.Event()
        self.window_gone = False
        self._runner: SessionRunner | None = None
        self._status = RunStatus()
        self._sensor_wait = SensorWait(self.status, send, self.stop_requested, self.skip_wait_requested)

    def status(self, status: RunStatus) -> None:
        self._status = status
        self.send(StatusReport(status))

    def notice(self, severity: Severity, text: str, topic: Topic = Topic.GENERAL) -> None:
        self.send(Notice(severity, text, topic))

    def reset(self) -> None:
        self.stop_requested.clear()
        self.end_task_requested.clear()
        self.skip_wait_requested.clear()

    def mark(self, event: Event) -> None:
        """Record an event in the open recording (dropped, with a log line, when none is open)."""
        runner = self._runner
        if runner is None or self._status.recording is None:
            log.warning("mark %s %r while nothing is recorded: dropped", event.kind.value, event.label)
            return
        runner.mark(event.kind, event.label, event.value, source=event.source, time_s=event.time_s)

    # Jobs -------------------------------------------------------------------------------

    async def scan(self, spec: SessionSpec) -> None:
        self.status(RunStatus(Phase.SCANNING, instruction="looking for sensors…"))
        found = await scan_sensors(spec)
        self.send(Discovered(tuple(found)))
        self.notice(
            Severity.INFO if found else Severity.WARNING,
            f"found {len(found)} sensor(s)" if found else "no sensors found",
            Topic.SCAN,
        )

    async def run_protocol(
        self,
        spec: SessionSpec,
        plan: ProtocolPlan,
        subject_id: str,
        notes: str,
        data_dir: Path | None,
        probe: bool = False,
    ) -> None:
        """Every repetition of `plan`. The sensors (real or simulated) stay connected from the
        first repetition to the last (reconnecting costs seconds)."""
        spec = spec.for_drill(plan.drill)
        await self._prepare(spec)
        self.status(RunStatus(Phase.CONNECTING, protocol=plan.name, instruction="connecting the sensors…"))
        # Probe runs: virtual sensors in a radio process log their send times (the transport's delay).
        watched = Impairments(send_log=True) if probe else None
        run = uuid.uuid4().hex  # one id for this run's recordings: they are its repetitions
        async with open_shared_source(spec, plan.drill, watched) as link:
            for repetition in range(1, plan.repetitions + 1):
                base = RunStatus(
                    protocol=plan.name,
                    repetition=repetition,
                    repetitions=plan.repetitions,
                    condition=plan.condition(repetition),
                )
                wait_phase, wait_s = (
                    (Phase.GET_READY, plan.get_ready_s) if repetition == 1 else (Phase.REST, plan.rest_s)
                )
                prepare_writer(spec)  # its writer process loads while the clinician waits
                await self._countdown(replace(base, phase=wait_phase, instruction=plan.instructions), wait_s)
                if not await self._sensor_wait.ready(link[1].source, base, link[1].paced):
                    if self.stop_requested.is_set():
                        return
                    continue  # skipped by the clinician
                probe_sink = Probe() if probe else None
                radio_cpu = radio_cpu_ns(link[0])
                finished = await self._record(
                    spec, plan, (run, repetition), base, subject_id, notes, data_dir, probe_sink, link
                )
                if probe_sink is not None:
                    probe_sink.sends = await asyncio.to_thread(send_log, link[0])
                    if radio_cpu is not None and (ended := radio_cpu_ns(link[0])) is not None:
                        probe_sink.threads["radio process (all threads)"] = (
                            (ended[0] - radio_cpu[0]) * 1e-9,
                            (ended[1] - radio_cpu[1]) * 1e-9,
                        )
                    self.send(ProbeReport(repetition, probe_sink))
                self.send(finished)
                if finished.problem:
                    self.notice(
                        Severity.WARNING, f"repetition {repetition}: {finished.problem}", Topic.RECORDING
                    )
                if self.stop_requested.is_set():
                    return

    async def _prepare(self, spec: SessionSpec) -> None:
        """Load the processing before the sensors start (off the loop). Loaded while they stream,
        it held the loop: their first notifications came in a burst, stamped up to seconds late,
        so the clock fits started late and stepped back, which the synchroniser read as a sensor
        seconds behind the others (its wait grew to seconds) and the calibration capture missed
        sensors."""
        await asyncio.to_thread(prepare_processing, spec)
        freeze_the_heap()

    async def _countdown(self, status: RunStatus, seconds: float) -> None:
        end = time.monotonic() + seconds
        self.skip_wait_requested.clear()
        while (
            (left := end - time.monotonic()) > 0
            and not self.stop_requested.is_set()
            and not self.skip_wait_requested.is_set()
        ):
            self.status(replace(status, remaining_s=left))
            await asyncio.sleep(REPORT_INTERVAL_S)

    async def _record(
        self,
        spec: SessionSpec,
        plan: ProtocolPlan,
        run_repetition: tuple[str, int],
        base: RunStatus,
        subject_id: str,
        notes: str,
        data_dir: Path | None,
        probe: Probe | None,
        link: tuple[OpenedSource, SharedSource],
    ) -> RecordingFinished:
        """One repetition (of the protocol run with that id) recorded from a new segment of `link`;
        `spec` is already for plan's drill."""
        run, repetition = run_repetition
        condition = plan.condition(repetition)
        self.status(replace(base, phase=Phase.CONNECTING, instruction="connecting the sensors…"))
        # The sensors are connected: a new segment of their stream (simulated ones are cued).
        cue = Cue(plan.drill, plan.calibration_s + plan.task_s, plan.calibration_s, condition == "dual")
        segment = link[1].segment(cue)
        about = {**link[0].about, **segment.about}
        opened = OpenedSource(segment, about, link[0].seed if segment.seed is None else segment.seed)
        seed = opened.seed if opened.seed is not None else fresh_seed()
        cognitive = condition in COGNITIVE_CONDITIONS
        base = replace(base, seed=seed)
        metadata = recording_metadata(
            spec,
            subject_id,
            opened,
            notes,
            {
                "protocol": plan.key,
                "protocol_name": plan.name,
                "protocol_run": run,
                "repetition": repetition,
                "repetitions": plan.repetitions,
                "condition": condition,
                "cognitive_task": plan.cognitive_task if cognitive else "",
                **({"cognitive_seed": seed} if cognitive else {}),
                "task_s": plan.task_s,
                # The planned length (s), so a run stopped early says so wherever it is read. Not
                # the settings' duration_s (as `stabmon record` stores it): the runner would stop
                # itself there, maybe before the task's end is marked, and a replay would cut the
                # recording there, not where this run was ended.
                "planned_s": plan.calibration_s + plan.task_s,
            },
            condition_for(plan.drill, condition, plan.cognitive_task),
        )
        path = recording_path(metadata, data_dir)
        collector = SessionCollector()
        sinks: list[SessionSink] = [collector, self.live] if probe is None else [probe, collector, self.live]
        recording = Recording(spec, opened.source, metadata, path, sinks)
        if probe is not None:
            probe.attach(recording.runner)
        warnings = SessionWarnings(self.notice)
        try:
            await self._drive(recording.runner, plan, base, recording.writer, warnings, link[0])
        finally:
            self.status(replace(base, phase=Phase.SAVING, recording=None, instruction="saving…"))
            if probe is not None:
                probe.detach()
            await recording.close()
            warnings.saved()
            if probe is not None:
                _writer_busy(probe, recording.writer)
        try:
            measures, problem = collector.analysis(plan.drill), ""
        except ProcessingError as error:
            measures, problem = None, str(error)
        return RecordingFinished(plan.name, repetition, condition, path, plan.drill, measures, problem)

    async def _drive(
        self,
        runner: SessionRunner,
        plan: ProtocolPlan,
        base: RunStatus,
        writer: SessionWriter,
        warnings: SessionWarnings,
        opened: OpenedSource | None = None,
    ) -> None:
        """Run the recording's phases by session time: still stance, then the task, telling the
        clinician what `warnings` finds. opened: the source's details (its virtual sensors'
        radio, if any, is watched)."""
        self._runner = runner
        self.end_task_requested.clear()
        task = asyncio.create_task(runner.run())
        start_s = plan.calibration_s
        end_s = start_s + plan.task_s
        phase = Phase.CALIBRATING
        try:
            while not task.done():
                now = runner.session_time_s
                if phase is Phase.CALIBRATING and now >= start_s:
                    runner.mark(EventKind.TASK_START, plan.drill, source="protocol", time_s=start_s)
                    phase = Phase.TASK
                ended = self.end_task_requested.is_set()
                if phase is Phase.TASK and (now >= end_s or ended):
                    at = now if ended else end_s
                    label = "ended by the clinician" if ended else plan.drill
                    runner.mark(EventKind.TASK_END, label, source="protocol", time_s=at)
                    runner.stop()
                    break
                if self.stop_requested.is_set():
                    why = (
                        "stopped because the window went away"
                        if self.window_gone
                        else "stopped by the clinician"
                    )
                    runner.mark(EventKind.ANNOTATION, why, source="protocol", time_s=now)
                    runner.stop()
                    break
                remaining = (start_s if phase is Phase.CALIBRATING else end_s) - now
                instruction = "Stand upright and still" if phase is Phase.CALIBRATING else plan.instructions
                self.status(
                    replace(
                        base,
                        phase=phase,
                        remaining_s=remaining,
                        elapsed_s=now,
                        recording=writer.path,
                        instruction=instruction,
                        host_origin_ns=runner.source.host_origin_ns if now > 0 else -1,
                    )
                )
                self.send(HealthReport(runner.health()))
                warnings.check(runner, writer, radio_lost(opened))
                await asyncio.sleep(REPORT_INTERVAL_S)
            await runner_stopped(task, runner)
        finally:
            if not task.done():
                runner.stop()
                await runner_stopped(task, runner, 10.0)
            self.send(HealthReport(runner.health()))
            self._runner = None

    async def calibrate(self, spec: SessionSpec, with_bend: bool) -> None:
        """A short unrecorded session: still stance (the neutral calibration), then a bend."""
        still_s, bend_s, grace_s = 3.0, 7.0, 4.0
        drill = "forward-bend" if with_bend else "quiet-stance"
        total = still_s + (bend_s if with_bend else grace_s) + 1.0
        await self._prepare(spec)
        async with open_source(spec, drill, total, calibration_s=still_s, task_markers=False) as opened:
            collector = SessionCollector()
            runner = SessionRunner(opened.source, [collector, self.live], spec.processing)
            self._runner = runner
            task = asyncio.create_task(runner.run())
            self.status(RunStatus(Phase.CONNECTING, instruction="connecting the sensors…"))
            try:
                while not task.done() and not self.stop_requested.is_set():
                    now = runner.session_time_s
                    calibration = collector.calibration
                    if calibration is None and now > still_s + grace_s:
                        break
                    if calibration is not None and (not with_bend or now > calibration.time_s + bend_s):
                        break
                    self.status(
                        RunStatus(
                            Phase.BEND if calibration is not None else Phase.CALIBRATING,
                            remaining_s=(calibration.time_s + bend_s - now)
                            if calibration is not None
                            else max(0.0, still_s - now),
                            elapsed_s=now,
                            instruction="Bend forward slowly as far as is comfortable, then come back up"
                            if calibration is not None
                            else "Stand upright and still, arms relaxed",
                        )
                    )
                    self.send(HealthReport(runner.health()))
                    await asyncio.sleep(REPORT_INTERVAL_S)
            finally:
                runner.stop()
                await runner_stopped(task, runner)
                self._runner = None
        check = judge_calibration(collector, runner.pipeline.calibration_failures, with_bend)
        self.send(CalibrationChecked(check))


def _writer_busy(probe: Probe, writer: SessionWriter) -> None:
    """A writer process's flushes and CPU over the recording, for the probe (a writer thread's
    are timed in place by `Probe.attach`): "flush" and "hdf5" spans as the thread's, in the
    machine's monotonic clock."""
    flushes: list[tuple[int, int, int]] = getattr(writer, "flushes", [])
    for started, ended, filtered in flushes:
        probe.busy.setdefault("flush", []).append((started, ended))
        probe.busy.setdefault("hdf5", []).append((started, ended - filtered))
    cpu: tuple[int, int] | None = getattr(writer, "cpu_ns", None)
    if cpu is not None:
        probe.threads["writer process (all threads)"] = (cpu[0] * 1e-9, cpu[1] * 1e-9)
