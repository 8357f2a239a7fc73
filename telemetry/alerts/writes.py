"""Set-based alert writes of the rules engine: open or escalate, clear, refresh predictions.

Each is one statement for a whole batch. The partial unique index on active alerts makes
"open" safe against a concurrent ingest: the loser of the race escalates or does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

_OPEN_OR_ESCALATE = text(
    """
WITH incoming AS (
    SELECT * FROM unnest(
        CAST(:device_ids AS int[]), CAST(:asset_ids AS int[]), CAST(:rule_ids AS int[]),
        CAST(:metric_keys AS text[]), CAST(:kinds AS text[]), CAST(:severities AS text[]),
        CAST(:values AS float8[]), CAST(:messages AS text[]), CAST(:predicted AS timestamptz[])
    ) AS i(device_id, asset_id, rule_id, metric_key, kind, severity, value, message, predicted)
    ORDER BY device_id, rule_id
), up AS (
    INSERT INTO alerts AS a (device_id, asset_id, rule_id, metric_key, kind, severity, status,
                             value, message, predicted_failure_at)
    SELECT device_id, asset_id, rule_id, metric_key, kind, severity, 'open',
           value, message, predicted
    FROM incoming
    ON CONFLICT (device_id, rule_id) WHERE status IN ('open', 'acknowledged') DO UPDATE SET
        severity = EXCLUDED.severity,
        escalated_at = now(),
        updated_at = now(),
        value = EXCLUDED.value,
        message = EXCLUDED.message,
        predicted_failure_at = COALESCE(EXCLUDED.predicted_failure_at, a.predicted_failure_at)
    -- escalate only upward: warning < major < critical
    WHERE array_position(ARRAY['warning', 'major', 'critical'], EXCLUDED.severity::text)
        > array_position(ARRAY['warning', 'major', 'critical'], a.severity::text)
    RETURNING a.id, a.severity, (a.xmax = 0) AS opened
), events AS (
    INSERT INTO alert_events (alert_id, action, severity)
    SELECT id, CASE WHEN opened THEN 'opened' ELSE 'escalated' END, severity FROM up
)
SELECT opened, pg_notify('alerts', id::text) FROM up
"""
)

_CLEAR_BY_CONDITION = text(
    """
WITH cleared AS (
    UPDATE alerts a SET status = 'cleared', cleared_at = now(), updated_at = now(),
                        clear_reason = 'condition'
    FROM unnest(CAST(:device_ids AS int[]), CAST(:rule_ids AS int[])) AS k(device_id, rule_id)
    WHERE a.device_id = k.device_id AND a.rule_id = k.rule_id
      AND a.status IN ('open', 'acknowledged')
    RETURNING a.id
), events AS (
    INSERT INTO alert_events (alert_id, action) SELECT id, 'cleared' FROM cleared
)
SELECT count(*) FROM cleared
"""
)

_REFRESH_PREDICTIONS = text(
    """
UPDATE alerts a SET predicted_failure_at = k.predicted, value = k.value, updated_at = now()
FROM unnest(CAST(:device_ids AS int[]), CAST(:rule_ids AS int[]),
            CAST(:predicted AS timestamptz[]), CAST(:values AS float8[]))
     AS k(device_id, rule_id, predicted, value)
WHERE a.device_id = k.device_id AND a.rule_id = k.rule_id
  AND a.status IN ('open', 'acknowledged')
"""
)


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """What the engine asks for: this device's rule reached this severity."""

    device_id: int
    asset_id: int
    rule_id: int
    metric_key: str
    kind: str
    severity: str
    value: float
    message: str
    predicted_failure_at: datetime | None


def open_or_escalate(session: Session, raised: list[RaisedAlert]) -> tuple[int, int]:
    """Open new alerts or raise the severity of active ones; returns (opened, escalated)."""
    if not raised:
        return 0, 0
    rows = session.execute(
        _OPEN_OR_ESCALATE,
        {
            "device_ids": [r.device_id for r in raised],
            "asset_ids": [r.asset_id for r in raised],
            "rule_ids": [r.rule_id for r in raised],
            "metric_keys": [r.metric_key for r in raised],
            "kinds": [r.kind for r in raised],
            "severities": [r.severity for r in raised],
            "values": [r.value for r in raised],
            "messages": [r.message for r in raised],
            "predicted": [r.predicted_failure_at for r in raised],
        },
    ).all()
    opened = sum(1 for row in rows if row.opened)
    return opened, len(rows) - opened


def clear_by_condition(session: Session, keys: list[tuple[int, int]]) -> int:
    """Clear the active alerts of these (device, rule) pairs; returns how many cleared."""
    if not keys:
        return 0
    count = session.execute(
        _CLEAR_BY_CONDITION,
        {"device_ids": [d for d, _ in keys], "rule_ids": [r for _, r in keys]},
    ).scalar_one()
    return int(count)


def refresh_predictions(
    session: Session, updates: list[tuple[int, int, datetime | None, float]]
) -> None:
    """Move the predicted failure time of active trend alerts as new samples come in."""
    if updates:
        session.execute(
            _REFRESH_PREDICTIONS,
            {
                "device_ids": [u[0] for u in updates],
                "rule_ids": [u[1] for u in updates],
                "predicted": [u[2] for u in updates],
                "values": [u[3] for u in updates],
            },
        )
