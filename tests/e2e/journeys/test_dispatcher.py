"""The dispatcher's day on a desktop: the fleet, the alerts, one device, the board."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.auth.principal import SYSTEM
from core.db import utcnow
from telemetry.alerts.writes import RaisedAlert, open_or_escalate
from telemetry.devices import provision_device
from telemetry.models import Device
from telemetry.rules.defaults import install_default_rules
from telemetry.rules.models import Rule
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import asset_at, log_in
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e

# sites no other browser test looks at, so their alerts change nobody else's page
_ALERTING = (("Hub Starnberg", "critical"), ("Substation Erding", "major"))


def _alerts_in_the_fleet(live_server: LiveServer) -> None:
    """What ingest does when readings cross limits: a critical alert at one site, a major one
    with a predicted failure at another."""
    with live_server.session() as session:
        raised = []
        for site, severity in _ALERTING:
            asset = asset_at(session, site)
            device = session.scalars(select(Device).where(Device.asset_id == asset.id)).first()
            if device is None:
                device = provision_device(session, actor=SYSTEM, asset_id=asset.id).device
            install_default_rules(session, product_model_id=asset.product_model_id)
            kind = "threshold" if severity == "critical" else "trend"
            rule = session.scalars(
                select(Rule)
                .where(Rule.product_model_id == asset.product_model_id, Rule.kind == kind)
                .order_by(Rule.id)
            ).first()
            assert rule is not None
            predicted = utcnow() + timedelta(days=3) if kind == "trend" else None
            message = (
                f"{rule.name}: above its limit"
                if predicted is None
                else f"{rule.name}: limit in 3 days"
            )
            raised.append(
                RaisedAlert(
                    device.id,
                    asset.id,
                    rule.id,
                    rule.metric_key,
                    kind,
                    severity,
                    1.0,
                    message,
                    predicted,
                )
            )
        open_or_escalate(session, raised)
        session.commit()


def test_dispatcher_finds_a_device_and_watches_the_board(
    laptop: Page, live_server: LiveServer
) -> None:
    walk = Walk(laptop, live_server, "dispatcher")
    log_in(laptop, "dispatcher", then="/staff/devices")
    count = laptop.locator(".list-count")
    expect(count).to_contain_text(re.compile(r"^1–25 of \d+ assets$"))
    walk.step("devices")

    first_serial = laptop.locator(".device-serial").first.inner_text()
    laptop.get_by_placeholder("Search serial, model, site, customer").fill(first_serial)
    expect(count).to_have_text("1 asset")
    expect(laptop.locator(".device-serial")).to_have_text([first_serial])
    walk.step("devices-searched")

    laptop.get_by_placeholder("Search serial, model, site, customer").fill("no such thing")
    expect(count).to_have_text("No assets match.")
    walk.step("devices-nothing-found")

    laptop.goto("/staff/devices")
    laptop.get_by_label("Health").select_option("poor")
    expect(laptop).to_have_url(re.compile(r"health=poor"))
    walk.step("devices-poor-health")

    _alerts_in_the_fleet(live_server)
    laptop.get_by_role("link", name="Alerts", exact=True).click()
    alerts = laptop.locator(".alert-row")
    expect(laptop.locator("main h1")).to_have_text("Alerts")
    expect(alerts.first).to_contain_text("Critical")  # the worst first
    walk.step("alerts")

    laptop.get_by_label("Severity").select_option("critical")
    expect(laptop).to_have_url(re.compile(r"severity=critical"))
    expect(alerts).to_have_count(1)  # only the one raised above: the demo starts without
    expect(alerts.first.locator(".severity")).to_have_text("Critical")
    walk.step("alerts-critical")

    first = alerts.first
    first.get_by_role("button", name="Acknowledge").click()
    expect(laptop.locator(".notice")).to_contain_text("Acknowledged:")
    expect(laptop).to_have_url(re.compile(r"severity=critical"))  # the same list
    expect(alerts.first.locator(".status")).to_have_text("Acknowledged")
    walk.step("alerts-acknowledged")

    laptop.goto("/staff/devices")
    laptop.locator(".device-serial").first.click()
    expect(laptop.locator("main h1")).to_be_visible()
    walk.step("device")

    laptop.goto("/staff/dispatch")
    walk.step("board")
