"""Forms in a real browser: errors next to their fields with the input kept, at phone and
desktop widths; a long unbroken word in a title never widens the page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, log_in

pytestmark = pytest.mark.e2e

WIDTHS = (390, 1366)
LONG_WORD = "Compressor" + "x" * 290  # 300 characters, no break opportunity


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def page_at(
    request: pytest.FixtureRequest, chromium: Browser, live_server: LiveServer
) -> Iterator[Page]:
    """A fresh browser context at one of the widths the forms are checked at."""
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
        # a re-rendered form answers 422 on purpose; Chromium logs every 4xx it loads
        if message.type == "error" and "status of 422" not in message.text:
            errors.append(message.text)

    page.on("console", _on_console)
    yield page
    assert errors == []
    context.close()


def _overflow(page: Page) -> int:
    """How many px the page is wider than the window (0: no horizontal scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def _shot(page: Page, name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(RESULTS / f"{name}-{width}.png"), full_page=True)


def test_add_a_colleague_shows_errors_next_to_the_fields_and_keeps_the_input(page_at: Page) -> None:
    page = page_at
    log_in(page, "distributor", then="/portal/users")
    page.get_by_label("E-mail").fill("nea-at-example")
    page.get_by_role("button", name="Send invitation").click()

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="Enter their full name")).to_be_visible()
    expect(page.locator("#email-error")).to_have_text(
        "Enter an e-mail address like name@example.com"
    )
    expect(page.get_by_label("E-mail")).to_have_value("nea-at-example")
    expect(page.get_by_role("heading", name="Users of your organisation")).to_be_visible()
    expect(page.get_by_text("Partner admin (manages users")).to_be_visible()
    assert _overflow(page) == 0
    _shot(page, "form-invite-errors")

    summary.get_by_role("link", name="Enter their full name").click()
    expect(page.get_by_label("Full name")).to_be_focused()


def test_service_request_errors_then_a_long_word_title_that_wraps(page_at: Page) -> None:
    page = page_at
    log_in(page, "customer", then="/customer/service/new")
    page.get_by_label("What is wrong?").fill("broken")
    page.get_by_role("button", name="Send request").click()

    expect(page.locator("#description-error")).to_have_text("Enter at least 10 characters")
    expect(page.get_by_label("What is wrong?")).to_have_value("broken")
    expect(page.get_by_role("heading", name="Request service")).to_be_visible()
    expect(page.get_by_text("Up to 5,000 characters.")).to_be_visible()
    _shot(page, "form-service-request-errors")

    page.get_by_label("What is wrong?").fill(LONG_WORD)
    page.get_by_role("button", name="Send request").click()

    expect(page).to_have_url(re.compile(r"/customer/service/\d+$"))
    expect(page.locator("#flash")).to_contain_text("Your request was sent as")
    expect(page.get_by_text(LONG_WORD[:120], exact=False).first).to_be_visible()
    assert _overflow(page) == 0, f"the page is {_overflow(page)} px wider than the window"
    _shot(page, "form-service-request-sent")

    page.reload()  # a refresh shows the record again and sends nothing
    expect(page.locator("#flash")).not_to_contain_text("Your request was sent")
    page.goto("/customer/service")
    assert _overflow(page) == 0
