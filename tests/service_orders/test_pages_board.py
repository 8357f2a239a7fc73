"""The dispatch board: staff only, queue with SLA clocks and decisions, assign by hand, KPIs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.db import utcnow
from service_orders.dispatch import dispatch
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_work_order
from tests.service_orders.page_factories import (
    HTMX,
    held,
    htmx_token,
    log_in_staff,
    make_crew,
    offered,
)
from tests.telemetry.view_factories import log_in_as

BOARD_PATHS = (
    "/staff/dispatch",
    "/staff/dispatch/kpis?period=month",
    "/api/service-orders/board",
    "/api/service-orders/kpis",
)


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.CUSTOMER, Role.DISTRIBUTOR])
def test_the_board_is_for_staff_only(browser: Browser, db: Session, role: Role) -> None:
    log_in_as(browser, db, role)
    for path in BOARD_PATHS:
        assert browser.get(path).status_code == 403, path
        assert browser.get(path, headers=HTMX).status_code == 403, path


def test_anonymous_visitors_go_to_login(browser: Browser) -> None:
    response = browser.get("/staff/dispatch")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert browser.get("/api/service-orders/board").status_code == 401


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_board_shows_queue_with_sla_clock_and_why_this_engineer(
    browser: Browser, db: Session, headers: dict[str, str]
) -> None:
    crew = make_crew(db)
    waiting = offered(db, crew)
    late = make_work_order(db, asset=crew.asset, respond_in=timedelta(minutes=-30))
    busy = held(db, crew, crew.bob, status="en_route")
    log_in_staff(browser, db)

    page = browser.get("/staff/dispatch", headers=headers)

    assert page.status_code == 200
    assert ("<html" in page.text) == (headers == {})
    text = page.text
    queue, in_progress = text.split("In progress", 1)
    assert waiting.number in queue
    assert late.number in queue
    assert busy.number in in_progress
    assert busy.number not in queue
    assert 'class="order late"' in queue  # respond-by passed
    assert "30 min overdue" in queue or "29 min overdue" in queue
    assert "offered to" in queue
    assert "Why this engineer" in queue
    assert "chosen" in queue
    assert 'id="board-map" class="board-map" data-board-url="/api/service-orders/board"' in text
    assert crew.user(db, crew.ann).full_name in text  # the engineers list


def test_nav_shows_dispatch_after_dashboard(browser: Browser, db: Session) -> None:
    log_in_staff(browser, db)
    text = browser.get("/staff/dispatch").text
    assert text.index('href="/staff"') < text.index('href="/staff/dispatch" aria-current="page"')


def test_assign_by_hand_moves_the_order_to_in_progress(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    work_order = offered(db, crew)
    log_in_staff(browser, db)

    response = browser.post(
        f"/staff/dispatch/work-orders/{work_order.id}/assign",
        data={"engineer_id": str(crew.bob.id)},
        headers={**htmx_token(browser, "/staff/dispatch"), "HX-Target": "queues"},
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    db.refresh(work_order)
    assert (work_order.status, work_order.engineer_id) == ("accepted", crew.bob.id)
    assert work_order.number in response.text.split("In progress", 1)[1]
    assert "assigned by hand" in response.text


def test_dispatch_again_offers_a_waiting_order_and_publishes(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    work_order = make_work_order(db, asset=crew.asset)
    log_in_staff(browser, db)

    response = browser.post(
        f"/staff/dispatch/work-orders/{work_order.id}/dispatch",
        headers=htmx_token(browser, "/staff/dispatch"),
    )

    assert response.status_code == 200
    db.refresh(work_order)
    assert work_order.status == "offered"
    assert published == [1]
    again = browser.post(
        f"/staff/dispatch/work-orders/{work_order.id}/dispatch",
        headers=htmx_token(browser, "/staff/dispatch"),
    )
    assert again.status_code == 409


def test_kpi_panel_switches_period(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    work_order = make_work_order(db, asset=crew.asset, now=utcnow() - timedelta(hours=1))
    dispatch(db, work_order_id=work_order.id)
    log_in_staff(browser, db)

    panel = browser.get("/staff/dispatch/kpis?period=month", headers={**HTMX, "HX-Target": "kpis"})
    plain = browser.get("/staff/dispatch/kpis?period=month")

    assert panel.status_code == 200
    assert "<html" not in panel.text
    assert 'id="kpis"' in panel.text
    assert f"{utcnow():%B %Y}" in panel.text
    assert plain.status_code == 303
    assert plain.headers["location"].endswith("period=month")
    assert browser.get("/staff/dispatch/kpis?period=year", headers=HTMX).status_code == 422


def test_the_queues_refresh_alone(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    waiting = make_work_order(db, asset=crew.asset)
    log_in_staff(browser, db)

    fragment = browser.get("/staff/dispatch/queues", headers=HTMX)
    plain = browser.get("/staff/dispatch/queues")

    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="queues"')
    assert waiting.number in fragment.text
    assert plain.status_code == 303
