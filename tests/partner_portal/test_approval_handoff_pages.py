"""The approval page when a step is stuck: who may act, since when, when it escalates, and
only the actions this user may take enabled (sales manager, director, administrator)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import Capability, User
from partner_portal.approval_handoffs import escalate_overdue_steps
from partner_portal.approvals import Decision, decide
from partner_portal.models import Inquiry
from tests.crm.factories import principal_of
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

browser = app_fixtures.browser


class _Buttons(HTMLParser):
    """The page's buttons as (visible text, enabled), in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[tuple[str, bool]] = []
        self._open: tuple[list[str], bool] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "button":
            self._open = ([], "disabled" not in dict(attrs))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[0].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._open is not None:
            self.buttons.append((" ".join("".join(self._open[0]).split()), self._open[1]))
            self._open = None


def _enabled(html: str) -> set[str]:
    parser = _Buttons()
    parser.feed(html)
    return {text for text, enabled in parser.buttons if enabled}


def _disabled(html: str) -> set[str]:
    parser = _Buttons()
    parser.feed(html)
    return {text for text, enabled in parser.buttons if not enabled}


def _stuck_quote(db: Session) -> tuple[Inquiry, User, User, User]:
    """The seed's 15 % quote (over the director's limit) after the only sales manager's review."""
    sales = make_staff(db, Capability.SALES_MANAGER)
    director = make_staff(db, Capability.DIRECTOR)
    admin = make_staff(db)
    product = make_priced_product(db, price="185000")
    inquiry = submit_inquiry(db, make_partner(db), [line(product, "5", discount="15")])
    decide(
        db,
        actor=principal_of(sales),
        inquiry_id=inquiry.id,
        approval_id=pending_approval(db, inquiry).id,
        decision=Decision.APPROVE,
    )
    return inquiry, sales, director, admin


def _text(html: str) -> str:
    """What a person reads: the page without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _step_card(page: str) -> str:
    """The words of the card about the pending step."""
    return _text(page.split('id="decide-head"')[1].split('id="decision-head"')[0])


def test_the_only_sales_manager_of_a_15_percent_quote_is_not_at_a_dead_end(
    browser: Browser, db: Session
) -> None:
    inquiry, sales, _, _ = _stuck_quote(db)
    log_in(browser, sales)

    page = browser.get(f"/staff/approvals/{inquiry.id}").text

    assert "Step 2 of 3: Sales manager discount approval" in page
    assert "3. Director approval" in page
    assert "4. Director approval" not in page
    card = _step_card(page)
    assert "Nobody can decide it now" in card
    assert "Waiting since" in card
    assert re.search(r"\d{2}:\d{2} CES?T", card)  # Berlin time, the installation's zone
    assert "to a director at" in card
    assert {"Approve", "Request changes", "Reject"} <= _disabled(page)
    assert "You decided step 1 of this round" in page
    assert "Delegate" in _enabled(page)
    assert not {b for b in _enabled(page) if b.startswith("Override")}
    queue = browser.get("/staff/approvals").text.split("Waiting for others")[1]
    assert f"/staff/approvals/{inquiry.id}" in queue
    assert "Nobody" in queue
    assert "2. Sales manager discount approval" in queue


def test_the_director_sees_the_step_read_only_until_it_escalates(
    browser: Browser, db: Session
) -> None:
    inquiry, _, director, _ = _stuck_quote(db)
    director.role = Role.DISPATCHER  # a director who is no administrator: no override either
    db.flush()
    log_in(browser, director)

    page = browser.get(f"/staff/approvals/{inquiry.id}").text
    assert _enabled(page) <= {"Log out"}
    assert "is decided by a sales manager" in page
    assert "Only an administrator may override a step." in page

    step = pending_approval(db, inquiry)
    assert step.escalates_at is not None
    escalate_overdue_steps(db, now=step.escalates_at)
    page = browser.get(f"/staff/approvals/{inquiry.id}").text

    assert {"Approve", "Request changes", "Reject"} <= _enabled(page)
    assert (
        "Escalated: step 2, Sales manager discount approval from sales manager to director"
        in _text(page)
    )
    assert "no further: a director is the last level" in page
    mine = browser.get("/staff/approvals").text.split("Waiting for others")[0]
    assert f"/staff/approvals/{inquiry.id}" in mine


def test_the_administrator_overrides_with_a_reason_everyone_reads(
    browser: Browser, db: Session
) -> None:
    inquiry, _, _, admin = _stuck_quote(db)
    token = log_in(browser, admin)
    page = browser.get(f"/staff/approvals/{inquiry.id}").text
    assert {"Override and approve", "Override and request changes", "Override and reject"} <= (
        _enabled(page)
    )
    assert {"Approve", "Delegate"} <= _disabled(page)
    form = {"csrf_token": token, "approval_id": str(pending_approval(db, inquiry).id)}

    refused = browser.post(
        f"/staff/approvals/{inquiry.id}/override",
        data={**form, "decision": "approve", "reason": ""},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422
    assert "Give the reason for the override" in refused.text

    done = browser.post(
        f"/staff/approvals/{inquiry.id}/override",
        data={**form, "decision": "approve", "reason": "Sina is on leave until January."},
    )
    assert done.status_code == 303
    page = _text(browser.get(f"/staff/approvals/{inquiry.id}").text)
    assert "Override reason: Sina is on leave until January." in page
    assert "(administrator’s override)" in page
    assert "Step 3 of 3: Director approval" in page

    browser.post("/logout", data={"csrf_token": token})
    partner = db.get(User, inquiry.created_by)
    assert partner is not None
    log_in(browser, partner)
    portal = _text(browser.get(f"/portal/inquiries/{inquiry.id}").text)
    assert "3. Director approval" in portal
    assert "Sina is on leave" not in portal  # the reason is the staff's, not the distributor's


def test_a_delegated_step_waits_for_the_delegate(browser: Browser, db: Session) -> None:
    inquiry, sales, _, _ = _stuck_quote(db)
    colleague = make_staff(db, role=Role.DISPATCHER)
    token = log_in(browser, sales)
    page = browser.get(f"/staff/approvals/{inquiry.id}").text
    assert f'<option value="{colleague.id}">{colleague.full_name}</option>' in page
    assert f'<option value="{sales.id}">' not in page

    response = browser.post(
        f"/staff/approvals/{inquiry.id}/delegate",
        data={
            "csrf_token": token,
            "approval_id": str(pending_approval(db, inquiry).id),
            "delegate_to": str(colleague.id),
            "note": "Please take this one.",
        },
    )
    assert response.status_code == 303
    browser.post("/logout", data={"csrf_token": token})
    log_in(browser, colleague)

    mine = browser.get("/staff/approvals").text.split("Waiting for others")[0]
    assert f"/staff/approvals/{inquiry.id}" in mine
    page = browser.get(f"/staff/approvals/{inquiry.id}").text
    card = _step_card(page)
    assert f"Delegated to {colleague.full_name} by {sales.full_name}" in card
    assert f"Who may act now {colleague.full_name}" in card
    assert f"Delegated: step 2, Sales manager discount approval to {colleague.full_name}" in (
        _text(page)
    )
    assert {"Approve", "Request changes", "Reject"} <= _enabled(page)
