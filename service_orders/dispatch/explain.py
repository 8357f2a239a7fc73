"""Why dispatch chose whom, in words: each candidate's score taken apart, the best first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service_orders.dispatch.ranking import URGENCY_KM_PER_HOUR, WORKLOAD_KM
from service_orders.models import DispatchDecision

# the hard constraints an engineer failed, as the dispatcher reads them ({family}, {level})
_EXCLUDED = {
    "no_skill": "lacks skill: {family}",
    "level_too_low": "{family} skill below level {level}",
    "certificate_expired": "{family} certificate expired",
    "off_shift": "off shift",
    "no_shift_before_respond_by": "no shift before the respond-by time",
    "at_capacity": "already at their job limit",
    "declined_or_let_expire": "declined this job or let its offer expire",
}


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """One engineer of a decision: the result, each factor in words, the score if scored."""

    name: str
    result: str
    chosen: bool
    factors: tuple[str, ...]
    score: float | None  # points, lower is better (a kilometre of travel is one point)


def decision_rows(
    decision: DispatchDecision | None, names: dict[int, str], *, family: str, level: int
) -> list[CandidateRow]:
    """A decision's engineers: the one chosen first, then the others best score first, then
    those excluded, nearest first."""
    if decision is None:
        return []
    ranked = sorted(
        decision.candidates,
        key=lambda c: (
            not c.get("chosen"),
            "excluded" in c,
            bool(c.get("lost_race")),
            float(c["score"]) if c.get("score") is not None else float(c.get("metres") or 0),
        ),
    )
    return [_row(c, names, family=family, level=level) for c in ranked]


def _row(c: dict[str, Any], names: dict[int, str], *, family: str, level: int) -> CandidateRow:
    engineer_id = int(c.get("engineer_id", 0))
    name = names.get(engineer_id, f"#{engineer_id}")
    away = [_km(c["metres"])] if c.get("metres") is not None else []
    if "excluded" in c:
        reasons = [_EXCLUDED.get(r, r.replace("_", " ")) for r in c["excluded"]]
        words = tuple(r.format(family=family, level=level) for r in reasons)
        return CandidateRow(name, "excluded", False, (*away, *words), None)
    jobs = _jobs(c)
    if c.get("by_hand"):
        return CandidateRow(name, "assigned by hand", True, tuple(jobs), None)
    score = float(c.get("score") or 0)
    km = float(c.get("metres") or 0) / 1000
    load_points = WORKLOAD_KM * int(c.get("load") or 0)
    # the rest of the score is the wait for the shift, weighted by the order's urgency
    wait_points = max(0.0, score - km - load_points)
    factors = (
        f"{away[0]} (+{km:.1f})" if away else "distance unknown",
        f"has skill: {family}" + (f", level {level} or higher" if level > 1 else ""),
        *(f"{j} (+{load_points:.1f})" for j in jobs),
        _shift(float(c.get("wait_s") or 0), wait_points),
    )
    result = (
        "chosen"
        if c.get("chosen")
        else "full by the time of the offer"
        if c.get("lost_race")
        else "runner-up"
    )
    return CandidateRow(name, result, bool(c.get("chosen")), factors, score)


def _km(metres: float) -> str:
    return f"{float(metres) / 1000:.1f} km away"


def _jobs(c: dict[str, Any]) -> list[str]:
    if c.get("load") is None or c.get("capacity") is None:
        return []
    return [f"{int(c['load'])} of {int(c['capacity'])} jobs"]


def _shift(wait_s: float, points: float) -> str:
    if wait_s <= 0:
        return "on shift now (+0)"
    minutes = round(wait_s / 60)
    wait = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return f"shift starts in {wait} (+{points:.1f})"


def score_rule() -> str:
    """How the score is made, for the board's legend (from the weights ranking uses)."""
    urgency = ", ".join(f"{w:g} for P{p}" for p, w in sorted(URGENCY_KM_PER_HOUR.items()))
    return (
        f"Score in points, lower wins: 1 per km of travel, {WORKLOAD_KM:g} per job held or "
        f"offered, and per hour until their shift starts {urgency}."
    )
