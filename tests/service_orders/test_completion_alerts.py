"""A visit completed "fixed" resolves the alerts its work order was opened for; health follows."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from crm.models import AuditLog
from service_orders.dispatch import assign_by_hand
from service_orders.intake import consume_alerts
from service_orders.models import WorkOrder
from service_orders.tracking import WorkOrderAlert
from service_orders.workorders import complete_work_order, list_work_order_events, transition
from telemetry.alerts.models import Alert, AlertEvent
from telemetry.health.models import AssetHealth
from telemetry.health.service import refresh_health
from tests.customer_app.factories import log_in_customer, make_customer
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import htmx_token, log_in_engineer, log_in_staff, make_crew
from tests.service_orders.workorder_factories import clear, make_alert, make_engineer, png
from tests.telemetry.rule_factories import Reporting, make_reporting_asset, make_rule


def _on_site_job_from_alerts(
    db: Session, r: Reporting
) -> tuple[WorkOrder, Alert, Alert, Principal]:
    """A job opened by a critical alert that cleared and came back (the repeat joins it)."""
    rule = make_rule(db, r, kind="threshold", severity="critical")
    first = make_alert(db, r, rule, severity="critical")
    consume_alerts(db)
    work_order = db.scalars(select(WorkOrder).where(WorkOrder.alert_id == first.id)).one()
    engineer, principal = make_engineer(db)
    work_order.engineer_id = engineer.id
    for target in ("accepted", "en_route", "on_site"):
        transition(db, actor=principal, work_order_id=work_order.id, target=target)
    clear(db, first)
    repeat = make_alert(db, r, rule, severity="critical")
    consume_alerts(db)
    assert db.get_one(WorkOrderAlert, repeat.id).work_order_id == work_order.id
    refresh_health(db, asset_ids=[r.asset.id])
    return work_order, first, repeat, principal


def _complete(db: Session, work_order: WorkOrder, principal: Principal, outcome: str) -> None:
    complete_work_order(
        db, actor=principal, work_order_id=work_order.id, outcome=outcome,
        signature_png=png(), signed_by="Dana Customer",
    )  # fmt: skip


def _alerts_detail(db: Session, asset_id: int) -> str:
    health = db.get_one(AssetHealth, asset_id)
    db.refresh(health)
    return next(c["detail"] for c in health.contributors if c["name"] == "active_alerts")


def test_fixed_visit_resolves_its_alerts_and_says_who_and_why(db: Session) -> None:
    r = make_reporting_asset(db)
    work_order, first, repeat, principal = _on_site_job_from_alerts(db, r)
    assert _alerts_detail(db, r.asset.id) == "1 critical"

    _complete(db, work_order, principal, "fixed")

    db.refresh(first)
    db.refresh(repeat)
    assert (first.status, first.clear_reason) == ("cleared", "condition")  # left as it was
    assert (repeat.status, repeat.clear_reason) == ("cleared", "service")
    last = db.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == repeat.id).order_by(AlertEvent.id)
    ).all()[-1]
    assert (last.action, last.actor_user_id) == ("cleared", principal.user_id)
    audited = db.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "alerts", AuditLog.entity_id == str(repeat.id))
        .order_by(AuditLog.id)
    ).all()[-1]
    assert audited.after is not None
    assert audited.after["reason"] == f"fixed on service visit {work_order.number}"
    events = list_work_order_events(db, principal=SYSTEM, work_order_id=work_order.id)
    assert f"alert #{repeat.id} resolved: fixed on this visit" in [e.note for e in events]
    assert _alerts_detail(db, r.asset.id) == "none"


@pytest.mark.parametrize("outcome", ["partially_fixed", "not_fixed"])
def test_visit_not_fixed_leaves_the_alerts_open_with_the_follow_up(
    db: Session, outcome: str
) -> None:
    r = make_reporting_asset(db)
    work_order, _, repeat, principal = _on_site_job_from_alerts(db, r)

    _complete(db, work_order, principal, outcome)

    db.refresh(repeat)
    assert repeat.status == "open"
    assert db.get_one(WorkOrderAlert, repeat.id).work_order_id != work_order.id  # the follow-up's
    assert _alerts_detail(db, r.asset.id) == "1 critical"


def test_customer_sees_no_open_alert_after_the_engineer_fixed_it(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    crew = make_crew(db)
    rule = make_rule(db, customer.device, kind="threshold", severity="critical")
    make_alert(db, customer.device, rule, severity="critical")
    consume_alerts(db)
    work_order = db.scalars(select(WorkOrder).where(WorkOrder.asset_id == customer.asset_id)).one()
    assign_by_hand(db, actor=SYSTEM, work_order_id=work_order.id, engineer_id=crew.ann.id)
    for target in ("en_route", "on_site"):
        transition(
            db, actor=crew.principal(db, crew.ann), work_order_id=work_order.id, target=target
        )
    refresh_health(db, asset_ids=[customer.asset_id])
    log_in_customer(browser, customer)
    assert "1 open alert" in browser.get("/customer").text

    log_in_engineer(browser, db, crew, crew.ann)
    signature = "data:image/png;base64," + base64.b64encode(png()).decode()
    done = browser.post(
        f"/engineer/jobs/{work_order.id}/complete",
        data={"outcome": "fixed", "signed_by": "Dana Customer", "signature": signature},
        headers={**htmx_token(browser, f"/engineer/jobs/{work_order.id}"), "HX-Target": "job"},
    )
    assert done.status_code == 200

    log_in_customer(browser, customer)
    page = browser.get("/customer").text
    assert "no open alerts" in page
    assert "alert open" not in page  # the health score's "why" no longer counts it
    assert '<span class="health health-good" title="Health score">100</span>' in page

    browser.cookies.clear()
    log_in_staff(browser, db)
    staff_page = browser.get(f"/staff/assets/{customer.asset_id}").text
    assert "No active alerts." in staff_page
    assert re.search(r"\(cleared [^()]+, fixed on a service visit\)", staff_page)
