"""The approval workflow as data: which steps apply, in order, by whom; rounds and endings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.capabilities import grant
from crm.models import Capability, User
from partner_portal.approval_workflow import ensure_default_workflow, workflow_steps
from partner_portal.approvals import Decision, decide
from partner_portal.inquiries import resubmit
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


def _steps(db: Session, inquiry: Inquiry) -> list[tuple[str, str]]:
    approvals = db.scalars(
        select(InquiryApproval)
        .where(InquiryApproval.inquiry_id == inquiry.id, InquiryApproval.round == inquiry.round)
        .order_by(InquiryApproval.position)
    )
    return [(a.step_name, a.status) for a in approvals]


def _approve(
    db: Session,
    user: User,
    inquiry: Inquiry,
    decision: Decision = Decision.APPROVE,
    comment: str = "",
) -> None:
    decide(
        db,
        actor=principal_of(user),
        inquiry_id=inquiry.id,
        approval_id=pending_approval(db, inquiry).id,
        decision=decision,
        comment=comment,
    )


@pytest.mark.parametrize(
    ("discount", "quantity", "steps"),
    [
        ("5", "1", ["Sales review"]),
        ("10", "1", ["Sales review"]),
        ("15", "1", ["Sales review", "Sales manager discount approval"]),
        ("25", "1", ["Sales review", "Sales manager discount approval", "Finance approval"]),
        ("0", "60", ["Sales review", "Director approval"]),
        (
            "25",
            "80",
            [
                "Sales review",
                "Sales manager discount approval",
                "Finance approval",
                "Director approval",
            ],
        ),
    ],
)
def test_the_inquiry_figures_decide_which_steps_apply(
    db: Session, discount: str, quantity: str, steps: list[str]
) -> None:
    product = make_priced_product(db, price="1000")
    inquiry = submit_inquiry(db, make_partner(db), [line(product, quantity, discount=discount)])

    assert inquiry.status == InquiryStatus.IN_APPROVAL
    assert [name for name, _ in _steps(db, inquiry)] == steps
    assert [status for _, status in _steps(db, inquiry)] == ["pending"] + ["waiting"] * (
        len(steps) - 1
    )


def test_steps_are_decided_in_order_until_the_inquiry_is_approved(db: Session) -> None:
    product = make_priced_product(db, price="1000")
    inquiry = submit_inquiry(db, make_partner(db), [line(product, "80", discount="25")])
    sales, manager = (
        make_staff(db, Capability.SALES_MANAGER),
        make_staff(db, Capability.SALES_MANAGER),
    )
    finance, director = make_staff(db, Capability.FINANCE), make_staff(db, Capability.DIRECTOR)

    for user in (sales, manager, finance):
        _approve(db, user, inquiry)
        assert inquiry.status == InquiryStatus.IN_APPROVAL
    _approve(db, director, inquiry)

    assert inquiry.status == InquiryStatus.APPROVED
    assert inquiry.decided_at is not None
    assert [status for _, status in _steps(db, inquiry)] == ["approved"] * 4


def test_a_waiting_step_cannot_be_decided(db: Session) -> None:
    inquiry = submit_inquiry(
        db, make_partner(db), [line(make_priced_product(db), "1", discount="25")]
    )
    finance = make_staff(db, Capability.FINANCE)
    waiting = db.scalars(
        select(InquiryApproval).where(
            InquiryApproval.inquiry_id == inquiry.id,
            InquiryApproval.step_name == "Finance approval",
        )
    ).one()

    with pytest.raises(Conflict, match="waits for an earlier one"):
        decide(
            db,
            actor=principal_of(finance),
            inquiry_id=inquiry.id,
            approval_id=waiting.id,
            decision=Decision.APPROVE,
        )
    assert waiting.status == ApprovalStatus.WAITING


def test_the_wrong_capability_is_refused_and_the_admin_role_is_not_enough(db: Session) -> None:
    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db), "1")])
    finance = make_staff(db, Capability.FINANCE)
    admin_without_capability = make_staff(db, role=Role.ADMIN)

    for user in (finance, admin_without_capability):
        with pytest.raises(PermissionDenied, match="decided by a sales manager"):
            _approve(db, user, inquiry)
    assert _steps(db, inquiry) == [("Sales review", "pending")]


def test_an_inactive_holder_of_the_capability_cannot_decide(db: Session) -> None:
    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db), "1")])
    sales = make_staff(db, Capability.SALES_MANAGER)
    sales.is_active = False
    db.flush()

    with pytest.raises(PermissionDenied):
        _approve(db, sales, inquiry)


def test_a_partner_holding_a_staff_capability_still_cannot_decide(db: Session) -> None:
    partner = make_partner(db)
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db), "1")])
    insider = make_partner(db)
    grant(db, user_id=insider.id, capability=Capability.SALES_MANAGER)

    with pytest.raises(NotFound):
        _approve(db, insider, inquiry)


def test_one_person_decides_at_most_one_step_of_a_round(db: Session) -> None:
    inquiry = submit_inquiry(
        db, make_partner(db), [line(make_priced_product(db), "1", discount="15")]
    )
    sales = make_staff(db, Capability.SALES_MANAGER)
    _approve(db, sales, inquiry)

    with pytest.raises(PermissionDenied, match="another person decides"):
        _approve(db, sales, inquiry)
    _approve(db, make_staff(db, Capability.SALES_MANAGER), inquiry)
    assert inquiry.status == InquiryStatus.APPROVED


def test_reject_ends_the_inquiry_and_cancels_the_remaining_steps(db: Session) -> None:
    inquiry = submit_inquiry(
        db, make_partner(db), [line(make_priced_product(db), "1", discount="25")]
    )
    _approve(db, make_staff(db, Capability.SALES_MANAGER), inquiry)
    _approve(
        db, make_staff(db, Capability.SALES_MANAGER), inquiry, Decision.REJECT, "Margin too thin"
    )

    assert inquiry.status == InquiryStatus.REJECTED
    assert [s for _, s in _steps(db, inquiry)] == ["approved", "rejected", "cancelled"]
    with pytest.raises(IllegalTransition):
        _decide_any(db, inquiry, make_staff(db, Capability.FINANCE))


def _decide_any(db: Session, inquiry: Inquiry, user: User) -> None:
    approval = db.scalars(
        select(InquiryApproval).where(InquiryApproval.inquiry_id == inquiry.id).limit(1)
    ).one()
    decide(
        db,
        actor=principal_of(user),
        inquiry_id=inquiry.id,
        approval_id=approval.id,
        decision=Decision.APPROVE,
    )


def test_reject_and_request_changes_need_a_comment(db: Session) -> None:
    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db), "1")])
    sales = make_staff(db, Capability.SALES_MANAGER)

    for decision in (Decision.REJECT, Decision.REQUEST_CHANGES):
        with pytest.raises(InvalidInput, match="Say why"):
            _approve(db, sales, inquiry, decision, "  ")


def test_changes_requested_then_resubmitted_starts_a_new_round_from_step_one(
    db: Session,
) -> None:
    partner = make_partner(db)
    product = make_priced_product(db, price="1000")
    inquiry = submit_inquiry(db, partner, [line(product, "1", discount="25")])
    first, second = (make_staff(db, Capability.SALES_MANAGER) for _ in range(2))
    _approve(db, first, inquiry)
    _approve(db, second, inquiry, Decision.REQUEST_CHANGES, "At most 15 % please")
    assert inquiry.status == InquiryStatus.CHANGES_REQUESTED
    assert [s for _, s in _steps(db, inquiry)] == ["approved", "changes_requested", "cancelled"]

    resubmit(
        db,
        actor=principal_of(partner),
        inquiry_id=inquiry.id,
        subject="Chillers, revised",
        message="",
        lines=[line(product, "1", discount="15")],
    )

    assert inquiry.round == 2
    assert inquiry.status == InquiryStatus.IN_APPROVAL
    assert _steps(db, inquiry) == [
        ("Sales review", "pending"),
        ("Sales manager discount approval", "waiting"),
    ]
    # who decided in round one may decide again in round two
    _approve(db, first, inquiry)
    _approve(db, second, inquiry)
    assert inquiry.status == InquiryStatus.APPROVED


def test_a_workflow_without_an_applicable_step_approves_at_once(db: Session) -> None:
    workflow = ensure_default_workflow(db)
    for step in workflow_steps(db, workflow.id):
        db.delete(step)
    db.flush()

    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db), "1")])

    assert inquiry.status == InquiryStatus.APPROVED
    assert inquiry.quote_pdf is not None
    assert inquiry.quote_pdf.startswith(b"%PDF")


def test_the_default_workflow_is_created_once(db: Session) -> None:
    assert ensure_default_workflow(db).id == ensure_default_workflow(db).id


@dataclass
class Race:
    inquiry_id: int
    approval_id: int
    deciders: list[Principal]


@pytest.fixture
def race(db_engine: Engine) -> Iterator[Race]:
    """A committed inquiry pending its sales review, two sales managers; removed afterwards."""
    with Session(db_engine) as session:
        workflow = ensure_default_workflow(session)
        partner = make_partner(session)
        product = make_priced_product(session)
        # two steps: the loser finds step one decided, not the inquiry finished
        inquiry = submit_inquiry(session, partner, [line(product, "1", discount="15")])
        deciders = [make_staff(session, Capability.SALES_MANAGER) for _ in range(2)]
        session.commit()
        made = Race(
            inquiry.id, pending_approval(session, inquiry).id, [principal_of(u) for u in deciders]
        )
        ids = {
            "inquiry": inquiry.id,
            "workflow": workflow.id,
            "users": [partner.id, *(u.id for u in deciders)],
            "orgs": [partner.org_id, *(u.org_id for u in deciders), product.manufacturer_org_id],
            "model": product.id,
        }
    try:
        yield made
    finally:
        with db_engine.begin() as conn:
            for statement in (
                "DELETE FROM inquiries WHERE id = :inquiry",
                "DELETE FROM approval_workflows WHERE id = :workflow",
                "DELETE FROM users WHERE id = ANY(:users)",
                "DELETE FROM product_models WHERE id = :model",
                "DELETE FROM organizations WHERE id = ANY(:orgs)",
            ):
                conn.execute(text(statement), ids)


def test_two_concurrent_approvals_of_one_step_let_one_win(db_engine: Engine, race: Race) -> None:
    start = threading.Barrier(2)
    won: list[int] = []
    lost: list[BaseException] = []

    def approve(actor: Principal) -> None:
        try:
            with Session(db_engine) as session:
                start.wait(timeout=10)
                decide(
                    session,
                    actor=actor,
                    inquiry_id=race.inquiry_id,
                    approval_id=race.approval_id,
                    decision=Decision.APPROVE,
                )
                session.commit()
                won.append(actor.user_id)
        except BaseException as exc:  # noqa: BLE001  # reported to the test thread below
            lost.append(exc)

    threads = [threading.Thread(target=approve, args=(d,)) for d in race.deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(won) == 1
    assert [type(exc) for exc in lost] == [Conflict]
    with Session(db_engine) as session:
        approval = session.get(InquiryApproval, race.approval_id)
        inquiry = session.get(Inquiry, race.inquiry_id)
        events = session.scalar(
            select(func.count()).where(
                InquiryEvent.inquiry_id == race.inquiry_id, InquiryEvent.action == "step_approved"
            )
        )
    assert approval is not None
    assert approval.decided_by == won[0]
    assert inquiry is not None
    assert inquiry.status == InquiryStatus.IN_APPROVAL
    assert events == 1
