"""Service-level agreements: by when a work order must be responded to and resolved."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service_orders.models import ServiceContract

# (respond, resolve) hours by priority when the customer has no contract
DEFAULT_SLA_HOURS: dict[int, tuple[int, int]] = {1: (4, 24), 2: (8, 48), 3: (24, 72), 4: (72, 168)}


def sla_hours(session: Session, *, owner_org_id: int, priority: int) -> tuple[int, int]:
    """(respond, resolve) hours: the customer's contract tier, else the priority's default."""
    contract = session.scalar(select(ServiceContract).where(ServiceContract.org_id == owner_org_id))
    if contract is not None:
        return contract.respond_hours, contract.resolve_hours
    return DEFAULT_SLA_HOURS[priority]


def sla_dates(
    session: Session,
    *,
    owner_org_id: int,
    priority: int,
    start: datetime,
    due_by: datetime | None = None,
) -> tuple[datetime, datetime]:
    """respond_by and resolve_by from `start`; a due date (predicted failure) may pull resolve in.

    Respond-by is always the tier's promise. Resolve-by is never before respond-by: nobody can
    be held to finish a job before the time they are allowed to take it.
    """
    respond_h, resolve_h = sla_hours(session, owner_org_id=owner_org_id, priority=priority)
    respond_by = start + timedelta(hours=respond_h)
    resolve_by = start + timedelta(hours=max(resolve_h, respond_h))
    if due_by is not None:
        resolve_by = max(respond_by, min(resolve_by, due_by))
    return respond_by, resolve_by


def before_failure(
    predicted_failure_at: datetime | None, *, now: datetime, margin: timedelta
) -> datetime | None:
    """When a predictive job should be done: a margin before the failure, never in the past.

    A failure nearer than twice the margin leaves half the time to it; a crossing not in the
    future (the limit is reached already) gives no date, the tier alone decides.
    """
    if predicted_failure_at is None or predicted_failure_at <= now:
        return None
    return predicted_failure_at - min(margin, (predicted_failure_at - now) / 2)
