"""Dead letters for staff: newest first, filtered by device and reason, and their counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from telemetry.models import DeadLetter

PAYLOAD_PREVIEW = 400


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    """A refused message as a page shows it: the payload as text, cut to a preview."""

    id: int
    received_at: datetime
    topic: str
    device_key: str | None
    reason: str
    detail: str
    payload_preview: str
    payload_size: int

    @property
    def truncated(self) -> bool:
        return self.payload_size > len(self.payload_preview.encode())


def dead_letters(
    session: Session, *, device_key: str | None = None, reason: str | None = None, limit: int = 100
) -> Sequence[DeadLetterView]:
    """The newest dead letters, optionally of one device and/or one reason."""
    rows = session.scalars(
        select(DeadLetter)
        .where(_filters(device_key=device_key, reason=reason))
        .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
        .limit(limit)
    )
    return [
        DeadLetterView(
            id=row.id,
            received_at=row.received_at,
            topic=row.topic,
            device_key=row.device_key,
            reason=row.reason,
            detail=row.detail,
            # Shown as text (the page escapes it); undecodable bytes become U+FFFD.
            payload_preview=row.payload[:PAYLOAD_PREVIEW].decode("utf-8", errors="replace"),
            payload_size=row.payload_size,
        )
        for row in rows
    ]


def counts_by_reason(session: Session, *, device_key: str | None = None) -> dict[str, int]:
    """How many dead letters each reason has (for one device when given), largest first."""
    n = func.count().label("n")
    rows = session.execute(
        select(DeadLetter.reason, n)
        .where(_filters(device_key=device_key, reason=None))
        .group_by(DeadLetter.reason)
        .order_by(n.desc(), DeadLetter.reason)
    )
    return {reason: int(count) for reason, count in rows}


def counts_by_device(
    session: Session, *, reason: str | None = None, limit: int = 20
) -> dict[str | None, int]:
    """The devices with the most dead letters (None: no device could be named), largest first."""
    n = func.count().label("n")
    rows = session.execute(
        select(DeadLetter.device_key, n)
        .where(_filters(device_key=None, reason=reason))
        .group_by(DeadLetter.device_key)
        .order_by(n.desc(), DeadLetter.device_key)
        .limit(limit)
    )
    return {key: int(count) for key, count in rows}


def _filters(*, device_key: str | None, reason: str | None) -> ColumnElement[bool]:
    clause: ColumnElement[bool] = true()
    if device_key:
        clause = clause & (DeadLetter.device_key == device_key)
    if reason:
        clause = clause & (DeadLetter.reason == reason)
    return clause
