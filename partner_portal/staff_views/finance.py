"""Finance's start page: the statements waiting for their approval, issue or payment."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import SessionDep
from core.web.deps import StaffPrincipal
from core.web.templating import render
from partner_portal.models import StatementStatus
from partner_portal.settlement import StatementRow, list_statements
from partner_portal.statement_pdf import statement_number

router = APIRouter()

FINANCE_START = "/staff/partners/finance"


@dataclass(frozen=True, slots=True)
class WaitingList:
    """One kind of work waiting for finance, oldest period first."""

    key: str
    heading: str
    empty: str
    rows: list[StatementRow]


def waiting_for(session: Session, principal: Principal) -> tuple[list[WaitingList], int]:
    """Drafts to approve (not those the principal ran: four eyes), statements to issue and to
    mark paid; and how many drafts wait for another approver."""
    drafts = list_statements(session, actor=principal, status=StatementStatus.DRAFT, limit=500)
    mine = [row for row in drafts if row.statement.created_by == principal.user_id]
    lists = [
        WaitingList(
            "approve",
            "To approve",
            "Nothing is waiting for approval.",
            [row for row in drafts if row not in mine],
        ),
        WaitingList(
            "issue",
            "To issue",
            "Nothing is waiting to be issued.",
            list_statements(session, actor=principal, status=StatementStatus.APPROVED, limit=500),
        ),
        WaitingList(
            "paid",
            "To mark paid",
            "Nothing is waiting to be marked paid.",
            list_statements(session, actor=principal, status=StatementStatus.ISSUED, limit=500),
        ),
    ]
    for waiting in lists:
        waiting.rows.sort(key=lambda row: (row.statement.period_start, row.distributor))
    return lists, len(mine)


@router.get(FINANCE_START, name="staff_finance")
def finance_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    lists, theirs = waiting_for(session, principal)
    return render(
        request,
        "partner_portal/staff/finance.html",
        {
            "lists": lists,
            "theirs": theirs,
            "number": statement_number,
            "show_distributor": True,
            "link_base": "/staff/partners/statements/",
        },
    )
