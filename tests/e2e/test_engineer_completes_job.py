"""An engineer takes an offered job on the phone and completes it with the customer's signature."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from service_orders.dispatch import dispatch
from service_orders.models import ServiceCertificate, WorkOrder, WorkOrderType
from service_orders.report_issuing import issue_missing_certificates
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import after_swap, engineer_of, log_in, open_work_order, save_screenshot

pytestmark = pytest.mark.e2e

PNG_DATA_URL = re.compile(r"^data:image/png;base64,")
CHECKLIST = ("Check hydraulic hoses", "Replace return filter", "Test run 10 minutes")


@dataclass(frozen=True)
class Offered:
    id: int
    heading: str


def _offered_to_engineer(live_server: LiveServer) -> Offered:
    """A work order the dispatcher opens at Site Riem; dispatch offers it to engineer@."""
    with live_server.session() as session:
        order = open_work_order(
            session,
            site="Site Riem",
            title="Hydraulic pressure drops under load",
            kind=WorkOrderType.CORRECTIVE,
            priority=2,
            checklist=CHECKLIST,
        )
        decision = dispatch(session, work_order_id=order.id)
        # engineer@ is based in central Munich, the nearest to Riem with every skill
        assert decision.engineer_id == engineer_of(session, "engineer").id
        session.commit()
        return Offered(order.id, f"{order.number} · {order.title}")


def _draw_signature(page: Page) -> None:
    """A scribble with the mouse across the signature canvas."""
    canvas = page.locator("canvas.signature")
    expect(canvas).to_have_attribute("data-ready", "1")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * step), y + h * (0.3 + 0.4 * (step % 2)), steps=3)
    page.mouse.up()
    expect(page.locator("#signature")).to_have_value(PNG_DATA_URL)


def test_engineer_accepts_works_and_completes_with_signature(
    phone: Page, live_server: LiveServer
) -> None:
    order = _offered_to_engineer(live_server)
    log_in(phone, "engineer", then="/engineer")
    card = phone.locator(f"#job-{order.id}")
    expect(card).to_contain_text("new offer")
    card.get_by_role("button", name="Accept").click()
    expect(card).to_contain_text("Accepted")
    card.get_by_role("button", name="On my way").click()
    expect(card).to_contain_text("On the way")
    card.get_by_role("button", name="Arrived on site").click()
    expect(card).to_contain_text("On site")

    card.get_by_role("link", name="Open job").click()
    expect(phone.get_by_role("heading", name=order.heading)).to_be_visible()
    for label in CHECKLIST:
        after_swap(phone, "#job", phone.get_by_label(label).check)
        expect(phone.get_by_label(label)).to_be_checked()  # as the server stored it
    phone.get_by_label("Customer name").fill("Ida Isar")
    _draw_signature(phone)
    save_screenshot(phone, "engineer")
    phone.get_by_role("button", name="Complete job").click()

    expect(phone.get_by_role("heading", name="Completed")).to_be_visible()
    expect(phone.locator("#job")).to_contain_text("signed by Ida Isar")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert live_server.console_errors == []
    certificate_id = _completed_with_certificate(live_server, order.id)

    # the worker's ledger job anchors it; the report's public page then verifies it
    assert live_server.anchor_waiting_documents() >= 1
    phone.goto(f"/certificates/{certificate_id}")
    expect(phone.locator(".verdict")).to_contain_text("Registered on the public ledger on")
    assert live_server.console_errors == []


def _completed_with_certificate(live_server: LiveServer, work_order_id: int) -> uuid.UUID:
    """Completed and signed in the database; the worker's certificate job then issues a PDF."""
    with live_server.session() as session:
        done = session.get(WorkOrder, work_order_id)
        assert done is not None
        assert done.status == "completed"
        assert [item["done"] for item in done.checklist] == [True, True, True]
        assert done.signature_png is not None
        assert done.signature_png.startswith(b"\x89PNG")
        issue_missing_certificates(session, public_url=live_server.url)
        session.commit()
        certificate = session.scalars(
            select(ServiceCertificate).where(ServiceCertificate.work_order_id == work_order_id)
        ).one()
        assert certificate.pdf.startswith(b"%PDF")
        return certificate.id
