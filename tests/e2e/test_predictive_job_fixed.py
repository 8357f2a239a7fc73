"""A predicted failure becomes a job that is not overdue at birth; fixing it closes its alert."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.auth.principal import SYSTEM
from core.db import utcnow
from core.formatting import Reader, datetime_text
from crm.models import User
from service_orders.dispatch import dispatch
from service_orders.intake import consume_alerts
from service_orders.models import Engineer, WorkOrder
from telemetry.alerts.models import Alert
from telemetry.alerts.writes import RaisedAlert, open_or_escalate
from telemetry.devices import provision_device
from telemetry.health.service import refresh_health
from telemetry.models import Device
from telemetry.rules.defaults import install_default_rules
from telemetry.rules.models import Rule
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import asset_at, log_in
from tests.e2e.test_engineer_completes_job import _draw_signature

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
SHOTS = "tests/e2e/results"


@dataclass(frozen=True)
class Predicted:
    work_order_id: int
    asset_id: int
    created_at: datetime
    respond_by: datetime
    engineer: str  # the login of the engineer it was offered to


def _predicted_failure_at_riem(live_server: LiveServer) -> Predicted:
    """What ingest and worker do: a trend alert (limit in 10 h), its work order, the offer."""
    with live_server.session() as session:
        asset = asset_at(session, "Site Riem")
        device = session.scalars(select(Device).where(Device.asset_id == asset.id)).first()
        if device is None:
            device = provision_device(session, actor=SYSTEM, asset_id=asset.id).device
        install_default_rules(session, product_model_id=asset.product_model_id)
        rule = session.scalars(
            select(Rule)
            .where(Rule.product_model_id == asset.product_model_id, Rule.kind == "trend")
            .order_by(Rule.id)
        ).first()
        assert rule is not None
        failure = utcnow() + timedelta(hours=10)
        message = f"{rule.name}: {rule.metric_key} predicted to cross its limit at {failure:%c}"
        raised = RaisedAlert(
            device.id, asset.id, rule.id, rule.metric_key, "trend", "major", 1.0, message, failure
        )
        open_or_escalate(session, [raised])
        consume_alerts(session)
        alert = session.scalars(
            select(Alert).where(Alert.device_id == device.id, Alert.rule_id == rule.id)
        ).one()
        order = session.scalars(select(WorkOrder).where(WorkOrder.alert_id == alert.id)).one()
        # the nearest free engineer: other tests in this process may keep "engineer" busy
        chosen = dispatch(session, work_order_id=order.id).engineer_id
        assert chosen is not None
        engineer = session.get(Engineer, chosen)
        assert engineer is not None
        login = session.get(User, engineer.user_id)
        assert login is not None
        refresh_health(session, asset_ids=[asset.id])
        session.commit()
        local = login.email.split("@")[0]
        return Predicted(order.id, asset.id, order.created_at, order.respond_by, local)


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True, animations="disabled")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1  # type: ignore[index]  # set by the fixture


def test_predictive_job_is_on_time_and_fixing_it_clears_the_alert(
    phone: Page, laptop: Page, live_server: LiveServer
) -> None:
    order = _predicted_failure_at_riem(live_server)
    assert order.respond_by - order.created_at == timedelta(hours=8)  # no contract: priority 2
    laptop.set_viewport_size(DESKTOP)  # type: ignore[arg-type]

    log_in(laptop, "customer", then="/customer")
    laptop.goto(f"/customer/service/{order.work_order_id}")
    berlin = Reader(time_zone="Europe/Berlin", locale="en_GB")  # the demo customer's
    expect(laptop.locator("dl.facts")).to_contain_text(datetime_text(order.respond_by, berlin))
    laptop.goto(f"/customer/devices/{order.asset_id}")
    expect(laptop.locator("dt:text-is('Open alerts') + dd")).to_have_text("1")

    log_in(phone, order.engineer, then="/engineer")
    card = phone.locator(f"#job-{order.work_order_id}")
    card.get_by_role("button", name="Accept").click()
    expect(card).to_contain_text("Accepted")
    expect(card.locator(".sla")).to_contain_text(re.compile(r"Resolve by: \d+ h \d+ min left"))
    card.get_by_role("link", name="Open job").click()
    sla = phone.locator(".sla")
    expect(sla).to_contain_text("left")
    expect(sla).not_to_contain_text("overdue")
    _shot(phone, "predictive-job-accepted-390")

    phone.goto("/engineer")
    card.get_by_role("button", name="On my way").click()
    expect(card.locator(".wo-status")).to_have_text("On the way")
    card.get_by_role("button", name="Arrived on site").click()
    expect(card.locator(".wo-status")).to_have_text("On site")
    card.get_by_role("link", name="Open job").click()
    phone.get_by_label("Outcome").select_option("fixed")
    phone.get_by_label("Customer name").fill("Ida Isar")
    _draw_signature(phone)
    phone.get_by_role("button", name="Complete job").click()
    expect(phone.get_by_role("heading", name="Completed")).to_be_visible()

    laptop.goto(f"/customer/devices/{order.asset_id}")
    expect(laptop.locator("dt:text-is('Open alerts') + dd")).to_have_text("0")
    _shot(laptop, "predictive-fixed-customer-device-1366")
    phone.context.clear_cookies()
    log_in(phone, "customer", then="/customer")
    phone.goto(f"/customer/devices/{order.asset_id}")
    _shot(phone, "predictive-fixed-customer-device-390")

    laptop.context.clear_cookies()
    log_in(laptop, "dispatcher", then="/staff/dispatch")
    laptop.goto(f"/staff/assets/{order.asset_id}")
    expect(laptop.locator("#alerts")).to_contain_text("fixed on a service visit")
    _shot(laptop, "predictive-fixed-staff-asset-1366")
    laptop.set_viewport_size({"width": 390, "height": 844})
    _shot(laptop, "predictive-fixed-staff-asset-390")
    assert live_server.console_errors == []
