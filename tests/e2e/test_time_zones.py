"""A user's own time zone and formats in the browser: the chart's axis and the page's times
follow them, at the phone's width and the desktop's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.db import utcnow
from crm.models import Asset
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, demo_user, log_in
from tests.e2e.test_device_charts import (
    _READING,
    _device_of,
    _metrics_of,
    _wave,
    _write_rollups,
)

pytestmark = pytest.mark.e2e

SHOTS = RESULTS / "time_zones"
_AXIS = """(figure) => {
    const u = figure.querySelector('.chart-plot').uplot;
    return {label: u.axes[0].label, ticks: (u.axes[0]._values || []).map(String)};
}"""
_TWELVE_HOUR = re.compile(r"\d{1,2}:\d{2}\s?[AP]M")
_TWENTY_FOUR_HOUR = re.compile(r"^(?:[01]\d|2[0-3]):\d{2}")


@pytest.fixture(scope="module")
def asset_with_a_day(live_server: LiveServer) -> int:
    """The demo's last device with a day of hourly rollups and a reading now."""
    with live_server.session() as session:
        asset = session.scalars(select(Asset).order_by(Asset.id.desc())).first()
        assert asset is not None
        device_id = _device_of(session, asset)
        metrics = _metrics_of(session, asset)
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        hours = [now - timedelta(hours=h) for h in range(24)]
        minutes = [now - timedelta(minutes=m) for m in range(1, 60)]
        _write_rollups(session, device_id, metrics, hours=hours, minutes=minutes)
        reading = [_wave(m, now) for m in metrics]
        session.execute(_READING, {"d": device_id, "ts": now, "v": reading})
        session.commit()
        return asset.id


@pytest.fixture
def dispatcher_in_new_york(live_server: LiveServer) -> Iterator[None]:
    """The demo dispatcher reads New York time with US formats, for this test only."""
    _set_reader(live_server, "America/New_York", "en_US")
    yield
    _set_reader(live_server, None, None)


def _set_reader(live_server: LiveServer, zone: str | None, locale: str | None) -> None:
    with live_server.session() as session:
        user = demo_user(session, "dispatcher")
        user.time_zone, user.locale = zone, locale
        session.commit()


def _axis(page: Page) -> dict[str, object]:
    figure = page.locator("figure.chart").first
    expect(figure).to_have_attribute("data-chart-window", re.compile(".+"))
    axis: dict[str, object] = figure.evaluate(_AXIS)
    return axis


@pytest.mark.parametrize("width", [390, 1366])
def test_chart_axis_and_page_times_follow_the_users_zone(
    laptop: Page,
    live_server: LiveServer,
    asset_with_a_day: int,
    dispatcher_in_new_york: None,
    width: int,
) -> None:
    laptop.set_viewport_size({"width": width, "height": 900})
    log_in(laptop, "dispatcher", then=f"/staff/assets/{asset_with_a_day}")
    assert laptop.locator("html").get_attribute("data-time-zone") == "America/New_York"
    laptop.get_by_role("button", name="24 h", exact=True).click()
    laptop.wait_for_timeout(300)
    axis = _axis(laptop)
    assert axis["label"] == "Time (New York)", axis
    ticks = [str(t) for t in axis["ticks"]]  # type: ignore[attr-defined]  # a list from JS
    assert any(_TWELVE_HOUR.search(t) for t in ticks), ticks
    assert "UTC" not in " ".join(ticks)
    shown = laptop.locator(".metric-ts").first.inner_text()
    assert re.search(r"[AP]M E[SD]T$", shown), shown
    laptop.locator("#charts-heading").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    laptop.screenshot(path=str(SHOTS / f"staff-device-new-york-{width}.png"), full_page=True)
    assert laptop.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert live_server.console_errors == []


def test_the_installation_default_reads_berlin_on_a_24_hour_clock(
    laptop: Page,
    live_server: LiveServer,
    asset_with_a_day: int,
) -> None:
    log_in(laptop, "dispatcher", then=f"/staff/assets/{asset_with_a_day}")
    laptop.get_by_role("button", name="24 h", exact=True).click()
    laptop.wait_for_timeout(300)
    axis = _axis(laptop)
    assert axis["label"] == "Time (Berlin)", axis
    ticks = [str(t) for t in axis["ticks"]]  # type: ignore[attr-defined]  # a list from JS
    assert any(_TWENTY_FOUR_HOUR.search(t) for t in ticks), ticks
    assert not any(_TWELVE_HOUR.search(t) for t in ticks), ticks
    assert re.search(r"CES?T$", laptop.locator(".metric-ts").first.inner_text())
    laptop.set_viewport_size({"width": 390, "height": 900})
    laptop.goto(live_server.url + "/settings")
    expect(laptop.get_by_label("Time zone")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    laptop.screenshot(path=str(SHOTS / "settings-390.png"), full_page=True)
    laptop.set_viewport_size({"width": 1366, "height": 900})
    laptop.screenshot(path=str(SHOTS / "settings-1366.png"), full_page=True)
    assert live_server.console_errors == []
