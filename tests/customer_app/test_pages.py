"""The customer's pages: landing with health, the device page, service list and detail."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.db import utcnow
from service_orders.certificates import issue_certificate
from service_orders.engineers import update_location
from tests.customer_app.factories import engineer_for, log_in_customer, make_customer, order_in
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import SITE_LAT, SITE_LON
from tests.telemetry.rule_factories import make_reporting_asset
from tests.telemetry.view_factories import add_alert, add_health, log_in_as


def test_login_lands_a_customer_on_their_devices(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    assert browser.get("/").headers["location"] == "/customer"


def test_landing_shows_each_device_with_health_colour_and_open_alerts(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    poor = make_reporting_asset(db, owner=customer.org)
    fair = make_reporting_asset(db, owner=customer.org)
    add_health(db, customer.device, score=91)
    add_health(db, poor, score=31)
    add_health(db, fair, score=64)
    add_alert(db, poor)
    log_in_customer(browser, customer)
    page = browser.get("/customer").text
    assert '<span class="health health-good" title="Health score">91</span>' in page
    assert '<span class="health health-poor" title="Health score">31</span>' in page
    assert '<span class="health health-fair" title="Health score">64</span>' in page
    assert "1 open alert" in page
    assert "why: Pressure zone (in the warning zone) −12.5; Alerts (1 major alert open) −8" in page
    assert customer.device.asset.serial in page
    assert poor.asset.serial in page


def test_landing_lists_only_my_organisations_devices(browser: Browser, db: Session) -> None:
    mine, other = make_customer(db), make_customer(db)
    log_in_customer(browser, mine)
    page = browser.get("/customer").text
    assert mine.device.asset.serial in page
    assert other.device.asset.serial not in page


def test_device_page_explains_health_and_shows_the_service_history(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    health = add_health(db, customer.device, score=62)
    health.predicted_failure_at = utcnow().replace(year=2030)
    done = order_in(db, customer, engineer_for(db), "completed")
    certificate = issue_certificate(db, work_order_id=done.id, public_url="http://test")
    log_in_customer(browser, customer)
    page = browser.get(f"/customer/devices/{customer.asset_id}").text
    assert "Why not 100" in page
    assert "Pressure zone" in page
    assert "−12.5" in page
    assert re.search(r"Predicted failure: \d{1,2} \w{3} 2030, \d{2}:\d{2} CES?T", page)
    assert done.number in page
    assert f"/certificates/{certificate.id}" in page
    assert "waiting to be anchored" in page
    assert f"/customer/service/{done.id}/survey" in page
    assert f'data-url="/api/customer/devices/{customer.asset_id}/series?metric=' in page


def test_service_page_shows_engineer_eta_and_map_while_en_route(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    engineer = engineer_for(db)
    order = order_in(db, customer, engineer, "en_route")
    # 0.5 degrees of latitude north of the site: 55.6 km in a straight line
    update_location(db, engineer_id=engineer.id, lat=SITE_LAT + 0.5, lon=SITE_LON, at=utcnow())
    log_in_customer(browser, customer)
    page = browser.get("/customer/service").text
    assert order.number in page
    assert "Engineer on the way" in page
    assert 'class="track-map"' in page
    assert f'data-engineer-lat="{SITE_LAT + 0.5}"' in page
    assert "55.6 km away" in page
    detail = browser.get(f"/customer/service/{order.id}").text
    assert "Arrives" in detail
    assert "55.6 km away" in detail


def test_no_position_is_shown_before_the_engineer_is_on_the_way(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    order = order_in(db, customer, engineer_for(db), "accepted")
    log_in_customer(browser, customer)
    page = browser.get(f"/customer/service/{order.id}").text
    assert order.number in page
    assert re.search(r"\d{2}:\d{2} CES?T</time> Engineer assigned", page)  # the history
    assert "track-map" not in page
    assert "Arrives" not in page


def test_staff_cannot_open_customer_pages(browser: Browser, db: Session) -> None:
    log_in_as(browser, db, Role.DISPATCHER)
    assert browser.get("/customer").status_code == 403
