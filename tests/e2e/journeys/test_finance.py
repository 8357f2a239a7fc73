"""Finance on a desktop: the statements waiting, a payment confirmed, a program's periods."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fieldcrm.seed import DEMO_DOMAIN, DEMO_PASSWORD
from tests.e2e.conftest import LiveServer
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e


def test_finance_works_through_what_waits_for_them(laptop: Page, live_server: LiveServer) -> None:
    walk = Walk(laptop, live_server, "finance")
    laptop.goto("/login")
    laptop.get_by_label("E-mail").fill(f"finance@{DEMO_DOMAIN}")
    laptop.get_by_label("Password").fill(DEMO_PASSWORD)
    laptop.get_by_role("button", name="Log in").click()
    expect(laptop).to_have_url(re.compile(r"/staff/partners/finance$"))
    expect(laptop.get_by_role("heading", name="Waiting for you", exact=True)).to_be_visible()
    to_pay = laptop.locator("#waiting-paid")
    expect(to_pay.locator("h2 .count")).not_to_have_text("0")
    walk.step("waiting")

    # Alpen's issued statement is the one the distributor's own browser test downloads
    to_pay.locator("tbody tr").filter(has_not_text="Alpen").locator("a").first.click()
    expect(laptop.locator(".status-issued").first).to_be_visible()
    walk.step("statement-issued")

    laptop.get_by_role("link", name="Mark paid…").click()
    question = laptop.get_by_role("heading", name=re.compile(r"^Mark statement .+ paid\?$"))
    expect(question).to_be_visible()
    walk.step("confirm-paid")
    laptop.get_by_role("link", name="Cancel").click()
    expect(question).to_have_count(0)
    expect(laptop.locator(".status-issued").first).to_be_visible()

    laptop.get_by_role("link", name="Mark paid…").click()
    laptop.get_by_role("button", name="Yes, mark it paid").click()
    expect(laptop.locator(".status-paid").first).to_be_visible()
    expect(laptop.get_by_role("link", name="Mark paid…")).to_have_count(0)
    walk.step("statement-paid")

    laptop.goto("/staff/partners/programs")
    laptop.get_by_role("link", name="Quarterly volume rebate").first.click()
    periods = laptop.locator(".card.period")
    expect(periods.first).to_be_visible()
    walk.step("program")
    # settled quarters followed by a settled one offer no run; the latest settled one only a
    # secondary "Run again"; never a primary "Run settlement" on a settled period
    settled = periods.filter(has_text=re.compile(r"\d+ statements?:"))
    expect(settled.first).to_be_visible()
    for index in range(settled.count()):
        card = settled.nth(index)
        expect(card.get_by_role("button", name=re.compile("Run settlement"))).to_have_count(0)
    expect(periods.get_by_role("button", name=re.compile("Run again"))).to_have_count(1)
    expect(settled.filter(has_text="cannot be run again").first).to_be_visible()
