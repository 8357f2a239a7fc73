"""One statement for finance: approve (four eyes), issue (PDF + anchor) and mark paid, each of
the last two after a confirmation step, and the PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from core.auth.principal import Principal
from core.config import get_settings
from core.db import SessionDep
from core.web.deps import StaffPrincipal
from core.web.templating import is_htmx, render
from partner_portal.access import is_finance
from partner_portal.models import StatementStatus
from partner_portal.settlement import (
    approve_statement,
    get_statement,
    issue_statement,
    list_statements,
    mark_paid,
)
from partner_portal.statement_pdf import statement_number
from partner_portal.views.statements import pdf_response, statement_context

router = APIRouter()

TEMPLATE = "partner_portal/staff/statement.html"
Confirmed = Annotated[str, Form(max_length=8)]


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
        },
    )


@router.get("/staff/partners/statements/{statement_id}", name="staff_statement")
def statement_page(
    statement_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    return render(request, TEMPLATE, _context(session, principal, statement_id))


@router.get("/staff/partners/statements/{statement_id}/pdf", name="staff_statement_pdf")
def statement_pdf(statement_id: int, session: SessionDep, principal: StaffPrincipal) -> Response:
    return pdf_response(get_statement(session, actor=principal, statement_id=statement_id))


def _context(session: SessionDep, principal: Principal, statement_id: int) -> dict[str, Any]:
    context = statement_context(session, principal, statement_id)
    statement = context["s"]
    context["can_act"] = is_finance(principal)
    # four eyes: whoever ran the settlement is not offered the approval
    context["ran_it"] = statement.created_by == principal.user_id
    return context


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The question before a step that cannot be undone."""

    path: str
    question: str
    consequence: str
    button: str


def _confirmation(path: str, number: str) -> Confirmation:
    if path == "issue":
        return Confirmation(
            path,
            f"Issue statement {number}?",
            "Its PDF is rendered and its SHA-256 anchored on the ledger, and the distributor "
            "can download it. An issued statement cannot be changed or withdrawn.",
            "Yes, issue it",
        )
    return Confirmation(
        path,
        f"Mark statement {number} paid?",
        "Record this only once the payment has left (or a clawback has come in). "
        "A paid statement is final.",
        "Yes, mark it paid",
    )


def _confirm_step(
    request: Request, session: SessionDep, principal: Principal, statement_id: int, path: str
) -> Response:
    context = _context(session, principal, statement_id)
    context["confirm"] = _confirmation(path, context["number"])
    block = "statement" if is_htmx(request) else None
    return render(request, TEMPLATE, context, block=block)


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
    context = _context(session, principal, statement_id)
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


@router.get("/staff/partners/statements/{statement_id}/issue", name="staff_statement_issue_ask")
def ask_issue(
    statement_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    """The confirmation before issuing (a page without JavaScript, swapped in with htmx)."""
    return _confirm_step(request, session, principal, statement_id, "issue")


@router.post("/staff/partners/statements/{statement_id}/issue", name="staff_statement_issue")
def issue(
    statement_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    confirmed: Confirmed = "",
) -> Response:
    """Issue an approved statement: its PDF is rendered and its hash queued for anchoring."""
    if confirmed != "yes":
        return _confirm_step(request, session, principal, statement_id, "issue")
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


@router.get("/staff/partners/statements/{statement_id}/paid", name="staff_statement_paid_ask")
def ask_paid(
    statement_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    """The confirmation before recording the payment."""
    return _confirm_step(request, session, principal, statement_id, "paid")


@router.post("/staff/partners/statements/{statement_id}/paid", name="staff_statement_paid")
def paid(
    statement_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    confirmed: Confirmed = "",
) -> Response:
    """Record the payment (or the collection of a clawback)."""
    if confirmed != "yes":
        return _confirm_step(request, session, principal, statement_id, "paid")
    return _transition(
        request,
        session,
        principal,
        statement_id,
        lambda: mark_paid(session, actor=principal, statement_id=statement_id),
    )
