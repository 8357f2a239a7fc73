"""A customer checks the health of their equipment and opens one device's charts on the phone."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import select, text

from core.auth.principal import SYSTEM
from core.db import utcnow
from crm.models import Asset, MetricDefinition
from telemetry.devices import provision_device
from telemetry.health.service import refresh_health
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import asset_at, demo_user, log_in, save_screenshot

pytestmark = pytest.mark.e2e

READING_HOURS = 3
# a 24-hour chart merges 1-minute rollups into 5-minute buckets
EXPECTED_POINTS = READING_HOURS * 60 // 5
_SCORE = re.compile(r"^\d{1,3}$")
_ROLLUP = text(
    "INSERT INTO readings_1m (device_id, position, bucket, n, total, low, high, last_ts, last) "
    "VALUES (:device_id, :position, :bucket, 12, :avg * 12, :avg - 1, :avg + 1, "
    ":bucket + interval '55 seconds', :avg)"
)
_READING = text("INSERT INTO readings (device_id, ts, seq, values) VALUES (:d, :ts, 1, :v)")


@pytest.fixture(scope="module")
def reporting_asset(live_server: LiveServer) -> int:
    """customer@'s first device at Yard Freimann with three hours of 1-minute rollups, and the
    health of all their assets computed (what ingest and the health job would have done)."""
    with live_server.session() as session:
        asset = asset_at(session, "Yard Freimann")
        device = provision_device(session, actor=SYSTEM, asset_id=asset.id).device
        metrics = session.scalars(
            select(MetricDefinition)
            .where(MetricDefinition.product_model_id == asset.product_model_id)
            .order_by(MetricDefinition.position)
        ).all()
        now = utcnow().replace(second=0, microsecond=0)
        minutes = READING_HOURS * 60
        session.execute(
            _ROLLUP,
            [
                {
                    "device_id": device.id,
                    "position": m.position,
                    "bucket": now - timedelta(minutes=minutes - minute),
                    "avg": _normal(m) + (m.max_value - m.min_value) * 0.05 * math.sin(minute / 15),
                }
                for minute in range(minutes)
                for m in metrics
            ],
        )
        last = [_normal(m) for m in metrics]
        session.execute(_READING, {"d": device.id, "ts": now - timedelta(seconds=30), "v": last})
        owner = demo_user(session, "customer").org_id
        own = session.scalars(select(Asset.id).where(Asset.owner_org_id == owner)).all()
        refresh_health(session, asset_ids=own)
        session.commit()
        return asset.id


def _normal(metric: MetricDefinition) -> float:
    return metric.min_value + (metric.max_value - metric.min_value) * 0.4


def _series_with_points(response: Response) -> bool:
    return "/series" in response.url and response.request.method == "GET"


def test_customer_sees_health_badges_and_a_device_chart(
    phone: Page, live_server: LiveServer, reporting_asset: int
) -> None:
    log_in(phone, "customer", then="/customer")
    expect(phone.get_by_role("heading", name="My devices")).to_be_visible()
    badges = phone.locator(".device-item .health")
    expect(badges.first).to_be_visible()
    assert badges.count() >= 6
    device = phone.locator(f'a.device-link[href="/customer/devices/{reporting_asset}"]')
    expect(device.locator(".health")).to_have_text(_SCORE)
    save_screenshot(phone, "customer")

    with phone.expect_response(_series_with_points) as first_series:
        device.click()
    series = first_series.value
    assert series.status == 200
    assert len(series.json()["t"]) >= EXPECTED_POINTS - 1
    expect(phone.locator("#health .health")).to_have_text(_SCORE)
    chart = phone.locator("figure.chart[data-metric] canvas").first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert box["height"] > 50
    phone.locator("#charts-heading").evaluate("heading => heading.scrollIntoView()")
    save_screenshot(phone, "customer-device")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert live_server.console_errors == []
