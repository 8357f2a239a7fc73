"""The installed base on the landing pages comes in pages, searchable and sortable."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from core.auth.roles import Role
from tests.crm.factories import make_asset, make_org, make_product_model, make_site
from tests.fieldcrm.conftest import Browser
from tests.telemetry.view_factories import log_in_as


def _serials(html: str) -> list[str]:
    return re.findall(r'<a href="/staff/assets/\d+">([^<]+)</a>', html)


def test_the_dashboard_pages_through_every_asset(browser: Browser, db: Session) -> None:
    owner = make_org(db, name="Paging Test GmbH")
    site, model = make_site(db, org=owner), make_product_model(db)
    serials = [f"PT-{n:03d}" for n in range(30)]
    for serial in serials:
        make_asset(db, owner=owner, site=site, product_model=model, serial=serial)
    log_in_as(browser, db, Role.DISPATCHER)

    first = browser.get("/staff", params={"q": "Paging Test", "sort": "serial"})
    second = browser.get("/staff", params={"q": "Paging Test", "sort": "serial", "page": "2"})
    reverse = browser.get("/staff", params={"q": "Paging Test", "sort": "-serial"})

    assert "1–25 of 30 assets" in first.text
    assert _serials(first.text) == serials[:25]
    assert "first 100 shown" not in first.text
    assert 'rel="next"' in first.text
    assert _serials(second.text) == serials[25:]
    assert _serials(reverse.text)[0] == "PT-029"
    assert 'aria-sort="descending"' in reverse.text
