"""A customer's service request through the JSON API says only what is theirs to say: the
asset, a title, a description and an urgency of 2 to 4. Alert links, priority 1, the level,
dates and checklists are ours (issue 13, finding 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import OrgKind
from service_orders.models import WorkOrder
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import log_in_staff
from tests.service_orders.workorder_factories import make_alert
from tests.telemetry.rule_factories import make_reporting_asset, make_rule

API = "/api/service-orders/work-orders"


def _customer_with_a_neighbour(db: Session, browser: Browser) -> tuple[int, int]:
    """A logged-in customer's asset id, and the id of an open alert of another tenant."""
    mine = make_reporting_asset(db)
    theirs = make_reporting_asset(db)
    alert = make_alert(db, theirs, make_rule(db, theirs, kind="threshold", severity="critical"))
    customer = make_user(db, org=mine.owner, role=Role.CUSTOMER)
    browser.log_in(customer.email, PASSWORD)
    return mine.asset.id, alert.id


def test_a_customers_request_keeps_only_what_is_theirs_to_say(
    browser: Browser, db: Session
) -> None:
    asset_id, foreign_alert = _customer_with_a_neighbour(db, browser)
    body = {
        "type": "corrective",
        "source": "customer_request",
        "asset_id": asset_id,
        "title": "Compressor is loud",
        "description": "Since Monday",
        "priority": 1,
        "required_level": 3,
        "alert_id": foreign_alert,
        "due_by": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        "checklist": [{"label": "Give us a discount", "done": True}],
    }
    created = browser.post(
        API, json=body, headers={"X-CSRF-Token": browser.csrf_token("/customer")}
    )

    assert created.status_code == 201, created.text
    order = db.get_one(WorkOrder, created.json()["id"])
    assert order.alert_id is None  # another tenant's alert is never linked (nor "covered")
    assert (order.priority, order.required_level) == (2, 1)
    assert order.title == "Compressor is loud"
    assert all(item["label"] != "Give us a discount" for item in order.checklist)
    assert not any(item.get("done") for item in order.checklist)
    assert order.resolve_by > datetime.now(UTC) + timedelta(hours=1)  # from the SLA, not asked


def test_an_alert_id_reveals_nothing_to_a_customer(browser: Browser, db: Session) -> None:
    asset_id, foreign_alert = _customer_with_a_neighbour(db, browser)
    token = {"X-CSRF-Token": browser.csrf_token("/customer")}
    base = {"type": "corrective", "source": "customer_request", "asset_id": asset_id}
    existing = browser.post(
        API, json={**base, "title": "a", "alert_id": foreign_alert}, headers=token
    )
    missing = browser.post(API, json={**base, "title": "b", "alert_id": 2**31 - 1}, headers=token)
    assert (existing.status_code, missing.status_code) == (201, 201)


def test_an_engineer_is_refused_before_any_id_is_looked_up(browser: Browser, db: Session) -> None:
    engineer = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.ENGINEER)
    browser.log_in(engineer.email, PASSWORD)
    body = {"type": "corrective", "asset_id": 1, "title": "x", "alert_id": 2**31 - 1}
    token = {"X-CSRF-Token": browser.csrf_token("/engineer")}
    refused = browser.post(API, json=body, headers=token)
    assert refused.status_code == 403


def test_staff_may_link_only_an_alert_of_the_same_asset(browser: Browser, db: Session) -> None:
    asset = make_reporting_asset(db)
    other = make_reporting_asset(db)
    alert = make_alert(db, other, make_rule(db, other, kind="threshold", severity="critical"))
    log_in_staff(browser, db)
    body = {"type": "corrective", "asset_id": asset.asset.id, "title": "x", "alert_id": alert.id}
    refused = browser.post(API, json=body, headers={"X-CSRF-Token": browser.csrf_token("/staff")})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "alert_id"
