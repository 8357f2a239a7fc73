"""Settlement runs and rebate statements: draft -> approved -> issued -> paid.

A run aggregates every distributor's pickups for the program period in SQL, applies the pure
rebate functions, and inserts one draft statement per distributor; the unique key
(distributor, program, period_start) with ON CONFLICT DO NOTHING makes a second run, even a
concurrent one, add nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, UPDATE, record_change, snapshot
from crm.company import snapshot_letterhead
from crm.models import Organization, ProductModel
from ledger.service import new_request_id, request_anchor
from partner_portal.access import require_finance
from partner_portal.models import (
    Calculation,
    Growth,
    Measure,
    PeriodKind,
    PickupLine,
    RebateProgram,
    RebateStatement,
    RebateStatementLine,
    RebateTier,
    StatementStatus,
)
from partner_portal.rebates import RebateTerms, TierBand, true_up
from partner_portal.statement_pdf import (
    issuer_org_id,
    render_statement,
    statement_facts,
    statement_products,
    statement_qr_url,
)

ANCHOR_KIND = "rebate_statement"
_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
_STATUS_ORDER = [status.value for status in StatementStatus]
_AUDITED = (
    "status",
    "measure",
    "ytd_measure",
    "payout",
    "currency",
    "approved_by",
    "issued_at",
    "paid_at",
    "sha256",
)


def period_end_exclusive(kind: PeriodKind, period_start: date) -> date:
    """The first day after the period that starts on `period_start`; refuses a mid-period start."""
    months = _MONTHS[kind]
    if period_start.day != 1 or (period_start.month - 1) % months:
        raise InvalidInput(
            f"{period_start.isoformat()} does not start a {kind.value}.", code="rebate_bad_period"
        )
    month_index = period_start.month - 1 + months
    return date(period_start.year + month_index // 12, month_index % 12 + 1, 1)


def program_terms(session: Session, program: RebateProgram) -> RebateTerms:
    """The program's settings and tiers as the pure rebate functions take them."""
    tiers = session.scalars(
        select(RebateTier)
        .where(RebateTier.program_id == program.id)
        .order_by(RebateTier.lower_bound)
    )
    return RebateTerms(
        tiers=tuple(TierBand(t.lower_bound, t.upper_bound, t.rate) for t in tiers),
        calculation=Calculation(program.calculation),
        currency=program.currency,
        growth=Growth(program.growth),
        cap_measure=program.cap_measure,
        cap_payout=program.cap_payout,
    )


def settle(
    session: Session, *, actor: Principal, program_id: int, period_start: date
) -> list[RebateStatement]:
    """Write the draft statements of one program period; returns those this run created."""
    require_finance(actor, to="run a settlement")
    # runs of one program take turns: a run must see what the one before it settled
    program = session.get(RebateProgram, program_id, with_for_update=True)
    if program is None:
        raise NotFound(f"No rebate program {program_id}.", entity="rebate_program")
    kind = PeriodKind(program.period_kind)
    end = period_end_exclusive(kind, period_start)
    year_start = date(period_start.year, 1, 1)
    _refuse_after_a_later_period(session, program.id, kind, period_start)
    prior = (year_start.replace(year=year_start.year - 1), end.replace(year=end.year - 1))
    in_period = _between(period_start, end)
    in_ytd = _between(year_start, end)
    in_prior = _between(*prior)
    measure = PickupLine.net_value if program.measure == Measure.NET_VALUE else PickupLine.quantity
    settled = (
        select(
            RebateStatement.distributor_org_id,
            func.sum(RebateStatement.payout).label("amount"),
        )
        .where(
            RebateStatement.program_id == program.id,
            RebateStatement.period_start >= year_start,
            RebateStatement.period_start < period_start,
        )
        .group_by(RebateStatement.distributor_org_id)
        .subquery()
    )
    totals = _program_lines(
        select(
            PickupLine.distributor_org_id,
            _sum(measure, in_period),
            _sum(measure, in_ytd),
            _sum(measure, in_prior),
            _sum(PickupLine.net_value, in_ytd),
            _sum(PickupLine.net_value, in_prior),
            func.coalesce(func.max(settled.c.amount), 0),
        )
        .outerjoin(settled, settled.c.distributor_org_id == PickupLine.distributor_org_id)
        .where(or_(in_ytd, in_prior))
        .group_by(PickupLine.distributor_org_id)
        # a distributor without pickups this year has nothing to settle
        .having(func.count().filter(in_ytd) > 0),
        program,
    )
    terms = program_terms(session, program)
    by_quantity = program.measure == Measure.QUANTITY
    rows = []
    for distributor_id, period, ytd, prior_ytd, ytd_value, prior_value, paid in session.execute(
        totals
    ):
        result = true_up(
            terms,
            ytd_measure=ytd,
            prior_ytd_measure=prior_ytd,
            ytd_value=ytd_value if by_quantity else None,
            prior_ytd_value=prior_value,
            previously_settled=paid,
        )
        rows.append(
            {
                "distributor_org_id": distributor_id,
                "program_id": program.id,
                "period_start": period_start,
                "period_end": date.fromordinal(end.toordinal() - 1),
                "status": StatementStatus.DRAFT.value,
                "measure": period,
                "ytd_measure": ytd,
                "prior_ytd_measure": prior_ytd,
                "ytd_rebate": result.ytd_rebate,
                "previously_settled": result.previously_settled,
                "payout": result.payout,
                "currency": result.currency,
                "created_by": None if actor == SYSTEM else actor.user_id,
            }
        )
    if not rows:
        return []
    created = dict(
        session.execute(
            insert(RebateStatement)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=["distributor_org_id", "program_id", "period_start"]
            )
            .returning(RebateStatement.distributor_org_id, RebateStatement.id)
        ).all()
    )
    if not created:
        return []
    _write_lines(session, program, created, in_period)
    statements = list(
        session.scalars(
            select(RebateStatement)
            .where(RebateStatement.id.in_(created.values()))
            .order_by(RebateStatement.distributor_org_id)
        )
    )
    for statement in statements:
        _audit(session, actor=actor, statement=statement, action=CREATE, before=None)
    return statements


def _refuse_after_a_later_period(
    session: Session, program_id: int, kind: PeriodKind, period_start: date
) -> None:
    """A later period's true-up already paid this one; settling it now would pay twice."""
    later = session.scalar(
        select(func.min(RebateStatement.period_start)).where(
            RebateStatement.program_id == program_id,
            RebateStatement.period_start > period_start,
            RebateStatement.period_start < date(period_start.year + 1, 1, 1),
        )
    )
    if later is None:
        return
    own = dict(
        session.execute(
            select(RebateStatement.status, func.count())
            .where(
                RebateStatement.program_id == program_id,
                RebateStatement.period_start == period_start,
            )
            .group_by(RebateStatement.status)
        ).all()
    )
    if own:
        total = sum(own.values())
        counts = ", ".join(f"{own[status]} {status}" for status in _STATUS_ORDER if status in own)
        raise Conflict(
            f"The period {period_label(kind, period_start)} is settled already "
            f"({total} statement{'' if total == 1 else 's'}, {counts}).",
            code="rebate_period_settled",
        )
    raise Conflict(
        f"The later period {period_label(kind, later)} is settled already, and its "
        "year-to-date true-up includes this period: nothing is left to settle here.",
        code="rebate_later_period_settled",
    )


def period_label(kind: PeriodKind, period_start: date) -> str:
    """2026-01-01 – 2026-03-31: a period by its first and last day."""
    last = date.fromordinal(period_end_exclusive(kind, period_start).toordinal() - 1)
    return f"{period_start.isoformat()} – {last.isoformat()}"


def _between(start: date, end: date) -> ColumnElement[bool]:
    return and_(PickupLine.picked_on >= start, PickupLine.picked_on < end)


def _sum(column: Any, condition: ColumnElement[bool]) -> ColumnElement[Decimal]:
    return func.coalesce(func.sum(column).filter(condition), 0)


def _program_lines(query: Any, program: RebateProgram) -> Any:
    """Restrict a pickup query to the lines the program counts: its currency and family."""
    query = query.where(PickupLine.currency == program.currency)
    if program.product_family is not None:
        query = query.join(ProductModel, ProductModel.id == PickupLine.product_model_id).where(
            ProductModel.family == program.product_family
        )
    return query


def _write_lines(
    session: Session,
    program: RebateProgram,
    statement_ids: dict[int, int],
    in_period: ColumnElement[bool],
) -> None:
    lines = _program_lines(
        select(
            PickupLine.distributor_org_id,
            PickupLine.product_model_id,
            func.sum(PickupLine.quantity),
            func.sum(PickupLine.net_value),
            func.count(),
        )
        .where(in_period, PickupLine.distributor_org_id.in_(statement_ids))
        .group_by(PickupLine.distributor_org_id, PickupLine.product_model_id),
        program,
    )
    values = [
        {
            "statement_id": statement_ids[distributor_id],
            "product_model_id": product_id,
            "quantity": quantity,
            "net_value": net_value,
            "line_count": count,
        }
        for distributor_id, product_id, quantity, net_value, count in session.execute(lines)
    ]
    if values:
        session.execute(insert(RebateStatementLine), values)


def get_statement(session: Session, *, actor: Principal, statement_id: int) -> RebateStatement:
    """A statement its distributor or staff may see; NotFound for anyone else."""
    statement = session.get(RebateStatement, statement_id)
    if statement is None or not (actor.is_staff or actor.org_id == statement.distributor_org_id):
        raise NotFound(f"No rebate statement {statement_id}.", entity="rebate_statement")
    return statement


def statement_lines(session: Session, *, statement_id: int) -> list[RebateStatementLine]:
    """The lines of a statement, by product model."""
    return list(
        session.scalars(
            select(RebateStatementLine)
            .where(RebateStatementLine.statement_id == statement_id)
            .order_by(RebateStatementLine.product_model_id)
        )
    )


@dataclass(frozen=True, slots=True)
class StatementRow:
    """A statement in a list, with the names a reader needs."""

    statement: RebateStatement
    program: str
    distributor: str


def list_statements(
    session: Session,
    *,
    actor: Principal,
    distributor_org_id: int | None = None,
    program_id: int | None = None,
    period_start: date | None = None,
    status: StatementStatus | None = None,
    limit: int = 200,
) -> list[StatementRow]:
    """Statements newest period first; a partner sees only their own whatever they ask."""
    if not actor.is_staff:
        distributor_org_id = actor.org_id
    query = (
        select(RebateStatement, RebateProgram.name, Organization.name)
        .join(RebateProgram, RebateProgram.id == RebateStatement.program_id)
        .join(Organization, Organization.id == RebateStatement.distributor_org_id)
        .order_by(RebateStatement.period_start.desc(), RebateProgram.name, Organization.name)
        .limit(limit)
    )
    if distributor_org_id is not None:
        query = query.where(RebateStatement.distributor_org_id == distributor_org_id)
    if program_id is not None:
        query = query.where(RebateStatement.program_id == program_id)
    if period_start is not None:
        query = query.where(RebateStatement.period_start == period_start)
    if status is not None:
        query = query.where(RebateStatement.status == status)
    return [StatementRow(*row) for row in session.execute(query)]


def approve_statement(session: Session, *, actor: Principal, statement_id: int) -> RebateStatement:
    """Finance approves a draft; never the person who ran the settlement (four eyes)."""
    require_finance(actor, to="approve a rebate statement")
    statement = _locked(session, statement_id, expect=StatementStatus.DRAFT)
    if actor == SYSTEM or actor.user_id == statement.created_by:
        raise PermissionDenied(
            "You ran this settlement, so another administrator approves it: a statement is "
            "approved by someone other than who settled it.",
            code="four_eyes",
            hint="Ask another administrator to approve it.",
        )
    before = snapshot(statement, _AUDITED)
    statement.status = StatementStatus.APPROVED
    statement.approved_by = actor.user_id
    statement.approved_at = utcnow()
    _audit(session, actor=actor, statement=statement, action=UPDATE, before=before)
    return statement


def issue_statement(
    session: Session, *, actor: Principal, statement_id: int, public_url: str
) -> RebateStatement:
    """Issue an approved statement: render its PDF and queue the PDF's SHA-256 for anchoring."""
    require_finance(actor, to="issue a rebate statement")
    statement = _locked(session, statement_id, expect=StatementStatus.APPROVED)
    before = snapshot(statement, _AUDITED)
    issued_at = utcnow()
    # the QR code inside the PDF names its own anchor request, so the id comes first
    verify_id = new_request_id()
    statement.issuer_profile_id = snapshot_letterhead(
        session, issuer_org_id(session, statement_products(session, statement))
    )
    statement.recipient_profile_id = snapshot_letterhead(session, statement.distributor_org_id)
    pdf = render_statement(
        statement_facts(session, statement),
        qr_url=statement_qr_url(public_url, verify_id),
        issued_at=issued_at,
    )
    digest = hashlib.sha256(pdf).hexdigest()
    anchor = request_anchor(
        session,
        sha256=digest,
        kind=ANCHOR_KIND,
        reference=f"rebate_statement:{statement.id}",
        request_id=verify_id,
    )
    statement.status = StatementStatus.ISSUED
    statement.issued_at = issued_at
    statement.pdf = pdf
    statement.sha256 = digest
    statement.anchor_request_id = anchor.id
    _audit(session, actor=actor, statement=statement, action=UPDATE, before=before)
    return statement


def mark_paid(session: Session, *, actor: Principal, statement_id: int) -> RebateStatement:
    """Record that an issued statement was paid (or, when negative, collected)."""
    require_finance(actor, to="mark a rebate statement paid")
    statement = _locked(session, statement_id, expect=StatementStatus.ISSUED)
    before = snapshot(statement, _AUDITED)
    statement.status = StatementStatus.PAID
    statement.paid_at = utcnow()
    _audit(session, actor=actor, statement=statement, action=UPDATE, before=before)
    return statement


def _locked(session: Session, statement_id: int, *, expect: StatementStatus) -> RebateStatement:
    statement = session.get(RebateStatement, statement_id, with_for_update=True)
    if statement is None:
        raise NotFound(f"No rebate statement {statement_id}.", entity="rebate_statement")
    if statement.status != expect:
        raise IllegalTransition(
            f"The statement is {statement.status}, not {expect.value}.",
            code="rebate_statement_status",
        )
    return statement


def _audit(
    session: Session,
    *,
    actor: Principal,
    statement: RebateStatement,
    action: str,
    before: dict[str, Any] | None,
) -> None:
    session.flush()
    record_change(
        session,
        actor=actor,
        action=action,
        entity=RebateStatement.__tablename__,
        entity_id=statement.id,
        before=before,
        after=snapshot(statement, _AUDITED),
    )
