"""Service KPIs per week or month: time to respond and to repair, SLA compliance, first-time fix.

Definitions (docs/decisions.md, "Service KPIs"):
- respond: created -> first accepted; counted in the period the order was created. An order
  whose respond-by passed unaccepted counts as a respond-SLA breach (not if it was cancelled).
- repair: first on site -> completed; resolve SLA (completed by resolve-by) and first-time fix
  (outcome fixed, one visit, not itself a follow-up) are counted in the period of completion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Literal

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.db import utcnow
from service_orders.models import WorkOrder, WorkOrderEvent
from service_orders.states import Status

Period = Literal["week", "month"]
PERIODS: tuple[Period, ...] = ("week", "month")


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the KPIs need of one work order."""

    created_at: datetime
    respond_by: datetime
    resolve_by: datetime
    accepted_at: datetime | None
    first_on_site_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    visits: int
    follow_up: bool
    cancelled: bool


@dataclass(frozen=True, slots=True)
class PeriodKpis:
    """The KPIs of one period (start inclusive, end exclusive)."""

    start: datetime
    end: datetime
    created: int
    completed: int
    mean_respond_s: float | None
    mean_repair_s: float | None
    respond_sla_pct: float | None
    resolve_sla_pct: float | None
    first_time_fix_pct: float | None

    @property
    def label(self) -> str:
        if self.end - self.start <= timedelta(days=7):
            return f"week of {self.start:%Y-%m-%d}"
        return f"{self.start:%B %Y}"


def period_bounds(period: Period, count: int, now: datetime) -> list[tuple[datetime, datetime]]:
    """The last `count` calendar weeks (Monday) or months, oldest first, the current included."""
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    bounds: list[tuple[datetime, datetime]] = []
    if period == "week":
        start = today - timedelta(days=today.weekday())
        for _ in range(count):
            bounds.append((start, start + timedelta(days=7)))
            start -= timedelta(days=7)
    else:
        start = today.replace(day=1)
        for _ in range(count):
            end = (start + timedelta(days=32)).replace(day=1)
            bounds.append((start, end))
            start = (start - timedelta(days=1)).replace(day=1)
    return bounds[::-1]


def compute_kpis(
    facts: Sequence[OrderFacts], bounds: Sequence[tuple[datetime, datetime]], *, now: datetime
) -> list[PeriodKpis]:
    """The KPIs of each period from the facts of the work orders (pure arithmetic)."""
    return [_one_period(facts, start, end, now) for start, end in bounds]


def service_kpis(
    session: Session, *, period: Period = "week", count: int = 6, now: datetime | None = None
) -> list[PeriodKpis]:
    """The KPIs of the last `count` weeks or months, oldest first."""
    now = now or utcnow()
    bounds = period_bounds(period, count, now)
    return compute_kpis(order_facts(session, since=bounds[0][0]), bounds, now=now)


def order_facts(session: Session, *, since: datetime) -> list[OrderFacts]:
    """Facts of the work orders created or completed since a moment."""
    events = (
        select(
            WorkOrderEvent.work_order_id.label("work_order_id"),
            func.min(WorkOrderEvent.at)
            .filter(WorkOrderEvent.to_status == Status.ACCEPTED)
            .label("accepted_at"),
            func.min(WorkOrderEvent.at)
            .filter(WorkOrderEvent.to_status == Status.ON_SITE)
            .label("first_on_site_at"),
            func.count().filter(WorkOrderEvent.to_status == Status.ON_SITE).label("visits"),
        )
        .group_by(WorkOrderEvent.work_order_id)
        .subquery()
    )
    # workorders._follow_up notes "follow-up <number> back to dispatch" on the visited order
    origin = aliased(WorkOrderEvent)
    is_follow_up = exists().where(
        origin.work_order_id != WorkOrder.id,
        origin.note == func.concat("follow-up ", WorkOrder.number, " back to dispatch"),
    )
    rows = session.execute(
        select(
            WorkOrder.created_at,
            WorkOrder.respond_by,
            WorkOrder.resolve_by,
            events.c.accepted_at,
            events.c.first_on_site_at,
            WorkOrder.completed_at,
            WorkOrder.outcome,
            func.coalesce(events.c.visits, 0),
            is_follow_up,
            WorkOrder.status == Status.CANCELLED,
        )
        .outerjoin(events, events.c.work_order_id == WorkOrder.id)
        .where(
            or_(
                WorkOrder.created_at >= since,
                and_(WorkOrder.completed_at.is_not(None), WorkOrder.completed_at >= since),
            )
        )
    ).all()
    return [OrderFacts(*row) for row in rows]


def _one_period(
    facts: Sequence[OrderFacts], start: datetime, end: datetime, now: datetime
) -> PeriodKpis:
    created = [f for f in facts if start <= f.created_at < end]
    accepted = [f for f in created if f.accepted_at is not None]
    # an order nobody accepted in time is a breach, unless it was cancelled first
    respond_judged = accepted + [
        f for f in created if f.accepted_at is None and not f.cancelled and f.respond_by < now
    ]
    completed = [f for f in facts if f.completed_at is not None and start <= f.completed_at < end]
    repaired = [f for f in completed if f.first_on_site_at is not None]
    return PeriodKpis(
        start=start,
        end=end,
        created=len(created),
        completed=len(completed),
        mean_respond_s=_mean(
            [(f.accepted_at - f.created_at).total_seconds() for f in accepted if f.accepted_at]
        ),
        mean_repair_s=_mean(
            [
                (f.completed_at - f.first_on_site_at).total_seconds()
                for f in repaired
                if f.completed_at and f.first_on_site_at
            ]
        ),
        respond_sla_pct=_share(
            respond_judged, lambda f: f.accepted_at is not None and f.accepted_at <= f.respond_by
        ),
        resolve_sla_pct=_share(
            completed, lambda f: f.completed_at is not None and f.completed_at <= f.resolve_by
        ),
        first_time_fix_pct=_share(
            completed, lambda f: f.outcome == "fixed" and f.visits <= 1 and not f.follow_up
        ),
    )


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def _share(facts: Sequence[OrderFacts], met: Callable[[OrderFacts], bool]) -> float | None:
    if not facts:
        return None
    return 100.0 * sum(1 for f in facts if met(f)) / len(facts)


def duration(seconds: float | None) -> str:
    """'3 h 20 min', '45 min' or an em dash for no data."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
