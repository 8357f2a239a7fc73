"""A dispatcher moves a job from one engineer to another on the dispatch board."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm.service import principal_of
from service_orders.dispatch import assign_by_hand
from service_orders.models import WorkOrder, WorkOrderType
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import (
    after_swap,
    demo_user,
    engineer_of,
    log_in,
    open_work_order,
    save_screenshot,
)

pytestmark = pytest.mark.e2e


def _held_by(live_server: LiveServer, local: str) -> int:
    """A job at Substation Erding that the dispatcher gave `local` by hand; its id."""
    with live_server.session() as session:
        order = open_work_order(
            session,
            site="Substation Erding",
            title="Annual inspection of the generator",
            kind=WorkOrderType.INSPECTION,
        )
        assign_by_hand(
            session,
            actor=principal_of(demo_user(session, "dispatcher")),
            work_order_id=order.id,
            engineer_id=engineer_of(session, local).id,
        )
        session.commit()
        return order.id


def test_dispatcher_reassigns_a_job_to_another_engineer(
    laptop: Page, live_server: LiveServer
) -> None:
    work_order_id = _held_by(live_server, "engineer3")
    with live_server.session() as session:
        new_engineer = engineer_of(session, "engineer4").id
    log_in(laptop, "dispatcher", then="/staff/dispatch")
    card = laptop.locator(f"#order-{work_order_id}")
    expect(card.locator(".sla-line")).to_contain_text("Jonas Huber")
    expect(laptop.locator("#board-map .leaflet-interactive").first).to_be_visible()
    save_screenshot(laptop, "dispatcher")

    card.get_by_label("Engineer").select_option(str(new_engineer))
    after_swap(laptop, "#queues", card.get_by_role("button", name="Reassign").click)

    expect(card.locator(".sla-line")).to_contain_text("Lena Wagner")
    expect(card.locator(".sla-line")).not_to_contain_text("Jonas Huber")
    expect(card).to_contain_text("Accepted")
    assert live_server.console_errors == []
    with live_server.session() as session:
        moved = session.get(WorkOrder, work_order_id)
        assert moved is not None
        assert (moved.engineer_id, moved.status) == (new_engineer, "accepted")
