"""Satisfaction surveys after a visit, and their results per engineer and per month.

NPS = % promoters (9-10) - % detractors (0-6) of the answers, a whole number in -100..100.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Row, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import Conflict, InvalidInput, PermissionDenied
from crm.models import User
from customer_app.models import SatisfactionSurvey
from customer_app.work_orders import DONE
from service_orders.models import Engineer
from service_orders.workorders import get_work_order

MAX_COMMENT = 2000
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6


@dataclass(frozen=True, slots=True)
class SatisfactionRow:
    """Survey results of one group (an engineer, a month, or all)."""

    label: str
    count: int
    csat: Decimal | None
    promoters: int
    detractors: int

    @property
    def nps(self) -> int | None:
        if not self.count:
            return None
        return round(100 * (self.promoters - self.detractors) / self.count)


@dataclass(frozen=True, slots=True)
class SatisfactionReport:
    """The results of a period: overall, per engineer and per month."""

    start: date
    end: date
    overall: SatisfactionRow
    by_engineer: list[SatisfactionRow]
    by_month: list[SatisfactionRow]


def submit_survey(
    session: Session,
    *,
    actor: Principal,
    work_order_id: int,
    csat: int,
    nps: int,
    comment: str = "",
) -> SatisfactionSurvey:
    """The customer's rating of a completed visit, once per work order."""
    if actor.role != Role.CUSTOMER:
        raise PermissionDenied("The survey is answered by the customer.")
    work_order = get_work_order(session, principal=actor, work_order_id=work_order_id)
    if work_order.status not in DONE:
        raise Conflict(
            f"Work order {work_order.number} is {work_order.status.replace('_', ' ')}; "
            "the survey opens once the visit is completed.",
            code="survey_not_open",
        )
    if not 1 <= csat <= 5:
        raise InvalidInput("Rate your satisfaction from 1 to 5.", field="csat")
    if not 0 <= nps <= 10:
        raise InvalidInput("Rate the recommendation from 0 to 10.", field="nps")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"The comment may be {MAX_COMMENT} characters long.", field="comment")
    survey_id = session.scalar(
        pg_insert(SatisfactionSurvey)
        .values(
            work_order_id=work_order.id,
            engineer_id=work_order.engineer_id,
            customer_org_id=actor.org_id,
            csat=csat,
            nps=nps,
            comment=comment.strip(),
            submitted_by=actor.user_id,
        )
        .on_conflict_do_nothing()
        .returning(SatisfactionSurvey.id)
    )
    if survey_id is None:
        raise Conflict(
            f"Work order {work_order.number} has been rated already; thank you.",
            code="survey_exists",
        )
    return session.get_one(SatisfactionSurvey, survey_id)


def satisfaction_report(
    session: Session, *, actor: Principal, start: date, end: date
) -> SatisfactionReport:
    """Survey results submitted from `start` to `end` (both days included), staff only."""
    if not actor.is_staff:
        raise PermissionDenied("Satisfaction results are for staff.")
    if end < start:
        raise InvalidInput("The period must end on or after its start.", field="end")
    since = datetime.combine(start, time(), UTC)
    until = datetime.combine(end + timedelta(days=1), time(), UTC)
    in_period = (SatisfactionSurvey.submitted_at >= since, SatisfactionSurvey.submitted_at < until)
    s = SatisfactionSurvey
    measures = (
        func.count(),
        func.avg(s.csat),
        func.count().filter(s.nps >= PROMOTER_FROM),
        func.count().filter(s.nps <= DETRACTOR_UP_TO),
    )
    overall = session.execute(select(literal("All"), *measures).where(*in_period)).one()
    engineer = func.coalesce(User.full_name, "No engineer")
    by_engineer = session.execute(
        select(engineer, *measures)
        .outerjoin(Engineer, Engineer.id == s.engineer_id)
        .outerjoin(User, User.id == Engineer.user_id)
        .where(*in_period)
        .group_by(engineer)
        .order_by(engineer)
    ).all()
    month: ColumnElement[str] = func.to_char(func.timezone("UTC", s.submitted_at), "YYYY-MM").label(
        "month"
    )
    by_month = session.execute(
        select(month, *measures).where(*in_period).group_by(month).order_by(month)
    ).all()
    return SatisfactionReport(
        start=start,
        end=end,
        overall=_row(overall),
        by_engineer=[_row(r) for r in by_engineer],
        by_month=[_row(r) for r in by_month],
    )


def _row(row: Row[str, int, Decimal | None, int, int]) -> SatisfactionRow:
    label, count, csat, promoters, detractors = row
    return SatisfactionRow(
        label=label,
        count=count,
        csat=None if csat is None else Decimal(csat).quantize(Decimal("0.01")),
        promoters=promoters,
        detractors=detractors,
    )
