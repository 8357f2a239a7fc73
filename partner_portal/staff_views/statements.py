"""One statement for finance: approve (four eyes), issue (PDF + anchor), mark paid, the PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from core.auth.principal import Principal
from core.config import get_settings
from core.db import SessionDep
from core.web.deps import StaffPrincipal
from core.web.templating import is_htmx, render
from partner_portal.models import StatementStatus
from partner_portal.settlement import (
    approve_statement,
    get_statement,
    issue_statement,
    list_statements,
    mark_paid,
)
from partner_portal.statement_pdf import statement_number
from partner_portal.views.format import FORMATS
from partner_portal.views.statements import pdf_response, statement_context

router = APIRouter()

TEMPLATE = "partner_portal/staff/statement.html"


@router.get("/staff/partners/statements", name="staff_statements")
def statements_page(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    status: Annotated[StatementStatus | None, Query()] = None,
) -> Response:
    """Statements of every distributor, optionally of one status (e.g. drafts to approve)."""
    rows = list_statements(session, actor=principal, status=status)
    return render(
        request,
        "partner_portal/staff/statements.html",
        {
            "rows": rows,
            "status": status,
            "statuses": list(StatementStatus),
            "number": statement_number,
            "show_distributor": True,
            "link_base": "/staff/partners/statements/",
            **FORMATS,
        },
    )


@router.get("/staff/partners/statements/{statement_id}", name="staff_statement")
def statement_page(
    statement_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    return render(request, TEMPLATE, statement_context(session, principal, statement_id))


@router.get("/staff/partners/statements/{statement_id}/pdf", name="staff_statement_pdf")
def statement_pdf(statement_id: int, session: SessionDep, principal: StaffPrincipal) -> Response:
    return pdf_response(get_statement(session, actor=principal, statement_id=statement_id))


def _transition(
    request: Request,
    session: SessionDep,
    principal: Principal,
    statement_id: int,
    change: Callable[[], object],
) -> Response:
    change()
    session.commit()
    if not is_htmx(request):
        return RedirectResponse(f"/staff/partners/statements/{statement_id}", status_code=303)
    context = statement_context(session, principal, statement_id)
    return render(request, TEMPLATE, context, block="statement")


@router.post("/staff/partners/statements/{statement_id}/approve", name="staff_statement_approve")
def approve(
    statement_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    """Approve a draft; refused (four eyes) to whoever ran the settlement."""
    return _transition(
        request,
        session,
        principal,
        statement_id,
        lambda: approve_statement(session, actor=principal, statement_id=statement_id),
    )


@router.post("/staff/partners/statements/{statement_id}/issue", name="staff_statement_issue")
def issue(
    statement_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    """Issue an approved statement: its PDF is rendered and its hash queued for anchoring."""
    public_url = get_settings().resolved_public_url()
    return _transition(
        request,
        session,
        principal,
        statement_id,
        lambda: issue_statement(
            session, actor=principal, statement_id=statement_id, public_url=public_url
        ),
    )


@router.post("/staff/partners/statements/{statement_id}/paid", name="staff_statement_paid")
def paid(
    statement_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    """Record the payment (or the collection of a clawback)."""
    return _transition(
        request,
        session,
        principal,
        statement_id,
        lambda: mark_paid(session, actor=principal, statement_id=statement_id),
    )
