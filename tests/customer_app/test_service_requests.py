"""Requesting service: a customer_request work order on my device, with checked photos."""

from __future__ import annotations

from pathlib import Path

from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service_orders.models import WorkOrder, WorkOrderPhoto
from service_orders.photos import MAX_PHOTO_BYTES
from tests.customer_app.factories import JPEG, PNG, log_in_customer, make_customer
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import htmx_token

Files = list[tuple[str, tuple[str, bytes, str]]]


def _send(browser: Browser, asset_id: int, files: Files) -> Response:
    """The form as htmx sends it: multipart, the CSRF token in the header."""
    response: Response = browser.post(
        "/customer/service/new",
        data={
            "asset_id": str(asset_id),
            "description": "Grinding noise from the pump since Monday",
            "priority": "stopped",
        },
        files=files,
        headers=htmx_token(browser, "/customer/service/new"),
    )
    return response


def test_request_creates_a_customer_request_work_order_with_photos(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    response = _send(
        browser,
        customer.asset_id,
        [("photos", ("pump.png", PNG, "image/png")), ("photos", ("x.jpg", JPEG, "image/jpeg"))],
    )
    assert response.status_code == 200, response.text
    order = db.scalars(select(WorkOrder).where(WorkOrder.asset_id == customer.asset_id)).one()
    assert response.headers["hx-redirect"] == f"/customer/service/{order.id}"
    assert order.source == "customer_request"
    assert order.type == "corrective"
    assert order.priority == 2
    assert order.status == "new"
    assert "Grinding noise" in order.description
    assert "stopped" in order.description
    photos = db.scalars(
        select(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == order.id)
    ).all()
    assert sorted(p.content_type for p in photos) == ["image/jpeg", "image/png"]
    assert all((photo_dir / p.stored_name).read_bytes() in (PNG, JPEG) for p in photos)
    assert all(p.uploaded_by == customer.user.id for p in photos)
    page = browser.get(f"/customer/service/{order.id}").text
    assert f"/customer/photos/{photos[0].id}" in page
    served = browser.get(f"/customer/photos/{photos[0].id}")
    assert served.status_code == 200
    assert served.content in (PNG, JPEG)


def test_request_without_photos_is_fine(browser: Browser, db: Session, photo_dir: Path) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    assert _send(browser, customer.asset_id, []).status_code == 200


def test_a_photo_that_is_not_an_image_is_refused_and_nothing_is_created(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    response = _send(
        browser, customer.asset_id, [("photos", ("evil.png", b"<script>", "image/png"))]
    )
    assert response.status_code == 422
    assert '<p class="field-error" id="photos-error">evil.png is not a JPEG, PNG or WebP' in (
        response.text
    )
    assert db.scalar(select(WorkOrder).where(WorkOrder.asset_id == customer.asset_id)) is None


def test_a_photo_too_large_is_refused_next_to_the_photos(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    big = PNG + b"\x00" * MAX_PHOTO_BYTES
    response = _send(browser, customer.asset_id, [("photos", ("big.png", big, "image/png"))])
    assert response.status_code == 422
    assert "big.png is larger than 8 MiB" in response.text


def test_request_for_another_organisations_device_is_404(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    mine, other = make_customer(db), make_customer(db)
    log_in_customer(browser, mine)
    assert _send(browser, other.asset_id, []).status_code == 404
    assert db.scalar(select(WorkOrder).where(WorkOrder.asset_id == other.asset_id)) is None


def test_a_short_description_says_what_to_do(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    response = browser.post(
        "/customer/service/new",
        data={
            "asset_id": str(customer.asset_id),
            "description": "broken",
            "priority": "routine",
            "csrf_token": browser.csrf_token("/customer/service/new"),
        },
    )
    assert response.status_code == 422
    assert '<p class="field-error" id="description-error">Enter at least 10 characters</p>' in (
        response.text
    )
