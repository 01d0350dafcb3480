"""What `stabmon record` tells the user: a sensor rate to trust after a stall, late samples in
plain words, and record's measures with the subject's stored settings (as `analyze` has them)."""

import asyncio

import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from sensors.health import HealthTracker
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.session import SessionReport
from sensors.samples import SampleBlock
from sensors.simulator import RadioSettings
from sensors.source import LinkState, SensorHealth
from stabmon.cli import main
from stabmon.console import format_summary, late_samples_text, rate_text
from tests.cli_args import RECORD_NO_RADIO


def _block(first: int, n: int, host_s: float) -> SampleBlock:
    return SampleBlock(
        Placement.LUMBAR,
        device_time_s=np.arange(first, first + n) / 100.0,
        acc_m_s2=np.zeros((n, 3)),
        gyr_rad_s=np.zeros((n, 3)),
        sequence=np.arange(first, first + n),
        host_receive_ns=np.full(n, int(host_s * 1e9)),
    )


def _shown_rates(rate_hz: float, stall: float, nominal: float) -> list[str]:
    """What the progress line shows for the rate once a second for 20 s of a sensor sending 4-sample
    notifications at rate_hz from host time 0, the link knowing it as `nominal`; for the first
    `stall` s nothing arrives, then the notifications held back come within 0.3 s."""
    tracker = HealthTracker(Placement.LUMBAR, rate_hz=nominal)
    step = 4 / rate_hz
    arrivals = [
        max(k * step, stall + 0.3 * k * step / stall if stall else 0.0) for k in range(int(20 / step))
    ]
    shown, next_show = [], 1.0
    for k, t in enumerate(arrivals):
        tracker.update(_block(4 * k, 4, t))
        if t >= next_show:
            shown.append(rate_text(tracker.snapshot(int(t * 1e9)).rate_hz, 100.0))
            next_show += 1.0
    return shown


def test_a_stall_and_its_catch_up_show_the_sensors_rate_not_the_burst():
    """The walk-through's "lumbar 265.9 Hz" for a 100 Hz sensor after a 1.7-s stall."""
    assert set(_shown_rates(100.0, stall=1.7, nominal=100.0)) == {"  100 Hz"}


def test_a_sensor_steadily_off_its_nominal_rate_shows_the_measured_one():
    shown = _shown_rates(120.0, stall=0.0, nominal=100.0)
    assert shown[:4] == ["  100 Hz"] * 4  # before 5 s of data: not yet measured
    assert shown[-1] == "120.0 Hz (set 100)"
    assert _shown_rates(102.0, stall=0.0, nominal=100.0)[-1] == "  100 Hz"  # within 5 %
    assert _shown_rates(120.0, stall=1.7, nominal=100.0)[-1] == "120.0 Hz (set 100)"
    # A sensor that took another of its rates than the one asked (the link knows it as 104 Hz).
    assert _shown_rates(104.0, stall=0.0, nominal=104.0)[-1] == "104.0 Hz (set 100)"
    assert rate_text(float("nan"), 100.0) == "    ? Hz"  # no data yet


def _report(late: int, received: dict[Placement, int]) -> SessionReport:
    health = {p: SensorHealth(p, LinkState.STREAMING, samples_received=n) for p, n in received.items()}
    return SessionReport(
        health, {}, frames=0, session_s=30.0, calibrated=True, calibration_failures=(), late_samples=late
    )


def test_the_summary_counts_a_sensors_silent_end_as_lost_and_only_a_real_one():
    """A sensor whose data stopped at 12.0 s of a 30 s session: the rest is lost (expected samples
    from the session's length at its rate); one whose report came 0.6 s after its last data is
    not said to have stopped."""
    health = {
        Placement.LUMBAR: SensorHealth(
            Placement.LUMBAR, LinkState.STOPPED, 100.0, samples_received=2996, data_until_s=29.4
        ),
        Placement.PELVIS: SensorHealth(
            Placement.PELVIS, LinkState.LOST, 100.0, samples_received=1196, samples_lost=4, data_until_s=12.0
        ),
    }
    report = SessionReport(health, {}, frames=3000, session_s=30.0, calibrated=True, calibration_failures=())
    lines = format_summary(report, None).splitlines()
    assert lines[2].startswith("  lumbar         2996 samples,  0.0% lost")
    assert lines[3].startswith("  pelvis         1196 samples, 60.1% lost")  # 1804 of 3000
    assert (
        lines[4] == "  ! pelvis sensor: no data since 12.0 s to the end (18.0 s of 30.0 s, counted as lost)"
    )
    assert sum("no data" in line for line in lines) == 1


def test_late_samples_say_how_much_live_view_was_skipped_and_whether_the_recording_is_whole():
    received = {Placement.LUMBAR: 3000, Placement.PELVIS: 2990}
    report = _report(336, received)
    assert late_samples_text(report, 100.0, dict(received)) == (
        "Live view: 3.4 s skipped (sensor data came in late); the recording is complete"
    )
    short = {Placement.LUMBAR: 3000, Placement.PELVIS: 2980}
    assert late_samples_text(report, 100.0, short).endswith(
        "; the recording lacks pelvis 10 samples that came in"
    )
    assert late_samples_text(report, 50.0, None) == "Live view: 6.7 s skipped (sensor data came in late)"


@pytest.mark.parametrize("height", [None, "0.95"])
def test_record_shows_stride_length_and_gait_speed_from_the_subjects_sensor_height(tmp_path, capsys, height):
    if height is not None:
        assert main(["subject", "P-014", "--sensor-height", height, "--data-dir", str(tmp_path)]) == 0
    args = [*RECORD_NO_RADIO, "--drill", "gait", "--seconds", "20", "--seed", "3", "--subject", "P-014"]
    assert main([*args, "--data-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    shown = [line for line in lines if line.startswith(("  Stride length", "  Gait speed"))]
    if height is None:  # no sensor height: the key measure says why it is not measured
        (speed,) = shown
        assert speed.split("Gait speed")[1].strip() == (
            "Not measured — the sensor height is not set for this subject"
        )
        return
    (path,) = tmp_path.rglob("sub-P-014_gait_*.h5")
    assert main(["analyze", str(path)]) == 0
    analyzed = capsys.readouterr().out.splitlines()
    assert len(shown) == 2 and all(line in analyzed for line in shown)  # the very numbers analyze gives
    stride_m = float(shown[0].split()[-2]) if "Stride" in shown[0] else float(shown[1].split()[-2])
    assert 1.0 < stride_m < 1.6  # a simulated adult's stride at ~111 steps/min


def test_a_session_with_late_samples_says_the_recording_holds_every_sample(tmp_path):
    """A real session whose pelvis notifications come late (jitter 0.25 s): some samples miss their
    live frames; the summary says how much live view that skipped and, checked against the file,
    that the recording is complete."""
    radio = RadioSettings(jitter_mean_s=0.25, burst_start_probability=0.01)
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=4, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=11.0),
    )
    impairments = Impairments(radio={Placement.LUMBAR: RadioSettings(), Placement.PELVIS: radio})
    done = asyncio.run(record(spec, "R1", tmp_path / "s.h5", "quiet-stance", 12.0, impairments=impairments))
    report, saved = done.report, read_recording(tmp_path / "s.h5", derived=False)
    assert report.late_samples > 0
    recorded = {p: len(block) for p, block in saved.samples.items()}
    assert recorded == {p: h.samples_received for p, h in report.health.items()}
    summary = format_summary(report, None, 100.0, recorded)
    skipped = f"Live view: {report.late_samples / 100:.1f} s skipped (sensor data came in late)"
    assert f"{skipped}; the recording is complete" in summary.splitlines()
    assert "came after their frames" not in summary
