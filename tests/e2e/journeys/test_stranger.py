"""Anyone holding a printed report scans its QR code and checks it on the phone, no login."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ledger.models import AnchorRequest
from tests.e2e.conftest import LiveServer
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e


def test_stranger_opens_the_verify_page_and_checks_nothing_yet(
    phone: Page, live_server: LiveServer
) -> None:
    live_server.anchor_waiting_documents()
    with live_server.session() as session:
        assert session.scalars(select(AnchorRequest)).first() is not None
    walk = Walk(phone, live_server, "stranger")
    phone.goto("/verify")
    expect(phone.locator("main h1")).to_be_visible()
    expect(phone.locator("main")).not_to_contain_text("Valid")  # nothing was checked yet
    walk.step("verify")

    check = phone.get_by_role("button", name="Check")
    check.tap()  # with no file: an error next to the file field, not a "Not found" page
    expect(phone.locator("main h1")).not_to_have_text("Not found")
    walk.step("verify-without-file")
