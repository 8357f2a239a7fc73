"""Pages offer only what the state machine allows: each action offered works, none missing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.errors import DomainError
from service_orders.dispatch import assign_by_hand, dispatch
from service_orders.models import WorkOrder
from service_orders.queries import dispatch_queue, engineer_day, jobs_in_progress
from service_orders.states import actions_now
from service_orders.workorders import transition
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_work_order
from tests.service_orders.page_factories import Crew, held, log_in_staff, make_crew, offered


def _on_hold(db: Session, crew: Crew) -> WorkOrder:
    work_order = held(db, crew, crew.ann, status="on_site")
    transition(
        db, actor=crew.principal(db, crew.ann), work_order_id=work_order.id, target="on_hold"
    )
    return work_order


BUILD: dict[str, Callable[[Session, Crew], WorkOrder]] = {
    "new": lambda db, crew: make_work_order(db, asset=crew.asset),
    "offered": offered,
    "accepted": lambda db, crew: held(db, crew, crew.ann),
    "en_route": lambda db, crew: held(db, crew, crew.ann, status="en_route"),
    "on_site": lambda db, crew: held(db, crew, crew.ann, status="on_site"),
    "on_hold": _on_hold,
}


def _works(step: Callable[[], object], db: Session) -> bool:
    savepoint = db.begin_nested()
    try:
        step()
    except DomainError:
        savepoint.rollback()
        return False
    savepoint.rollback()  # leave the order as it was for the next try
    return True


@pytest.mark.parametrize("status", list(BUILD))
def test_a_dispatcher_is_offered_exactly_the_actions_that_work(db: Session, status: str) -> None:
    crew = make_crew(db)
    work_order = BUILD[status](db, crew)
    assert work_order.status == status
    items = [
        i for i in dispatch_queue(db) + jobs_in_progress(db) if i.work_order.id == work_order.id
    ]
    offered_kinds = {a.kind for a in items[0].actions}

    assign_works = _works(
        lambda: assign_by_hand(
            db, actor=SYSTEM, work_order_id=work_order.id, engineer_id=crew.bob.id
        ),
        db,
    )
    dispatch_works = _works(lambda: dispatch(db, work_order_id=work_order.id), db)

    assert ("assign" in offered_kinds) == assign_works
    assert ("dispatch" in offered_kinds) == dispatch_works


@pytest.mark.parametrize("status", ["accepted", "en_route", "on_site", "on_hold"])
def test_an_engineer_is_offered_exactly_the_status_changes_that_work(
    db: Session, status: str
) -> None:
    crew = make_crew(db)
    work_order = BUILD[status](db, crew)
    (job,) = [
        j for j in engineer_day(db, engineer_id=crew.ann.id) if j.work_order.id == work_order.id
    ]
    offered_targets = {
        a.target.value for a in job.actions(work_order.updated_at) if a.kind == "status"
    }
    actor = crew.principal(db, crew.ann)

    def moves_to(target: str) -> bool:
        return _works(
            lambda: transition(db, actor=actor, work_order_id=work_order.id, target=target), db
        )

    targets = ("accepted", "en_route", "on_site", "on_hold", "declined", "cancelled", "new")
    working = {target for target in targets if moves_to(target)}

    assert offered_targets == working - {"declined"}  # declining is an answer to an offer


def test_only_staff_and_the_holder_get_actions() -> None:
    assert actions_now("on_site", staff=True, assigned=True) == []
    assert actions_now("accepted", staff=False, assigned=False) == []
    assert [a.label for a in actions_now("on_site", staff=False, assigned=True)] == [
        "Put on hold",
        "Complete job",
    ]


def _card(html: str, work_order: WorkOrder) -> str:
    card = rf'<li class="order[^"]*" id="order-{work_order.id}">(.*?)</li>'
    match = re.search(card + r'\s*(?=<li class="order|</ul>)', html, re.S)
    assert match, f"no card for {work_order.number}"
    return match.group(1)


def test_the_board_shows_only_the_buttons_the_state_allows(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    waiting = make_work_order(db, asset=crew.asset)
    out = offered(db, crew)
    taken = held(db, crew, crew.bob)
    on_site = held(db, crew, crew.bob, status="on_site")
    log_in_staff(browser, db)

    html = browser.get("/staff/dispatch").text

    def buttons(work_order: WorkOrder) -> list[str]:
        return re.findall(r"<button type=\"submit\"[^>]*>([^<]+)</button>", _card(html, work_order))

    assert buttons(waiting) == ["Assign", "Dispatch again"]
    assert buttons(out) == ["Assign"]  # the offer is out: no second dispatch
    assert buttons(taken) == ["Reassign"]
    assert buttons(on_site) == []
    assert "The engineer is on site" in _card(html, on_site)
    assert "/assign" not in _card(html, on_site)
