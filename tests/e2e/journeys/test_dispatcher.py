"""The dispatcher's day on a desktop: the fleet, one device, the board."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e


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

    laptop.goto("/staff/devices")
    laptop.locator(".device-serial").first.click()
    expect(laptop.locator("main h1")).to_be_visible()
    walk.step("device")

    laptop.goto("/staff/dispatch")
    walk.step("board")
