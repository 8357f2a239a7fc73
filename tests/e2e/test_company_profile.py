"""An administrator edits the company profile in a real browser: a wrong VAT id is refused
next to its field with what was typed kept, then the profile with its logo is saved; pictures
at 390 and 1366 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.crm.company_factories import logo_png
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e


def test_an_administrator_corrects_a_wrong_vat_id_and_saves_the_profile_with_a_logo(
    laptop: Page, live_server: LiveServer
) -> None:
    page = laptop
    walk = Walk(page, live_server, "admin-company")
    log_in(page, "admin", then="/staff")
    page.get_by_role("link", name="Company").click()
    expect(page).to_have_url(re.compile(r"/staff/company$"))
    expect(page.get_by_role("heading", name="Company profile")).to_be_visible()
    # the demo's profile, as the seed set it before issuing the demo's documents
    expect(page.get_by_label("Legal name")).to_have_value("Nordwind Machinery GmbH")
    expect(page.get_by_label("VAT id")).to_have_value("DE284913570")
    expect(page.get_by_role("img", name="The current logo")).to_be_visible()
    walk.step("company-profile")

    page.get_by_label("Legal name").fill("Nordwind Machinery GmbH")
    page.get_by_label("Address").fill("Landsberger Straße 302\n80687 München\nGermany")
    page.get_by_label("VAT id").fill("DE 2849 135")
    page.get_by_label("Quotes are valid for (days)").fill("45")
    page.get_by_role("button", name="Save the profile").click()
    vat_error = page.locator("#vat_id-error")
    expect(vat_error).to_contain_text("9 digits in Germany")
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.get_by_label("VAT id")).to_have_value("DE 2849 135")
    expect(page.get_by_label("Legal name")).to_have_value("Nordwind Machinery GmbH")
    expect(page.get_by_label("Quotes are valid for (days)")).to_have_value("45")
    walk.step("wrong-vat-id")

    page.get_by_label("VAT id").fill("DE284913570")
    page.locator("#logo").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": logo_png(480, 160)}]
    )
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status")).to_contain_text("Company profile saved")
    expect(page.get_by_label("VAT id")).to_have_value("DE284913570")
    preview = page.get_by_role("img", name="The current logo")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.naturalWidth") == 480
    walk.step("saved")
