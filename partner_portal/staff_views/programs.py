"""Rebate programs: list, create with bands, one program's periods and settlement runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import SessionDep
from core.errors import InvalidInput
from core.web.deps import StaffPrincipal
from core.web.templating import is_htmx, render
from partner_portal.access import is_finance
from partner_portal.models import Calculation, Growth, Measure, PeriodKind, StatementStatus
from partner_portal.programs import (
    TierInput,
    create_program,
    get_program,
    list_programs,
    program_periods,
    program_tiers,
)
from partner_portal.settlement import list_statements, period_label, settle
from partner_portal.statement_pdf import statement_number

router = APIRouter()

LIST_TEMPLATE = "partner_portal/staff/programs.html"
DETAIL_TEMPLATE = "partner_portal/staff/program.html"
BAND_ROWS = 5
Bounds = Annotated[list[str], Form()]


def _choices() -> dict[str, Any]:
    return {
        "period_kinds": list(PeriodKind),
        "measures": list(Measure),
        "calculations": list(Calculation),
        "growths": list(Growth),
        "band_rows": BAND_ROWS,
    }


@router.get("/staff/partners/programs", name="staff_programs")
def programs_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    return render(
        request, LIST_TEMPLATE, {"programs": list_programs(session), "form": {}, **_choices()}
    )


@router.post("/staff/partners/programs", name="staff_program_create")
def create(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    name: Annotated[str, Form(max_length=200)],
    period_kind: Annotated[PeriodKind, Form()],
    measure: Annotated[Measure, Form()],
    calculation: Annotated[Calculation, Form()],
    currency: Annotated[str, Form(pattern=r"^[A-Z]{3}$")],
    growth: Annotated[Growth, Form()] = Growth.NONE,
    product_family: Annotated[str, Form(max_length=64)] = "",
    lower: Bounds = [],  # noqa: B006 - FastAPI copies form defaults
    upper: Bounds = [],  # noqa: B006
    rate: Bounds = [],  # noqa: B006
) -> Response:
    """Create a program from the form; its bands are the filled rows."""
    program = create_program(
        session,
        actor=principal,
        name=name,
        period_kind=period_kind,
        measure=measure,
        calculation=calculation,
        growth=growth,
        currency=currency,
        product_family=product_family.strip() or None,
        tiers=_bands(lower, upper, rate),
    )
    session.commit()
    return RedirectResponse(f"/staff/partners/programs/{program.id}", status_code=303)


def _bands(lower: list[str], upper: list[str], rate: list[str]) -> list[TierInput]:
    bands = []
    for number, (low, high, pct) in enumerate(zip(lower, upper, rate, strict=False), start=1):
        if not (low.strip() or high.strip() or pct.strip()):
            continue
        try:
            bands.append(
                TierInput(
                    Decimal(low.strip() or "0"),
                    Decimal(high.strip()) if high.strip() else None,
                    Decimal(pct.strip()),
                )
            )
        except InvalidOperation as exc:
            raise InvalidInput(
                f"Band {number}: bounds and rate are numbers (e.g. 10000 and 2.5).",
                code="program_band",
            ) from exc
    return bands


def program_context(
    session: Session, principal: Principal, program_id: int, *, ran: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The program, its bands, its periods with their statements, and the last run's result."""
    program = get_program(session, program_id)
    periods = program_periods(session, program, today=date.today())
    return {
        "program": program,
        "tiers": program_tiers(session, program.id),
        "periods": periods,
        "statements": {
            p.start: list_statements(
                session, actor=principal, program_id=program.id, period_start=p.start
            )
            for p in periods
            if p.statements
        },
        "ran": ran,
        "can_settle": is_finance(principal),
        "status_order": [status.value for status in StatementStatus],
        "period_label": lambda start: period_label(PeriodKind(program.period_kind), start),
        "number": statement_number,
    }


@router.get("/staff/partners/programs/{program_id}", name="staff_program")
def program_page(
    program_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    return render(request, DETAIL_TEMPLATE, program_context(session, principal, program_id))


@router.post("/staff/partners/programs/{program_id}/settle", name="staff_program_settle")
def run_settlement(
    program_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    period_start: Annotated[date, Form()],
) -> Response:
    """Run the settlement of one period; a second run of it creates nothing."""
    created = settle(session, actor=principal, program_id=program_id, period_start=period_start)
    session.commit()
    if not is_htmx(request):
        return RedirectResponse(f"/staff/partners/programs/{program_id}", status_code=303)
    ran = {"period_start": period_start, "created": len(created)}
    context = program_context(session, principal, program_id, ran=ran)
    return render(request, DETAIL_TEMPLATE, context, block="periods")
