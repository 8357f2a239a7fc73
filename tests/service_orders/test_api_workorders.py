"""The work-order JSON API: who sees what, transitions, visits, completion, offers, board."""

from __future__ import annotations

import base64

from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import Organization, OrgKind
from service_orders.models import Engineer
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_asset_at_site, make_work_order
from tests.service_orders.page_factories import (
    held,
    log_in_engineer,
    log_in_staff,
    make_crew,
    offered,
    pending_offer,
)
from tests.service_orders.workorder_factories import png

API = "/api/service-orders"


def _token(browser: Browser, page: str) -> dict[str, str]:
    return {"X-CSRF-Token": browser.csrf_token(page)}


def test_a_customer_sees_only_their_own_assets_work_orders(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    mine = make_work_order(db, asset=crew.asset)
    theirs = make_work_order(db, asset=make_asset_at_site(db))
    customer = make_user(
        db, org=db.get_one(Organization, crew.asset.owner_org_id), role=Role.CUSTOMER
    )
    browser.log_in(customer.email, PASSWORD)

    listed = browser.get(f"{API}/work-orders").json()

    assert [w["id"] for w in listed] == [mine.id]
    assert browser.get(f"{API}/work-orders/{mine.id}").status_code == 200
    other = browser.get(f"{API}/work-orders/{theirs.id}")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    assert browser.get(f"{API}/work-orders/{theirs.id}/events").status_code == 404


def test_an_engineer_sees_and_changes_only_their_own_jobs(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    anns = held(db, crew, crew.ann)
    bobs = held(db, crew, crew.bob)
    log_in_engineer(browser, db, crew, crew.bob)
    headers = _token(browser, "/engineer")

    assert [w["id"] for w in browser.get(f"{API}/work-orders").json()] == [bobs.id]
    moved = browser.post(
        f"{API}/work-orders/{anns.id}/transition", json={"target": "en_route"}, headers=headers
    )
    visit = browser.patch(
        f"{API}/work-orders/{anns.id}/visit", json={"notes": "x"}, headers=headers
    )
    assert (moved.status_code, visit.status_code) == (404, 404)
    own = browser.post(
        f"{API}/work-orders/{bobs.id}/transition", json={"target": "en_route"}, headers=headers
    )
    assert own.status_code == 200
    assert own.json()["status"] == "en_route"
    illegal = browser.post(
        f"{API}/work-orders/{bobs.id}/transition", json={"target": "closed"}, headers=headers
    )
    assert illegal.status_code == 409
    assert illegal.json()["error"]["code"] == "illegal_transition"


def test_offers_can_be_answered_only_by_the_engineer_offered(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    work_order = offered(db, crew)
    offer = pending_offer(db, work_order)
    log_in_engineer(browser, db, crew, crew.bob)
    bob = _token(browser, "/engineer")
    assert browser.get(f"{API}/offers").json() == []
    assert browser.post(f"{API}/offers/{offer.id}/accept", headers=bob).status_code == 403

    log_in_engineer(browser, db, crew, crew.ann)
    ann = _token(browser, "/engineer")
    assert [o["id"] for o in browser.get(f"{API}/offers").json()] == [offer.id]
    declined = browser.post(f"{API}/offers/{offer.id}/decline", json={"reason": "ill"}, headers=ann)

    assert declined.status_code == 200
    assert declined.json()["engineer_id"] == crew.bob.id
    assert published == [1]
    assert browser.post(f"{API}/offers/{offer.id}/accept", headers=ann).status_code == 409


def test_staff_open_work_orders_and_customers_may_not_open_manual_ones(
    browser: Browser, db: Session
) -> None:
    crew = make_crew(db)
    body = {"type": "inspection", "asset_id": crew.asset.id, "title": "Yearly inspection"}
    log_in_staff(browser, db)
    created = browser.post(f"{API}/work-orders", json=body, headers=_token(browser, "/staff"))
    assert created.status_code == 201
    assert created.json()["status"] == "new"
    assert created.json()["required_family"] == "compressor"

    browser.cookies.clear()
    customer = make_user(
        db, org=db.get_one(Organization, crew.asset.owner_org_id), role=Role.CUSTOMER
    )
    browser.log_in(customer.email, PASSWORD)
    refused = browser.post(f"{API}/work-orders", json=body, headers=_token(browser, "/customer"))
    assert refused.status_code == 403


def test_completion_through_the_api_needs_a_png_signature(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.ann)
    headers = _token(browser, "/engineer")
    url = f"{API}/work-orders/{job.id}/complete"
    body = {"outcome": "fixed", "signed_by": "Dana"}

    missing = browser.post(url, json=body, headers=headers)
    garbage = browser.post(url, json={**body, "signature_png": "not base64!"}, headers=headers)
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 32).decode()
    wrong = browser.post(url, json={**body, "signature_png": jpeg}, headers=headers)
    assert [r.status_code for r in (missing, garbage, wrong)] == [422, 422, 422]

    done = browser.post(
        url, json={**body, "signature_png": base64.b64encode(png()).decode()}, headers=headers
    )
    assert done.status_code == 200
    assert done.json()["status"] == "completed"
    assert "signature_png" not in done.json()


def test_the_engineers_phone_reports_its_location(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    log_in_engineer(browser, db, crew, crew.ann)
    headers = _token(browser, "/engineer")

    ok = browser.post(
        f"{API}/engineers/me/location", json={"lat": 48.2, "lon": 11.6}, headers=headers
    )
    bad = browser.post(
        f"{API}/engineers/me/location", json={"lat": 123, "lon": 11.6}, headers=headers
    )

    assert (ok.status_code, bad.status_code) == (204, 422)
    db.expire_all()
    assert db.get_one(Engineer, crew.ann.id).location_at is not None


def test_a_staff_member_cannot_report_an_engineer_location(browser: Browser, db: Session) -> None:
    log_in_staff(browser, db)
    response = browser.post(
        f"{API}/engineers/me/location",
        json={"lat": 48.2, "lon": 11.6},
        headers=_token(browser, "/staff"),
    )
    assert response.status_code == 403


def test_board_data_has_assets_engineers_and_the_queue(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    waiting = offered(db, crew)
    held(db, crew, crew.bob)
    log_in_staff(browser, db, Role.ADMIN)

    board = browser.get(f"{API}/board").json()

    asset = next(a for a in board["assets"] if a["id"] == crew.asset.id)
    assert (round(asset["lat"], 3), round(asset["lon"], 3)) == (48.137, 11.575)
    assert asset["health_band"] == "unknown"
    assert asset["open_orders"] == 2
    engineers = {e["id"]: e for e in board["engineers"]}
    assert engineers[crew.bob.id]["load"] == 1
    item = next(q for q in board["queue"] if q["work_order_id"] == waiting.id)
    assert item["offered_to"] == crew.ann.id
    assert item["decision"]["candidates"][0]["engineer_id"] == crew.ann.id
    assert item["seconds_left"] > 0
    assert item["late"] is False
    assert len(board["in_progress"]) >= 1
    decisions = browser.get(f"{API}/work-orders/{waiting.id}/decisions").json()
    assert decisions[0]["engineer_id"] == crew.ann.id


def test_a_distributor_sees_no_unrelated_customers_work_orders(
    browser: Browser, db: Session
) -> None:
    crew = make_crew(db)
    make_work_order(db, asset=crew.asset)
    distributor = make_user(db, org=make_org(db, kind=OrgKind.DISTRIBUTOR), role=Role.DISTRIBUTOR)
    browser.log_in(distributor.email, PASSWORD)
    assert browser.get(f"{API}/work-orders").json() == []
