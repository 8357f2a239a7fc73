"""A stranger scans a report's QR code on a phone and checks the file they were given."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from ledger.models import AnchorRequest
from service_orders.models import ServiceCertificate
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, log_in

pytestmark = pytest.mark.e2e

SHOTS = RESULTS / "verify"
PHONE_WIDTH = 390
DESKTOP_WIDTH = 1366


@dataclass(frozen=True)
class Report:
    certificate_id: str
    verify_id: str
    pdf: Path
    tampered: Path


@pytest.fixture
def report(live_server: LiveServer, tmp_path: Path) -> Iterator[Report]:
    """An anchored service report of the demo seed, its PDF and a copy with one byte changed."""
    live_server.anchor_waiting_documents()
    with live_server.session() as session:
        certificate, verify_id = session.execute(
            select(ServiceCertificate, AnchorRequest.id)
            .join(AnchorRequest, AnchorRequest.id == ServiceCertificate.anchor_request_id)
            .where(AnchorRequest.status == "anchored")
            .order_by(ServiceCertificate.issued_at)
            .limit(1)
        ).one()
        pdf = tmp_path / "service-report.pdf"
        pdf.write_bytes(certificate.pdf)
        tampered = tmp_path / "service-report-edited.pdf"
        tampered.write_bytes(certificate.pdf.replace(b"Parts", b"Parte", 1) + b"\n")
        yield Report(str(certificate.id), str(verify_id), pdf, tampered)


def _look(page: Page, name: str) -> None:
    """Nothing wider than the screen, at the phone's width and the desktop's; keep a picture."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        page.set_viewport_size({"width": width, "height": 844 if width == PHONE_WIDTH else 900})
        shot = SHOTS / f"{name}-{width}.png"
        # caret="initial": hiding it leaves style="" on inputs, which htmx's settle then
        # copies, and the CSP (style-src 'self') reports that as an error
        page.screenshot(path=str(shot), full_page=True, animations="disabled", caret="initial")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name}: {scroll_width} px wide at {width} px ({shot})"
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})


def _besides_refusals(errors: list[str]) -> list[str]:
    """Console errors other than the browser's and htmx's notes of the expected 422 answers."""
    return [e for e in errors if "status of 422" not in e and "Error Code 422 from" not in e]


def test_the_qr_link_says_what_to_do_and_a_tap_checks_the_file(
    phone: Page, live_server: LiveServer, report: Report
) -> None:
    phone.goto(f"/verify/{report.verify_id}")
    main = phone.locator("main")
    # before a file was checked nothing claims the reader's copy is valid
    expect(main).to_contain_text("Choose the file you received and press Check.")
    expect(main).to_contain_text("registered on the public ledger")
    expect(main).not_to_contain_text("Valid")
    expect(phone.locator(".verdict")).to_have_count(0)
    _look(phone, "01-qr-link")

    phone.get_by_label("Document file").set_input_files(report.tampered)
    phone.get_by_role("button", name="Check").tap()
    expect(phone.locator(".verdict")).to_contain_text(
        "Does not match: this file is not the service certificate of this link"
    )
    expect(phone.locator(".verdict")).not_to_contain_text("never registered")
    _look(phone, "02-tampered")

    phone.get_by_label("Document file").set_input_files(report.pdf)
    phone.get_by_role("button", name="Check").tap()
    expect(phone.locator(".verdict")).to_contain_text(
        "Valid: this is the service certificate we issued, unaltered"
    )
    _look(phone, "03-valid")
    assert live_server.console_errors == []


def test_checking_without_a_file_says_so_next_to_the_field(
    phone: Page, live_server: LiveServer, report: Report
) -> None:
    phone.goto(f"/verify/{report.verify_id}")
    phone.get_by_role("button", name="Check").tap()
    error = phone.locator("#document-error")
    expect(error).to_have_text("Choose the file you want to check.")
    expect(phone.get_by_label("Document file")).to_have_attribute(
        "aria-describedby", "document-error"
    )
    expect(phone.get_by_role("heading", name="Not found")).to_have_count(0)
    _look(phone, "04-no-file")

    phone.goto("/verify")
    phone.get_by_role("button", name="Check").tap()
    expect(phone.locator("#document-error")).to_contain_text("Choose the file")
    _look(phone, "05-no-file-general")
    assert _besides_refusals(live_server.console_errors) == []


def test_the_documentation_it_mentions_is_a_page(
    phone: Page, live_server: LiveServer, report: Report
) -> None:
    phone.goto(f"/verify/{report.verify_id}")
    phone.get_by_role("link", name="how to check it yourself").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("How checking a document works")
    expect(phone.locator("main")).to_contain_text("receipt")
    _look(phone, "06-how-it-works")
    assert live_server.console_errors == []


def test_the_reports_own_page_fits_a_phone_and_keeps_a_customers_navigation(
    phone: Page, live_server: LiveServer, report: Report
) -> None:
    phone.goto(f"/certificates/{report.certificate_id}")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Service report")
    expect(phone.get_by_role("navigation", name="Main")).to_have_text("Login")
    _look(phone, "07-certificate-anonymous")
    phone.get_by_label("Document file").set_input_files(report.tampered)
    phone.get_by_role("button", name="Check").tap()
    expect(phone.locator("#verify .verdict")).to_contain_text(
        "Does not match: this file is not the service certificate of this link"
    )
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Service report")

    log_in(phone, "customer", then="/customer")
    phone.goto(f"/certificates/{report.certificate_id}")
    nav = phone.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My devices")).to_be_visible()
    expect(nav.get_by_role("link", name="Login")).to_have_count(0)
    _look(phone, "08-certificate-customer")
    assert live_server.console_errors == []


def test_a_phone_without_javascript_checks_the_file_too(
    chromium: Browser, live_server: LiveServer, report: Report
) -> None:
    # a file form sent by the browser itself (no htmx header): the token is its first field
    context = chromium.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto(f"/verify/{report.verify_id}")
        page.get_by_label("Document file").set_input_files(report.pdf)
        page.get_by_role("button", name="Check").click()
        expect(page.locator(".verdict")).to_contain_text(
            "Valid: this is the service certificate we issued, unaltered"
        )
        expect(page.locator("body")).not_to_contain_text("This form has expired")
    finally:
        context.close()
