"""The report's part about the visit: this drill's repetitions in the protocol (mean ± SD and
each), its left/right pair and the McGill battery's ratios with their imbalance flags."""

from __future__ import annotations

import math
from collections.abc import Sequence

from recordings.catalogue import NOT_MEASURED
from recordings.dual_task_visit import dual_task_tables
from recordings.protocol_results import (
    FLEXION_EXTENSION_MISSING,
    BatteryRatio,
    ProtocolSummary,
    battery_ratios,
    side_pairs,
)
from recordings.reader import Recording
from recordings.references import ReferenceSet
from recordings.report_table import Table
from sensors.drills import DrillFamily, drill_family

#: The holds of McGill's endurance battery whose ratios a visit reports.
MCGILL_BATTERY = frozenset({DrillFamily.PLANK, DrillFamily.SIDE_PLANK, DrillFamily.BIERING_SORENSEN})


def visit_tables(
    visit: Sequence[ProtocolSummary], recording: Recording, references: ReferenceSet
) -> tuple[list[Table], list[str]]:
    """This drill's repetitions in the visit (mean ± SD, each one), its left/right pair and the
    McGill ratios, with the imbalance flags they raise."""
    tables, flags = [], []
    own = next((s for s in visit if s.drill == recording.drill and s.condition == recording.condition), None)
    if own is not None and len(own.sessions) > 1 and not own.condition.seated:  # seated: no sway
        shown = [m for m in own.measures if m.info.judged or m.info.key_measure]
        tables.append(
            Table(
                f"This visit: {len(own.sessions)} repetitions of the protocol",
                ("measure", "mean ± SD", "each repetition"),
                [
                    (m.info.name, m.text, ", ".join(m.format_each(k) for k in range(len(m.values))))
                    for m in shown
                ],
                (0.34, 0.3, 0.36),
                "protocol",
            )
        )
    base = recording.drill.removesuffix("-left").removesuffix("-right")
    for name, pairs in side_pairs(visit):
        if name != base or not pairs:
            continue
        rows = [
            (p.info.name, p.side_text("left"), p.side_text("right"), p.ratio_text, p.symmetry_text)
            for p in pairs
        ]
        tables.append(
            Table(
                "Left and right (means over repetitions)",
                ("measure", "left", "right", "right : left", "symmetry index"),
                rows,
                (0.34, 0.16, 0.16, 0.14, 0.2),
                "sides",
                note="Symmetry index (R − L)/(½(R + L)) × 100 (Zifchock 2008); 0 is symmetric.",
            )
        )
    if drill_family(recording.drill) in MCGILL_BATTERY:
        ratios = battery_ratios(visit, references)
        if ratios:
            ratio_rows = [(r.name, r.value_text, r.judged, r.rule.flag_meaning) for r in ratios]
            ratio_rows.append(
                ("flexion : extension", NOT_MEASURED, "", FLEXION_EXTENSION_MISSING.split("— ", 2)[-1])
            )
            tables.append(
                Table(
                    "McGill endurance battery (this visit)",
                    ("ratio", "value", "judged", "rule"),
                    ratio_rows,
                    (0.26, 0.16, 0.16, 0.42),
                    "battery",
                    frozenset(k for k, r in enumerate(ratios) if r.flagged),
                    note=_battery_note(ratios),
                )
            )
            flags += [f"McGill battery: {r.text}" for r in ratios if r.flagged]
    tables += dual_task_tables(visit, recording.drill, recording.condition)
    return tables, flags


def _battery_note(ratios: Sequence[BatteryRatio]) -> str:
    """The reference population and source, and what a bound means when a ratio is one."""
    note = f"{ratios[0].rule.population}; {ratios[0].rule.source}"
    if any(r.bound or not math.isfinite(r.value) for r in ratios):
        note += (
            ". ≥ / ≤: a hold ended before the posture was lost (its time is a lower bound), so the "
            "ratio is only a bound and is judged only where the bound decides the rule."
        )
    return note
