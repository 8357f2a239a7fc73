"""Every page shows the logo and links the favicons; the icons come from one same-origin sprite."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.web.icons import ICONS
from core.web.templating import get_templates
from crm.models import OrgKind
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm.conftest import Browser


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _tags(html: str, tag: str) -> list[dict[str, str]]:
    parser = _Tags()
    parser.feed(html)
    return [attrs for name, attrs in parser.tags if name == tag]


def _served(browser: Browser, url: str, content_type: str) -> bytes:
    response = browser.get(url)
    assert response.status_code == 200, url
    assert response.headers["content-type"].startswith(content_type), url
    assert response.headers["x-content-type-options"] == "nosniff"
    return response.content


def test_a_page_links_the_favicons_and_shows_the_logo(browser: Browser) -> None:
    html = browser.get("/login").text

    links = {link["rel"]: link for link in _tags(html, "link") if "icon" in link["rel"]}
    icons = [link for link in _tags(html, "link") if link["rel"] == "icon"]
    assert {link["type"] for link in icons} == {"image/svg+xml", "image/png"}
    for link in icons:
        _served(browser, link["href"], link["type"])
    assert _served(browser, links["apple-touch-icon"]["href"], "image/png").startswith(b"\x89PNG")

    logo = next(img for img in _tags(html, "img") if "logo" in img.get("class", ""))
    assert logo["alt"] == "fieldcrm"
    assert b"fieldcrm" in _served(browser, logo["src"], "image/svg+xml")


def test_header_entries_carry_hidden_icons_from_the_sprite(browser: Browser, db: Session) -> None:
    user = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.DISPATCHER)
    browser.log_in(user.email, PASSWORD)
    html = browser.get("/staff/devices").text

    svgs = [svg for svg in _tags(html, "svg") if svg.get("class") == "icon"]
    assert svgs
    assert all(svg["aria-hidden"] == "true" for svg in svgs)
    hrefs = [use["href"] for use in _tags(html, "use")]
    assert any(href.endswith("#cpu") for href in hrefs)  # Devices
    assert any(href.endswith("#log-out") for href in hrefs)
    sprite_url = hrefs[0].split("#")[0]
    assert sprite_url.startswith("/static/vendor/icons.svg?v=")

    sprite = _served(browser, sprite_url, "image/svg+xml").decode()
    for name in ICONS:
        assert f'<symbol id="{name}"' in sprite
    assert sprite.count("<symbol") == len(ICONS)  # only the icons the pages use
    assert "immutable" in browser.get(sprite_url).headers["cache-control"]


def test_an_icon_the_sprite_lacks_is_an_error_not_a_blank() -> None:
    template = get_templates().env.from_string('{{ icon("no-such-icon") }}')

    with pytest.raises(KeyError, match="no-such-icon"):
        template.render()
