"""Issue 16's per-bout targets for every algorithm, as Markdown, from benchmarks/gait_mobgap.py's JSON.

The targets hold per walking bout (gait_scoring.py): F1 ≥ 0.90 at ±250 ms (mobgap's matching),
≥ 85 % of the bout's reference contacts within 100 ms, cadence error ≤ 2 steps/min on straight
walks (Test5) and ≤ 4 on the simulated daily activities (Test11). Prints two tables:

1. per participant and test, for each algorithm, how many bouts meet each target and all three;
2. per bout, each algorithm's F1 / share within 100 ms / cadence error, a target missed in bold.

Algorithms: stabmon; mobgap's IcdShinImproved, IcdIonescu and IcdHKLeeImproved with its CadFromIc;
scikit-digital-health with each of its two event methods, its contacts after its own stride QC
(what it reports) with CadFromIc.

Usage: python benchmarks/gait_targets.py RESULT.json   (RESULT.json: gait_mobgap.py's output; "-"
reads it from stdin)
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
from gait_scoring import BOUT_TARGET_F1, BOUT_TARGET_WITHIN_100MS, CADENCE_LIMIT_STEPS_PER_MIN

ALGORITHMS = (
    "stabmon",
    "IcdShinImproved",
    "IcdIonescu",
    "IcdHKLeeImproved",
    "skdh_ap_cwt",
    "skdh_vertical_cwt",
)
SHORT = {"IcdShinImproved": "Shin", "IcdIonescu": "Ionescu", "IcdHKLeeImproved": "HKLee"}


def participant(name: str) -> str:
    """The participant's id in a folder name: "data/mobgap_lab_HA001" and "HA/002" → "HA001", "HA002"."""
    found = re.search(r"([A-Z]{2})\W?(\d{3})$", name.replace("/", ""))
    return f"{found[1]}{found[2]}" if found else name


def summary_table(result: dict) -> list[str]:
    """Per participant and test: bouts meeting F1, ≤100 ms, cadence and all three, per algorithm."""
    lines = [
        "| participant · test | bouts | " + " | ".join(SHORT.get(a, a) for a in ALGORITHMS) + " |",
        "|---|---|" + "---|" * len(ALGORITHMS),
    ]
    for who, tests in result["per_participant_per_test"].items():
        for test, algorithms in tests.items():
            cells = [_counts(algorithms.get(name, {}).get("bouts_meeting_targets")) for name in ALGORITHMS]
            bouts = algorithms["stabmon"]["bouts"]
            lines.append(f"| {participant(who)} · {test} | {bouts} | " + " | ".join(cells) + " |")
    for test, algorithms in result.get("pooled_per_test", {}).items():
        cells = [_counts(algorithms.get(name, {}).get("bouts_meeting_targets")) for name in ALGORITHMS]
        bouts = algorithms["stabmon"]["bouts"]
        lines.append(f"| pooled · {test} | {bouts} | " + " | ".join(cells) + " |")
    return lines


def _counts(met: dict | None) -> str:
    """Bouts meeting F1 / ≤100 ms / cadence / all three."""
    return (
        "—"
        if met is None
        else f"{met['f1_250ms']} / {met['within_100ms']} / {met['cadence']} / **{met['all']}**"
    )


def _cell(row: dict, k: int, limit: float) -> str:
    """One bout's F1 / within 100 ms / cadence error, each missed target in bold."""
    f1, within, cadence = (
        row["f1_250ms_per_bout"][k],
        row["within_100ms_per_bout"][k],
        row["cadence_errors_per_bout"][k],
    )
    parts = [
        (f"{f1:.3f}", f1 >= BOUT_TARGET_F1),
        (f"{within:.3f}", within >= BOUT_TARGET_WITHIN_100MS),
        (f"{cadence:+.1f}" if math.isfinite(cadence) else "none", abs(cadence) <= limit),  # NaN: missed
    ]
    return " / ".join(text if ok else f"**{text}**" for text, ok in parts)


def per_bout_table(result: dict) -> list[str]:
    """Per bout (trial order), per algorithm: F1 / ≤100 ms / cadence error, misses in bold ("none":
    fewer than two contacts in the bout, no cadence)."""
    lines = [
        "| participant · test · trial · bout | " + " | ".join(SHORT.get(a, a) for a in ALGORITHMS) + " |",
        "|---|" + "---|" * len(ALGORITHMS),
    ]
    for trial, algorithms in result["per_trial"].items():
        who, test, number = trial.rsplit("/", 2)
        limit = CADENCE_LIMIT_STEPS_PER_MIN.get(test)
        if limit is None or "stabmon" not in algorithms:  # no cadence target, or no bouts
            continue
        for k in range(len(algorithms["stabmon"]["cadence_errors_per_bout"])):
            cells = [_cell(algorithms[name], k, limit) if name in algorithms else "—" for name in ALGORITHMS]
            lines.append(f"| {participant(who)} · {test} · {number} · {k} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("result", help="gait_mobgap.py's JSON output, or - for stdin")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.result == "-" else Path(args.result).read_text()
    result = json.loads(text)
    print("Bouts meeting F1 ≥ 0.90 / ≤100 ms ≥ 85 % / cadence (≤ 2 Test5, ≤ 4 Test11) / **all three**\n")
    print("\n".join(summary_table(result)))
    print("\nPer bout: F1 at ±250 ms / share within 100 ms / cadence error, steps/min (missed in bold)\n")
    print("\n".join(per_bout_table(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
