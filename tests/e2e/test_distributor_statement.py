"""A distributor downloads an issued rebate statement and checks it on the public verify page."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in, save_screenshot

pytestmark = pytest.mark.e2e

VALID = "Valid: this is the rebate statement we issued, unaltered"


def test_distributor_downloads_a_statement_and_verifies_it(
    laptop: Page, live_server: LiveServer
) -> None:
    # the demo seed issued statements; the worker's ledger job would anchor them
    live_server.anchor_waiting_documents()
    log_in(laptop, "distributor", then="/portal")
    save_screenshot(laptop, "distributor")

    laptop.goto("/portal/statements")
    expect(laptop.get_by_role("heading", name="Rebate statements")).to_be_visible()
    issued = laptop.locator("table.data tbody tr").filter(has=laptop.locator(".status-issued"))
    expect(issued.first).to_be_visible()
    issued.first.get_by_role("link").click()
    expect(laptop.get_by_role("heading", name="Rebate statement")).to_be_visible()

    with laptop.expect_download() as download_info:
        laptop.get_by_role("link", name="Download PDF").click()
    pdf = Path(download_info.value.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    expect(laptop.locator("main")).to_contain_text(digest)  # the hash the page says is anchored

    # the verify link (the QR code's target) and an upload of the file both say valid
    laptop.get_by_role("link", name="Verify this statement").click()
    expect(laptop.locator(".verify-record")).to_contain_text("registered on the public ledger")
    laptop.get_by_label("Document file").set_input_files(pdf)
    laptop.get_by_role("button", name="Check").click()
    expect(laptop.locator(".verdict")).to_contain_text(VALID)
    laptop.goto("/verify")
    laptop.get_by_label("Document file").set_input_files(pdf)
    laptop.get_by_role("button", name="Check").click()
    expect(laptop.locator(".verdict")).to_contain_text(VALID)
    expect(laptop.locator(".verdict")).to_contain_text(digest)
    assert live_server.console_errors == []
