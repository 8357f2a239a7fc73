"""A distributor imports the downloaded pickups template as it is, then a file with mistakes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e


def test_the_template_imports_and_mistakes_are_listed_by_row_and_column(
    phone: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    walk = Walk(phone, live_server, "distributor-pickups")
    log_in(phone, "distributor", then="/portal/pickups")
    walk.step("pickups")

    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download the CSV template").click()
    template = Path(download.value.path())
    assert "PUMP-100" not in template.read_text()
    phone.get_by_label("CSV file (UTF-8)").set_input_files(template)
    phone.get_by_role("button", name="Import").click()
    # redirected after the POST to the fresh list
    expect(phone).to_have_url(re.compile(r"/portal/pickups\?imported=\d+$"))
    expect(phone.locator("#upload").get_by_role("status")).to_contain_text("Imported")
    expect(phone.locator("#pickups tbody")).to_contain_text("EXAMPLE-")
    walk.step("template-imported")

    header = template.read_text().splitlines()[0]
    wrong = tmp_path / "march.csv"
    wrong.write_text(f"{header}\n2026-02-30,PUMP-100,1 piece,50.00,USD,INV-9,x\n")
    phone.get_by_label("CSV file (UTF-8)").set_input_files(wrong)
    phone.get_by_role("button", name="Import").click()
    errors = phone.locator("#upload-errors")
    expect(errors).to_contain_text("Nothing was imported from march.csv")
    expect(errors).to_contain_text("Row 2, column picked_on: enter a date as year-month-day")
    expect(errors).to_contain_text("Row 2, column product_code: there is no product PUMP-100")
    expect(errors).to_contain_text("Row 2, column quantity: enter a number such as 12 or 12.5")
    expect(errors).to_contain_text("Row 2, column currency: enter the currency we settle in")
    expect(errors).to_contain_text("Row 2, column line_no: enter a whole number from 1")
    # the refusal is a 422 by design; the browser logs it, nothing else may be logged
    live_server.console_errors[:] = [e for e in live_server.console_errors if "422" not in e]
    walk.step("mistakes-listed")
