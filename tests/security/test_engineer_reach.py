"""An engineer sees the machines of their own offers and jobs, not the whole fleet, and
acknowledges or clears only the alerts of a machine they have a job on: a clear can cancel
the order the alert opened (issue 13, finding 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.db import utcnow
from crm.models import OrgKind, User
from service_orders.dispatch import assign_by_hand
from service_orders.intake import consume_alerts
from service_orders.models import DispatchOffer, Engineer, OfferStatus, WorkOrder
from telemetry.alerts.models import Alert
from tests.crm.factories import PASSWORD, make_org
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_engineer, make_work_order
from tests.service_orders.page_factories import log_in_staff
from tests.telemetry.rule_factories import Reporting, make_reporting_asset
from tests.telemetry.view_factories import add_alert


@dataclass(frozen=True)
class Fleet:
    ann: Engineer
    offered: Reporting  # a machine whose order is offered to Ann
    given: Reporting  # a machine Ann has a job on
    elsewhere: Reporting  # a machine Ann has nothing to do with


def _fleet(db: Session) -> Fleet:
    ann = make_engineer(db, org=make_org(db, kind=OrgKind.MANUFACTURER))
    offered, given, elsewhere = (make_reporting_asset(db) for _ in range(3))
    offer_order = make_work_order(db, asset=offered.asset)
    offer_order.status = "offered"
    db.add(
        DispatchOffer(
            work_order_id=offer_order.id,
            engineer_id=ann.id,
            expires_at=utcnow() + timedelta(minutes=10),
            status=OfferStatus.PENDING,
        )
    )
    job = make_work_order(db, asset=given.asset)
    assign_by_hand(db, actor=SYSTEM, work_order_id=job.id, engineer_id=ann.id)
    make_work_order(db, asset=elsewhere.asset)
    db.flush()
    return Fleet(ann, offered, given, elsewhere)


def _log_in(browser: Browser, db: Session, engineer: Engineer) -> None:
    browser.cookies.clear()
    browser.log_in(db.get_one(User, engineer.user_id).email, PASSWORD)


def _csrf(browser: Browser) -> dict[str, str]:
    return {"X-CSRF-Token": browser.csrf_token("/engineer")}


def test_an_engineer_sees_the_assets_devices_and_alerts_of_their_offers_and_jobs_only(
    browser: Browser, db: Session
) -> None:
    fleet = _fleet(db)
    for r in (fleet.offered, fleet.given, fleet.elsewhere):
        add_alert(db, r)
    _log_in(browser, db, fleet.ann)

    mine = {fleet.offered.asset.id, fleet.given.asset.id}
    assert {a["id"] for a in browser.get("/api/crm/assets").json()} == mine
    assert browser.get(f"/api/crm/assets/{fleet.elsewhere.asset.id}").status_code == 404
    assert browser.get(f"/api/crm/assets/{fleet.given.asset.id}").status_code == 200
    devices = browser.get("/api/telemetry/devices").json()
    assert {d["asset_id"] for d in devices} == mine
    alerts = browser.get("/api/telemetry/alerts").json()["items"]
    assert {a["asset_id"] for a in alerts} == mine
    latest = browser.get(f"/api/telemetry/assets/{fleet.elsewhere.asset.id}/latest")
    assert latest.status_code == 404
    owners = {o["id"] for o in browser.get("/api/crm/organizations").json()}
    assert fleet.elsewhere.owner.id not in owners
    assert {fleet.offered.owner.id, fleet.given.owner.id} <= owners

    # another engineer with nothing to do sees nothing of the fleet
    bob = make_engineer(db, org=make_org(db, kind=OrgKind.MANUFACTURER), km_north=3.0)
    _log_in(browser, db, bob)
    assert browser.get("/api/crm/assets").json() == []
    assert browser.get("/api/telemetry/alerts").json()["items"] == []


def test_only_staff_and_the_engineer_on_the_job_clear_an_alert(
    browser: Browser, db: Session
) -> None:
    fleet = _fleet(db)
    on_offer = add_alert(db, fleet.offered, severity="critical")
    consume_alerts(db)  # the alert opens its own order, unassigned: a clear would cancel it
    opened = db.query(WorkOrder).filter_by(alert_id=on_offer.id).one()
    on_job = add_alert(db, fleet.given)
    _log_in(browser, db, fleet.ann)

    refused = browser.post(
        f"/api/telemetry/alerts/{on_offer.id}/clear",
        json={"reason": "not my problem"},
        headers=_csrf(browser),
    )
    assert refused.status_code == 403
    assert "engineer working on this machine" in refused.json()["error"]["message"]
    ack = browser.post(f"/api/telemetry/alerts/{on_offer.id}/acknowledge", headers=_csrf(browser))
    assert ack.status_code == 403
    db.expire_all()
    assert db.get_one(Alert, on_offer.id).status == "open"
    assert db.get_one(WorkOrder, opened.id).status == "new"

    hidden = browser.post(
        f"/api/telemetry/alerts/{add_alert(db, fleet.elsewhere).id}/clear",
        json={"reason": "x"},
        headers=_csrf(browser),
    )
    assert hidden.status_code == 404

    cleared = browser.post(
        f"/api/telemetry/alerts/{on_job.id}/clear",
        json={"reason": "sensor cable replaced"},
        headers=_csrf(browser),
    )
    assert cleared.status_code == 200
    assert cleared.json()["status"] == "cleared"

    browser.cookies.clear()
    log_in_staff(browser, db, Role.DISPATCHER)
    by_staff = browser.post(
        f"/api/telemetry/alerts/{on_offer.id}/clear",
        json={"reason": "false alarm, checked by phone"},
        headers={"X-CSRF-Token": browser.csrf_token("/staff")},
    )
    assert by_staff.status_code == 200
