"""The approval workflow of inquiries, as data: which steps apply, rounds, decisions.

Rules (see docs/inquiries.md):
- The active workflow's steps apply when their condition holds (`field > threshold`, or
  always). A round instantiates every applicable step in position order: the first is
  pending, the rest wait. With no applicable step the inquiry is approved at once (the
  default workflow's "Sales review" applies always, so sales answer every inquiry).
- No step is skipped: only the pending step can be decided, and only by an active staff
  user holding its capability. The admin role alone is not enough.
- One person decides at most one step of a round, so two steps need two people.
- Approve -> the next step is pending, or the inquiry is approved after the last.
  Reject -> rejected; request changes -> changes_requested; the remaining steps are cancelled.
- Every decision locks the inquiry row first, so two concurrent decisions are serialised and
  the second finds the step decided already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.audit import UPDATE, record_change, snapshot
from crm.capabilities import has_capability
from crm.models import Capability
from partner_portal.models import (
    ApprovalStatus,
    ApprovalStep,
    ApprovalWorkflow,
    ConditionField,
    Inquiry,
    InquiryApproval,
    InquiryEvent,
    InquiryStatus,
)

DEFAULT_WORKFLOW_NAME = "Inquiries and quote requests"
DEFAULT_STEPS: tuple[tuple[str, Capability, ConditionField, Decimal | None], ...] = (
    ("Sales review", Capability.SALES_MANAGER, ConditionField.ALWAYS, None),
    (
        "Sales manager discount approval",
        Capability.SALES_MANAGER,
        ConditionField.MAX_DISCOUNT_PCT,
        Decimal(10),
    ),
    ("Finance approval", Capability.FINANCE, ConditionField.MAX_DISCOUNT_PCT, Decimal(20)),
    ("Director approval", Capability.DIRECTOR, ConditionField.TOTAL_VALUE, Decimal(50000)),
)
OPEN_APPROVALS = (ApprovalStatus.WAITING, ApprovalStatus.PENDING)
_STEP_FIELDS = ("name", "approver_capability", "condition_field", "threshold")


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


_OUTCOME = {
    Decision.APPROVE: ApprovalStatus.APPROVED,
    Decision.REJECT: ApprovalStatus.REJECTED,
    Decision.REQUEST_CHANGES: ApprovalStatus.CHANGES_REQUESTED,
}
_ENDS_AS = {
    Decision.REJECT: InquiryStatus.REJECTED,
    Decision.REQUEST_CHANGES: InquiryStatus.CHANGES_REQUESTED,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision did: the step decided and the one now pending, if any."""

    inquiry: Inquiry
    decided: InquiryApproval
    next_pending: InquiryApproval | None

    @property
    def final(self) -> bool:
        return self.inquiry.status != InquiryStatus.IN_APPROVAL


def ensure_default_workflow(session: Session) -> ApprovalWorkflow:
    """The active workflow; creates the default one (four steps) when none is active."""
    workflow = active_workflow(session)
    if workflow is not None:
        return workflow
    workflow = ApprovalWorkflow(name=DEFAULT_WORKFLOW_NAME, is_active=True)
    session.add(workflow)
    session.flush()
    for position, (name, capability, field, threshold) in enumerate(DEFAULT_STEPS, start=1):
        session.add(
            ApprovalStep(
                workflow_id=workflow.id,
                position=position,
                name=name,
                approver_capability=capability.value,
                condition_field=field.value,
                threshold=threshold,
            )
        )
    session.flush()
    return workflow


def active_workflow(session: Session) -> ApprovalWorkflow | None:
    """The workflow new submissions follow (the newest active one)."""
    return session.scalar(
        select(ApprovalWorkflow)
        .where(ApprovalWorkflow.is_active)
        .order_by(ApprovalWorkflow.id.desc())
        .limit(1)
    )


def workflow_steps(session: Session, workflow_id: int) -> Sequence[ApprovalStep]:
    """The steps of a workflow in position order."""
    return session.scalars(
        select(ApprovalStep)
        .where(ApprovalStep.workflow_id == workflow_id)
        .order_by(ApprovalStep.position)
    ).all()


def edit_step(
    session: Session,
    *,
    actor: Principal,
    step_id: int,
    name: str,
    approver_capability: str,
    condition_field: str,
    threshold: Decimal | None,
) -> ApprovalStep:
    """An administrator changes a step; rounds already started keep the steps they copied."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only administrators change the approval workflow.")
    step = session.get(ApprovalStep, step_id)
    if step is None:
        raise NotFound(f"No approval step {step_id}.", entity="approval_step")
    if not name.strip():
        raise InvalidInput("Give the step a name.", field="name")
    if approver_capability not in set(Capability) - {Capability.PARTNER_ADMIN}:
        raise InvalidInput("Choose a staff capability to decide the step.", field="capability")
    if condition_field not in set(ConditionField):
        raise InvalidInput("Choose when the step applies.", field="condition_field")
    always = condition_field == ConditionField.ALWAYS
    if always != (threshold is None) or (threshold is not None and threshold < 0):
        raise InvalidInput(
            "A step that applies always has no threshold; any other needs one of 0 or more.",
            field="threshold",
        )
    before = snapshot(step, _STEP_FIELDS)
    step.name = name.strip()[:200]
    step.approver_capability = approver_capability
    step.condition_field = condition_field
    step.threshold = threshold
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=ApprovalStep.__tablename__,
        entity_id=step.id,
        before=before,
        after=snapshot(step, _STEP_FIELDS),
    )
    return step


def step_applies(step: ApprovalStep, *, max_discount_pct: Decimal, total_value: Decimal) -> bool:
    """Whether the step's condition holds for these inquiry figures."""
    field = ConditionField(step.condition_field)
    if field == ConditionField.ALWAYS:
        return True
    value = max_discount_pct if field == ConditionField.MAX_DISCOUNT_PCT else total_value
    return step.threshold is not None and value > step.threshold


def applicable_steps(steps: Sequence[ApprovalStep], inquiry: Inquiry) -> list[ApprovalStep]:
    """The steps an inquiry needs, in position order."""
    return [
        step
        for step in sorted(steps, key=lambda s: s.position)
        if step_applies(
            step, max_discount_pct=inquiry.max_discount_pct, total_value=inquiry.total_value
        )
    ]


def start_round(session: Session, inquiry: Inquiry) -> InquiryApproval | None:
    """Instantiate the current round's steps; returns the pending one (None: approved now)."""
    workflow = ensure_default_workflow(session)
    inquiry.workflow_id = workflow.id
    steps = applicable_steps(workflow_steps(session, workflow.id), inquiry)
    approvals = [
        InquiryApproval(
            inquiry_id=inquiry.id,
            round=inquiry.round,
            position=step.position,
            step_name=step.name,
            approver_capability=step.approver_capability,
            status=ApprovalStatus.PENDING if index == 0 else ApprovalStatus.WAITING,
        )
        for index, step in enumerate(steps)
    ]
    session.add_all(approvals)
    if approvals:
        inquiry.status = InquiryStatus.IN_APPROVAL
    else:
        inquiry.status = InquiryStatus.APPROVED
        inquiry.decided_at = utcnow()
        record_event(session, inquiry, actor_user_id=None, action="approved_without_steps")
    session.flush()
    return approvals[0] if approvals else None


def decide(
    session: Session,
    *,
    actor: Principal,
    inquiry_id: int,
    approval_id: int,
    decision: Decision,
    comment: str = "",
) -> Outcome:
    """Decide the pending step `approval_id` of an inquiry (see the module's rules)."""
    comment = comment.strip()
    if decision != Decision.APPROVE and not comment:
        raise InvalidInput(
            "Say why in the comment: the distributor reads it.", code="inquiry_comment_required"
        )
    inquiry = lock_inquiry(session, inquiry_id)
    if not actor.is_staff:
        raise NotFound(f"No inquiry {inquiry_id}.", entity="inquiry")
    approval = session.get(InquiryApproval, approval_id)
    if approval is None or approval.inquiry_id != inquiry.id:
        raise NotFound(f"No approval step {approval_id} on this inquiry.", entity="approval")
    _refuse_unless_pending(inquiry, approval)
    require_decider(session, actor, inquiry, approval)
    approval.status = _OUTCOME[decision]
    approval.decided_by = actor.user_id
    approval.decided_at = utcnow()
    approval.comment = comment
    inquiry.updated_at = utcnow()
    next_pending = None
    if decision == Decision.APPROVE:
        next_pending = session.scalar(
            select(InquiryApproval)
            .where(
                InquiryApproval.inquiry_id == inquiry.id,
                InquiryApproval.round == inquiry.round,
                InquiryApproval.status == ApprovalStatus.WAITING,
            )
            .order_by(InquiryApproval.position)
            .limit(1)
        )
        if next_pending is not None:
            next_pending.status = ApprovalStatus.PENDING
        else:
            _finish(inquiry, InquiryStatus.APPROVED)
    else:
        cancel_open(session, inquiry)
        _finish(inquiry, _ENDS_AS[decision])
    record_event(
        session,
        inquiry,
        actor_user_id=actor.user_id,
        action=f"step_{approval.status}",
        comment=comment,
        details={"step": approval.step_name, "position": approval.position},
    )
    session.flush()
    return Outcome(inquiry, approval, next_pending)


def require_decider(
    session: Session, actor: Principal, inquiry: Inquiry, approval: InquiryApproval
) -> None:
    """Refuse anyone who may not decide this step (capability; one step per person a round)."""
    capability = Capability(approval.approver_capability)
    if not actor.is_staff or not has_capability(
        session, user_id=actor.user_id, capability=capability
    ):
        raise PermissionDenied(
            f"“{approval.step_name}” is decided by a {capability.value.replace('_', ' ')}.",
            code="approval_capability",
        )
    decided_before = session.scalar(
        select(InquiryApproval.id).where(
            InquiryApproval.inquiry_id == inquiry.id,
            InquiryApproval.round == inquiry.round,
            InquiryApproval.decided_by == actor.user_id,
        )
    )
    if decided_before is not None:
        raise PermissionDenied(
            "You decided an earlier step of this round; another person decides this one.",
            code="four_eyes",
        )


def may_decide(session: Session, actor: Principal, approval: InquiryApproval) -> bool:
    """Whether the actor could decide this approval now (for showing the buttons)."""
    if approval.status != ApprovalStatus.PENDING:
        return False
    inquiry = session.get(Inquiry, approval.inquiry_id)
    if inquiry is None or inquiry.round != approval.round:
        return False
    try:
        require_decider(session, actor, inquiry, approval)
    except PermissionDenied:
        return False
    return True


def cancel_open(session: Session, inquiry: Inquiry) -> None:
    """Cancel the waiting and pending steps of the inquiry's current round."""
    session.execute(
        update(InquiryApproval)
        .where(
            InquiryApproval.inquiry_id == inquiry.id,
            InquiryApproval.round == inquiry.round,
            InquiryApproval.status.in_(OPEN_APPROVALS),
        )
        .values(status=ApprovalStatus.CANCELLED),
        execution_options={"synchronize_session": "fetch"},
    )


def lock_inquiry(session: Session, inquiry_id: int) -> Inquiry:
    """The inquiry, locked FOR UPDATE until the transaction ends, with fresh attributes."""
    inquiry = session.get(Inquiry, inquiry_id, with_for_update=True, populate_existing=True)
    if inquiry is None:
        raise NotFound(f"No inquiry {inquiry_id}.", entity="inquiry")
    return inquiry


def pending_approvals(session: Session) -> Sequence[tuple[InquiryApproval, Inquiry]]:
    """Every pending step of every inquiry in approval, oldest inquiry first."""
    return session.execute(
        select(InquiryApproval, Inquiry)
        .join(Inquiry, Inquiry.id == InquiryApproval.inquiry_id)
        .where(
            InquiryApproval.status == ApprovalStatus.PENDING,
            InquiryApproval.round == Inquiry.round,
            Inquiry.status == InquiryStatus.IN_APPROVAL,
        )
        .order_by(Inquiry.updated_at, Inquiry.id)
    ).all()


def record_event(
    session: Session,
    inquiry: Inquiry,
    *,
    actor_user_id: int | None,
    action: str,
    comment: str = "",
    details: dict[str, object] | None = None,
) -> InquiryEvent:
    """Append one line to the inquiry's history."""
    event = InquiryEvent(
        inquiry_id=inquiry.id,
        actor_user_id=actor_user_id,
        action=action,
        comment=comment,
        details={"round": inquiry.round, **(details or {})},
    )
    session.add(event)
    return event


def _refuse_unless_pending(inquiry: Inquiry, approval: InquiryApproval) -> None:
    if inquiry.status != InquiryStatus.IN_APPROVAL:
        raise IllegalTransition(
            f"The inquiry is {inquiry.status.replace('_', ' ')}; nothing is left to decide.",
            code="inquiry_not_in_approval",
        )
    if approval.round != inquiry.round or approval.status != ApprovalStatus.PENDING:
        waiting = approval.status == ApprovalStatus.WAITING and approval.round == inquiry.round
        raise Conflict(
            "This step waits for an earlier one; steps are decided in order."
            if waiting
            else f"“{approval.step_name}” was decided already ({approval.status}). "
            "Reload the page.",
            code="approval_not_pending",
        )


def _finish(inquiry: Inquiry, status: InquiryStatus) -> None:
    inquiry.status = status
    inquiry.decided_at = inquiry.updated_at
