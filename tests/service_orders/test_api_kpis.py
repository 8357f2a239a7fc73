"""Service KPIs: the arithmetic on a small fixture, calendar periods, and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from service_orders.kpis import OrderFacts, compute_kpis, period_bounds, service_kpis
from service_orders.models import WorkOrder, WorkOrderEvent
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_asset_at_site, make_work_order
from tests.service_orders.page_factories import log_in_staff

WEDNESDAY = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _facts(**changes: object) -> OrderFacts:
    base: dict[str, object] = {
        "created_at": WEDNESDAY - 6 * H,
        "respond_by": WEDNESDAY - 4 * H,
        "resolve_by": WEDNESDAY + 24 * H,
        "accepted_at": None,
        "first_on_site_at": None,
        "completed_at": None,
        "outcome": None,
        "visits": 0,
        "follow_up": False,
        "cancelled": False,
    }
    return OrderFacts(**(base | changes))  # type: ignore[arg-type]  # test builder


def test_kpi_arithmetic_on_a_small_fixture() -> None:
    facts = [
        # responded in 1 h (in SLA), repaired in 2 h, fixed on the first visit
        _facts(
            accepted_at=WEDNESDAY - 5 * H,
            first_on_site_at=WEDNESDAY - 3 * H,
            completed_at=WEDNESDAY - 1 * H,
            outcome="fixed",
            visits=1,
        ),
        # responded in 3 h (late), repaired in 1 h, only partly fixed, resolved late
        _facts(
            accepted_at=WEDNESDAY - 3 * H,
            first_on_site_at=WEDNESDAY - 2 * H,
            completed_at=WEDNESDAY - 1 * H,
            outcome="partially_fixed",
            visits=1,
            resolve_by=WEDNESDAY - 2 * H,
        ),
        # a follow-up fixed: not a first-time fix; responded in 1 h
        _facts(
            accepted_at=WEDNESDAY - 5 * H,
            first_on_site_at=WEDNESDAY - 4 * H,
            completed_at=WEDNESDAY - 1 * H,
            outcome="fixed",
            visits=1,
            follow_up=True,
        ),
        # nobody accepted before respond-by: a breach
        _facts(),
        # cancelled before anyone accepted: not judged
        _facts(cancelled=True),
        # respond-by still ahead: not judged yet
        _facts(respond_by=WEDNESDAY + H),
    ]
    bounds = period_bounds("week", 2, WEDNESDAY)

    previous, current = compute_kpis(facts, bounds, now=WEDNESDAY)

    assert previous.created == 0
    assert previous.mean_respond_s is None
    assert current.created == 6
    assert current.completed == 3
    assert current.mean_respond_s == (1 + 3 + 1) * 3600 / 3
    assert current.mean_repair_s == (2 + 1 + 3) * 3600 / 3
    assert current.respond_sla_pct == pytest.approx(100 * 2 / 4)
    assert current.resolve_sla_pct == pytest.approx(100 * 2 / 3)
    assert current.first_time_fix_pct == pytest.approx(100 / 3)


def test_periods_are_calendar_weeks_and_months() -> None:
    weeks = period_bounds("week", 2, WEDNESDAY)
    months = period_bounds("month", 3, WEDNESDAY)
    assert weeks == [
        (datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)),
        (datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)),
    ]
    assert [start.month for start, _ in months] == [9, 10, 11]
    assert months[-1][1] == datetime(2026, 12, 1, tzinfo=UTC)


def _visited(
    db: Session, *, created: datetime, accepted: datetime, on_site: datetime, done: datetime,
    outcome: str, respond_in: timedelta,
) -> WorkOrder:  # fmt: skip
    work_order = make_work_order(
        db, asset=make_asset_at_site(db), respond_in=respond_in, now=created
    )
    work_order.created_at = created
    work_order.status, work_order.outcome, work_order.completed_at = "completed", outcome, done
    for status, at in (("accepted", accepted), ("on_site", on_site), ("completed", done)):
        db.add(WorkOrderEvent(work_order_id=work_order.id, at=at, to_status=status))
    db.flush()
    return work_order


def test_kpis_from_stored_work_orders_and_events(db: Session) -> None:
    _visited(
        db, created=WEDNESDAY - 5 * H, accepted=WEDNESDAY - 4 * H, on_site=WEDNESDAY - 3 * H,
        done=WEDNESDAY - H, outcome="fixed", respond_in=2 * H,
    )  # fmt: skip
    _visited(
        db, created=WEDNESDAY - 6 * H, accepted=WEDNESDAY - 2 * H, on_site=WEDNESDAY - 2 * H,
        done=WEDNESDAY - H / 2, outcome="not_fixed", respond_in=H,
    )  # fmt: skip

    (week,) = service_kpis(db, period="week", count=1, now=WEDNESDAY)

    assert (week.created, week.completed) == (2, 2)
    assert week.mean_respond_s == (1 + 4) * 3600 / 2
    assert week.mean_repair_s == (2 + 1.5) * 3600 / 2
    assert week.respond_sla_pct == 50.0
    assert week.first_time_fix_pct == 50.0


def test_kpis_api_answers_per_period(browser: Browser, db: Session) -> None:
    log_in_staff(browser, db)
    response = browser.get("/api/service-orders/kpis?period=month&count=3")
    assert response.status_code == 200
    periods = response.json()
    assert len(periods) == 3
    assert {"mean_respond_s", "mean_repair_s", "respond_sla_pct", "first_time_fix_pct"} <= set(
        periods[0]
    )
    assert browser.get("/api/service-orders/kpis?period=decade").status_code == 422
