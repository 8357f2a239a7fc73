"""Predictive work orders get honest SLA dates: from the tier and the predicted failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.db import utcnow
from service_orders.dispatch import accept_offer, dispatch
from service_orders.intake import consume_alerts
from service_orders.kpis import service_kpis
from service_orders.models import ServiceContract, WorkOrder
from service_orders.overdue import mark_overdue
from service_orders.workorders import list_work_order_events
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import (
    htmx_token,
    log_in_engineer,
    make_crew,
    pending_offer,
)
from tests.service_orders.workorder_factories import make_alert
from tests.telemetry.rule_factories import Reporting, make_reporting_asset, make_rule

H = timedelta(hours=1)


def _predictive_order(db: Session, r: Reporting, *, failure_in: timedelta) -> WorkOrder:
    """A gold-tier customer (respond 4 h, resolve 24 h) whose asset trends to its limit."""
    db.add(ServiceContract(org_id=r.owner.id, tier="gold", respond_hours=4, resolve_hours=24))
    rule = make_rule(db, r, kind="trend", severity="major")
    make_alert(db, r, rule, severity="major", predicted_failure_at=utcnow() + failure_in)
    assert consume_alerts(db).created == 1
    return db.scalars(select(WorkOrder).where(WorkOrder.asset_id == r.asset.id)).one()


@pytest.mark.parametrize(
    ("failure_in", "resolve_in"),
    [
        (3 * 24 * H, 24 * H),  # far off: the tier's 24 h, well before the failure
        (40 * H, 20 * H),  # before the failure, with half the time to it as the margin
        (10 * H, 5 * H),  # the same, however near
        (2 * H, 4 * H),  # imminent: never before the tier's respond-by
        (timedelta(0), 24 * H),  # limit already reached: nothing to pull in, the tier's
    ],
    ids=["3-days", "40-hours", "10-hours", "2-hours", "now"],
)
def test_predictive_order_is_due_after_creation_by_the_tier(
    db: Session, failure_in: timedelta, resolve_in: timedelta
) -> None:
    work_order = _predictive_order(db, make_reporting_asset(db), failure_in=failure_in)
    created = work_order.created_at
    assert work_order.type == "predictive"
    assert work_order.respond_by - created == 4 * H
    assert abs((work_order.resolve_by - created) - resolve_in) < timedelta(seconds=5)
    assert work_order.due_by is None or work_order.due_by > created


def test_no_overdue_event_before_the_deadlines(db: Session) -> None:
    work_order = _predictive_order(db, make_reporting_asset(db), failure_in=10 * H)
    created = work_order.created_at

    assert mark_overdue(db, now=created + timedelta(minutes=1)) == 0
    assert mark_overdue(db, now=work_order.respond_by - timedelta(minutes=1)) == 0

    notes = [
        e.note for e in list_work_order_events(db, principal=SYSTEM, work_order_id=work_order.id)
    ]
    assert notes == ["created"]
    assert work_order.status == "new"
    assert work_order.overdue_since is None


def test_order_accepted_at_once_counts_as_responded_in_sla(db: Session) -> None:
    r = make_reporting_asset(db)
    crew = make_crew(db)
    work_order = _predictive_order(db, r, failure_in=10 * H)
    dispatch(db, work_order_id=work_order.id)
    offer = pending_offer(db, work_order)

    accept_offer(db, actor=crew.principal(db, crew.ann), offer_id=offer.id)
    mark_overdue(db)

    [week] = service_kpis(db, period="week", count=1)
    assert week.respond_sla_pct == 100.0


def test_engineer_page_after_accepting_does_not_say_overdue(db: Session, browser: Browser) -> None:
    r = make_reporting_asset(db)  # at the crew's test site
    crew = make_crew(db)
    work_order = _predictive_order(db, r, failure_in=10 * H)
    assert dispatch(db, work_order_id=work_order.id).engineer_id == crew.ann.id
    offer = pending_offer(db, work_order)
    log_in_engineer(browser, db, crew, crew.ann)

    accepted = browser.post(
        f"/engineer/offers/{offer.id}/accept",
        headers={**htmx_token(browser, "/engineer"), "HX-Target": "jobs"},
    )
    assert accepted.status_code == 200
    mark_overdue(db)
    page = browser.get(f"/engineer/jobs/{work_order.id}")

    assert page.status_code == 200
    assert "Resolve by: <strong>4 h 59 min left</strong>" in page.text
    assert "overdue" not in page.text
