"""An engineer's job on the phone: the offer, the way there, the work, the signature."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.models import User
from service_orders.dispatch import dispatch
from service_orders.models import Engineer, WorkOrderType
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import after_swap, log_in, open_work_order
from tests.e2e.journeys.walk import Walk
from tests.e2e.test_engineer_completes_job import _draw_signature

pytestmark = pytest.mark.e2e

CHECKLIST = ("Check refrigerant level", "Clean condenser coil")


def _offered(live_server: LiveServer) -> tuple[int, str]:
    """A repair at Yard Freimann offered to whichever engineer dispatch picks: (id, login)."""
    with live_server.session() as session:
        order = open_work_order(
            session,
            site="Yard Freimann",
            title="Unit trips after ten minutes",
            kind=WorkOrderType.CORRECTIVE,
            priority=2,
            checklist=CHECKLIST,
        )
        decision = dispatch(session, work_order_id=order.id)
        assert decision.engineer_id is not None
        email = session.scalar(
            select(User.email)
            .join(Engineer, Engineer.user_id == User.id)
            .where(Engineer.id == decision.engineer_id)
        )
        session.commit()
        assert email is not None
        return order.id, email.split("@")[0]


def test_engineer_takes_the_offer_and_completes_the_job(
    phone: Page, live_server: LiveServer
) -> None:
    order_id, login = _offered(live_server)
    walk = Walk(phone, live_server, "engineer")
    log_in(phone, login, then="/engineer")
    card = phone.locator(f"#job-{order_id}")
    expect(card).to_contain_text("new offer")
    expect(card).not_to_contain_text("0 min")
    walk.step("offer")

    card.get_by_role("button", name="Accept").click()
    expect(card).to_contain_text("Accepted")
    expect(card.get_by_role("button", name="Accept")).to_have_count(0)
    walk.step("accepted")
    card.get_by_role("button", name="On my way").click()
    card.get_by_role("button", name="Arrived on site").click()
    expect(card).to_contain_text("On site")
    walk.step("on-site")

    card.get_by_role("link", name="Open job").click()
    for label in CHECKLIST:
        after_swap(phone, "#job", phone.get_by_label(label).check)
    phone.get_by_label("Part number").fill("CND-GSK-400")
    phone.get_by_label("Qty").fill("two")
    phone.get_by_role("button", name="Add part").click()
    expect(phone.locator("main")).to_contain_text("number")
    walk.step("part-refused")
    phone.get_by_label("Qty").fill("2")
    phone.get_by_role("button", name="Add part").click()
    expect(phone.locator("main")).to_contain_text("CND-GSK-400")
    walk.step("part-added")

    phone.get_by_label("Customer name").fill("Frieda Freimann")
    _draw_signature(phone)
    walk.step("ready-to-complete")
    phone.get_by_role("button", name="Complete job").click()
    expect(phone.get_by_role("heading", name="Completed")).to_be_visible()
    walk.step("completed")
