"""Pages of inquiries: the distributor's list, form and detail; staff's approval queue,
decisions and the workflow."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import SessionDep
from core.errors import IllegalTransition, InvalidInput
from core.web.deps import AdminPrincipal, StaffPrincipal, require_role
from core.web.templating import is_htmx, render
from crm.models import Capability, Organization
from partner_portal import approvals
from partner_portal.approvals import Decision
from partner_portal.inquiries import (
    LineRequest,
    approvals_of,
    decide_inquiry,
    get_inquiry,
    history,
    inquiries_of,
    inquiry_number,
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
from partner_portal.models import ConditionField, Inquiry, InquiryKind, InquiryStatus
from partner_portal.views.format import FORMATS

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
    "approved_without_steps": "Approved (no approval step applied)",
}


def _context(**values: Any) -> dict[str, Any]:
    return {
        **FORMATS,
        "number": inquiry_number,
        "net_price": line_net_price,
        "discount": line_discount_pct,
        "event_labels": EVENT_LABELS,
        "label": lambda value: str(value).replace("_", " "),
        **values,
    }


def _go(request: Request, url: str) -> Response:
    """After a successful form: htmx follows HX-Redirect, a plain form the 303."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _detail(session: Session, inquiry: Inquiry) -> dict[str, Any]:
    return _context(
        inquiry=inquiry,
        distributor=session.get(Organization, inquiry.distributor_org_id),
        lines=lines_of(session, inquiry.id),
        steps=approvals_of(session, inquiry.id),
        events=history(session, inquiry.id),
    )


def _decimal(value: str, what: str) -> Decimal | None:
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
                quantity=_decimal(_at(quantity, index), "The quantity") or Decimal(0),
                requested_price=_decimal(_at(requested_price, index), "The price"),
                requested_discount_pct=_decimal(_at(requested_discount_pct, index), "The discount"),
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
    return render(request, _T + "list.html", _context(inquiries=inquiries))


@router.get("/portal/inquiries/new", name="portal_inquiry_new")
def new_inquiry(
    request: Request, session: SessionDep, principal: DistributorPrincipal, kind: str = "inquiry"
) -> Response:
    chosen = kind if kind in set(InquiryKind) else InquiryKind.INQUIRY.value
    context = _context(
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
    context = _context(products=quotable_products(session), line=None)
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
    return _go(request, f"/portal/inquiries/{inquiry.id}")


@router.get("/portal/inquiries/{inquiry_id}", name="portal_inquiry")
def inquiry_page(
    inquiry_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    inquiry = get_inquiry(session, actor=principal, inquiry_id=inquiry_id)
    return render(request, _T + "detail.html", _detail(session, inquiry))


@router.get("/portal/inquiries/{inquiry_id}/edit", name="portal_inquiry_edit")
def edit_inquiry(
    inquiry_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    inquiry = get_inquiry(session, actor=principal, inquiry_id=inquiry_id)
    if inquiry.status != InquiryStatus.CHANGES_REQUESTED:
        raise IllegalTransition(
            "Only an inquiry with changes requested can be edited.", code="inquiry_not_editable"
        )
    context = _context(
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
    return _go(request, f"/portal/inquiries/{inquiry_id}")


@router.post("/portal/inquiries/{inquiry_id}/withdraw", name="portal_inquiry_withdraw")
def withdraw_inquiry(
    inquiry_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    withdraw(session, actor=principal, inquiry_id=inquiry_id)
    return _go(request, f"/portal/inquiries/{inquiry_id}")


@router.get("/portal/inquiries/{inquiry_id}/quote.pdf", name="portal_inquiry_quote")
def portal_quote(inquiry_id: int, session: SessionDep, principal: DistributorPrincipal) -> Response:
    return _pdf(*quote_pdf(session, actor=principal, inquiry_id=inquiry_id))


def _pdf(filename: str, content: bytes) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- staff: the approval queue, decisions and the workflow -----------------------------------


@router.get("/staff/approvals", name="staff_approvals")
def approval_queue(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    mine: list[tuple[Any, ...]] = []
    others: list[tuple[Any, ...]] = []
    for approval, inquiry in approvals.pending_approvals(session):
        row = (approval, inquiry, session.get(Organization, inquiry.distributor_org_id))
        (mine if approvals.may_decide(session, principal, approval) else others).append(row)
    return render(request, _T + "staff_queue.html", _context(mine=mine, others=others))


@router.get("/staff/approvals/workflow", name="staff_approval_workflow")
def workflow_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    workflow = approvals.ensure_default_workflow(session)
    context = _context(
        workflow=workflow,
        steps=approvals.workflow_steps(session, workflow.id),
        capabilities=[c.value for c in Capability if c != Capability.PARTNER_ADMIN],
        fields=[f.value for f in ConditionField],
        editable=principal.role == Role.ADMIN,
    )
    return render(request, _T + "workflow.html", context)


@router.post("/staff/approvals/workflow/steps/{step_id}", name="staff_approval_step")
def edit_step(
    step_id: int,
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    name: Annotated[str, Form(max_length=200)],
    approver_capability: Annotated[str, Form(max_length=32)],
    condition_field: Annotated[str, Form(max_length=32)],
    threshold: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    approvals.edit_step(
        session,
        actor=principal,
        step_id=step_id,
        name=name,
        approver_capability=approver_capability,
        condition_field=condition_field,
        threshold=_decimal(threshold, "The threshold"),
    )
    return _go(request, "/staff/approvals/workflow")


@router.get("/staff/approvals/{inquiry_id}", name="staff_approval")
def approval_page(
    inquiry_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    inquiry = get_inquiry(session, actor=principal, inquiry_id=inquiry_id)
    context = _detail(session, inquiry)
    pending = next(
        (a for a, _ in context["steps"] if a.round == inquiry.round and a.status == "pending"),
        None,
    )
    context["pending"] = pending
    context["can_decide"] = pending is not None and approvals.may_decide(
        session, principal, pending
    )
    return render(request, _T + "staff_detail.html", context)


@router.post("/staff/approvals/{inquiry_id}/decide", name="staff_approval_decide")
def decide_step(
    inquiry_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    approval_id: Annotated[int, Form()],
    decision: Annotated[str, Form(max_length=20)],
    comment: TextForm = "",
) -> Response:
    if decision not in set(Decision):
        raise InvalidInput("Approve, reject or request changes.", field="decision")
    decide_inquiry(
        session,
        actor=principal,
        inquiry_id=inquiry_id,
        approval_id=approval_id,
        decision=Decision(decision),
        comment=comment,
    )
    return _go(request, f"/staff/approvals/{inquiry_id}")


@router.get("/staff/approvals/{inquiry_id}/quote.pdf", name="staff_approval_quote")
def staff_quote(inquiry_id: int, session: SessionDep, principal: StaffPrincipal) -> Response:
    return _pdf(*quote_pdf(session, actor=principal, inquiry_id=inquiry_id))
