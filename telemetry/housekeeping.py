"""Keeping telemetry tidy: last-seen marks, retention, and the broker's device accounts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import utcnow

_HOURLY_ROLLUPS_KEPT = timedelta(days=5 * 365)
_DEAD_LETTERS_KEPT = timedelta(days=30)


def mark_last_seen(session: Session, *, window: timedelta = timedelta(minutes=10)) -> int:
    """Set devices.last_seen_at from the newest 1-minute rollups (cheap, no ingest locks)."""
    result = session.execute(
        text(
            "UPDATE devices d SET last_seen_at = r.seen FROM ("
            "  SELECT device_id, max(last_ts) AS seen FROM readings_1m"
            "  WHERE bucket > :since GROUP BY device_id) r"
            " WHERE d.id = r.device_id AND (d.last_seen_at IS NULL OR d.last_seen_at < r.seen)"
        ),
        {"since": utcnow() - window},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult at runtime


def apply_retention(session: Session, *, raw_days: int) -> dict[str, int]:
    """Drop whole chunks past retention (cheap in TimescaleDB); prune old dead letters."""
    now = utcnow()
    dropped = {}
    for table, keep in (
        ("readings", timedelta(days=raw_days)),
        ("readings_1m", timedelta(days=raw_days)),
        ("readings_1h", _HOURLY_ROLLUPS_KEPT),
    ):
        rows = session.execute(
            text("SELECT drop_chunks(:table, older_than => :before)"),
            {"table": table, "before": now - keep},
        ).all()
        dropped[table] = len(rows)
    gone = session.execute(
        text("DELETE FROM dead_letters WHERE received_at < :before"),
        {"before": now - _DEAD_LETTERS_KEPT},
    )
    dropped["dead_letters"] = int(gone.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult
    return dropped
