"""Device charts over 24 h to 90 d, as the dispatcher and the customer read them in the browser.

The chart's own uPlot instance is read (its data and scales), not only that a canvas exists:
every window shows its own span ending now, with more than one point where the data spans it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.db import utcnow
from crm.models import Asset, MetricDefinition, Site
from telemetry.devices import provision_device
from telemetry.health.service import refresh_health
from telemetry.models import Device, DeviceStatus
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, asset_at, log_in

pytestmark = pytest.mark.e2e

DAYS = 90
WINDOWS = {"24 h": timedelta(hours=24), "7 d": timedelta(days=7), "30 d": timedelta(days=30)}
WINDOWS["90 d"] = timedelta(days=DAYS)
# the clock of the test and the browser's differ by the time a request takes
SLACK = 120
SHOTS = RESULTS / "charts"
_ROLLUP = (
    "INSERT INTO {table} (device_id, position, bucket, n, total, low, high, last_ts, last) "
    "VALUES (:device_id, :position, :bucket, 10, :avg * 10, :avg - 1, :avg + 1, :bucket, :avg)"
)
_HEALTH = text(
    "INSERT INTO health_scores (asset_id, ts, score, contributors) "
    "VALUES (:asset_id, :ts, :score, '[]'::jsonb)"
)
_READING = text("INSERT INTO readings (device_id, ts, seq, values) VALUES (:d, :ts, 1, :v)")
_CHART_STATE = """(figure) => {
    const u = figure.querySelector('.chart-plot').uplot;
    return {
        window: figure.dataset.chartWindow,
        n: u.data[0].length,
        first: u.data[0][0],
        last: u.data[0][u.data[0].length - 1],
        xmin: u.scales.x.min, xmax: u.scales.x.max,
        ymin: u.scales.y.min, ymax: u.scales.y.max,
        xlabel: u.axes[0].label, ylabel: u.axes[1].label,
    };
}"""


@pytest.fixture(scope="module")
def asset_with_history(live_server: LiveServer) -> int:
    """customer@'s first device at Site Riem with 90 days of hourly rollups, two days of
    1-minute rollups and 90 days of hourly health scores (what ingest and the health job do)."""
    with live_server.session() as session:
        asset = asset_at(session, "Site Riem")
        device_id = _device_of(session, asset)
        metrics = _metrics_of(session, asset)
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        hours = [now - timedelta(hours=h) for h in range(DAYS * 24)]
        minutes = [now - timedelta(minutes=m) for m in range(2 * 24 * 60)]
        _write_rollups(session, device_id, metrics, hours=hours, minutes=minutes)
        session.execute(
            _HEALTH,
            [
                {"asset_id": asset.id, "ts": ts, "score": 78 + round(20 * math.sin(i / 40))}
                for i, ts in enumerate(hours)
            ],
        )
        latest = [_wave(m, now) for m in metrics]
        session.execute(_READING, {"d": device_id, "ts": now, "v": latest})
        refresh_health(session, asset_ids=[asset.id])
        session.commit()
        return asset.id


@pytest.fixture(scope="module")
def asset_with_hours(live_server: LiveServer) -> int:
    """Another device at Site Riem that has reported for up to three hours, as in the demo."""
    with live_server.session() as session:
        asset = session.scalars(
            select(Asset)
            .join(Site, Site.id == Asset.site_id)
            .where(Site.name == "Site Riem")
            .order_by(Asset.id)
            .offset(1)
        ).first()
        assert asset is not None
        device_id = _device_of(session, asset)
        metrics = _metrics_of(session, asset)
        now = utcnow().replace(second=0, microsecond=0)
        # inside the current 6-hour bucket, so the 90-day chart has exactly one point
        since = now.replace(hour=now.hour - now.hour % 6, minute=0)
        minutes = [now - timedelta(minutes=m) for m in range(3 * 60)]
        minutes = [moment for moment in minutes if moment >= since]
        hours = sorted({b.replace(minute=0) for b in minutes})
        _write_rollups(session, device_id, metrics, hours=hours, minutes=minutes)
        session.commit()
        return asset.id


def _device_of(session: Session, asset: Asset) -> int:
    device_id = session.scalar(
        select(Device.id).where(Device.asset_id == asset.id, Device.status == DeviceStatus.ACTIVE)
    )
    if device_id is None:
        device_id = provision_device(session, actor=SYSTEM, asset_id=asset.id).device.id
    return device_id


def _metrics_of(session: Session, asset: Asset) -> Sequence[MetricDefinition]:
    return session.scalars(
        select(MetricDefinition)
        .where(MetricDefinition.product_model_id == asset.product_model_id)
        .order_by(MetricDefinition.position)
    ).all()


def _write_rollups(
    session: Session,
    device_id: int,
    metrics: Sequence[MetricDefinition],
    *,
    hours: list[datetime],
    minutes: list[datetime],
) -> None:
    for table, buckets in (("readings_1h", hours), ("readings_1m", minutes)):
        session.execute(
            text(_ROLLUP.format(table=table)),
            [
                {"device_id": device_id, "position": m.position, "bucket": b, "avg": _wave(m, b)}
                for b in buckets
                for m in metrics
            ],
        )


def _wave(metric: MetricDefinition, moment: datetime) -> float:
    span = metric.max_value - metric.min_value
    return metric.min_value + span * (0.4 + 0.1 * math.sin(moment.timestamp() / 86400))


def _show_window(page: Page, label: str) -> list[dict[str, Any]]:
    """Press a window button and read every chart once it has drawn that window."""
    button = page.get_by_role("button", name=label, exact=True)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    name = button.get_attribute("data-window")
    figures = page.locator("figure.chart")
    for index in range(figures.count()):
        expect(figures.nth(index)).to_have_attribute("data-chart-window", str(name))
    return [_state(figures.nth(index)) for index in range(figures.count())]


def _state(figure: Locator) -> dict[str, Any]:
    state: dict[str, Any] = figure.evaluate(_CHART_STATE)
    return state


def _assert_spans_window(states: list[dict[str, Any]], label: str) -> None:
    now = utcnow().timestamp()
    start = now - WINDOWS[label].total_seconds()
    for state in states:
        assert start - SLACK <= state["xmin"] <= start + SLACK, (label, state)
        assert now - SLACK <= state["xmax"] <= now + SLACK, (label, state)
        assert state["n"] > 1, (label, state)
        # the first bucket may start before the window; it ends inside it
        assert state["xmin"] - 6 * 3600 <= state["first"] <= state["last"] <= state["xmax"]
        assert state["xlabel"] == "Time (Berlin)", state  # the demo installation's zone


def _screenshots(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)  # the charts follow the new width on the next frame
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def test_staff_device_charts_span_each_window(
    laptop: Page, live_server: LiveServer, asset_with_history: int
) -> None:
    log_in(laptop, "dispatcher", then=f"/staff/assets/{asset_with_history}")
    for label in WINDOWS:
        states = _show_window(laptop, label)
        assert states, "the device page shows no chart"
        _assert_spans_window(states, label)
        assert all(s["ylabel"] for s in states), states  # the unit
    laptop.locator("#charts-heading").scroll_into_view_if_needed()
    _screenshots(laptop, "staff-device-90d")
    assert live_server.console_errors == []


def test_customer_device_charts_span_each_window_and_health_is_0_to_100(
    phone: Page, live_server: LiveServer, asset_with_history: int
) -> None:
    log_in(phone, "customer", then=f"/customer/devices/{asset_with_history}")
    for label in WINDOWS:
        states = _show_window(phone, label)
        _assert_spans_window(states, label)
        health, *metrics = states  # the health chart comes first
        assert (health["ymin"], health["ymax"]) == (0, 100), health
        assert health["ylabel"] == "score 0–100", health
        assert metrics, "the device page shows no metric chart"
        assert all(m["ylabel"] and m["ylabel"] != health["ylabel"] for m in metrics), metrics
    _screenshots(phone, "customer-device-90d")
    assert live_server.console_errors == []


def test_a_device_with_hours_of_data_keeps_the_90_day_axis(
    laptop: Page, live_server: LiveServer, asset_with_hours: int
) -> None:
    """One 6-hour bucket at 90 days: the axis still spans the 90 days ending now (uPlot widens
    a lone point to 1000 days, 2027-2029 on the axis, unless the window is its range)."""
    log_in(laptop, "dispatcher", then=f"/staff/assets/{asset_with_hours}")
    now = utcnow().timestamp()
    for state in _show_window(laptop, "90 d"):
        assert state["n"] == 1, state
        assert now - WINDOWS["90 d"].total_seconds() - SLACK <= state["xmin"], state
        assert state["xmax"] <= now + SLACK, state
    assert live_server.console_errors == []
