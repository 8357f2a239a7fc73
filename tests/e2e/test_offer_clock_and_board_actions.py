"""An engineer watches an offer count down to "expired"; a dispatcher sees what each engineer
does, why dispatch chose whom, and only the buttons a job's state allows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import select

from core.db import utcnow
from crm.service import principal_of
from service_orders.dispatch import assign_by_hand, dispatch
from service_orders.models import DispatchOffer, OfferStatus, WorkOrderType
from service_orders.workorders import transition
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, demo_user, engineer_of, log_in, open_work_order

pytestmark = pytest.mark.e2e

DESKTOP: ViewportSize = {"width": 1366, "height": 900}


def _shot(page: Page, name: str, *, full_page: bool = False) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=full_page, animations="disabled")


def _no_horizontal_overflow(page: Page) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{width} px wide in a {viewport['width']} px window"


def _offer_to_engineer(live_server: LiveServer, *, seconds: int) -> tuple[int, str]:
    """A job at Site Riem offered to engineer@, the offer running out in `seconds`."""
    with live_server.session() as session:
        order = open_work_order(
            session,
            site="Site Riem",
            title="Compressor trips at start",
            kind=WorkOrderType.CORRECTIVE,
        )
        decision = dispatch(session, work_order_id=order.id)
        assert decision.engineer_id == engineer_of(session, "engineer").id
        offer = session.scalars(
            select(DispatchOffer).where(
                DispatchOffer.work_order_id == order.id, DispatchOffer.status == OfferStatus.PENDING
            )
        ).one()
        offer.expires_at = utcnow() + timedelta(seconds=seconds)
        session.commit()
        return order.id, order.number


def test_the_offer_counts_down_in_seconds_and_then_says_it_expired(
    phone: Page, live_server: LiveServer
) -> None:
    work_order_id, _ = _offer_to_engineer(live_server, seconds=12)
    log_in(phone, "engineer", then="/engineer")
    card = phone.locator(f"#job-{work_order_id}")
    expect(card.locator(".offer-clock")).to_contain_text(re.compile(r"answer within \d+ s"))
    _no_horizontal_overflow(phone)
    _shot(phone, "engineer-offer-390")

    phone.goto(f"/engineer/jobs/{work_order_id}")
    clock = phone.locator(".offer-clock strong")
    first = clock.inner_text()
    assert re.fullmatch(r"\d+ s", first), first
    expect(clock).not_to_have_text(first, timeout=3000)  # it counts down by itself
    expect(phone.get_by_role("button", name="Accept")).to_be_visible()

    expect(phone.locator(".offer-clock")).to_have_text("This offer expired.", timeout=15_000)
    expect(phone.get_by_role("button", name="Accept")).to_be_hidden()
    expect(phone.get_by_role("button", name="Decline")).to_be_hidden()
    _no_horizontal_overflow(phone)
    _shot(phone, "engineer-offer-expired-390")
    phone.set_viewport_size(DESKTOP)
    _shot(phone, "engineer-offer-expired-1366")
    assert live_server.console_errors == []


def _on_site_with(live_server: LiveServer, local: str) -> tuple[int, str]:
    """A job at Substation Erding given to `local` by hand, who is now on site."""
    with live_server.session() as session:
        order = open_work_order(
            session,
            site="Substation Erding",
            title="Transformer hum",
            kind=WorkOrderType.INSPECTION,
        )
        engineer = engineer_of(session, local)
        assign_by_hand(
            session,
            actor=principal_of(demo_user(session, "dispatcher")),
            work_order_id=order.id,
            engineer_id=engineer.id,
        )
        as_engineer = principal_of(demo_user(session, local))
        for step in ("en_route", "on_site"):
            transition(session, actor=as_engineer, work_order_id=order.id, target=step)
        session.commit()
        return order.id, order.number


def test_the_board_says_who_is_on_site_and_offers_only_allowed_actions(
    laptop: Page, live_server: LiveServer
) -> None:
    on_site_id, number = _on_site_with(live_server, "engineer3")
    offered_id, _ = _offer_to_engineer(live_server, seconds=600)
    laptop.set_viewport_size(DESKTOP)
    log_in(laptop, "dispatcher", then="/staff/dispatch")

    with live_server.session() as session:
        jonas = engineer_of(session, "engineer3").id
    line = laptop.locator(f"#engineer-{jonas}")
    expect(line).to_contain_text(f"on site · {number}")
    expect(line).not_to_contain_text("available")

    on_site = laptop.locator(f"#order-{on_site_id}")
    expect(on_site).to_contain_text("The engineer is on site")
    expect(on_site.get_by_role("button", name="Reassign")).to_have_count(0)

    offered = laptop.locator(f"#order-{offered_id}")
    expect(offered.get_by_role("button", name="Dispatch again")).to_have_count(0)
    offered.locator("summary").click()
    rows = offered.locator(".why-row")
    expect(rows.first).to_contain_text("✓ chosen")
    expect(rows.first).to_contain_text("km away")
    expect(rows.first).to_contain_text("has skill:")
    points = [
        float(p) for p in re.findall(r"([\d.]+) points", offered.locator(".why-list").inner_text())
    ]
    assert points == sorted(points), points  # the best first
    offered.scroll_into_view_if_needed()
    _shot(laptop, "dispatcher-why-1366")
    _no_horizontal_overflow(laptop)

    laptop.set_viewport_size({"width": 390, "height": 844})
    offered.scroll_into_view_if_needed()
    _no_horizontal_overflow(laptop)
    _shot(laptop, "dispatcher-why-390")
    on_site.scroll_into_view_if_needed()
    _shot(laptop, "dispatcher-on-site-390")
    assert live_server.console_errors == []
