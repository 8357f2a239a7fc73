"""A distributor's admin and a distributor's user in the portal, on a desktop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import Walk, expect_field_error

pytestmark = pytest.mark.e2e

BAD_CSV = (
    "picked_on,product_code,quantity,net_value,currency,document_number,line_no\n"
    "2026-11-02,NO-SUCH-PRODUCT,two,100.00,USD,R-1,1\n"
)


def test_distributor_admin_uploads_pickups_and_adds_a_colleague(
    laptop: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    walk = Walk(laptop, live_server, "distributor-admin")
    log_in(laptop, "distributor4", then="/portal")
    expect(laptop.locator("main h1")).to_be_visible()
    walk.step("dashboard")

    laptop.goto("/portal/pickups")
    with laptop.expect_download() as download:
        laptop.get_by_role("link", name="Download the CSV template").click()
    template = tmp_path / "template.csv"
    download.value.save_as(template)
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    laptop.get_by_label("CSV file (UTF-8)").set_input_files(bad)
    laptop.get_by_role("button", name="Import").click()
    errors = laptop.locator(".row-errors li")
    expect(errors.first).to_be_visible()
    text = " ".join(errors.all_inner_texts())
    for column in ("product_code", "quantity", "currency"):
        assert f"Row 2, column {column}" in text, text
    walk.step("pickups-refused")

    laptop.get_by_label("CSV file (UTF-8)").set_input_files(template)
    laptop.get_by_role("button", name="Import").click()
    expect(laptop.locator("#upload")).to_contain_text(re.compile(r"Imported \d+ lines?"))
    walk.step("pickups-imported")

    laptop.goto("/portal/users")
    laptop.get_by_label("Full name").fill("Lena Lech")
    laptop.get_by_label("E-mail").fill("not-an-address")
    laptop.get_by_role("button", name="Send invitation").click()
    expect_field_error(laptop, "E-mail", "e-mail address")
    expect(laptop.get_by_label("Full name")).to_have_value("Lena Lech")
    walk.step("colleague-refused")

    laptop.get_by_label("E-mail").fill("lena.lech@lech-distribution.example")
    laptop.get_by_role("button", name="Send invitation").click()
    expect(laptop.locator("main")).to_contain_text("lena.lech@lech-distribution.example")
    walk.step("colleague-added")

    laptop.goto("/portal/statements")
    walk.step("statements")


def test_distributor_user_reads_documents_and_asks_for_a_quote(
    laptop: Page, live_server: LiveServer
) -> None:
    walk = Walk(laptop, live_server, "distributor-user")
    log_in(laptop, "sales4.partner", then="/portal")
    walk.step("dashboard")
    for path in ("/portal/documents", "/portal/training", "/portal/inquiries"):
        laptop.goto(path)
        expect(laptop.locator("main h1")).to_be_visible()
        walk.step(path.rsplit("/", 1)[-1])
    laptop.goto("/portal/inquiries/new")
    expect(laptop.locator("main h1")).to_be_visible()
    walk.step("inquiry-form")
    # a user who is no partner admin sees who manages the users instead of the form
    laptop.goto("/portal/users")
    expect(laptop.locator("main")).to_contain_text("A partner admin of your organisation")
    expect(laptop.get_by_role("button", name="Send invitation")).to_have_count(0)
    walk.step("users")
