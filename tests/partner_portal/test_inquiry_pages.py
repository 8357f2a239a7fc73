"""The inquiry pages: a distributor asks, staff decide in the queue, the quote downloads."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Capability
from partner_portal.models import ApprovalStep, Inquiry
from tests.fieldcrm import conftest as app_fixtures
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.inquiry_factories import (
    line,
    log_in,
    make_partner,
    make_priced_product,
    make_staff,
    pending_approval,
    submit_inquiry,
)

browser = app_fixtures.browser  # the whole-app client fixture, as a package conftest would share
HTMX = {"HX-Request": "true"}


def test_a_distributor_submits_a_quote_request_from_the_form(browser: Browser, db: Session) -> None:
    chiller = make_priced_product(db, price="1000")
    unpriced = make_priced_product(db, price=None)
    token = log_in(browser, make_partner(db))

    form = browser.get("/portal/inquiries/new?kind=quote_request")
    assert form.status_code == 200
    assert re.search(rf'<option value="{unpriced.id}"[^>]* disabled', form.text)
    assert "€1,000.00" in form.text
    assert 'name="product_model_id"' in browser.get("/portal/inquiries/line", headers=HTMX).text

    response = browser.post(
        "/portal/inquiries",
        data={
            "csrf_token": token,
            "kind": "quote_request",
            "subject": "Hospital chillers",
            "message": "Delivery in March",
            "product_model_id": [str(chiller.id), ""],
            "quantity": ["3", "1"],
            "requested_price": ["", ""],
            "requested_discount_pct": ["12,5", ""],
        },
        headers=HTMX,
    )

    assert response.status_code == 200, response.text
    inquiry = db.scalars(select(Inquiry).where(Inquiry.subject == "Hospital chillers")).one()
    assert response.headers["HX-Redirect"] == f"/portal/inquiries/{inquiry.id}"
    page = browser.get(f"/portal/inquiries/{inquiry.id}")
    assert f"Q-{inquiry.id:06d}" in page.text
    assert "€2,625.00" in page.text
    assert "Sales manager discount approval" in page.text
    assert "Hospital chillers" in browser.get("/portal/inquiries").text


def test_a_refused_form_says_what_to_fix(browser: Browser, db: Session) -> None:
    unpriced = make_priced_product(db, price=None)
    token = log_in(browser, make_partner(db))

    response = browser.post(
        "/portal/inquiries",
        data={
            "csrf_token": token,
            "kind": "inquiry",
            "subject": "Price?",
            "product_model_id": str(unpriced.id),
            "quantity": "1",
        },
        headers=HTMX,
    )

    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#flash"
    assert "has no list price yet" in response.text


def test_staff_decide_from_the_queue_and_the_distributor_downloads_the_quote(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    sales = make_staff(db, Capability.SALES_MANAGER)
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db), "2")])
    token = log_in(browser, sales)

    queue = browser.get("/staff/approvals")
    mine = queue.text.split("Waiting for others")[0]
    assert f"/staff/approvals/{inquiry.id}" in mine
    detail = browser.get(f"/staff/approvals/{inquiry.id}")
    assert 'value="approve"' in detail.text

    response = browser.post(
        f"/staff/approvals/{inquiry.id}/decide",
        data={
            "csrf_token": token,
            "approval_id": str(pending_approval(db, inquiry).id),
            "decision": "approve",
            "comment": "Fine",
        },
    )
    assert response.status_code == 303
    assert inquiry.status == "approved"

    browser.post("/logout", data={"csrf_token": token})
    log_in(browser, partner)
    page = browser.get(f"/portal/inquiries/{inquiry.id}")
    assert "Download the quote" in page.text
    pdf = browser.get(f"/portal/inquiries/{inquiry.id}/quote.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_step_for_another_capability_is_shown_read_only(browser: Browser, db: Session) -> None:
    inquiry = submit_inquiry(db, make_partner(db), [line(make_priced_product(db))])
    log_in(browser, make_staff(db, Capability.FINANCE))

    others = browser.get("/staff/approvals").text.split("Waiting for others")[1]
    assert f"/staff/approvals/{inquiry.id}" in others
    detail = browser.get(f"/staff/approvals/{inquiry.id}")
    assert 'value="approve">Approve<' not in detail.text
    assert 'value="approve" disabled>Approve<' in detail.text
    assert "decided by a sales manager" in detail.text


def test_changes_requested_then_edited_and_resubmitted_in_the_portal(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    product = make_priced_product(db, price="100")
    inquiry = submit_inquiry(db, partner, [line(product, "1", discount="30")])
    sales = make_staff(db, Capability.SALES_MANAGER)
    token = log_in(browser, sales)
    browser.post(
        f"/staff/approvals/{inquiry.id}/decide",
        data={
            "csrf_token": token,
            "approval_id": str(pending_approval(db, inquiry).id),
            "decision": "request_changes",
            "comment": "At most 10 %",
        },
    )
    browser.post("/logout", data={"csrf_token": token})
    token = log_in(browser, partner)

    assert "At most 10 %" in browser.get(f"/portal/inquiries/{inquiry.id}").text
    edit = browser.get(f"/portal/inquiries/{inquiry.id}/edit")
    assert edit.status_code == 200
    assert 'value="30"' in edit.text
    response = browser.post(
        f"/portal/inquiries/{inquiry.id}/resubmit",
        data={
            "csrf_token": token,
            "subject": "Revised",
            "product_model_id": str(product.id),
            "quantity": "1",
            "requested_discount_pct": "10",
        },
    )

    assert response.status_code == 303
    assert (inquiry.round, inquiry.status) == (2, "in_approval")


def test_withdraw_from_the_detail_page(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db))])
    token = log_in(browser, partner)

    response = browser.post(
        f"/portal/inquiries/{inquiry.id}/withdraw", data={"csrf_token": token}, headers=HTMX
    )

    assert response.headers["HX-Redirect"] == f"/portal/inquiries/{inquiry.id}"
    assert inquiry.status == "withdrawn"


@pytest.mark.parametrize("role_capability", [Capability.FINANCE])
def test_the_workflow_page_lists_the_steps_and_admins_edit_them(
    browser: Browser, db: Session, role_capability: Capability
) -> None:
    token = log_in(browser, make_staff(db, role_capability))
    page = browser.get("/staff/approvals/workflow")
    assert page.status_code == 200
    for name in ("Sales review", "Finance approval", "Director approval"):
        assert name in page.text
    step = db.scalars(select(ApprovalStep).where(ApprovalStep.name == "Director approval")).one()

    response = browser.post(
        f"/staff/approvals/workflow/steps/{step.id}",
        data={
            "csrf_token": token,
            "name": "Director approval",
            "approver_capability": "director",
            "condition_field": "total_value",
            "threshold": "75000",
        },
    )

    assert response.status_code == 303
    assert step.threshold == Decimal(75000)
    refused = browser.post(
        f"/staff/approvals/workflow/steps/{step.id}",
        data={
            "csrf_token": token,
            "name": "Director approval",
            "approver_capability": "director",
            "condition_field": "always",
            "threshold": "5",
        },
    )
    assert refused.status_code == 422
