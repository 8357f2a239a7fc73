"""The partner JSON API: ERP pickups (all or nothing), statements and dashboard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import Organization, OrgKind, ProductModel
from partner_portal.models import PickupLine
from tests.crm.factories import PASSWORD, make_org, make_product_model, make_user
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.factories import make_distributor
from tests.partner_portal.statement_factories import settled_statement


def _line(product: ProductModel, line_no: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "picked_on": "2026-03-02",
        "product_code": product.code,
        "quantity": "2",
        "net_value": "2400.00",
        "currency": "EUR",
        "document_number": "ERP-77",
        "line_no": line_no,
        **changes,
    }


def _stored(db: Session, distributor: Organization) -> int:
    query = select(func.count()).where(PickupLine.distributor_org_id == distributor.id)
    return db.scalar(query) or 0


def _as_partner(browser: Browser, db: Session, distributor: Organization) -> dict[str, str]:
    browser.log_in(make_user(db, org=distributor).email, PASSWORD)
    return {"X-CSRF-Token": browser.csrf_token("/portal")}


def test_the_erp_posts_lines_and_gets_the_count(browser: Browser, db: Session) -> None:
    distributor, product = make_distributor(db), make_product_model(db)
    headers = _as_partner(browser, db, distributor)
    body = {"distributor_org_id": distributor.id, "lines": [_line(product, 1), _line(product, 2)]}

    response = browser.post("/api/partner/pickups", json=body, headers=headers)

    assert response.status_code == 201
    assert response.json() == {"imported": 2}
    assert _stored(db, distributor) == 2


def test_staff_post_for_any_distributor(browser: Browser, db: Session) -> None:
    distributor, product = make_distributor(db), make_product_model(db)
    browser.log_in(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)).email, PASSWORD)
    response = browser.post(
        "/api/partner/pickups",
        json={"distributor_org_id": distributor.id, "lines": [_line(product)]},
        headers={"X-CSRF-Token": browser.csrf_token("/staff/partners")},
    )
    assert response.status_code == 201


def test_wrong_lines_are_422_with_row_errors_and_nothing_is_stored(
    browser: Browser, db: Session
) -> None:

    distributor, product = make_distributor(db), make_product_model(db)
    headers = _as_partner(browser, db, distributor)
    body = {
        "distributor_org_id": distributor.id,
        "lines": [_line(product, 1), _line(product, 2, product_code="NO-SUCH")],
    }

    response = browser.post("/api/partner/pickups", json=body, headers=headers)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "pickups_invalid"
    assert error["details"]["errors"] == [
        {
            "line": 2,
            "field": "product_code",
            "message": f"there is no product NO-SUCH; use one of our product codes, such as "
            f"{product.code}",
        }
    ]
    assert _stored(db, distributor) == 0


def test_a_resent_document_is_409(browser: Browser, db: Session) -> None:
    distributor, product = make_distributor(db), make_product_model(db)
    headers = _as_partner(browser, db, distributor)
    body = {"distributor_org_id": distributor.id, "lines": [_line(product)]}
    assert browser.post("/api/partner/pickups", json=body, headers=headers).status_code == 201

    again = browser.post("/api/partner/pickups", json=body, headers=headers)

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "pickups_duplicate"
    assert _stored(db, distributor) == 1


def test_the_shape_is_exact(browser: Browser, db: Session) -> None:
    distributor, product = make_distributor(db), make_product_model(db)
    headers = _as_partner(browser, db, distributor)
    body = {"distributor_org_id": distributor.id, "lines": [_line(product)], "extra": 1}
    assert browser.post("/api/partner/pickups", json=body, headers=headers).status_code == 422


def test_without_the_csrf_header_the_post_is_refused(browser: Browser, db: Session) -> None:
    distributor, product = make_distributor(db), make_product_model(db)
    _as_partner(browser, db, distributor)
    body = {"distributor_org_id": distributor.id, "lines": [_line(product)]}

    response = browser.post("/api/partner/pickups", json=body)

    assert response.status_code == 403
    assert _stored(db, distributor) == 0


def test_posting_for_another_distributor_is_404(browser: Browser, db: Session) -> None:
    mine, theirs, product = make_distributor(db), make_distributor(db), make_product_model(db)
    headers = _as_partner(browser, db, mine)
    body = {"distributor_org_id": theirs.id, "lines": [_line(product)]}
    assert browser.post("/api/partner/pickups", json=body, headers=headers).status_code == 404
    assert _stored(db, theirs) == 0


def test_own_statements_and_dashboard(browser: Browser, db: Session) -> None:
    settled = settled_statement(db)
    browser.log_in(settled.partner.email, PASSWORD)

    (listed,) = browser.get("/api/partner/statements").json()
    detail = browser.get(f"/api/partner/statements/{settled.statement.id}").json()
    dashboard = browser.get("/api/partner/dashboard").json()

    assert listed["id"] == settled.statement.id
    assert listed["payout"] == "240.00"
    assert listed["verify_path"] == f"/verify/{settled.statement.anchor_request_id}"
    assert detail["lines"][0]["net_value"] == "12000.00"
    assert dashboard["distributor_org_id"] == settled.distributor.id
    assert len(dashboard["this_year"]) == 12
