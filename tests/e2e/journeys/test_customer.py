"""A customer on the phone: the fleet's health, a device's charts, a service request."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import Walk, expect_field_error

pytestmark = pytest.mark.e2e


def test_customer_checks_health_and_requests_service(phone: Page, live_server: LiveServer) -> None:
    walk = Walk(phone, live_server, "customer")
    log_in(phone, "customer3", then="/customer")
    expect(phone.locator("main h1")).to_be_visible()
    walk.step("devices")

    phone.locator("a.device-link").first.click()
    expect(phone.get_by_role("heading", name="Health")).to_be_visible()
    expect(phone.get_by_role("heading", name="Charts")).to_be_visible()
    walk.step("device")

    phone.get_by_role("link", name="Request service").click()
    expect(phone.get_by_role("heading", name="Request service")).to_be_visible()
    phone.get_by_label("What is wrong?").fill("x" * 3)
    phone.get_by_role("button", name="Send request").click()
    expect_field_error(phone, "What is wrong?", "at least 10 characters")
    expect(phone.get_by_label("What is wrong?")).to_have_value("x" * 3)  # input kept
    walk.step("request-too-short")

    phone.get_by_label("What is wrong?").fill("The compressor rattles loudly since this morning.")
    phone.get_by_role("button", name="Send request").click()
    expect(phone).to_have_url(re.compile(r"/customer/service/\d+$"))
    expect(phone.locator("main")).to_contain_text("The compressor rattles loudly")
    walk.step("request-sent")
    phone.reload()  # redirect after POST: a refresh sends nothing again
    expect(phone.locator("main")).to_contain_text("The compressor rattles loudly")

    phone.goto("/customer/service")
    expect(phone.locator("main")).to_contain_text("Received")
    walk.step("service")
