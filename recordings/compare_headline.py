"""The re-test's headline: the line a clinician reads first, saying which key measures changed
beyond their measurement error (MDC95), in which direction (better or worse by the measures
catalogue's direction), and which stayed within it."""

from __future__ import annotations

import math

from recordings.catalogue import MEAN_PREFIX, catalogue
from recordings.compare import ChangeRow, Comparison, MdcBasis, Verdict

#: Verdicts of a change beyond the MDC, by direction.
_BETTER = (Verdict.BETTER, Verdict.POSSIBLY_BETTER)
_WORSE = (Verdict.WORSE, Verdict.POSSIBLY_WORSE)
_CHANGED = (Verdict.CHANGED, Verdict.POSSIBLY_CHANGED)


def headline(comparison: Comparison) -> str:
    """'Possibly better: 5 of 5 key measures changed beyond their measurement error — better: …'
    over the catalogue's key measures of the drill (each judged by the row that carries its
    verdict: its own or its mean of repetitions); "Possibly" when every change beyond the error
    was judged only against the within-session lower bound."""
    cat = catalogue()
    rows = [
        r
        for k in cat.key_measures(comparison.drill)
        if (r := comparison.judged_row(k)) is not None and r.info.judged
    ]
    judged = [r for r in rows if r.verdict is not Verdict.NOT_JUDGED]
    if not judged:
        return f"Key measures: no change could be judged ({_why_none_judged(rows)})"

    def name(r: ChangeRow) -> str:
        base = cat.info(comparison.drill, r.name.removeprefix(MEAN_PREFIX)).name
        return f"{base} {r.change_text}"

    better = [name(r) for r in judged if r.verdict in _BETTER]
    worse = [name(r) for r in judged if r.verdict in _WORSE]
    changed = [name(r) for r in judged if r.verdict in _CHANGED]
    same = [
        cat.info(comparison.drill, r.name.removeprefix(MEAN_PREFIX)).name
        for r in judged
        if r.verdict is Verdict.NO_REAL_CHANGE
    ]
    beyond = [r for r in judged if r.verdict is not Verdict.NO_REAL_CHANGE]
    word = (
        "Mixed"
        if better and worse
        else "Better"
        if better
        else "Worse"
        if worse
        else "Changed"
        if changed
        else "No real change"
    )
    tentative = bool(beyond) and all(r.basis is MdcBasis.WITHIN_SESSION for r in beyond)
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("better", better),
            ("worse", worse),
            ("changed", changed),
            ("within the error", same),
        )
        if names
    ]
    text = (
        f"{'Possibly ' + word.lower() if tentative else word}: {len(beyond)} of {len(judged)} key "
        f"measures changed beyond their measurement error — {'; '.join(parts)}"
    )
    if tentative:
        text += " (error from the repetitions within the sessions, a lower bound: confirm at a further visit)"
    unjudged = len(rows) - len(judged)
    return text + (f"; {unjudged} not judged" if unjudged else "")


def _why_none_judged(rows: list[ChangeRow]) -> str:
    """The reasons none of the key measures' rows has a verdict, as the rows give them."""
    if not rows:
        return "no key measure was measured in both sessions"
    reasons = []
    censored = [r for r in rows if r.baseline_lower_bound or r.retest_lower_bound]
    if censored:
        reasons.append(
            "cut off by the task's end, a lower bound only, in one or both sessions: "
            + ", ".join(r.info.name for r in censored)
        )
    if any(not math.isfinite(r.mdc95) for r in rows if r not in censored):
        reasons.append("no measurement error is known: no published or clinic MDC, and too few repetitions")
    if any(not math.isfinite(r.change) for r in rows):
        reasons.append("not measured in one of the sessions")
    return "; ".join(reasons) or "every change is within what the display can show"
