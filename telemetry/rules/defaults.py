"""The rules a product model gets when nobody has written any: limits and trend to failure."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crm.models import MetricDefinition
from telemetry.rules.models import RuleKind, Severity

_INSERT_DEFAULTS = text(
    "INSERT INTO rules (product_model_id, metric_key, kind, name, severity, params)"
    " SELECT :model_id, k, kind, name, severity, CAST(params AS jsonb)"
    " FROM unnest(CAST(:keys AS text[]), CAST(:kinds AS text[]), CAST(:names AS text[]),"
    "  CAST(:severities AS text[]), CAST(:params AS text[])) AS d(k, kind, name, severity, params)"
    " ON CONFLICT (product_model_id, metric_key, kind) WHERE asset_id IS NULL DO NOTHING"
)


def default_rules(metric: MetricDefinition) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(kind, name, severity, params) of the rules every metric with limits gets."""
    rules: list[tuple[str, str, str, dict[str, Any]]] = []
    limits = (metric.warn_low, metric.warn_high, metric.crit_low, metric.crit_high)
    if any(limit is not None for limit in limits):
        # empty params: the limits come from the metric definition, so editing the
        # product model's limits moves the rule with them
        rules.append((RuleKind.THRESHOLD, f"{metric.label} limits", Severity.CRITICAL, {}))
    if metric.crit_low is not None or metric.crit_high is not None:
        rules.append(
            (
                RuleKind.TREND,
                f"{metric.label} trending to its critical limit",
                Severity.MAJOR,
                {"sample_seconds": 60, "window": 60, "horizon_hours": 168},
            )
        )
    return rules


def install_default_rules(session: Session, *, product_model_id: int) -> int:
    """Add the default rules of a product model that it lacks; returns how many were added."""
    metrics = session.scalars(
        select(MetricDefinition)
        .where(MetricDefinition.product_model_id == product_model_id)
        .order_by(MetricDefinition.position)
    )
    rows = [(m.key, *rule) for m in metrics for rule in default_rules(m)]
    if not rows:
        return 0
    keys, kinds, names, severities, params = zip(*rows, strict=True)
    result = session.execute(
        _INSERT_DEFAULTS,
        {
            "model_id": product_model_id,
            "keys": list(keys),
            "kinds": [str(kind) for kind in kinds],
            "names": list(names),
            "severities": [str(severity) for severity in severities],
            "params": [orjson.dumps(p).decode() for p in params],
        },
    )
    return int(getattr(result, "rowcount", 0))
