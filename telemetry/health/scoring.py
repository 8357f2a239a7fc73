"""The health formula: pure, so it is easy to test and to explain.

Weights (sum 100): metric zones 40 (the worst metric counts: a machine is as healthy as
its worst reading), active alerts 30, predicted time to failure 20, service due 10.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.db import utcnow
from core.labels import register_labels
from telemetry.health.zones import is_vibration, limit_zone, vibration_zone
from telemetry.stream import MetricSpec

WEIGHTS = {"metrics": 40.0, "alerts": 30.0, "time_to_failure": 20.0, "service_due": 10.0}
ALERT_BADNESS = {"critical": 1.0, "major": 0.6, "warning": 0.25}
# time to failure: a day or less is as bad as it gets, two weeks or more does not count
FAILURE_WORST_HOURS, FAILURE_HARMLESS_HOURS = 24.0, 14 * 24.0
# service due: fine until 80 % of the interval, as bad as it gets at 120 % (overdue)
SERVICE_FINE_RATIO, SERVICE_WORST_RATIO = 0.8, 1.2
# what a person reads for each factor (a metric's factor reads as the metric's own label)
FACTOR_LABELS = {
    "active_alerts": "Open alerts",
    "time_to_failure": "Predicted failure",
    "service_due": "Service due",
    "metrics": "Readings",
}
register_labels("health_factor", FACTOR_LABELS)


@dataclass(slots=True)
class AssetFacts:
    """What the score of one asset is computed from."""

    asset_id: int
    product_model_id: int
    family: str
    hours_since_service: float
    service_interval_hours: float
    latest: dict[str, tuple[float, MetricSpec]] = field(default_factory=dict)
    active_alerts: dict[str, int] = field(default_factory=dict)
    predicted_failure_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Scored:
    score: int
    contributors: list[dict[str, Any]]
    predicted_failure_at: datetime | None


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def _contributor(
    name: str, group: str, badness: float, detail: str, label: str = ""
) -> dict[str, Any]:
    weight = WEIGHTS[group]
    return {
        "name": name,
        "label": label or FACTOR_LABELS.get(name, name),
        "detail": detail,
        "weight": weight,
        "value": round(badness, 3),
        "penalty": round(weight * badness, 1),
    }


def score_asset(facts: AssetFacts, *, now: datetime | None = None) -> Scored:
    """Score one asset 0-100 with the contributors that explain every point lost."""
    now = now or utcnow()
    contributors = _metric_contributors(facts)
    alerts = facts.active_alerts
    badness = _clamp(sum(ALERT_BADNESS[sev] * n for sev, n in alerts.items()))
    detail = ", ".join(f"{n} {sev}" for sev, n in sorted(alerts.items())) or "none"
    contributors.append(_contributor("active_alerts", "alerts", badness, detail))
    if facts.predicted_failure_at is not None:
        hours = (facts.predicted_failure_at - now).total_seconds() / 3600
        span = FAILURE_HARMLESS_HOURS - FAILURE_WORST_HOURS
        badness = _clamp((FAILURE_HARMLESS_HOURS - hours) / span)
        detail = f"predicted limit crossing in {max(hours, 0):.0f} h"
    else:
        badness, detail = 0.0, "no failure predicted"
    contributors.append(_contributor("time_to_failure", "time_to_failure", badness, detail))
    ratio = facts.hours_since_service / facts.service_interval_hours
    span = SERVICE_WORST_RATIO - SERVICE_FINE_RATIO
    contributors.append(
        _contributor(
            "service_due",
            "service_due",
            _clamp((ratio - SERVICE_FINE_RATIO) / span),
            f"{facts.hours_since_service:.0f} of {facts.service_interval_hours:.0f} h"
            " since the last service",
        )
    )
    lost = sum(c["penalty"] for c in contributors)
    return Scored(max(0, min(100, round(100 - lost))), contributors, facts.predicted_failure_at)


def _metric_contributors(facts: AssetFacts) -> list[dict[str, Any]]:
    """One contributor per metric; only the worst carries the metrics' penalty."""
    judged = []
    for key, (value, spec) in sorted(facts.latest.items()):
        if is_vibration(key):
            badness, detail = vibration_zone(value, facts.family)
        else:
            badness, detail = limit_zone(value, spec)
        judged.append((badness, key, detail, spec.label or key.replace("_", " ").capitalize()))
    if not judged:
        return [_contributor("metrics", "metrics", 0.0, "no recent data")]
    worst = max(judged)
    contributors = []
    for badness, key, detail, label in judged:
        entry = _contributor(f"metric:{key}", "metrics", badness, detail, label)
        if (badness, key, detail, label) != worst:
            entry["penalty"] = 0.0
        contributors.append(entry)
    return contributors
