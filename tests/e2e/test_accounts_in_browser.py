"""Accounts in a real browser at phone and desktop widths: a forgotten password reset through
the development outbox, changing one's own password, and a dispatcher setting up two-factor
authentication and logging in with a code pyotp computes (issue 13, finding 7)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from crm.schemas import UserCreate
from crm.service import create_user
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, demo_user

pytestmark = pytest.mark.e2e

WIDTHS = (390, 1366)
FIRST_PASSWORD = "the first of many passwords"
NEW_PASSWORD = "a lighthouse keeps seven cats"


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def page_at(
    request: pytest.FixtureRequest, chromium: Browser, live_server: LiveServer
) -> Iterator[Page]:
    width: int = request.param
    context = chromium.new_context(
        viewport={"width": width, "height": 900},
        is_mobile=width < 500,
        has_touch=width < 500,
        base_url=live_server.url,
    )
    page = context.new_page()
    errors: list[str] = []

    def _on_console(message: ConsoleMessage) -> None:
        # refused forms answer 401/404/422 on purpose; Chromium logs every 4xx it loads
        if message.type == "error" and not re.search(r"status of 4(01|04|22)", message.text):
            errors.append(message.text)

    page.on("console", _on_console)
    yield page
    assert errors == []
    context.close()


def _person(live_server: LiveServer, role: Role = Role.DISPATCHER) -> str:
    """A user of the demo manufacturer of the test's own (the demo logins stay as they are)."""
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@example.test"
    with live_server.session() as session:
        org_id = demo_user(session, "admin").org_id
        data = UserCreate(
            org_id=org_id, email=email, full_name="Mara Quist", role=role, password=FIRST_PASSWORD
        )
        create_user(session, actor=SYSTEM, data=data)
        session.commit()
    return email


def _shot(page: Page, name: str) -> None:
    assert int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) <= 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(RESULTS / f"{name}-{width}.png"), full_page=True)


def _log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_forgotten_password_is_reset_through_the_outbox(
    page_at: Page, live_server: LiveServer
) -> None:
    page = page_at
    email = _person(live_server)
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("E-mail").fill(email)
    _shot(page, "password-forgot")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status").filter(has_text="we have sent it a link")).to_be_visible()
    _shot(page, "password-forgot-sent")

    page.goto(f"/dev/outbox?to={email}")
    expect(page.get_by_role("heading", name="Choose a new password for fieldcrm")).to_be_visible()
    _shot(page, "outbox")
    link = page.locator("a[href*='/password/reset/']")
    reset_url = str(link.get_attribute("href"))
    link.click()
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("New password again").fill("too short")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("#new_password-error")).to_have_text("Use at least 12 characters")
    _shot(page, "password-reset-refused")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("Your new password is set: log in with it.")).to_be_visible()
    _log_in(page, email, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/staff$"))
    page.goto(reset_url)
    expect(page.get_by_text("This link no longer works")).to_be_visible()  # used up


def test_changing_ones_own_password_says_the_problem_then_confirms(
    page_at: Page, live_server: LiveServer
) -> None:
    page = page_at
    email = _person(live_server, Role.ENGINEER)
    _log_in(page, email, FIRST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/engineer$"))
    page.goto("/settings")
    page.get_by_role("link", name="Change your password").click()
    page.get_by_label("Current password").fill("not the password at all")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#current_password-error")).to_have_text(
        "This is not your current password"
    )
    _shot(page, "password-change-refused")
    page.get_by_label("Current password").fill(FIRST_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    expect(page).to_have_url(re.compile(r"/settings$"))
    expect(page.get_by_text("Password changed. Your other sessions have ended.")).to_be_visible()


def test_a_dispatcher_sets_up_two_factor_and_logs_in_with_a_code(
    page_at: Page, live_server: LiveServer
) -> None:
    page = page_at
    email = _person(live_server)
    _log_in(page, email, FIRST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/staff$"))
    page.goto("/settings")
    page.get_by_role("link", name="Two-factor authentication").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    _shot(page, "two-factor-setup")
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    _shot(page, "two-factor-recovery-codes")

    page.get_by_role("button", name="Log out").click()
    _log_in(page, email, FIRST_PASSWORD)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    _shot(page, "login-code")
    page.goto("/staff")  # the password alone opened nothing
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.go_back()
    page.get_by_label("Code").fill(totp.at(time.time() + totp.interval))  # not the spent one
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/staff$"))
    page.goto("/settings/two-factor")
    expect(page.get_by_text("10 of 10 recovery codes are left")).to_be_visible()
    _shot(page, "two-factor-on")
