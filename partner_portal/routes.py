"""JSON API of the partner portal under /api/partner: ERP pickups, statements, dashboard.

Authentication is the session cookie like every /api route; unsafe methods carry the CSRF
token in the X-CSRF-Token header (core/web/csrf.py).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from core.db import SessionDep
from core.errors import Conflict, InvalidInput, NotFound
from core.web.body_limit import MiB
from core.web.deps import CurrentPrincipal
from ledger.qr import verify_path
from partner_portal.dashboard import ProgramStanding, TierStanding, distributor_dashboard
from partner_portal.models import RebateStatement
from partner_portal.pickups import RowError, add_pickups
from partner_portal.schemas import PickupIn
from partner_portal.settlement import get_statement, list_statements, statement_lines

router = APIRouter(prefix="/api/partner", tags=["partner portal"])


class PickupBatchIn(BaseModel):
    """Pickup lines of one distributor, as an ERP posts them."""

    model_config = ConfigDict(extra="forbid")

    distributor_org_id: int
    lines: list[PickupIn] = Field(min_length=1)


class PickupBatchRead(BaseModel):
    imported: int


class StatementLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_model_id: int
    quantity: Decimal
    net_value: Decimal
    line_count: int


class StatementRead(BaseModel):
    """A rebate statement; `payout` below zero is a clawback."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    distributor_org_id: int
    program_id: int
    period_start: date
    period_end: date
    status: str
    currency: str
    measure: Decimal
    ytd_measure: Decimal
    prior_ytd_measure: Decimal
    ytd_rebate: Decimal
    previously_settled: Decimal
    payout: Decimal
    issued_at: datetime | None
    paid_at: datetime | None
    sha256: str | None
    verify_path: str | None = None


class StatementDetailRead(StatementRead):
    lines: list[StatementLineRead]


class DashboardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    distributor_org_id: int
    as_of: date
    currency: str
    ytd_net_value: Decimal
    ytd_quantity: Decimal
    # the dashboard's own dataclasses: the API shows them as they are
    programs: list[ProgramStanding]
    tier: TierStanding
    this_year: list[Decimal]
    last_year: list[Decimal]


@router.post(
    "/pickups",
    status_code=status.HTTP_201_CREATED,
    response_model=PickupBatchRead,
    max_body_size=32 * MiB,  # up to MAX_LINES lines of JSON
)
def post_pickups(
    body: PickupBatchIn, session: SessionDep, principal: CurrentPrincipal
) -> PickupBatchRead:
    """Record an ERP's pickup lines (staff, or the distributor itself); all or nothing."""
    if not principal.is_staff and body.distributor_org_id != principal.org_id:
        # another organisation's existence is not confirmed
        raise NotFound(f"No distributor {body.distributor_org_id}.", entity="distributor")
    result = add_pickups(
        session, actor=principal, distributor_org_id=body.distributor_org_id, lines=body.lines
    )
    if result.errors:
        errors = [{"line": e.row, "field": e.column, "message": e.message} for e in result.errors]
        if all(_is_duplicate(e) for e in result.errors):
            raise Conflict(
                "These document lines are recorded already; nothing was stored.",
                code="pickups_duplicate",
                errors=errors,
            )
        raise InvalidInput(
            "Some lines are wrong; nothing was stored.", code="pickups_invalid", errors=errors
        )
    return PickupBatchRead(imported=result.imported)


@router.get("/statements", response_model=list[StatementRead])
def statements(session: SessionDep, principal: CurrentPrincipal) -> list[StatementRead]:
    """Your organisation's rebate statements (staff: all), newest period first."""
    return [_read(row.statement) for row in list_statements(session, actor=principal)]


@router.get("/statements/{statement_id}", response_model=StatementDetailRead)
def statement(
    statement_id: int, session: SessionDep, principal: CurrentPrincipal
) -> StatementDetailRead:
    """One statement with its lines; another distributor's is 404."""
    found = get_statement(session, actor=principal, statement_id=statement_id)
    lines = statement_lines(session, statement_id=found.id)
    return StatementDetailRead(
        **_read(found).model_dump(),
        lines=[StatementLineRead.model_validate(line) for line in lines],
    )


@router.get("/dashboard", response_model=DashboardRead)
def dashboard(
    session: SessionDep, principal: CurrentPrincipal, distributor_org_id: int | None = None
) -> DashboardRead:
    """Your dashboard figures this year (staff name the distributor)."""
    org_id = principal.org_id
    if principal.is_staff and distributor_org_id is not None:
        org_id = distributor_org_id
    figures = distributor_dashboard(
        session, actor=principal, distributor_org_id=org_id, today=date.today()
    )
    return DashboardRead.model_validate(figures)


def _read(found: RebateStatement) -> StatementRead:
    read = StatementRead.model_validate(found)
    if found.anchor_request_id is not None:
        read.verify_path = verify_path(found.anchor_request_id)
    return read


def _is_duplicate(error: RowError) -> bool:
    return error.duplicate
