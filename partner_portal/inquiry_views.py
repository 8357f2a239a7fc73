"""Pages of inquiries: the distributor's list, form and detail; what the staff's approval
pages (partner_portal.approval_views) share with them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import SessionDep
from core.errors import IllegalTransition, InvalidInput
from core.web.deps import require_role
from core.web.templating import is_htmx, render
from crm.models import Organization
from partner_portal.approvals import inquiry_number
from partner_portal.inquiries import (
    LineRequest,
    approvals_of,
    get_inquiry,
    history,
    inquiries_of,
    line_discount_pct,
    line_net_price,
    lines_of,
    quotable_products,
    quote_pdf,
    resubmit,
    submit,
    withdraw,
)
from partner_portal.library_web import ListForm, TextForm
from partner_portal.models import Inquiry, InquiryKind, InquiryStatus

router = APIRouter(include_in_schema=False)

DistributorPrincipal = Annotated[Principal, Depends(require_role(Role.DISTRIBUTOR))]
SubjectForm = Annotated[str, Form(max_length=200)]
_T = "partner_portal/inquiries/"
EVENT_LABELS = {
    "submitted": "Submitted",
    "resubmitted": "Revised and resubmitted",
    "withdrawn": "Withdrawn",
    "step_approved": "Approved",
    "step_rejected": "Rejected",
    "step_changes_requested": "Changes requested",
    "step_delegated": "Delegated",
    "step_escalated": "Escalated",
    "approved_without_steps": "Approved (no approval step applied)",
}
# what only staff read in the history: the distributor sees decisions, not who handed what on
STAFF_EVENTS = frozenset({"step_delegated", "step_escalated"})


def duration(start: datetime, end: datetime) -> str:
    """How long from start to end, as a person says it: 3 d 4 h, 2 h 5 min, 12 min."""
    minutes = max(int((end - start).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def inquiry_context(**values: Any) -> dict[str, Any]:
    """The formats and labels every inquiry page uses, with the page's own values."""
    return {
        "number": inquiry_number,
        "net_price": line_net_price,
        "discount": line_discount_pct,
        "event_labels": EVENT_LABELS,
        "staff_events": STAFF_EVENTS,
        "label": lambda value: str(value).replace("_", " "),
        "duration": duration,
        **values,
    }


def after_form(request: Request, url: str) -> Response:
    """After a successful form: htmx follows HX-Redirect, a plain form the 303."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def detail_context(session: Session, inquiry: Inquiry) -> dict[str, Any]:
    """What an inquiry's page shows: its lines, approval steps and history."""
    return inquiry_context(
        inquiry=inquiry,
        distributor=session.get(Organization, inquiry.distributor_org_id),
        lines=lines_of(session, inquiry.id),
        steps=approvals_of(session, inquiry.id),
        events=history(session, inquiry.id),
    )


def parse_decimal(value: str, what: str) -> Decimal | None:
    """A typed number (comma or point, an optional %); None for nothing."""
    text = value.strip().replace(",", ".").removesuffix("%").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidInput(f"{what} must be a number, not “{value}”.", field="lines") from exc
    if not number.is_finite():
        raise InvalidInput(f"{what} must be a number, not “{value}”.", field="lines")
    return number


def parse_lines(
    product_model_id: ListForm = None,
    quantity: ListForm = None,
    requested_price: ListForm = None,
    requested_discount_pct: ListForm = None,
) -> list[LineRequest]:
    """The form's parallel line fields as line requests; rows without a product are skipped."""
    lines = []
    for index in range(len(product_model_id or [])):
        product = _at(product_model_id, index)
        if not product:
            continue
        if not product.isdigit():
            raise InvalidInput("Choose a product from the list.", field="lines")
        lines.append(
            LineRequest(
                product_model_id=int(product),
                quantity=parse_decimal(_at(quantity, index), "The quantity") or Decimal(0),
                requested_price=parse_decimal(_at(requested_price, index), "The price"),
                requested_discount_pct=parse_decimal(
                    _at(requested_discount_pct, index), "The discount"
                ),
            )
        )
    return lines


LinesForm = Annotated[list[LineRequest], Depends(parse_lines)]


def _at(values: list[str] | None, index: int) -> str:
    return values[index] if values and index < len(values) else ""


# --- the distributor's pages --------------------------------------------------------------


@router.get("/portal/inquiries", name="portal_inquiries")
def inquiry_list(
    request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    inquiries = inquiries_of(session, actor=principal)
    return render(request, _T + "list.html", inquiry_context(inquiries=inquiries))


@router.get("/portal/inquiries/new", name="portal_inquiry_new")
def new_inquiry(
    request: Request, session: SessionDep, principal: DistributorPrincipal, kind: str = "inquiry"
) -> Response:
    chosen = kind if kind in set(InquiryKind) else InquiryKind.INQUIRY.value
    context = inquiry_context(
        products=quotable_products(session),
        inquiry=None,
        kind=chosen,
        subject="",
        message="",
        lines=[None],
        action="/portal/inquiries",
    )
    return render(request, _T + "form.html", context)


@router.get("/portal/inquiries/line", name="portal_inquiry_line")
def blank_line(request: Request, session: SessionDep, principal: DistributorPrincipal) -> Response:
    """One more empty product line for the form (htmx appends it)."""
    context = inquiry_context(products=quotable_products(session), line=None)
    return render(request, _T + "_line.html", context)


@router.get("/portal/inquiries/line/removed", name="portal_inquiry_line_removed")
def removed_line(principal: DistributorPrincipal) -> Response:
    """Nothing: the remove button swaps its line away with this empty answer."""
    return Response(status_code=200, media_type="text/html")


@router.post("/portal/inquiries", name="portal_inquiry_submit")
def submit_inquiry(
    request: Request,
    session: SessionDep,
    principal: DistributorPrincipal,
    kind: Annotated[str, Form(max_length=16)],
    subject: SubjectForm,
    lines: LinesForm,
    message: TextForm = "",
) -> Response:
    if kind not in set(InquiryKind):
        raise InvalidInput("Choose an inquiry or a quote request.", field="kind")
    inquiry = submit(
        session,
        actor=principal,
        kind=InquiryKind(kind),
        subject=subject,
        message=message,
        lines=lines,
    )
    return after_form(request, f"/portal/inquiries/{inquiry.id}")


@router.get("/portal/inquiries/{inquiry_id}", name="portal_inquiry")
def inquiry_page(
    inquiry_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    inquiry = get_inquiry(session, actor=principal, inquiry_id=inquiry_id)
    return render(request, _T + "detail.html", detail_context(session, inquiry))


@router.get("/portal/inquiries/{inquiry_id}/edit", name="portal_inquiry_edit")
def edit_inquiry(
    inquiry_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    inquiry = get_inquiry(session, actor=principal, inquiry_id=inquiry_id)
    if inquiry.status != InquiryStatus.CHANGES_REQUESTED:
        raise IllegalTransition(
            "Only an inquiry with changes requested can be edited.", code="inquiry_not_editable"
        )
    context = inquiry_context(
        products=quotable_products(session),
        inquiry=inquiry,
        kind=inquiry.kind,
        subject=inquiry.subject,
        message=inquiry.message,
        lines=[line for line, _ in lines_of(session, inquiry.id)],
        action=f"/portal/inquiries/{inquiry.id}/resubmit",
        steps=approvals_of(session, inquiry.id),
    )
    return render(request, _T + "form.html", context)


@router.post("/portal/inquiries/{inquiry_id}/resubmit", name="portal_inquiry_resubmit")
def resubmit_inquiry(
    inquiry_id: int,
    request: Request,
    session: SessionDep,
    principal: DistributorPrincipal,
    subject: SubjectForm,
    lines: LinesForm,
    message: TextForm = "",
) -> Response:
    resubmit(
        session,
        actor=principal,
        inquiry_id=inquiry_id,
        subject=subject,
        message=message,
        lines=lines,
    )
    return after_form(request, f"/portal/inquiries/{inquiry_id}")


@router.post("/portal/inquiries/{inquiry_id}/withdraw", name="portal_inquiry_withdraw")
def withdraw_inquiry(
    inquiry_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    withdraw(session, actor=principal, inquiry_id=inquiry_id)
    return after_form(request, f"/portal/inquiries/{inquiry_id}")


@router.get("/portal/inquiries/{inquiry_id}/quote.pdf", name="portal_inquiry_quote")
def portal_quote(inquiry_id: int, session: SessionDep, principal: DistributorPrincipal) -> Response:
    return pdf_response(*quote_pdf(session, actor=principal, inquiry_id=inquiry_id))


def pdf_response(filename: str, content: bytes) -> Response:
    """A PDF download."""
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
