"""The staff device list scales: search, filters, sorting, pages and counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.listing import list_params
from telemetry.queries.devices import DEVICE_SORTS, device_page
from tests.crm.factories import make_asset, make_org
from tests.fieldcrm.conftest import Browser
from tests.telemetry.rule_factories import Reporting, make_reporting_asset
from tests.telemetry.view_factories import add_alert, add_health, log_in_as

HTMX = {"HX-Request": "true", "HX-Target": "device_list"}


def _fleet(db: Session, count: int) -> list[Reporting]:
    """`count` assets of one customer, scored 40, 45, 50 … with an alert on every fifth."""
    owner = make_org(db, name="Fleet Test Customer")
    fleet: list[Reporting] = []
    for index in range(count):
        r = make_reporting_asset(db, owner=owner, model=fleet[0].model if fleet else None)
        add_health(db, r, score=min(100, 40 + 5 * index))
        if index % 5 == 0:
            add_alert(db, r)
        fleet.append(r)
    return fleet


def _serials(html: str) -> list[str]:
    return re.findall(r'class="device-serial"[^>]*>([^<]+)<', html)


def test_a_long_list_comes_in_pages_with_counts(browser: Browser, db: Session) -> None:
    fleet = _fleet(db, 30)
    log_in_as(browser, db, Role.DISPATCHER)
    customer = str(fleet[0].owner.id)

    first = browser.get(f"/staff/devices?customer={customer}&sort=serial")
    second = browser.get(f"/staff/devices?customer={customer}&sort=serial&page=2")

    assert len(_serials(first.text)) == 25
    assert "1–25 of 30 assets" in first.text
    assert 'rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    assert len(_serials(second.text)) == 5
    assert "26–30 of 30 assets" in second.text
    assert set(_serials(first.text)).isdisjoint(_serials(second.text))


def test_search_finds_an_asset_by_serial(browser: Browser, db: Session) -> None:
    fleet = _fleet(db, 3)
    log_in_as(browser, db, Role.DISPATCHER)
    wanted = fleet[1].asset.serial

    page = browser.get("/staff/devices", params={"q": wanted.lower()}, headers=HTMX)

    assert page.status_code == 200
    assert "<html" not in page.text  # only the list, the search box keeps its focus
    assert _serials(page.text) == [wanted]
    assert "1 asset" in page.text


def test_filters_by_health_band_and_open_alerts(browser: Browser, db: Session) -> None:
    fleet = _fleet(db, 10)  # scores 40 … 85; alerts on the 1st and 6th
    log_in_as(browser, db, Role.DISPATCHER)
    customer = str(fleet[0].owner.id)

    poor = browser.get(f"/staff/devices?customer={customer}&health=poor")
    alerting = browser.get(f"/staff/devices?customer={customer}&alerts=open")

    assert set(_serials(poor.text)) == {fleet[0].asset.serial, fleet[1].asset.serial}
    assert set(_serials(alerting.text)) == {fleet[0].asset.serial, fleet[5].asset.serial}


def test_sorting_by_health_puts_the_worst_first_and_reverses(db: Session) -> None:
    fleet = _fleet(db, 4)
    customer = str(fleet[0].owner.id)
    query = {"customer": customer, "sort": "health"}

    ascending = device_page(
        db,
        principal=SYSTEM,
        params=list_params(
            query, sorts=DEVICE_SORTS, default_sort="serial", filters={"customer": None}
        ),
    )
    descending = device_page(
        db,
        principal=SYSTEM,
        params=list_params(
            {**query, "sort": "-health"},
            sorts=DEVICE_SORTS,
            default_sort="serial",
            filters={"customer": None},
        ),
    )

    assert [row.health_score for row in ascending.rows] == [40, 45, 50, 55]
    assert [row.health_score for row in descending.rows] == [55, 50, 45, 40]


@pytest.mark.parametrize("query", ["sort=drop table", "page=-3", "per_page=100000", "health=x"])
def test_odd_parameters_fall_back_instead_of_failing(
    browser: Browser, db: Session, query: str
) -> None:
    _fleet(db, 2)
    log_in_as(browser, db, Role.DISPATCHER)
    assert browser.get(f"/staff/devices?{query}").status_code == 200


def test_a_search_without_hits_says_so_and_offers_the_way_back(
    browser: Browser, db: Session
) -> None:
    owner = make_org(db)
    make_asset(db, owner=owner)
    log_in_as(browser, db, Role.DISPATCHER)

    page = browser.get("/staff/devices", params={"q": "no-such-serial-anywhere"})

    assert "No assets match." in page.text
    assert "Show all assets" in page.text
