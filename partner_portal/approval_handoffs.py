"""Nobody is stuck at an approval step: its approver delegates it, it escalates to the next
level after its time-out, or an administrator decides it with a recorded reason. And what a
person may do about a pending step now, for the pages.

Rules (see docs/inquiries.md):
- A holder of the step's capability, or the person it was delegated to, delegates it to an
  active staff user who has not decided a step of the round; that person may decide it too.
- A pending step whose `escalates_at` has passed goes to the next level's capability
  (approvals.ESCALATES_TO); its clock restarts there; a director's step does not escalate.
- An administrator who may not decide the step otherwise, and decided no step of the round,
  decides it with a reason; the reason is required, stored on the step and in the history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import STAFF_ROLES, Role
from core.db import utcnow
from core.errors import Conflict, InvalidInput, PermissionDenied
from crm.capabilities import has_capability, users_with_capability
from crm.models import Capability, User
from crm.notifications import notify
from partner_portal.approvals import (
    ESCALATES_TO,
    Decision,
    Outcome,
    capability_label,
    comment_for,
    decided_in_round,
    escalation_time,
    inquiry_number,
    lock_inquiry,
    open_step,
    record_event,
    require_decider,
    require_other_person,
    settle_step,
    tell_approvers,
)
from partner_portal.models import ApprovalStatus, Inquiry, InquiryApproval, InquiryStatus

MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a person might do about a step: allowed, or why not (in their words)."""

    why_not: str = ""

    @property
    def allowed(self) -> bool:
        return not self.why_not


@dataclass(frozen=True, slots=True)
class StepAccess:
    """Who may act on a pending step now, and what the viewing user may do."""

    deciders: Sequence[User]
    delegate: User | None
    delegated_by: User | None
    escalates_to: str | None
    decide: Action
    delegate_step: Action
    override: Action
    candidates: Sequence[User]


def deciders_of(session: Session, inquiry: Inquiry, approval: InquiryApproval) -> list[User]:
    """Who may decide the step now: active holders of its capability and its delegate, but
    not who decided a step of this round."""
    decided = decided_in_round(session, inquiry)
    people = {
        user.id: user
        for user in users_with_capability(
            session, capability=Capability(approval.approver_capability)
        )
        if user.role in STAFF_ROLES
    }
    delegate = session.get(User, approval.delegated_to) if approval.delegated_to else None
    if delegate is not None and delegate.is_active and delegate.role in STAFF_ROLES:
        people[delegate.id] = delegate
    return sorted(
        (user for user in people.values() if user.id not in decided),
        key=lambda user: user.full_name,
    )


def step_access(session: Session, actor: Principal, approval: InquiryApproval) -> StepAccess:
    """What the page shows about a pending step of the inquiry's current round."""
    inquiry = session.get(Inquiry, approval.inquiry_id)
    assert inquiry is not None  # a foreign key
    next_level = ESCALATES_TO.get(Capability(approval.approver_capability))
    delegate_why = _why_not(lambda: _require_delegator(session, actor, approval))
    return StepAccess(
        deciders=deciders_of(session, inquiry, approval),
        delegate=session.get(User, approval.delegated_to) if approval.delegated_to else None,
        delegated_by=session.get(User, approval.delegated_by) if approval.delegated_by else None,
        escalates_to=capability_label(next_level) if next_level else None,
        decide=Action(_why_not(lambda: require_decider(session, actor, inquiry, approval))),
        delegate_step=Action(delegate_why),
        override=Action(_why_not(lambda: _require_overrider(session, actor, inquiry, approval))),
        candidates=[] if delegate_why else delegation_candidates(session, inquiry, approval),
    )


def delegation_candidates(
    session: Session, inquiry: Inquiry, approval: InquiryApproval
) -> list[User]:
    """Active staff users the step can be delegated to, by name."""
    excluded = decided_in_round(session, inquiry) | {approval.delegated_to or 0}
    staff = session.scalars(
        select(User)
        .where(User.is_active, User.role.in_([role.value for role in STAFF_ROLES]))
        .order_by(User.full_name, User.id)
    )
    return [user for user in staff if user.id not in excluded]


def delegate_step(
    session: Session,
    *,
    actor: Principal,
    inquiry_id: int,
    approval_id: int,
    delegate_user_id: int,
    note: str = "",
) -> InquiryApproval:
    """Hand the pending step to another staff user, who may then decide it (recorded)."""
    inquiry, approval = open_step(
        session, actor=actor, inquiry_id=inquiry_id, approval_id=approval_id
    )
    _require_delegator(session, actor, approval)
    target = session.get(User, delegate_user_id)
    if target is None or not target.is_active or target.role not in STAFF_ROLES:
        raise InvalidInput("Choose an active staff member to delegate to.", field="delegate_to")
    if target.id in decided_in_round(session, inquiry):
        raise InvalidInput(
            f"{target.full_name} decided another step of this round; choose someone else.",
            field="delegate_to",
        )
    if target.id in (actor.user_id, approval.delegated_to):
        raise InvalidInput(
            f"{target.full_name} may already decide this step; choose someone else.",
            field="delegate_to",
        )
    approval.delegated_to = target.id
    approval.delegated_by = actor.user_id
    record_event(
        session,
        inquiry,
        actor_user_id=actor.user_id,
        action="step_delegated",
        comment=note.strip(),
        details={"step": approval.step_name, "number": approval.number, "to": target.full_name},
    )
    notify(
        session,
        user_ids=[target.id],
        title=f"{inquiry_number(inquiry)}: {approval.step_name} was delegated to you",
        body=f"{inquiry.subject}: {actor.name} asks you to decide step {approval.number}.",
        link=f"/staff/approvals/{inquiry.id}",
    )
    session.flush()
    return approval


def override_step(
    session: Session,
    *,
    actor: Principal,
    inquiry_id: int,
    approval_id: int,
    decision: Decision,
    reason: str,
    comment: str = "",
) -> Outcome:
    """An administrator decides the pending step in place of its approvers, with a reason."""
    inquiry, approval = open_step(
        session, actor=actor, inquiry_id=inquiry_id, approval_id=approval_id
    )
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            "Give the reason for the override; it is recorded and shown with the step.",
            field="reason",
            code="override_reason_required",
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            f"Keep the reason under {MAX_REASON} characters.", field="reason", code="too_long"
        )
    comment = comment_for(decision, comment)
    _require_overrider(session, actor, inquiry, approval)
    return settle_step(
        session,
        actor=actor,
        inquiry=inquiry,
        approval=approval,
        decision=decision,
        comment=comment,
        override_reason=reason,
    )


def escalate_overdue_steps(session: Session, *, now: datetime | None = None) -> list[int]:
    """Give every pending step past its time-out to the next level; returns their ids."""
    now = now or utcnow()
    due = session.scalars(
        select(InquiryApproval.id)
        .join(Inquiry, Inquiry.id == InquiryApproval.inquiry_id)
        .where(
            InquiryApproval.status == ApprovalStatus.PENDING,
            InquiryApproval.escalates_at <= now,
            InquiryApproval.round == Inquiry.round,
            Inquiry.status == InquiryStatus.IN_APPROVAL,
        )
        .order_by(InquiryApproval.escalates_at, InquiryApproval.id)
    ).all()
    escalated = []
    for approval_id in due:
        approval = session.get(InquiryApproval, approval_id)
        assert approval is not None  # found just now; rows of approvals are never deleted
        inquiry = lock_inquiry(session, approval.inquiry_id)
        session.refresh(approval)  # a decision may have come first, while we waited
        if _escalates_now(inquiry, approval, now):
            _escalate(session, inquiry, approval, now)
            escalated.append(approval.id)
    session.flush()
    return escalated


def _escalates_now(inquiry: Inquiry, approval: InquiryApproval, now: datetime) -> bool:
    return (
        inquiry.status == InquiryStatus.IN_APPROVAL
        and approval.round == inquiry.round
        and approval.status == ApprovalStatus.PENDING
        and approval.escalates_at is not None
        and approval.escalates_at <= now
    )


def _escalate(session: Session, inquiry: Inquiry, approval: InquiryApproval, now: datetime) -> None:
    before = Capability(approval.approver_capability)
    after = ESCALATES_TO[before]
    approval.approver_capability = after.value
    approval.escalates_at = escalation_time(approval, since=now)
    record_event(
        session,
        inquiry,
        actor_user_id=None,
        action="step_escalated",
        details={
            "step": approval.step_name,
            "number": approval.number,
            "from": capability_label(before),
            "to": capability_label(after),
            "hours": approval.timeout_hours,
        },
    )
    tell_approvers(session, inquiry, approval)


def _require_delegator(session: Session, actor: Principal, approval: InquiryApproval) -> None:
    capability = Capability(approval.approver_capability)
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict("Only the step that waits for a decision can be delegated.")
    if not actor.is_staff or not (
        actor.user_id == approval.delegated_to
        or has_capability(session, user_id=actor.user_id, capability=capability)
    ):
        raise PermissionDenied(
            f"A {capability_label(capability)} or the person it was delegated to delegates "
            "this step.",
            code="approval_delegation",
        )


def _require_overrider(
    session: Session, actor: Principal, inquiry: Inquiry, approval: InquiryApproval
) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied(
            "Only an administrator may override a step.", code="approval_override"
        )
    require_other_person(session, actor, inquiry)
    if not _why_not(lambda: require_decider(session, actor, inquiry, approval)):
        raise Conflict(
            "You may decide this step yourself; an override is for steps you cannot decide.",
            code="override_not_needed",
        )


def _why_not(check: Callable[[], None]) -> str:
    """The refusal's message of a check, or "" when it passes."""
    try:
        check()
    except (PermissionDenied, Conflict) as refusal:
        return refusal.message
    return ""
