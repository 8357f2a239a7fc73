"""Staff's approval pages: the queue, a step's decision, delegation and override, the workflow.

Each pending step shows who may act now, since when it waits and when it escalates; of the
actions (decide, delegate, override) only those this user may take are enabled, the others
say why not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from core.auth.roles import Role
from core.db import SessionDep, utcnow
from core.errors import InvalidInput
from core.web.deps import AdminPrincipal, StaffPrincipal
from core.web.templating import render
from crm.models import Capability, Organization
from partner_portal import approval_workflow, approvals
from partner_portal.approval_handoffs import deciders_of, delegate_step, step_access
from partner_portal.approvals import Decision
from partner_portal.inquiries import decide_inquiry, get_inquiry, quote_pdf
from partner_portal.inquiry_views import (
    after_form,
    detail_context,
    inquiry_context,
    parse_decimal,
    pdf_response,
)
from partner_portal.library_web import TextForm
from partner_portal.models import ApprovalStatus, ConditionField

router = APIRouter(include_in_schema=False)

_T = "partner_portal/inquiries/"
DecisionForm = Annotated[str, Form(max_length=20)]


def _decision(value: str) -> Decision:
    if value not in set(Decision):
        raise InvalidInput("Approve, reject or request changes.", field="decision")
    return Decision(value)


@router.get("/staff/approvals", name="staff_approvals")
def approval_queue(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    mine: list[tuple[Any, ...]] = []
    others: list[tuple[Any, ...]] = []
    for approval, inquiry in approvals.pending_approvals(session):
        row = (
            approval,
            inquiry,
            session.get(Organization, inquiry.distributor_org_id),
            deciders_of(session, inquiry, approval),
        )
        (mine if approvals.may_decide(session, principal, approval) else others).append(row)
    context = inquiry_context(mine=mine, others=others, now=utcnow())
    return render(request, _T + "staff_queue.html", context)


@router.get("/staff/approvals/workflow", name="staff_approval_workflow")
def workflow_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    workflow = approval_workflow.ensure_default_workflow(session)
    context = inquiry_context(
        workflow=workflow,
        steps=approval_workflow.workflow_steps(session, workflow.id),
        capabilities=[c.value for c in Capability if c != Capability.PARTNER_ADMIN],
        fields=[f.value for f in ConditionField],
        editable=principal.role == Role.ADMIN,
        default_hours=approval_workflow.default_timeout_hours(),
        escalates_to={c.value: n.value for c, n in approvals.ESCALATES_TO.items()},
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
    timeout_hours: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    hours = timeout_hours.strip()
    if hours and not hours.isdigit():
        raise InvalidInput("The time-out is a whole number of hours.", field="timeout_hours")
    approval_workflow.edit_step(
        session,
        actor=principal,
        step_id=step_id,
        name=name,
        approver_capability=approver_capability,
        condition_field=condition_field,
        threshold=parse_decimal(threshold, "The threshold"),
        timeout_hours=int(hours) if hours else None,
    )
    return after_form(request, "/staff/approvals/workflow")


@router.get("/staff/approvals/{inquiry_id}", name="staff_approval")
def approval_page(
    inquiry_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    inquiry = get_inquiry(session, actor=principal, inquiry_id=inquiry_id)
    context = detail_context(session, inquiry)
    round_steps = [a for a, _ in context["steps"] if a.round == inquiry.round]
    pending = next((a for a in round_steps if a.status == ApprovalStatus.PENDING), None)
    context.update(
        pending=pending,
        steps_in_round=len(round_steps),
        access=step_access(session, principal, pending) if pending else None,
        now=utcnow(),
        staff=True,
    )
    return render(request, _T + "staff_detail.html", context)


@router.post("/staff/approvals/{inquiry_id}/decide", name="staff_approval_decide")
def decide_step(
    inquiry_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    approval_id: Annotated[int, Form()],
    decision: DecisionForm,
    comment: TextForm = "",
) -> Response:
    decide_inquiry(
        session,
        actor=principal,
        inquiry_id=inquiry_id,
        approval_id=approval_id,
        decision=_decision(decision),
        comment=comment,
    )
    return after_form(request, f"/staff/approvals/{inquiry_id}")


@router.post("/staff/approvals/{inquiry_id}/delegate", name="staff_approval_delegate")
def delegate(
    inquiry_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    approval_id: Annotated[int, Form()],
    delegate_to: Annotated[str, Form(max_length=12)] = "",
    note: TextForm = "",
) -> Response:
    if not delegate_to.isdigit():
        raise InvalidInput("Choose who decides the step instead.", field="delegate_to")
    delegate_step(
        session,
        actor=principal,
        inquiry_id=inquiry_id,
        approval_id=approval_id,
        delegate_user_id=int(delegate_to),
        note=note,
    )
    return after_form(request, f"/staff/approvals/{inquiry_id}")


@router.post("/staff/approvals/{inquiry_id}/override", name="staff_approval_override")
def override(
    inquiry_id: int,
    request: Request,
    session: SessionDep,
    principal: AdminPrincipal,
    approval_id: Annotated[int, Form()],
    decision: DecisionForm,
    reason: TextForm = "",
    comment: TextForm = "",
) -> Response:
    decide_inquiry(
        session,
        actor=principal,
        inquiry_id=inquiry_id,
        approval_id=approval_id,
        decision=_decision(decision),
        comment=comment,
        override_reason=reason,
    )
    return after_form(request, f"/staff/approvals/{inquiry_id}")


@router.get("/staff/approvals/{inquiry_id}/quote.pdf", name="staff_approval_quote")
def staff_quote(inquiry_id: int, session: SessionDep, principal: StaffPrincipal) -> Response:
    return pdf_response(*quote_pdf(session, actor=principal, inquiry_id=inquiry_id))
