"""The dispatch board: staff only, queue with SLA clocks and decisions, assign by hand, KPIs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.db import utcnow
from service_orders.dispatch import dispatch
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_engineer, make_work_order
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


def _engineer_line(html: str, engineer_id: int) -> str:
    match = re.search(rf'<li class="row-line" id="engineer-{engineer_id}">(.*?)</li>', html, re.S)
    assert match, f"engineer {engineer_id} not listed"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_an_engineer_on_site_is_listed_on_site_not_available(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.bob, status="on_site")
    log_in_staff(browser, db)

    html = browser.get("/staff/dispatch").text

    bob = _engineer_line(html, crew.bob.id)
    assert f"on site · {job.number} · 1 of 2 jobs" in bob
    assert "available" not in bob
    assert "available · 0 of 2 jobs" in _engineer_line(html, crew.ann.id)
    board = browser.get("/api/service-orders/board").json()
    (drawn,) = [e for e in board["engineers"] if e["id"] == crew.bob.id]
    assert (drawn["status"], drawn["activity"]) == ("on_job", "on site")


def test_an_engineer_without_a_shift_now_is_off_shift(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    resting = make_engineer(db, org=crew.org, on_shift=False, shift_starts_in=timedelta(hours=3))
    log_in_staff(browser, db)

    assert "off shift · 0 of 2 jobs" in _engineer_line(
        browser.get("/staff/dispatch").text, resting.id
    )


def _why(html: str, work_order_number: str) -> list[str]:
    card = html.split(work_order_number, 1)[1]
    rows = re.findall(r'<li class="why-row[^"]*">(.*?)</li>', card.split("</details>", 1)[0], re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_why_this_engineer_puts_the_best_first_and_says_each_factor(
    browser: Browser, db: Session
) -> None:
    crew = make_crew(db)  # Ann 1 km from the site, Bob 5 km
    carl = make_engineer(db, org=crew.org, km_north=3.0)
    held(db, crew, carl, title="Earlier job")
    work_order = offered(db, crew)
    log_in_staff(browser, db)

    rows = _why(browser.get("/staff/dispatch").text, work_order.number)

    ann, bob, carl_name = (crew.user(db, e).full_name for e in (crew.ann, crew.bob, carl))
    assert len(rows) == 3
    assert rows[0].startswith(f"{ann} ✓ chosen")
    assert "1.0 km away (+1.0)" in rows[0]
    assert "has skill: compressor" in rows[0]
    assert "0 of 2 jobs (+0.0)" in rows[0]
    assert "on shift now (+0)" in rows[0]
    assert "1.0 points" in rows[0]
    # Bob (5 km, idle: 5 points) beats Carl (3 km with a job: 8 points)
    assert rows[1].startswith(f"{bob} runner-up 5.0 points")
    assert rows[2].startswith(f"{carl_name} runner-up")
    assert "1 of 2 jobs (+5.0)" in rows[2]
    assert "8.0 points" in rows[2]
    assert "Score in points, lower wins" in browser.get("/staff/dispatch").text
