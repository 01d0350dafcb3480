"""Drill protocols as data: TOML files a clinic can write, read and validated here.

A protocol runs `repetitions` recordings of one catalogue drill (see `stabmon drills`). Each
recording starts with `calibration_s` of quiet upright standing (the neutral-stance calibration),
then the task for `task_s` (or until the clinician ends it, for holds to failure), then a rest.
`conditions` gives each repetition's condition: "single", "dual" (with the cognitive task) or
"cognitive" (the cognitive task alone, seated: the dual-task baseline).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from engine.messages import ProtocolPlan
from engine.spec import DRILL_NAMES
from gui.model.biofeedback import DEFAULT_LIMIT_DEG, FeedbackMode, default_feedback
from sensors.drills import drill_family
from sensors.errors import StabmonError, UnknownDrillError

COGNITIVE_TASKS = ("serial-subtraction", "stroop")
CONDITIONS = ("single", "dual", "cognitive")  # cognitive: the cognitive task alone (baseline)


class ProtocolError(StabmonError, ValueError):
    """A protocol file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class DrillProtocol(ProtocolPlan):
    """One drill protocol: the engine's plan (`ProtocolPlan`: key, name, drill, times in
    seconds, repetitions, conditions, cognitive task) and what only the window uses.

    hold_to_failure: the task ends when the clinician ends it (task_s is the cap);
    perturbations: the clinician marks pushes during the task; path: the file it was read from;
    feedback: the patient's biofeedback (a `FeedbackMode` value; "" = the drill's default) and
    feedback_limit_deg its limit (zone radius, lumbar flexion limit or bend target; 0 = default)."""

    hold_to_failure: bool = False
    perturbations: bool = False
    path: Path | None = None
    feedback: str = ""
    feedback_limit_deg: float = 0.0

    @property
    def feedback_mode(self) -> FeedbackMode:
        """The biofeedback the patient sees: the protocol's choice, else the drill's default."""
        return FeedbackMode(self.feedback) if self.feedback else default_feedback(self.drill)

    @property
    def feedback_limit(self) -> float:
        """The feedback's limit, deg: the protocol's, else the mode's default."""
        return self.feedback_limit_deg or DEFAULT_LIMIT_DEG[self.feedback_mode]

    @property
    def dual_task(self) -> bool:
        return "dual" in self.conditions


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "drill": str,
    "instructions": str,
    "task_s": (int, float),
    "repetitions": int,
    "rest_s": (int, float),
    "get_ready_s": (int, float),
    "calibration_s": (int, float),
    "hold_to_failure": bool,
    "perturbations": bool,
    "cognitive_task": str,
    "conditions": list,
    "feedback": str,
    "feedback_limit_deg": (int, float),
}
_REQUIRED = ("name", "drill", "instructions", "task_s")
#: Limits of the times (s): (lowest, highest); `_POSITIVE` ones must be above 0.
_TIME_LIMITS_S = {
    "task_s": (0.0, 3600.0),
    "calibration_s": (0.0, 120.0),
    "rest_s": (0.0, 3600.0),
    "get_ready_s": (0.0, 600.0),
}
_POSITIVE = frozenset({"task_s", "calibration_s"})
MAX_REPETITIONS = 100


def parse_protocol(data: dict[str, Any], key: str, where: str) -> DrillProtocol:
    """A protocol from parsed TOML `data`; `where` names it in errors."""
    for name in data:
        if name not in _FIELDS:
            raise ProtocolError(f"{where}: unknown key {name!r}; known keys: {', '.join(_FIELDS)}")
    for name in _REQUIRED:
        if name not in data:
            raise ProtocolError(f"{where}: missing key {name!r}")
    for name, value in data.items():
        expected = _FIELDS[name]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ProtocolError(f"{where}: {name} has the wrong type ({type(value).__name__})")
    if data["drill"] not in DRILL_NAMES:
        raise ProtocolError(
            f"{where}: unknown drill {data['drill']!r}; known drills: {', '.join(DRILL_NAMES)}"
        )
    try:
        drill_family(data["drill"])
    except UnknownDrillError as error:
        raise ProtocolError(f"{where}: {error}") from None
    for name, (low, high) in _TIME_LIMITS_S.items():
        value = data.get(name)
        if value is None:
            continue
        if not (math.isfinite(value) and (value > low if name in _POSITIVE else value >= low)):
            rule = "be positive" if name in _POSITIVE else "not be negative"
            raise ProtocolError(f"{where}: {name} must {rule} (a finite number of seconds), got {value}")
        if value > high:
            raise ProtocolError(f"{where}: {name} must be at most {high:g} s, got {value}")
    repetitions = data.get("repetitions", 1)
    if not 1 <= repetitions <= MAX_REPETITIONS:
        raise ProtocolError(f"{where}: repetitions must be from 1 to {MAX_REPETITIONS}, got {repetitions}")
    conditions = tuple(data.get("conditions", ()))
    if conditions and (len(conditions) != repetitions or any(c not in CONDITIONS for c in conditions)):
        raise ProtocolError(
            f"{where}: conditions must list {repetitions} of {' / '.join(CONDITIONS)}, got {list(conditions)}"
        )
    modes = [m.value for m in FeedbackMode]
    if "feedback" in data and data["feedback"] not in modes:
        raise ProtocolError(f"{where}: feedback must be one of {', '.join(modes)}, got {data['feedback']!r}")
    if "feedback_limit_deg" in data and not data["feedback_limit_deg"] > 0:
        raise ProtocolError(f"{where}: feedback_limit_deg must be positive, got {data['feedback_limit_deg']}")
    if data.get("cognitive_task", COGNITIVE_TASKS[0]) not in COGNITIVE_TASKS:
        raise ProtocolError(f"{where}: cognitive_task must be one of {', '.join(COGNITIVE_TASKS)}")
    # Checked above, field by field; the dataclass takes the rest by name.
    fields: dict[str, Any] = {
        k: float(v) if k.endswith(("_s", "_deg")) else v for k, v in data.items() if k != "conditions"
    }
    return DrillProtocol(key=key, conditions=conditions, **fields)


def load_protocol(path: Path) -> DrillProtocol:
    """Read and check one protocol file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProtocolError(f"{path}: cannot read ({error.strerror or error})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProtocolError(f"{path}: not valid TOML ({error})") from None
    protocol = parse_protocol(data, path.stem, str(path))
    return DrillProtocol(**{**protocol.__dict__, "path": path})


def bundled_protocol_dir() -> Path:
    """The protocols shipped with stabmon."""
    return Path(str(resources.files("gui") / "protocols"))


def load_protocols(*folders: Path) -> tuple[list[DrillProtocol], list[str]]:
    """The bundled protocols, then each folder's (a clinic's own; same key replaces), and the
    problems with files that could not be used. A clinic folder that does not exist or is not a
    folder raises ProtocolError naming it (it was ignored before: the bundled protocols ran)."""
    for folder in folders:
        if not folder.exists():
            raise ProtocolError(f"no such protocol folder: {folder}")
        if not folder.is_dir():
            raise ProtocolError(f"the protocol folder {folder} is a file, not a folder of *.toml files")
    by_key: dict[str, DrillProtocol] = {}
    problems = []
    for folder in (bundled_protocol_dir(), *folders):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                protocol = load_protocol(path)
            except ProtocolError as error:
                problems.append(str(error))
                continue
            by_key[protocol.key] = protocol
    return list(by_key.values()), problems
