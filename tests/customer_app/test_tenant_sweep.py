"""Customer B gets 404 for every customer_app URL naming one of customer A's records.

The routes come from the app's route table, so a new customer_app route with an id in its
path fails here until the sweep knows which of A's records to point it at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from httpx import Response
from sqlalchemy.orm import Session

from customer_app.surveys import submit_survey
from customer_app.watches import set_watch
from fieldcrm.app import create_app
from service_orders.models import WorkOrderPhoto
from tests.customer_app.factories import (
    PNG,
    Customer,
    engineer_for,
    log_in_customer,
    make_customer,
    order_in,
)
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import htmx_token
from tests.telemetry.view_factories import add_health

_PARAM = re.compile(r"\{([^}]+)\}")
# every form field any customer_app route reads, valid, so refusals come from the tenant rule
FORM = {
    "csat": "5",
    "nps": "10",
    "comment": "fine",
    "threshold": "50",
    "device": "all",
    "description": "Pump makes a grinding noise",
    "priority": "routine",
}


def _customer_routes() -> list[tuple[str, str]]:
    found = []
    pending = list(create_app().routes)
    while pending:
        route = pending.pop()
        if isinstance(route, APIRoute) and route.endpoint.__module__.startswith("customer_app."):
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
        included = getattr(route, "original_router", None)
        pending += list(included.routes) if included is not None else []
        pending += getattr(route, "routes", [])
    return sorted(set(found))


WITH_IDS = [(m, p) for m, p in _customer_routes() if _PARAM.search(p)]


def _records_of(db: Session, a: Customer, photo_dir: Path) -> dict[str, int]:
    """One of A's records for each id a customer_app path can name."""
    add_health(db, a.device, score=70)
    done = order_in(db, a, engineer_for(db), "completed")
    submit_survey(db, actor=a.principal, work_order_id=done.id, csat=5, nps=9)
    (photo_dir / "a.png").write_bytes(PNG)
    photo = WorkOrderPhoto(
        work_order_id=done.id, stored_name="a.png", content_type="image/png", size=len(PNG)
    )
    db.add(photo)
    watch = set_watch(db, actor=a.principal, asset_id=a.asset_id, threshold=50)
    db.flush()
    return {
        "asset_id": a.asset_id,
        "work_order_id": done.id,
        "photo_id": photo.id,
        "watch_id": watch.id,
    }


def test_the_sweep_sees_every_kind_of_customer_url() -> None:
    paths = {p for _, p in WITH_IDS}
    assert "/customer/devices/{asset_id}" in paths
    assert "/api/customer/devices/{asset_id}/series" in paths
    assert "/customer/service/{work_order_id}/survey" in paths
    assert "/customer/photos/{photo_id}" in paths


@pytest.mark.parametrize(("method", "path"), WITH_IDS, ids=[f"{m} {p}" for m, p in WITH_IDS])
def test_another_customer_gets_404(
    browser: Browser, db: Session, photo_dir: Path, method: str, path: str
) -> None:
    a, b = make_customer(db), make_customer(db)
    ids = _records_of(db, a, photo_dir)
    names = _PARAM.findall(path)
    unknown = [name for name in names if name not in ids]
    assert not unknown, f"{path}: tell the sweep which of A's records {unknown} names"
    url = _PARAM.sub(lambda m: str(ids[m.group(1)]), path)

    def request() -> int:
        posting = method == "POST"
        response: Response = browser.request(
            method,
            url,
            params={"metric": "pressure", "window": "24h"},
            data=FORM if posting else None,
            headers=htmx_token(browser, "/customer") if posting else None,
        )
        return response.status_code

    if method == "GET":
        log_in_customer(browser, a)
        assert request() == 200, f"A cannot open its own {url}: the sweep proves nothing"
    log_in_customer(browser, b)
    assert request() == 404


def test_service_request_for_another_customers_device_is_404(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    a, b = make_customer(db), make_customer(db)
    log_in_customer(browser, b)
    response = browser.post(
        "/customer/service/new",
        data={**FORM, "asset_id": str(a.asset_id)},
        headers=htmx_token(browser, "/customer/service/new"),
    )
    assert response.status_code == 404
