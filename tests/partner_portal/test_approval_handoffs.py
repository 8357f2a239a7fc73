"""Nobody is stuck at an approval step: delegation, escalation after the time-out, an
administrator's override with its reason; steps numbered as a person reads them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.config import get_settings
from core.errors import Conflict, InvalidInput, PermissionDenied
from crm.models import Capability, Notification, User
from partner_portal.approval_handoffs import (
    deciders_of,
    delegate_step,
    escalate_overdue_steps,
    override_step,
    step_access,
)
from partner_portal.approval_workflow import ensure_default_workflow, workflow_steps
from partner_portal.approvals import Decision, decide, may_decide
from partner_portal.models import (
    ApprovalStatus,
    Inquiry,
    InquiryApproval,
    InquiryEvent,
    InquiryStatus,
)
from tests.crm.factories import principal_of
from tests.partner_portal.inquiry_factories import (
    line,
    make_partner,
    make_priced_product,
    make_staff,
    pending_approval,
    submit_inquiry,
)


def _approve(db: Session, user: User, inquiry: Inquiry) -> None:
    decide(
        db,
        actor=principal_of(user),
        inquiry_id=inquiry.id,
        approval_id=pending_approval(db, inquiry).id,
        decision=Decision.APPROVE,
    )


def _seeded_quote(db: Session) -> Inquiry:
    """Like the demo's: five EX-220 at 15 % off, over the director's limit."""
    product = make_priced_product(db, price="185000")
    return submit_inquiry(db, make_partner(db), [line(product, "5", discount="15")])


def _round(db: Session, inquiry: Inquiry) -> list[tuple[int, str, str]]:
    rows = db.scalars(
        select(InquiryApproval)
        .where(InquiryApproval.inquiry_id == inquiry.id, InquiryApproval.round == inquiry.round)
        .order_by(InquiryApproval.position)
    )
    return [(a.number, a.step_name, a.approver_capability) for a in rows]


def _events(db: Session, inquiry: Inquiry, action: str) -> list[InquiryEvent]:
    return list(
        db.scalars(
            select(InquiryEvent).where(
                InquiryEvent.inquiry_id == inquiry.id, InquiryEvent.action == action
            )
        )
    )


def test_the_only_sales_manager_leaves_the_discount_step_to_nobody(db: Session) -> None:
    """The dead end: after the review, no staff user may decide step 2."""
    sales = make_staff(db, Capability.SALES_MANAGER)
    director = make_staff(db, Capability.DIRECTOR)
    admin = make_staff(db)
    inquiry = _seeded_quote(db)
    _approve(db, sales, inquiry)

    step = pending_approval(db, inquiry)
    assert [may_decide(db, principal_of(u), step) for u in (sales, director, admin)] == [
        False,
        False,
        False,
    ]
    assert deciders_of(db, inquiry, step) == []
    # but it is not stuck: its approver may delegate it, an administrator may override it
    assert step_access(db, principal_of(sales), step).delegate_step.allowed
    assert step_access(db, principal_of(admin), step).override.allowed
    assert step.escalates_at is not None


def test_steps_are_numbered_one_two_three_without_gaps(db: Session) -> None:
    make_staff(db, Capability.SALES_MANAGER)
    inquiry = _seeded_quote(db)

    assert _round(db, inquiry) == [
        (1, "Sales review", "sales_manager"),
        (2, "Sales manager discount approval", "sales_manager"),
        (3, "Director approval", "director"),
    ]
    big_order = submit_inquiry(db, make_partner(db), [line(make_priced_product(db), "60")])
    assert [number for number, _, _ in _round(db, big_order)] == [1, 2]


def test_the_approver_delegates_the_step_and_the_delegate_decides_it(db: Session) -> None:
    sales = make_staff(db, Capability.SALES_MANAGER)
    colleague = make_staff(db, role=Role.DISPATCHER)
    inquiry = _seeded_quote(db)
    _approve(db, sales, inquiry)
    step = pending_approval(db, inquiry)

    delegate_step(
        db,
        actor=principal_of(sales),
        inquiry_id=inquiry.id,
        approval_id=step.id,
        delegate_user_id=colleague.id,
        note="I did the review; please take the discount.",
    )

    assert (step.delegated_to, step.delegated_by) == (colleague.id, sales.id)
    assert deciders_of(db, inquiry, step) == [colleague]
    [event] = _events(db, inquiry, "step_delegated")
    assert event.actor_user_id == sales.id
    assert event.details is not None
    assert event.details["to"] == colleague.full_name
    assert event.comment == "I did the review; please take the discount."
    told = db.scalars(select(Notification.title).where(Notification.user_id == colleague.id))
    assert any("delegated to you" in title for title in told)

    _approve(db, colleague, inquiry)
    assert step.status == ApprovalStatus.APPROVED
    assert step.decided_by == colleague.id
    assert pending_approval(db, inquiry).number == 3


def test_delegation_is_refused_to_who_may_not_take_it(db: Session) -> None:
    sales = make_staff(db, Capability.SALES_MANAGER)
    finance = make_staff(db, Capability.FINANCE)
    partner = make_partner(db)
    inquiry = _seeded_quote(db)
    _approve(db, sales, inquiry)
    step = pending_approval(db, inquiry)

    def delegate(actor: User, to: User) -> None:
        delegate_step(
            db,
            actor=principal_of(actor),
            inquiry_id=inquiry.id,
            approval_id=step.id,
            delegate_user_id=to.id,
        )

    with pytest.raises(InvalidInput, match="decided another step of this round"):
        delegate(sales, sales)
    with pytest.raises(InvalidInput, match="active staff member"):
        delegate(sales, partner)
    with pytest.raises(PermissionDenied, match="sales manager or the person it was delegated"):
        delegate(finance, make_staff(db))
    assert step.delegated_to is None


def test_a_step_waiting_past_its_time_out_escalates_to_the_next_level(db: Session) -> None:
    sales = make_staff(db, Capability.SALES_MANAGER)
    director = make_staff(db, Capability.DIRECTOR)
    inquiry = _seeded_quote(db)
    _approve(db, sales, inquiry)
    step = pending_approval(db, inquiry)
    assert step.pending_since is not None
    hours = get_settings().approval_escalation_hours
    assert step.escalates_at == step.pending_since + timedelta(hours=hours)

    assert escalate_overdue_steps(db, now=step.escalates_at - timedelta(minutes=1)) == []
    assert step.approver_capability == "sales_manager"
    assert escalate_overdue_steps(db, now=step.escalates_at) == [step.id]

    assert step.approver_capability == "director"
    assert step.escalates_at is None  # a director is the last level
    [event] = _events(db, inquiry, "step_escalated")
    assert event.details is not None
    assert (event.details["from"], event.details["to"]) == ("sales manager", "director")
    assert event.details["number"] == 2
    assert deciders_of(db, inquiry, step) == [director]
    told = db.scalars(select(Notification.title).where(Notification.user_id == director.id))
    assert any("waits for Sales manager discount approval" in title for title in told)
    assert escalate_overdue_steps(db, now=step.pending_since + timedelta(days=30)) == []

    _approve(db, director, inquiry)
    assert step.status == ApprovalStatus.APPROVED


def test_a_step_with_its_own_time_out_escalates_after_it(db: Session) -> None:
    workflow = ensure_default_workflow(db)
    for workflow_step in workflow_steps(db, workflow.id):
        if workflow_step.name == "Sales review":
            workflow_step.timeout_hours = 4
    db.flush()
    make_staff(db, Capability.SALES_MANAGER)
    inquiry = _seeded_quote(db)
    step = pending_approval(db, inquiry)
    assert step.pending_since is not None

    assert escalate_overdue_steps(db, now=step.pending_since + timedelta(hours=4)) == [step.id]
    assert step.approver_capability == "director"


def test_a_decided_step_does_not_escalate(db: Session) -> None:
    sales = make_staff(db, Capability.SALES_MANAGER)
    inquiry = _seeded_quote(db)
    first = pending_approval(db, inquiry)
    _approve(db, sales, inquiry)
    assert first.pending_since is not None

    escalate_overdue_steps(db, now=first.pending_since + timedelta(hours=49))

    assert first.approver_capability == "sales_manager"
    assert first.status == ApprovalStatus.APPROVED


def test_an_administrator_overrides_the_stuck_step_with_a_reason(db: Session) -> None:
    sales = make_staff(db, Capability.SALES_MANAGER)
    director = make_staff(db, Capability.DIRECTOR)
    admin = make_staff(db)
    inquiry = _seeded_quote(db)
    _approve(db, sales, inquiry)
    step = pending_approval(db, inquiry)

    def override(actor: User, reason: str = "Only one sales manager this month.") -> None:
        override_step(
            db,
            actor=principal_of(actor),
            inquiry_id=inquiry.id,
            approval_id=step.id,
            decision=Decision.APPROVE,
            reason=reason,
        )

    with pytest.raises(InvalidInput, match="reason"):
        override(admin, "  ")
    with pytest.raises(PermissionDenied, match="You decided step 1"):
        override(sales)
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        override(make_staff(db, Capability.SALES_MANAGER, role=Role.DISPATCHER))
    assert step.status == ApprovalStatus.PENDING

    override(admin)

    assert step.status == ApprovalStatus.APPROVED
    assert (step.decided_by, step.override_reason) == (
        admin.id,
        "Only one sales manager this month.",
    )
    [event] = _events(db, inquiry, "step_approved")[-1:]
    assert event.details is not None
    assert event.details["override_reason"] == "Only one sales manager this month."
    _approve(db, director, inquiry)
    assert inquiry.status == InquiryStatus.APPROVED


def test_who_may_decide_the_step_needs_no_override(db: Session) -> None:
    sales = make_staff(db, Capability.SALES_MANAGER)
    inquiry = _seeded_quote(db)
    with pytest.raises(Conflict, match="decide this step yourself"):
        override_step(
            db,
            actor=principal_of(sales),
            inquiry_id=inquiry.id,
            approval_id=pending_approval(db, inquiry).id,
            decision=Decision.APPROVE,
            reason="Faster",
        )


def test_the_worker_escalates_every_five_minutes() -> None:
    from fieldcrm.worker import blueprints

    portal = dict(blueprints())["partner_portal"]
    assert "partner_portal.jobs.escalate_approval_steps" in portal.tasks
    crons = {task.task.name: task.cron for task in portal.periodic_registry.periodic_tasks.values()}
    assert crons["partner_portal.jobs.escalate_approval_steps"] == "*/5 * * * *"
