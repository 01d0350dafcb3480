"""The end-of-session summary says when a sensor's drift fit ended at its limit."""

from sensors.placements import Placement
from sensors.processing.session import SessionReport
from sensors.source import LinkState, SensorHealth
from stabmon.console import format_summary


def test_a_drift_fit_at_its_limit_is_called_doubtful_and_a_fitted_one_is_not():
    health = {
        p: SensorHealth(p, LinkState.STREAMING, samples_received=2000)
        for p in (Placement.LUMBAR, Placement.PELVIS)
    }
    drift = {Placement.LUMBAR: 300.0, Placement.PELVIS: 41.5}
    report = SessionReport(health, drift, 2000, 20.0, True, (), clock_at_limit=(Placement.LUMBAR,))
    lines = format_summary(report, None).splitlines()
    lumbar = next(line for line in lines if line.startswith("  lumbar"))
    pelvis = next(line for line in lines if line.startswith("  pelvis"))
    assert lumbar.endswith("clock drift +300.0 ppm (the fit's limit: its timing is doubtful)")
    assert pelvis.endswith("clock drift  +41.5 ppm")
