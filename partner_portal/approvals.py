"""Rounds and decisions of the inquiries' approval workflow (the workflow itself is data:
partner_portal.approval_workflow).

Rules (see docs/inquiries.md):
- The active workflow's steps apply when their condition holds (`field > threshold`, or
  always). A round instantiates every applicable step in position order: the first is
  pending, the rest wait. With no applicable step the inquiry is approved at once (the
  default workflow's "Sales review" applies always, so sales answer every inquiry).
- No step is skipped: only the pending step can be decided, and only by an active staff
  user holding its capability. The admin role alone is not enough.
- One person decides at most one step of a round, so two steps need two people. Nobody is
  stuck for that: a step can be delegated, it escalates after its time-out, and an
  administrator can decide it with a recorded reason (partner_portal.approval_handoffs).
- Steps are numbered 1, 2, 3 within a round, as a person reads them, whatever the workflow
  positions of the steps that applied.
- Approve -> the next step is pending, or the inquiry is approved after the last.
  Reject -> rejected; request changes -> changes_requested; the remaining steps are cancelled.
- Every decision locks the inquiry row first, so two concurrent decisions are serialised and
  the second finds the step decided already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from core.formatting import default_reader, money_text, percent_text
from crm.capabilities import has_capability
from crm.models import Capability
from crm.notifications import notify_capability
from partner_portal.approval_workflow import (
    applicable_steps,
    default_timeout_hours,
    ensure_default_workflow,
    workflow_steps,
)
from partner_portal.models import (
    ApprovalStatus,
    Inquiry,
    InquiryApproval,
    InquiryEvent,
    InquiryKind,
    InquiryStatus,
)

OPEN_APPROVALS = (ApprovalStatus.WAITING, ApprovalStatus.PENDING)
# a step nobody decides in time goes to the next level; a director's step does not escalate
ESCALATES_TO = {
    Capability.SALES_MANAGER: Capability.DIRECTOR,
    Capability.FINANCE: Capability.DIRECTOR,
    Capability.CHANNEL_MANAGER: Capability.DIRECTOR,
}


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


def start_round(session: Session, inquiry: Inquiry) -> InquiryApproval | None:
    """Instantiate the current round's steps; returns the pending one (None: approved now)."""
    workflow = ensure_default_workflow(session)
    inquiry.workflow_id = workflow.id
    steps = applicable_steps(workflow_steps(session, workflow.id), inquiry)
    default_hours = default_timeout_hours()
    approvals = [
        InquiryApproval(
            inquiry_id=inquiry.id,
            round=inquiry.round,
            position=step.position,
            number=number,
            step_name=step.name,
            approver_capability=step.approver_capability,
            status=ApprovalStatus.WAITING,
            timeout_hours=step.timeout_hours or default_hours,
        )
        for number, step in enumerate(steps, start=1)
    ]
    session.add_all(approvals)
    if approvals:
        make_pending(approvals[0], now=utcnow())
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
    inquiry, approval = open_step(
        session, actor=actor, inquiry_id=inquiry_id, approval_id=approval_id
    )
    comment = comment_for(decision, comment)
    require_decider(session, actor, inquiry, approval)
    return settle_step(
        session, actor=actor, inquiry=inquiry, approval=approval, decision=decision, comment=comment
    )


def open_step(
    session: Session, *, actor: Principal, inquiry_id: int, approval_id: int
) -> tuple[Inquiry, InquiryApproval]:
    """The inquiry (locked) and its pending step `approval_id`; refuses anything else."""
    inquiry = lock_inquiry(session, inquiry_id)
    if not actor.is_staff:
        raise NotFound(f"No inquiry {inquiry_id}.", entity="inquiry")
    approval = session.get(InquiryApproval, approval_id, populate_existing=True)
    if approval is None or approval.inquiry_id != inquiry.id:
        raise NotFound(f"No approval step {approval_id} on this inquiry.", entity="approval")
    _refuse_unless_pending(inquiry, approval)
    return inquiry, approval


def settle_step(
    session: Session,
    *,
    actor: Principal,
    inquiry: Inquiry,
    approval: InquiryApproval,
    decision: Decision,
    comment: str,
    override_reason: str | None = None,
) -> Outcome:
    """Record a decision the caller has allowed; the next step is pending or the round ends."""
    now = utcnow()
    approval.status = _OUTCOME[decision]
    approval.decided_by = actor.user_id
    approval.decided_at = now
    approval.comment = comment
    approval.override_reason = override_reason
    approval.escalates_at = None
    inquiry.updated_at = now
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
            make_pending(next_pending, now=now)
        else:
            _finish(inquiry, InquiryStatus.APPROVED)
    else:
        cancel_open(session, inquiry)
        _finish(inquiry, _ENDS_AS[decision])
    details: dict[str, object] = {"step": approval.step_name, "number": approval.number}
    if override_reason is not None:
        details["override_reason"] = override_reason
    record_event(
        session,
        inquiry,
        actor_user_id=actor.user_id,
        action=f"step_{approval.status}",
        comment=comment,
        details=details,
    )
    session.flush()
    return Outcome(inquiry, approval, next_pending)


def inquiry_number(inquiry: Inquiry) -> str:
    """Q-000042 for a quote request, I-000042 for an inquiry."""
    prefix = "Q" if inquiry.kind == InquiryKind.QUOTE_REQUEST else "I"
    return f"{prefix}-{inquiry.id:06d}"


def tell_approvers(session: Session, inquiry: Inquiry, pending: InquiryApproval) -> None:
    """Notify the holders of the pending step's capability (not who decided this round)."""
    reader = default_reader()
    notify_capability(
        session,
        Capability(pending.approver_capability),
        title=f"{inquiry_number(inquiry)} waits for {pending.step_name}",
        body=(
            # one text for every approver: in the installation's locale
            f"{inquiry.subject}: {money_text(inquiry.total_value, inquiry.currency, reader)}, "
            f"up to {percent_text(inquiry.max_discount_pct, reader, places=2)} off list."
        ),
        link=f"/staff/approvals/{inquiry.id}",
        exclude=decided_in_round(session, inquiry),
    )


def make_pending(approval: InquiryApproval, *, now: datetime) -> None:
    """The step waits for a decision from now; its escalation clock starts."""
    approval.status = ApprovalStatus.PENDING
    approval.pending_since = now
    approval.escalates_at = escalation_time(approval, since=now)


def escalation_time(approval: InquiryApproval, *, since: datetime) -> datetime | None:
    """When the step goes to the next level if still undecided (None: it is the last level)."""
    if Capability(approval.approver_capability) not in ESCALATES_TO:
        return None
    return since + timedelta(hours=approval.timeout_hours)


def decided_in_round(session: Session, inquiry: Inquiry) -> set[int]:
    """The users who decided a step of the inquiry's current round."""
    return {
        user_id
        for user_id in session.scalars(
            select(InquiryApproval.decided_by).where(
                InquiryApproval.inquiry_id == inquiry.id,
                InquiryApproval.round == inquiry.round,
                InquiryApproval.decided_by.is_not(None),
            )
        )
        if user_id is not None
    }


def require_decider(
    session: Session, actor: Principal, inquiry: Inquiry, approval: InquiryApproval
) -> None:
    """Refuse anyone who may not decide this step (capability or delegation; one step per
    person a round)."""
    capability = Capability(approval.approver_capability)
    delegate = approval.delegated_to is not None and approval.delegated_to == actor.user_id
    if not actor.is_staff or not (
        delegate or has_capability(session, user_id=actor.user_id, capability=capability)
    ):
        raise PermissionDenied(
            f"“{approval.step_name}” is decided by a {capability_label(capability)}"
            f"{' or the person it was delegated to' if approval.delegated_to else ''}.",
            code="approval_capability",
        )
    require_other_person(session, actor, inquiry)


def require_other_person(session: Session, actor: Principal, inquiry: Inquiry) -> None:
    """Refuse who decided a step of this round already (four eyes)."""
    decided = session.scalar(
        select(InquiryApproval.number).where(
            InquiryApproval.inquiry_id == inquiry.id,
            InquiryApproval.round == inquiry.round,
            InquiryApproval.decided_by == actor.user_id,
        )
    )
    if decided is not None:
        raise PermissionDenied(
            f"You decided step {decided} of this round; another person decides this one.",
            code="four_eyes",
        )


def capability_label(capability: Capability | str) -> str:
    """A capability as people say it: “sales manager”."""
    return str(capability).replace("_", " ")


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


def comment_for(decision: Decision, comment: str) -> str:
    """The decision's comment, refused when empty for anything but an approval."""
    comment = comment.strip()
    if decision != Decision.APPROVE and not comment:
        raise InvalidInput(
            "Say why in the comment: the distributor reads it.", code="inquiry_comment_required"
        )
    return comment


def _finish(inquiry: Inquiry, status: InquiryStatus) -> None:
    inquiry.status = status
    inquiry.decided_at = inquiry.updated_at
