"""Every role's main pages look like one product at 390 and 1366 px: the logo in the header,
nothing wider than the screen, buttons a thumb can hit, sections without underlines and links
in sentences with one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in
from tests.e2e.journeys.walk import DESKTOP_WIDTH, PHONE_WIDTH, Walk

pytestmark = pytest.mark.e2e

# (who logs in, or None for no one; the pages they read most)
ROLE_PAGES = [
    ("dispatcher", ("/staff", "/staff/devices", "/staff/dispatch")),
    ("distributor", ("/portal", "/portal/statements")),
    ("customer", ("/customer",)),
    ("engineer", ("/engineer",)),
    (None, ("/verify",)),
]
# what a phone shows in main: every button and button-like link, each a 44 px target
_SHORT_BUTTONS = """() => [...document.querySelectorAll('main button, main .button')]
    .filter((el) => el.checkVisibility())
    .map((el) => [el.textContent.trim(), el.getBoundingClientRect().height])
    .filter(([, height]) => height < 44)"""
_UNDERLINED = """(selector) => [...document.querySelectorAll(selector)]
    .filter((el) => el.checkVisibility())
    .map((el) => [el.textContent.trim(), getComputedStyle(el).textDecorationLine])"""
# a link inside a sentence (a paragraph of text, not a paragraph that is only the link)
_RUNNING_TEXT_LINKS = "main p a:not(.button)"
_SECTION_LINKS = ".site-nav a, main nav a, main td a, .brand"


def _check_page(page: Page, path: str, width: int) -> list[str]:
    """What a person would find wrong with the page at this width."""
    size: ViewportSize = {"width": width, "height": 844 if width == PHONE_WIDTH else 900}
    page.set_viewport_size(size)
    problems = []
    logo = page.locator(".site-header img.logo")
    expect(logo).to_be_visible()
    if not logo.evaluate("img => img.complete && img.naturalWidth > 0"):
        problems.append(f"{path} at {width}: the logo did not load")
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width + 1:
        problems.append(f"{path} at {width}: {wide} px wide")
    if width == PHONE_WIDTH:
        short = page.evaluate(_SHORT_BUTTONS)
        if short:
            problems.append(f"{path} at {width}: buttons under 44 px: {short}")
    underlined = [
        text for text, line in page.evaluate(_UNDERLINED, _SECTION_LINKS) if "underline" in line
    ]
    if underlined:
        problems.append(f"{path} at {width}: section links underlined: {underlined}")
    plain = [
        text
        for text, line in page.evaluate(_UNDERLINED, _RUNNING_TEXT_LINKS)
        if "underline" not in line
    ]
    if plain:
        problems.append(f"{path} at {width}: links in sentences without underline: {plain}")
    return problems


def _icons_drawn(page: Page) -> bool:
    """The header's icons come from the sprite and have a shape (the sprite loaded)."""
    return bool(
        page.evaluate(
            """() => [...document.querySelectorAll('.site-header svg.icon use')]
                .every((use) => use.getBBox().width > 0)"""
        )
    )


def test_main_pages_of_every_role_look_like_one_product(
    laptop: Page, live_server: LiveServer
) -> None:
    problems: list[str] = []
    running_text_links = 0
    walk = Walk(laptop, live_server, "product")
    for local, paths in ROLE_PAGES:
        laptop.context.clear_cookies()
        if local is not None:
            log_in(laptop, local, then=paths[0])
        for path in paths:
            laptop.goto(path)
            expect(laptop.locator("main h1").first).to_be_visible()
            laptop.wait_for_load_state("networkidle")
            assert _icons_drawn(laptop), f"{path}: header icons not drawn"
            running_text_links += laptop.locator(_RUNNING_TEXT_LINKS).count()
            for width in (PHONE_WIDTH, DESKTOP_WIDTH):
                problems += _check_page(laptop, path, width)
            walk.step(f"{local or 'stranger'}{path.replace('/', '-')}")
    assert problems == []
    assert running_text_links > 0  # the underline rule was seen on some page
