"""The icon set (lucide, from npm): only the icons the pages use, served as one SVG sprite.

A page draws an icon with `<svg><use href="/static/vendor/icons.svg?v=…#name">` (the
`icon(name)` macro in core/templates/core/_icons.html), so the CSP stays `img-src 'self'`
and no inline SVG or style is needed. Lucide's stroke settings sit on each icon's root
element, which a <symbol> drops; the `.icon` rule in app.css sets them instead.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

LUCIDE_ICONS = "lucide-static/icons"
SPRITE_NAME = "icons.svg"
_SVG_NS = "http://www.w3.org/2000/svg"

# The header's entries, by URL; an entry without one shows its words only (Login, and the
# engineer's, whose own bar at the bottom of the phone carries the icons).
_NAV_ICONS = {
    "/staff": "layout-dashboard",
    "/staff/dispatch": "route",
    "/staff/devices": "cpu",
    "/staff/alerts": "triangle-alert",
    "/staff/partners": "handshake",
    "/staff/approvals": "list-checks",
    "/staff/satisfaction": "smile",
    "/staff/dead-letters": "mail-x",
    "/portal": "layout-dashboard",
    "/portal/documents": "file-text",
    "/portal/training": "graduation-cap",
    "/portal/pickups": "package",
    "/portal/statements": "receipt",
    "/portal/inquiries": "message-square",
    "/portal/contracts": "file-signature",
    "/portal/users": "users",
    "/customer": "cpu",
    "/customer/service": "wrench",
    "/customer/watches": "bell",
}
# Icons for actions and states, besides the header's.
_ACTION_ICONS = (
    "bell",
    "camera",
    "check",
    "circle-alert",
    "circle-check",
    "download",
    "file-text",
    "history",
    "inbox",
    "log-out",
    "map",
    "navigation",
    "plus",
    "search",
    "send",
    "shield-check",
    "upload",
    "wrench",
    "x",
)
ICONS: tuple[str, ...] = tuple(sorted({*_NAV_ICONS.values(), *_ACTION_ICONS}))


def nav_icon(url: str) -> str | None:
    """The icon of a header entry, if it has one."""
    return _NAV_ICONS.get(url)


def icon_paths(node_modules: Path) -> dict[str, Path]:
    """The lucide file of every icon the pages use, by name."""
    return {name: node_modules / LUCIDE_ICONS / f"{name}.svg" for name in ICONS}


def build_sprite(paths: dict[str, Path]) -> bytes:
    """One SVG with a <symbol id="name"> per icon, from lucide's single-icon files."""
    ET.register_namespace("", _SVG_NS)
    sprite = ET.Element(f"{{{_SVG_NS}}}svg")
    for name, path in sorted(paths.items()):
        root = ET.parse(path).getroot()  # noqa: S314 (the pinned npm package's own files)
        symbol = ET.SubElement(
            sprite, f"{{{_SVG_NS}}}symbol", id=name, viewBox=root.get("viewBox", "0 0 24 24")
        )
        symbol.extend(list(root))
    notice = "<!-- lucide-static icons, ISC license -->\n"
    return (notice + ET.tostring(sprite, encoding="unicode")).encode()
