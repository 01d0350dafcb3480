"""The clinic's setup as the window edits it (`ClinicConfig`), and what the engine is sent:
the session specification and a protocol plan, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from engine.messages import ProtocolPlan
from engine.spec import LslSpec, SessionSpec, SourceKind, SourceSpec, check_subject
from sensors.identity import SensorFamily
from sensors.placements import REQUIRED_PLACEMENTS, Placement
from sensors.processing.session import SessionSettings

#: How much stronger sway is in the simulated dual-task condition.
SIMULATED_DUAL_TASK_FACTOR = 1.4


@dataclass(frozen=True)
class ClinicConfig:
    """Where data goes and which sensors are used. simulate: virtual sensors of `family` on an
    in-process radio, reached through bleak (real time), or with virtual_link=False straight from
    the simulator without a radio (lighter: the BLE stack in Python costs most of a core at 6
    sensors × 200 Hz); else `assignments` placement → address or advertised name."""

    subject_id: str
    data_dir: Path | None = None
    simulate: bool = True
    family: SensorFamily = SensorFamily.STABMON
    placements: tuple[Placement, ...] = REQUIRED_PLACEMENTS
    assignments: dict[Placement, str] = field(default_factory=dict)
    rate_hz: float = 100.0
    lsl: bool = False
    virtual_link: bool = True
    seed: int | None = None  # simulator seed; None: a fresh one per recording (stored in it)
    scan_timeout_s: float = 5.0

    def check(self) -> None:
        """Raise ValueError saying what is missing before anything connects."""
        check_subject(self.subject_id)
        self.spec().check()

    def spec(self) -> SessionSpec:
        """The session specification of this setup (drill and duration set per recording)."""
        if not self.simulate:
            kind = SourceKind.BLUETOOTH
        else:
            kind = SourceKind.VIRTUAL_BLE if self.virtual_link else SourceKind.SIMULATED
        return SessionSpec(
            source=SourceSpec(
                kind=kind,
                family=self.family,
                placements=self.placements,
                assignments=tuple(self.assignments.items()),
                seed=self.seed,
                realtime=True,
                scan_timeout_s=1.5 if self.simulate else self.scan_timeout_s,
                dual_task_factor=SIMULATED_DUAL_TASK_FACTOR,
            ),
            lsl=LslSpec(outlet=self.lsl),
            processing=SessionSettings(rate_hz=self.rate_hz),
        )


def protocol_plan(protocol: ProtocolPlan) -> ProtocolPlan:
    """The engine's part of a protocol (a `DrillProtocol` is a plan plus what only the window
    uses) as a plain `ProtocolPlan`, which the engine process can unpickle without the window's
    modules."""
    return ProtocolPlan(**{f.name: getattr(protocol, f.name) for f in fields(ProtocolPlan)})
