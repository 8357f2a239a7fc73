"""A person logs in with a real browser on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.models import Asset
from fieldcrm.seed import DEMO_PASSWORD
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import demo_user, log_in

pytestmark = pytest.mark.e2e


def test_customer_logs_in_and_sees_own_devices(phone: Page, live_server: LiveServer) -> None:
    phone.goto("/customer")
    expect(phone).to_have_url(re.compile(r"/login\?next=%2Fcustomer$"))
    phone.get_by_label("E-mail").fill("customer@fieldcrm.demo")
    phone.get_by_label("Password").fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    expect(phone).to_have_url(re.compile(r"/customer$"))
    expect(phone.get_by_role("heading", name="My devices")).to_be_visible()
    with live_server.session() as session:
        owner = demo_user(session, "customer").org_id
        assets = session.scalars(
            select(func.count()).select_from(Asset).where(Asset.owner_org_id == owner)
        ).one()
    assert assets > 0
    expect(phone.locator(".device-item")).to_have_count(assets)
    assert phone.evaluate("typeof window.htmx") == "object"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    phone.get_by_role("button", name="Log out").click()
    expect(phone).to_have_url(re.compile(r"/login$"))
    assert live_server.console_errors == []


def test_wrong_password_shows_the_error_on_the_page(phone: Page, live_server: LiveServer) -> None:
    phone.goto("/login")
    phone.get_by_label("E-mail").fill("customer@fieldcrm.demo")
    phone.get_by_label("Password").fill("not-the-password")
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("alert")).to_contain_text("Wrong e-mail or password.")
    # the refused login answers 401, which the browser reports; nothing else may fail
    assert live_server.console_errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]


def test_api_docs_render_without_a_cdn(phone: Page, live_server: LiveServer) -> None:
    phone.goto("/docs")  # for people with an account: the login page first
    expect(phone.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(phone, "dispatcher", then="/docs")
    expect(phone.locator(".swagger-ui .info .title")).to_contain_text("fieldcrm")
    assert live_server.console_errors == []
