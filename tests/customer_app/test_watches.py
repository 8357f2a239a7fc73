"""Health watches: notify once below the threshold, re-arm on recovery, own devices only."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from crm.models import Notification
from customer_app.watches import check_watches, set_watch
from telemetry.health.models import AssetHealth
from tests.customer_app.factories import log_in_customer, make_customer
from tests.fieldcrm.conftest import Browser
from tests.telemetry.rule_factories import make_reporting_asset
from tests.telemetry.view_factories import add_health


def _inbox(db: Session, user_id: int) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    return list(db.scalars(query.order_by(Notification.id)))


def _score(db: Session, asset_id: int, score: int) -> None:
    db.get_one(AssetHealth, asset_id).score = score
    db.flush()


def test_watch_notifies_once_and_rearms_after_recovery(db: Session) -> None:
    customer = make_customer(db)
    add_health(db, customer.device, score=80)
    watch = set_watch(db, actor=customer.principal, asset_id=customer.asset_id, threshold=60)
    assert check_watches(db) == 0
    _score(db, customer.asset_id, 55)
    assert check_watches(db) == 1
    assert watch.triggered_at is not None
    assert check_watches(db) == 0  # still low: no second message
    (message,) = _inbox(db, customer.user.id)
    assert message.title == f"{customer.device.asset.serial}: health 55, below your threshold 60"
    assert message.link == f"/customer/devices/{customer.asset_id}"
    _score(db, customer.asset_id, 60)  # recovered (at the threshold is not below)
    assert check_watches(db) == 0
    assert watch.triggered_at is None
    _score(db, customer.asset_id, 40)
    assert check_watches(db) == 1
    assert len(_inbox(db, customer.user.id)) == 2


def test_watch_on_all_devices_skips_those_with_their_own(db: Session) -> None:
    customer = make_customer(db)
    second = make_reporting_asset(db, owner=customer.org)
    add_health(db, customer.device, score=50)
    add_health(db, second, score=45)
    set_watch(db, actor=customer.principal, asset_id=None, threshold=70)
    set_watch(db, actor=customer.principal, asset_id=customer.asset_id, threshold=40)
    assert check_watches(db) == 1  # the all-devices watch, for the second device only
    (message,) = _inbox(db, customer.user.id)
    assert message.title == f"1 device(s) below health 70, lowest {second.asset.serial}"
    assert customer.device.asset.serial not in message.body


def test_all_devices_watch_never_covers_another_organisations_device(db: Session) -> None:
    mine, other = make_customer(db), make_customer(db)
    add_health(db, mine.device, score=90)
    add_health(db, other.device, score=10)
    set_watch(db, actor=mine.principal, asset_id=None, threshold=50)
    assert check_watches(db) == 0
    assert _inbox(db, mine.user.id) == []


def test_watch_on_another_organisations_device_is_404(db: Session) -> None:
    mine, other = make_customer(db), make_customer(db)
    with pytest.raises(NotFound):
        set_watch(db, actor=mine.principal, asset_id=other.asset_id, threshold=50)


def test_watches_page_sets_changes_and_removes(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    token = browser.csrf_token("/customer/watches")
    for threshold in ("55", "65"):
        response = browser.post(
            "/customer/watches",
            data={"device": str(customer.asset_id), "threshold": threshold, "csrf_token": token},
        )
        assert response.status_code == 303
    page = browser.get("/customer/watches").text
    assert f"<strong>{customer.device.asset.serial}</strong> below 65" in page
    assert "below 55" not in page
    response = browser.post(
        "/customer/watches", data={"device": "all", "threshold": "0", "csrf_token": token}
    )
    assert response.status_code == 422
