"""The channel manager (an administrator) looks after the partners on a desktop: the overview,
a distributor, the rebate programs, the tiers, the documents and contracts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e


def test_channel_manager_walks_the_partner_pages(laptop: Page, live_server: LiveServer) -> None:
    walk = Walk(laptop, live_server, "channel-manager")
    log_in(laptop, "admin", then="/staff/partners")
    expect(laptop.get_by_role("heading", name="Partners", exact=True)).to_be_visible()
    walk.step("partners")

    laptop.get_by_role("link", name="Details").first.click()
    expect(laptop.locator("main h1")).to_be_visible()
    walk.step("distributor")

    laptop.goto("/staff/partners/programs")
    expect(laptop.get_by_role("heading", name="Rebate programs")).to_be_visible()
    expect(laptop.get_by_label("Growth against the prior year")).to_contain_text(
        "Rebate on the growth over last year"
    )
    walk.step("programs")
    laptop.locator("main table a").first.click()
    expect(laptop.locator("main h1")).to_be_visible()
    walk.step("program")

    for path, heading in (
        ("/staff/partners/tiers", "Partner tiers"),
        ("/staff/partners/documents", "Partner documents"),
        ("/staff/partners/contracts", None),
        ("/staff/partners/training", None),
        ("/staff/satisfaction", None),
        ("/staff/dead-letters", "Dead letters"),
    ):
        laptop.goto(path)
        if heading:
            expect(laptop.locator("main h1")).to_contain_text(heading)
        walk.step(path.rsplit("/", 1)[-1])
