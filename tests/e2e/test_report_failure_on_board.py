"""A service report the worker could not make shows on the dispatch board in words, with when
it is tried again; an administrator retries it once the cause is put right (issue 13,
finding 2)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import select

from crm.service import principal_of
from service_orders.dispatch import assign_by_hand
from service_orders.models import (
    CertificateFailure,
    ServiceCertificate,
    WorkOrder,
    WorkOrderType,
)
from service_orders.report_issuing import issue_missing_certificates
from service_orders.workorders import complete_work_order, transition
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, demo_user, engineer_of, log_in, open_work_order
from tests.service_orders.workorder_factories import png

pytestmark = pytest.mark.e2e

DESKTOP: ViewportSize = {"width": 1366, "height": 900}
BROKEN_SIGNATURE = b"\x89PNG\r\n\x1a\n not an image"  # as stored before signatures were checked


def _shot(page: Page, name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), animations="disabled")


def _no_horizontal_overflow(page: Page) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{width} px wide in a {viewport['width']} px window"


def _completed(live_server: LiveServer, site: str, title: str) -> tuple[int, str]:
    """A visit engineer2 did and the customer signed."""
    with live_server.session() as session:
        order = open_work_order(session, site=site, title=title, kind=WorkOrderType.INSPECTION)
        assign_by_hand(
            session,
            actor=principal_of(demo_user(session, "dispatcher")),
            work_order_id=order.id,
            engineer_id=engineer_of(session, "engineer2").id,
        )
        engineer = principal_of(demo_user(session, "engineer2"))
        for step in ("en_route", "on_site"):
            transition(session, actor=engineer, work_order_id=order.id, target=step)
        complete_work_order(
            session,
            actor=engineer,
            work_order_id=order.id,
            outcome="fixed",
            signature_png=png(40, 20),
            signed_by="Sam Customer",
            notes="Checked and tightened",
        )
        session.commit()
        return order.id, order.number


def test_a_report_that_could_not_be_made_is_on_the_board_and_an_admin_retries_it(
    phone: Page, live_server: LiveServer
) -> None:
    broken_id, number = _completed(live_server, "Substation Erding", "Cabinet fan noise")
    good_id, _ = _completed(live_server, "Site Riem", "Filter change")
    with live_server.session() as session:
        session.get_one(WorkOrder, broken_id).signature_png = BROKEN_SIGNATURE
        issue_missing_certificates(session, public_url=live_server.url)  # the worker's run
        session.commit()
        issued = set(session.scalars(select(ServiceCertificate.work_order_id)))
    assert good_id in issued
    assert broken_id not in issued

    log_in(phone, "admin", then="/staff/dispatch")
    card = phone.locator(f"#report-failure-{broken_id}")
    expect(card).to_contain_text(number)
    expect(card).to_contain_text(
        "Service report could not be made: the signature is not a readable PNG image — "
        "will retry at"
    )
    expect(card).to_contain_text("Tried 1 of 8 times")
    _no_horizontal_overflow(phone)
    _shot(phone, "report-failure-390")
    phone.set_viewport_size(DESKTOP)
    _no_horizontal_overflow(phone)
    _shot(phone, "report-failure-1366")

    with live_server.session() as session:
        session.get_one(WorkOrder, broken_id).signature_png = png(40, 20)  # the cause put right
        session.commit()
    card.get_by_role("button", name="Retry now").click()
    phone.wait_for_load_state("networkidle")  # the header's htmx loads leave the message be

    expect(phone.locator("#flash")).to_contain_text(f"The service report of {number} is made")
    expect(phone.locator("#report-failures")).to_have_count(0)
    _shot(phone, "report-failure-retried-1366")
    with live_server.session() as session:
        assert session.get(CertificateFailure, broken_id) is None
        assert session.scalar(
            select(ServiceCertificate.id).where(ServiceCertificate.work_order_id == broken_id)
        )
    assert live_server.console_errors == []
