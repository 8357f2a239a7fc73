"""Staff pages of the partner portal open cleanly on a laptop (and give the README its pictures)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in, save_screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("local", "path", "heading", "picture"),
    [
        ("admin", "/staff/partners", "Partners", "partners"),
        ("finance", "/staff/partners/statements", "Rebate statements", "finance"),
    ],
)
def test_staff_page_opens_without_errors(
    laptop: Page, live_server: LiveServer, local: str, path: str, heading: str, picture: str
) -> None:
    log_in(laptop, local, then=path)
    expect(laptop.locator("main h1").first).to_contain_text(heading)
    save_screenshot(laptop, picture)
    assert live_server.console_errors == []
