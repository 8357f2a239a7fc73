"""The telemetry staff pages (devices, alerts, an asset's page, dead letters) are for
administrators and dispatchers: an engineer, a customer (even about their own asset) and a
distributor are refused every one of them, and nothing changes.

The routes come from the app's route table, so a new telemetry staff page is swept here the
day it is added.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from core.auth.roles import Role
from fieldcrm.app import create_app
from telemetry.alerts.models import Alert
from tests.fieldcrm.conftest import Browser
from tests.telemetry.rule_factories import Reporting, make_reporting_asset
from tests.telemetry.view_factories import add_alert, log_in_as

TELEMETRY_STAFF = ("/staff/devices", "/staff/alerts", "/staff/assets", "/staff/dead-letters")
REFUSED = {403, 404}
_HOME = {Role.ENGINEER: "/engineer", Role.CUSTOMER: "/customer", Role.DISTRIBUTOR: "/portal"}


def _routes() -> list[tuple[str, str]]:
    found = []
    pending = list(create_app().routes)
    while pending:
        route = pending.pop()
        if isinstance(route, APIRoute):
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        pending += list(included.routes) if included is not None else []
        pending += getattr(route, "routes", [])
    return sorted(set(found))


STAFF = [(m, p) for m, p in _routes() if p.startswith(TELEMETRY_STAFF)]


def test_the_sweep_sees_the_alerts_list_and_its_actions() -> None:
    assert {
        ("GET", "/staff/alerts"),
        ("POST", "/staff/alerts/{alert_id}/acknowledge"),
        ("POST", "/staff/alerts/{alert_id}/clear"),
        ("GET", "/staff/devices"),
        ("GET", "/staff/assets/{asset_id}"),
    } <= set(STAFF)


def _url(path: str, r: Reporting, alert: Alert) -> str:
    ids = {"alert_id": alert.id, "asset_id": r.asset.id, "device_id": r.device.id}
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids[m.group(1)]), path)


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.CUSTOMER, Role.DISTRIBUTOR])
@pytest.mark.parametrize(("method", "path"), STAFF, ids=[f"{m} {p}" for m, p in STAFF])
def test_non_staff_are_refused_every_telemetry_staff_page(
    browser: Browser, db: Session, method: str, path: str, role: Role
) -> None:
    r = make_reporting_asset(db)
    alert = add_alert(db, r)
    log_in_as(browser, db, role, org=r.owner if role == Role.CUSTOMER else None)
    token = browser.csrf_token(_HOME[role])
    form = {"csrf_token": token, "reason": "mine now", "back": "", "asset_id": str(r.asset.id)}

    response = browser.request(method, _url(path, r, alert), data=form if method != "GET" else None)

    status = response.status_code
    # the live stream reads the login in a session of its own, which cannot see this test's
    # uncommitted user: it sends them to log in, a refusal as well
    to_login = status == 303 and response.headers["location"].startswith("/login")
    assert status in REFUSED or to_login, f"{role} {method} {path}: {status}"
    db.refresh(alert)
    db.refresh(r.device)
    assert (alert.status, r.device.status) == ("open", "active")


def test_the_control_a_dispatcher_does_change_the_alert(browser: Browser, db: Session) -> None:
    """The same request from staff acknowledges: an unchanged alert above means refused."""
    r = make_reporting_asset(db)
    alert = add_alert(db, r)
    log_in_as(browser, db, Role.DISPATCHER)
    token = browser.csrf_token("/staff/alerts")

    browser.post(f"/staff/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "back": ""})

    db.refresh(alert)
    assert alert.status == "acknowledged"
