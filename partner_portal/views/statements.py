"""The distributor's rebate statements: list, one statement with its verify link, the PDF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.config import get_settings
from core.db import SessionDep
from core.errors import NotFound
from core.web.templating import render
from crm.models import Organization, ProductModel
from crm.views import DistributorPrincipal
from ledger.models import AnchorRequest
from ledger.qr import anchor_badge
from partner_portal.models import RebateProgram, RebateStatement, RebateStatementLine
from partner_portal.settlement import get_statement, list_statements
from partner_portal.statement_pdf import payout_label, statement_number

router = APIRouter()


def statement_context(session: Session, principal: Principal, statement_id: int) -> dict[str, Any]:
    """One statement the principal may see (404 otherwise), its lines and anchor badge."""
    statement = get_statement(session, actor=principal, statement_id=statement_id)
    lines = session.execute(
        select(RebateStatementLine, ProductModel.code, ProductModel.name)
        .join(ProductModel, ProductModel.id == RebateStatementLine.product_model_id)
        .where(RebateStatementLine.statement_id == statement.id)
        .order_by(ProductModel.code)
    ).all()
    badge = None
    if statement.anchor_request_id is not None:
        anchor = session.get_one(AnchorRequest, statement.anchor_request_id)
        badge = anchor_badge(
            anchor.id, anchor.status, base_url=get_settings().resolved_public_url()
        )
    return {
        "s": statement,
        "number": statement_number(statement),
        "program": session.get_one(RebateProgram, statement.program_id),
        "distributor": session.get_one(Organization, statement.distributor_org_id).name,
        "lines": lines,
        "badge": badge,
        "payout_label": payout_label,
    }


def pdf_response(statement: RebateStatement) -> Response:
    """The issued PDF exactly as anchored; 404 before it is issued."""
    if statement.pdf is None:
        raise NotFound("The statement has no PDF until it is issued.", entity="rebate_statement")
    return Response(
        statement.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{statement_number(statement)}.pdf"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/portal/statements", name="portal_statements")
def statements_page(
    request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    rows = list_statements(session, actor=principal)
    return render(
        request,
        "partner_portal/statements/list.html",
        {"rows": rows, "number": statement_number},
    )


@router.get("/portal/statements/{statement_id}", name="portal_statement")
def statement_page(
    statement_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    context = statement_context(session, principal, statement_id)
    return render(request, "partner_portal/statements/detail.html", context)


@router.get("/portal/statements/{statement_id}/pdf", name="portal_statement_pdf")
def statement_pdf(
    statement_id: int, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    return pdf_response(get_statement(session, actor=principal, statement_id=statement_id))
