"""Submitting, revising and withdrawing inquiries; figures, notifications and the quote PDF."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.models import Capability, Notification, User
from partner_portal.approvals import Decision
from partner_portal.inquiries import (
    decide_inquiry,
    get_inquiry,
    history,
    inquiries_of,
    quote_pdf,
    resubmit,
    withdraw,
)
from partner_portal.models import Inquiry, InquiryApproval, InquiryKind, InquiryStatus
from tests.crm.factories import principal_of
from tests.partner_portal.inquiry_factories import (
    line,
    make_partner,
    make_priced_product,
    make_staff,
    pending_approval,
    submit_inquiry,
)


def _titles(db: Session, user: User) -> list[str]:
    return list(
        db.scalars(
            select(Notification.title)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def _decide(
    db: Session,
    user: User,
    inquiry: Inquiry,
    decision: Decision = Decision.APPROVE,
    comment: str = "",
) -> None:
    decide_inquiry(
        db,
        actor=principal_of(user),
        inquiry_id=inquiry.id,
        approval_id=pending_approval(db, inquiry).id,
        decision=decision,
        comment=comment,
    )


def test_figures_come_from_list_prices_and_the_asked_prices(db: Session) -> None:
    chiller = make_priced_product(db, price="1000.00")
    pump = make_priced_product(db, price="250.00")

    inquiry = submit_inquiry(
        db,
        make_partner(db),
        [line(chiller, "2", discount="12.5"), line(pump, "4", price="200"), line(pump, "1")],
    )

    assert inquiry.currency == "EUR"
    assert inquiry.list_value == Decimal("3250.00")
    assert inquiry.total_value == Decimal("2800.00")  # 2 x 875 + 4 x 200 + 250
    assert inquiry.max_discount_pct == Decimal("20.0000")  # 200 is 20 % off 250


@pytest.mark.parametrize(
    ("make_lines", "message"),
    [
        (lambda p, q: [], "at least one product line"),
        (lambda p, q: [line(q)], "no list price"),
        (lambda p, q: [line(p, "0")], "more than 0"),
        (lambda p, q: [line(p, discount="5", price="900")], "not both"),
        (lambda p, q: [line(p, discount="120")], "between 0 and 100"),
        (lambda p, q: [line(p, price="-1")], "cannot be negative"),
    ],
)
def test_bad_lines_are_refused_with_a_clear_message(
    db: Session, make_lines: object, message: str
) -> None:
    priced = make_priced_product(db)
    unpriced = make_priced_product(db, price=None)
    assert callable(make_lines)

    with pytest.raises(InvalidInput, match=message):
        submit_inquiry(db, make_partner(db), make_lines(priced, unpriced))


def test_products_in_two_currencies_are_refused(db: Session) -> None:
    euro, dollar = make_priced_product(db), make_priced_product(db, currency="USD")

    with pytest.raises(InvalidInput, match="different currencies"):
        submit_inquiry(db, make_partner(db), [line(euro), line(dollar)])


def test_only_distributor_users_submit(db: Session) -> None:
    with pytest.raises(PermissionDenied):
        submit_inquiry(db, make_staff(db), [line(make_priced_product(db))])


def test_another_distributor_neither_sees_nor_changes_the_inquiry(db: Session) -> None:
    owner, stranger = make_partner(db), make_partner(db)
    inquiry = submit_inquiry(db, owner, [line(make_priced_product(db))])
    actor = principal_of(stranger)

    with pytest.raises(NotFound):
        get_inquiry(db, actor=actor, inquiry_id=inquiry.id)
    with pytest.raises(NotFound):
        withdraw(db, actor=actor, inquiry_id=inquiry.id)
    assert inquiries_of(db, actor=actor) == []
    assert inquiries_of(db, actor=principal_of(owner)) == [inquiry]


def test_submission_notifies_the_holders_of_the_first_step(db: Session) -> None:
    sales, finance = make_staff(db, Capability.SALES_MANAGER), make_staff(db, Capability.FINANCE)

    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db), discount="25")])

    assert _titles(db, sales) == [f"Q-{inquiry.id:06d} waits for Sales review"]
    assert _titles(db, finance) == []


def test_decisions_notify_the_next_approvers_and_the_distributor(db: Session) -> None:
    partner = make_partner(db)
    first, second = (
        make_staff(db, Capability.SALES_MANAGER),
        make_staff(db, Capability.SALES_MANAGER),
    )
    finance = make_staff(db, Capability.FINANCE)
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db), discount="25")])
    number = f"Q-{inquiry.id:06d}"

    _decide(db, first, inquiry)
    assert _titles(db, second)[-1] == f"{number} waits for Sales manager discount approval"
    # who decided a step this round is not asked for the next one
    assert _titles(db, first) == [f"{number} waits for Sales review"]
    _decide(db, second, inquiry)
    assert _titles(db, finance) == [f"{number} waits for Finance approval"]
    _decide(db, finance, inquiry, Decision.REJECT, "Too deep a discount")

    assert _titles(db, partner) == [
        f"{number}: Sales review approved",
        f"{number}: Sales manager discount approval approved",
        f"{number} rejected",
    ]


def test_an_approved_quote_request_gets_a_quote_pdf_for_its_distributor(db: Session) -> None:
    partner = make_partner(db)
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db), "3", discount="5")])
    assert inquiry.quote_pdf is None
    with pytest.raises(NotFound, match="no approved quote"):
        quote_pdf(db, actor=principal_of(partner), inquiry_id=inquiry.id)

    _decide(db, make_staff(db, Capability.SALES_MANAGER), inquiry)

    name, pdf = quote_pdf(db, actor=principal_of(partner), inquiry_id=inquiry.id)
    assert name == f"quote-Q-{inquiry.id:06d}.pdf"
    assert pdf.startswith(b"%PDF")
    with pytest.raises(NotFound):
        quote_pdf(db, actor=principal_of(make_partner(db)), inquiry_id=inquiry.id)


def test_an_approved_plain_inquiry_has_no_quote(db: Session) -> None:
    inquiry = submit_inquiry(
        db, make_partner(db), [line(make_priced_product(db))], kind=InquiryKind.INQUIRY
    )
    _decide(db, make_staff(db, Capability.SALES_MANAGER), inquiry)

    assert inquiry.status == InquiryStatus.APPROVED
    assert inquiry.quote_pdf is None


def test_only_an_inquiry_with_changes_requested_can_be_resubmitted(db: Session) -> None:
    partner = make_partner(db)
    product = make_priced_product(db)
    inquiry = submit_inquiry(db, partner, [line(product)])

    with pytest.raises(IllegalTransition, match="changes requested"):
        resubmit(
            db,
            actor=principal_of(partner),
            inquiry_id=inquiry.id,
            subject="x",
            message="",
            lines=[line(product)],
        )


def test_resubmission_replaces_the_lines_and_recomputes(db: Session) -> None:
    partner = make_partner(db)
    product = make_priced_product(db, price="100")
    inquiry = submit_inquiry(db, partner, [line(product, "10", discount="30")])
    _decide(db, make_staff(db, Capability.SALES_MANAGER), inquiry, Decision.REQUEST_CHANGES, "Less")

    resubmit(
        db,
        actor=principal_of(partner),
        inquiry_id=inquiry.id,
        subject="Revised",
        message="We can take 20",
        lines=[line(product, "20", discount="5")],
    )

    assert (inquiry.subject, inquiry.total_value, inquiry.max_discount_pct) == (
        "Revised",
        Decimal("1900.00"),
        Decimal("5.0000"),
    )
    actions = [event.action for event, _ in history(db, inquiry.id)]
    assert actions == ["submitted", "step_changes_requested", "resubmitted"]


def test_withdrawing_cancels_the_open_steps_and_ends_the_inquiry(db: Session) -> None:
    partner = make_partner(db)
    sales = make_staff(db, Capability.SALES_MANAGER)
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db), discount="15")])

    withdraw(db, actor=principal_of(partner), inquiry_id=inquiry.id)

    assert inquiry.status == InquiryStatus.WITHDRAWN
    statuses = db.scalars(
        select(InquiryApproval.status).where(InquiryApproval.inquiry_id == inquiry.id)
    ).all()
    assert statuses == ["cancelled", "cancelled"]
    assert _titles(db, sales)[-1] == f"Q-{inquiry.id:06d} was withdrawn"
    with pytest.raises(IllegalTransition, match="no longer be withdrawn"):
        withdraw(db, actor=principal_of(partner), inquiry_id=inquiry.id)
