"""The header marks the page's own section, not every section that prefixes it."""

from __future__ import annotations

from core.web.templating import current_nav

STAFF_NAV = [
    ("Dashboard", "/staff"),
    ("Devices", "/staff/devices"),
    ("Dead letters", "/staff/dead-letters"),
]


def test_the_longest_matching_entry_is_current() -> None:
    assert current_nav(STAFF_NAV, "/staff/devices") == "/staff/devices"
    assert current_nav(STAFF_NAV, "/staff/devices/12") == "/staff/devices"
    assert current_nav(STAFF_NAV, "/staff") == "/staff"
    assert current_nav(STAFF_NAV, "/staffing") is None
