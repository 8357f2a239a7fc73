"""Sales, the director and the administrator take the demo's 15 % quote to the end: the review,
the second sales step delegated, an override with its reason, the director's approval."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e

QUOTE = "Five EX-220 for the Isar Bau fleet renewal"


def _card(page: Page, heading: str) -> Locator:
    return page.locator("section.card").filter(has=page.get_by_role("heading", name=heading))


def _switch_to(page: Page, local: str, then: str) -> None:
    page.context.clear_cookies()
    log_in(page, local, then=then)


def test_the_seeded_15_percent_quote_reaches_its_quote(
    laptop: Page, live_server: LiveServer
) -> None:
    walk = Walk(laptop, live_server, "sales-and-director")
    log_in(laptop, "sales", then="/staff/approvals")
    mine = _card(laptop, "Waiting for you")
    expect(mine.get_by_role("row").filter(has_text=QUOTE)).to_contain_text("1. Sales review")
    walk.step("queue")

    mine.get_by_role("link", name=re.compile(r"^Q-")).first.click()
    expect(laptop.get_by_role("heading", name="Step 1 of 3: Sales review")).to_be_visible()
    decide = _card(laptop, "Decide")
    decide.get_by_label(re.compile("^Comment")).fill("Fleet renewal, fine from sales.")
    decide.get_by_role("button", name="Approve").click()

    step = laptop.get_by_role("heading", name="Step 2 of 3: Sales manager discount approval")
    expect(step).to_be_visible()
    facts = laptop.locator(".step-facts")
    expect(facts).to_contain_text("Sina Saleslead")
    expect(facts).to_contain_text(
        re.compile(r"to a director at \d{1,2} \w{3} \d{4}, \d\d:\d\d CES?T")  # Berlin time
    )
    decide = _card(laptop, "Decide")
    expect(decide.get_by_role("button", name="Approve")).to_be_disabled()
    expect(decide).to_contain_text("You decided step 1 of this round")
    expect(_card(laptop, "Administrator’s override").get_by_role("button").first).to_be_disabled()
    walk.step("second-step-for-someone-else")

    delegate = _card(laptop, "Delegate")
    delegate.get_by_label(re.compile("^Who decides it instead")).select_option(
        label="Dana Dispatcher"
    )
    delegate.get_by_label(re.compile("^Note")).fill("Sina is away; please take this one.")
    delegate.get_by_role("button", name="Delegate").click()
    facts = laptop.locator(".step-facts")
    expect(facts.locator("dt:text-is('Delegated to') + dd")).to_contain_text("Dana Dispatcher")
    expect(laptop.locator(".inquiry-history")).to_contain_text(
        "Delegated: step 2, Sales manager discount approval to Dana Dispatcher"
    )
    walk.step("delegated")
    detail = laptop.url

    _switch_to(laptop, "director", then="/staff/approvals")
    laptop.goto(detail)
    decide = _card(laptop, "Decide")
    expect(decide.get_by_role("button", name="Approve")).to_be_disabled()
    expect(decide).to_contain_text("is decided by a sales manager")
    walk.step("director-waits")

    _switch_to(laptop, "admin", then="/staff/approvals")
    laptop.goto(detail)
    override = _card(laptop, "Administrator’s override")
    override.get_by_label(re.compile("^Reason")).fill("Dana is off sick; the tender closes today.")
    override.get_by_role("button", name="Override and approve").click()
    expect(laptop.get_by_role("heading", name="Step 3 of 3: Director approval")).to_be_visible()
    expect(laptop.locator(".inquiry-history")).to_contain_text(
        "Override reason: Dana is off sick; the tender closes today."
    )
    walk.step("overridden")

    _switch_to(laptop, "director", then="/staff/approvals")
    expect(_card(laptop, "Waiting for you")).to_contain_text("3. Director approval")
    laptop.goto(detail)
    decide = _card(laptop, "Decide")
    decide.get_by_role("button", name="Approve").click()
    expect(laptop.get_by_role("link", name="Quote PDF")).to_be_visible()
    expect(laptop.locator(".facts").first).to_contain_text("approved")
    walk.step("approved")
