"""A role's walk through the product: at every step, check what a person sees and keep a picture.

Each step asserts what any page owes its reader (no horizontal overflow at the phone's width
and the desktop's, no console error, no enum key or library text in the visible words) and
saves a full-page screenshot per width under tests/e2e/results/journeys/<role>/, for a person
to open and look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS

PHONE_WIDTH = 390
DESKTOP_WIDTH = 1366
_HEIGHT = {PHONE_WIDTH: 844, DESKTOP_WIDTH: 900}
# snake_case words (service_due, condenser_pressure) and key:value tags (metric:vibration) are
# programmers' words; a person never reads them. E-mail addresses and file names are exempt.
_ENUM_KEY = re.compile(r"(?<![\w.@/-])[a-z]+(?:_[a-z0-9]+)+(?![\w.@/-])|\bmetric:\w+")
_LIBRARY_TEXT = ("Input should be", "Field required", "value is not a valid", "Traceback")
# a refused form answers 4xx on purpose: the browser and htmx log that, it is not a fault
_EXPECTED_REFUSAL = re.compile(
    r"status of 4(?:00|09|13|15|22)\b|Response Status Error Code 4(?:00|09|13|15|22)\b"
)
# text inside these is data the user typed or a machine's identifier, not the product's words
_NOT_PROSE = "code, pre, kbd, samp, input, textarea, select, script, style, .mono, .hash"


@dataclass
class Walk:
    """One role's walk; `step` after each thing the person does."""

    page: Page
    live_server: LiveServer
    role: str
    widths: tuple[int, ...] = (PHONE_WIDTH, DESKTOP_WIDTH)
    steps: list[str] = field(default_factory=list)

    def step(self, name: str) -> None:
        """Check the page as it is now at every width and save its pictures."""
        self.steps.append(name)
        folder = RESULTS / "journeys" / self.role
        folder.mkdir(parents=True, exist_ok=True)
        current = self.page.viewport_size
        for width in self.widths:
            self._resize(width)
            overflow = self.page.evaluate("document.documentElement.scrollWidth")
            shot = folder / f"{len(self.steps):02d}-{name}-{width}.png"
            self.page.screenshot(path=str(shot), full_page=True, animations="disabled")
            assert overflow <= width + 1, f"{name}: {overflow} px wide at {width} px ({shot})"
        if current is not None:
            self.page.set_viewport_size(current)
        self._assert_words(name)
        errors = [e for e in self.live_server.console_errors if not _EXPECTED_REFUSAL.search(e)]
        assert errors == [], f"{name}: console errors {errors}"

    def _resize(self, width: int) -> None:
        size: ViewportSize = {"width": width, "height": _HEIGHT.get(width, 900)}
        self.page.set_viewport_size(size)

    def _assert_words(self, name: str) -> None:
        words = self.visible_prose()
        keys = sorted(set(_ENUM_KEY.findall(words)))
        assert keys == [], f"{name}: programmers' words on the page: {keys}"
        library = [phrase for phrase in _LIBRARY_TEXT if phrase in words]
        assert library == [], f"{name}: library text on the page: {library}"

    def visible_prose(self) -> str:
        """The words a person reads: visible text, option labels, placeholders and titles,
        without what users typed or machine identifiers."""
        return str(
            self.page.evaluate(
                """(skip) => {
                    const out = [];
                    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                        const el = n.parentElement;
                        if (!el || el.closest(skip) || !el.checkVisibility()) continue;
                        out.push(n.textContent);
                    }
                    document.querySelectorAll('select option').forEach((o) => out.push(o.text));
                    document.querySelectorAll('[placeholder], [title], [aria-label]').forEach(
                        (el) => out.push(el.getAttribute('placeholder') || '',
                                         el.getAttribute('title') || '',
                                         el.getAttribute('aria-label') || ''));
                    return out.join(' ');
                }""",
                _NOT_PROSE,
            )
        )


def expect_field_error(page: Page, field_label: str, words: str) -> None:
    """The message stands next to its field (tied to it by aria-describedby, as a screen reader
    announces it) and in the error summary at the top, which links to the field."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()  # the answer has arrived (an htmx swap or a new page)
    field = page.get_by_label(field_label, exact=True)
    described = field.get_attribute("aria-describedby") or ""
    messages = " ".join(
        page.locator(f"[id='{ident}']").inner_text() for ident in described.split() if ident
    )
    assert words in messages, f"{field_label}: {messages!r} does not say {words!r}"
    assert words in summary.inner_text()
