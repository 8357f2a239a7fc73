"""Who may see and change an inquiry: another distributor gets 404, partners never decide."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import Capability, OrgKind
from partner_portal.approvals import Decision
from partner_portal.inquiries import decide_inquiry
from partner_portal.models import ApprovalStep, Inquiry, InquiryApproval
from tests.crm.factories import make_org, make_user, principal_of
from tests.fieldcrm import conftest as app_fixtures
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.inquiry_factories import (
    line,
    log_in,
    make_partner,
    make_priced_product,
    make_staff,
    submit_inquiry,
)

browser = app_fixtures.browser  # the whole-app client fixture, as a package conftest would share


def _approved_quote_with_changes_pending(db: Session) -> tuple[Inquiry, Inquiry]:
    """Distributor A's approved quote request, and A's inquiry with changes requested."""
    owner = make_partner(db)
    product = make_priced_product(db)
    approved = submit_inquiry(db, owner, [line(product)])
    changes = submit_inquiry(db, owner, [line(product)])
    for inquiry, decision in ((approved, Decision.APPROVE), (changes, Decision.REQUEST_CHANGES)):
        pending = db.scalars(
            select(InquiryApproval).where(InquiryApproval.inquiry_id == inquiry.id)
        ).one()
        decide_inquiry(
            db,
            actor=principal_of(make_staff(db, Capability.SALES_MANAGER)),
            inquiry_id=inquiry.id,
            approval_id=pending.id,
            decision=decision,
            comment="please change",
        )
    return approved, changes


def test_another_distributor_gets_404_for_every_page_and_action(
    browser: Browser, db: Session
) -> None:
    approved, changes = _approved_quote_with_changes_pending(db)
    assert approved.quote_pdf is not None
    token = log_in(browser, make_partner(db))

    for path in (
        f"/portal/inquiries/{approved.id}",
        f"/portal/inquiries/{approved.id}/quote.pdf",
        f"/portal/inquiries/{changes.id}/edit",
    ):
        assert browser.get(path).status_code == 404, path
    product = make_priced_product(db)
    resubmitted = browser.post(
        f"/portal/inquiries/{changes.id}/resubmit",
        data={
            "csrf_token": token,
            "subject": "mine now",
            "product_model_id": str(product.id),
            "quantity": "1",
        },
    )
    withdrawn = browser.post(f"/portal/inquiries/{changes.id}/withdraw", data={"csrf_token": token})

    assert (resubmitted.status_code, withdrawn.status_code) == (404, 404)
    assert (changes.status, changes.subject, changes.round) == (
        "changes_requested",
        "Chillers for the hospital",
        1,
    )
    assert f"/portal/inquiries/{approved.id}" not in browser.get("/portal/inquiries").text


def test_a_partner_cannot_open_the_queue_or_decide(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db))])
    approval_id = db.scalars(
        select(InquiryApproval.id).where(InquiryApproval.inquiry_id == inquiry.id)
    ).one()
    token = log_in(browser, partner)

    assert browser.get("/staff/approvals").status_code == 403
    assert browser.get(f"/staff/approvals/{inquiry.id}").status_code == 403
    response = browser.post(
        f"/staff/approvals/{inquiry.id}/decide",
        data={"csrf_token": token, "approval_id": str(approval_id), "decision": "approve"},
    )

    assert response.status_code == 403
    assert inquiry.status == "in_approval"


def test_staff_without_the_capability_are_refused_a_decision(browser: Browser, db: Session) -> None:
    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db))])
    approval_id = db.scalars(
        select(InquiryApproval.id).where(InquiryApproval.inquiry_id == inquiry.id)
    ).one()
    token = log_in(browser, make_staff(db, role=Role.ADMIN))

    response = browser.post(
        f"/staff/approvals/{inquiry.id}/decide",
        data={"csrf_token": token, "approval_id": str(approval_id), "decision": "approve"},
    )

    assert response.status_code == 403
    assert "decided by a sales manager" in response.text


def test_a_decision_without_the_csrf_token_is_refused(browser: Browser, db: Session) -> None:
    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db))])
    log_in(browser, make_staff(db, Capability.SALES_MANAGER))

    response = browser.post(
        f"/staff/approvals/{inquiry.id}/decide", data={"approval_id": "1", "decision": "approve"}
    )

    assert response.status_code == 403
    assert inquiry.status == "in_approval"


def test_only_administrators_edit_the_workflow(browser: Browser, db: Session) -> None:
    dispatcher = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.DISPATCHER)
    token = log_in(browser, dispatcher)
    page = browser.get("/staff/approvals/workflow")
    assert page.status_code == 200
    assert "Save step" not in page.text
    step = db.scalars(select(ApprovalStep).where(ApprovalStep.position == 1)).one()

    response = browser.post(
        f"/staff/approvals/workflow/steps/{step.id}",
        data={
            "csrf_token": token,
            "name": "Nobody",
            "approver_capability": "finance",
            "condition_field": "always",
        },
    )

    assert response.status_code == 403
    assert step.name == "Sales review"


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.DISPATCHER])
def test_the_portal_pages_are_for_distributors_only(
    browser: Browser, db: Session, role: Role
) -> None:
    kind = OrgKind.CUSTOMER if role == Role.CUSTOMER else OrgKind.MANUFACTURER
    log_in(browser, make_user(db, org=make_org(db, kind=kind), role=role))

    assert browser.get("/portal/inquiries").status_code == 403
    assert browser.get("/portal/inquiries/new").status_code == 403
