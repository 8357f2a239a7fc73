"""Request bodies are capped per route before anything reads them; the public verify pages
are rate limited and reuse a verdict for a while (issue 13, finding 5)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import get_args

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from core.web.body_limit import DEFAULT_MAX_BODY, MiB
from fieldcrm.app import create_app
from ledger import views
from ledger.anchoring import anchor_pending
from ledger.models import AnchorRequest
from ledger.service import request_anchor
from service_orders.models import WorkOrder
from tests.customer_app.factories import PNG, log_in_customer, make_customer
from tests.fieldcrm.conftest import Browser
from tests.ledger.conftest import ThrowawayChain
from tests.ledger.conftest import test_chain as test_chain  # a fixture
from tests.service_orders.page_factories import htmx_token

DOC = b"service report WO-000042, signed by Dana Customer"


def _routes() -> list[APIRoute]:
    """Every API route of the app with the body cap it is served with."""
    found: list[APIRoute] = []

    def walk(routes: object, cap: int | None) -> None:
        for route in routes:  # type: ignore[attr-defined]
            included = getattr(route, "original_router", None)  # FastAPI's included routers
            if included is not None:
                walk(included.routes, route.include_context.max_body_size or cap)
            elif isinstance(route, APIRoute):
                route.max_body_size = route.max_body_size or cap
                found.append(route)

    walk(create_app().routes, None)
    return found


def _cap_of(route: APIRoute) -> int:
    assert route.max_body_size is not None, f"{route.path} takes bodies without a cap"
    return route.max_body_size


def _is_upload(annotation: object) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, UploadFile):
        return True
    return any(_is_upload(arg) for arg in get_args(annotation))


def _takes_files(route: APIRoute) -> bool:
    return any(_is_upload(f.field_info.annotation) for f in route.dependant.body_params)


def test_every_route_that_takes_files_declares_its_cap() -> None:
    """A new upload route without max_body would take only the 1 MB default: say so here."""
    uploads = [r for r in _routes() if _takes_files(r)]
    assert len(uploads) >= 7
    undeclared = [r.path for r in uploads if (r.max_body_size or 0) <= DEFAULT_MAX_BODY]
    assert undeclared == []


def _unsafe_routes() -> Iterator[tuple[str, str, int]]:
    for route in _routes():
        for method in sorted(route.methods - {"GET", "HEAD"}):
            path = route.path_format.replace("{", "").replace("}", "")
            path = "/".join("1" if part.endswith("_id") else part for part in path.split("/"))
            yield method, path, _cap_of(route)


def test_a_declared_length_over_the_cap_is_refused_before_anyone_reads_it(
    browser: Browser,
) -> None:
    """Every unsafe route, anonymous: 413 in words (JSON under /api), nothing read or parsed."""
    checked = 0
    token = browser.csrf_token()  # past the CSRF check, which would refuse first
    for method, path, cap in _unsafe_routes():
        response = browser.request(
            method,
            path,
            content=b"x" * 16,  # the body is never read: the declared length decides
            headers={
                "Content-Length": str(cap + 1),
                "Content-Type": "application/json",
                "X-CSRF-Token": token,
            },
        )
        assert response.status_code == 413, (method, path, response.status_code)
        if path.startswith("/api/"):
            assert response.json()["error"]["code"] == "too_large"
        else:
            assert "larger than this form accepts" in response.text
        checked += 1
    assert checked > 40


def test_a_streamed_body_is_cut_off_at_the_cap(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    headers = htmx_token(browser, "/settings")

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(DEFAULT_MAX_BODY // (64 * 1024) + 2):
            yield b"a" * (64 * 1024)

    response = browser.put(
        "/api/me/preferences",
        content=chunks(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["message"].startswith("What you sent is larger than")


def test_a_service_request_with_more_photos_than_allowed_is_refused_while_parsed(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    photos = [("photos", (f"p{i}.png", PNG, "image/png")) for i in range(1000)]

    response = browser.post(
        "/customer/service/new",
        data={"asset_id": str(customer.asset_id), "description": "Grinding noise since Monday"},
        files=photos,
        headers=htmx_token(browser, "/customer/service/new"),
    )

    assert response.status_code == 422
    assert '<p class="field-error" id="photos-error">Send at most 5 files at once.' in (
        response.text
    )
    count = (
        select(func.count()).select_from(WorkOrder).where(WorkOrder.asset_id == customer.asset_id)
    )
    assert db.scalar(count) == 0


@pytest.fixture
def verify_settings(
    monkeypatch: pytest.MonkeyPatch, test_chain: ThrowawayChain
) -> dict[str, object]:
    """The verify pages on the test chain, with settings a test may change."""
    overrides: dict[str, object] = {}
    monkeypatch.setattr(
        views, "get_settings", lambda: test_chain.settings().model_copy(update=overrides)
    )
    return overrides


def _anchored(db: Session, chain: ThrowawayChain) -> AnchorRequest:
    request = request_anchor(
        db, sha256=hashlib.sha256(DOC).hexdigest(), kind="service_report", reference="wo:42"
    )
    db.commit()
    anchor_pending(db, chain.settings())
    return request


def test_the_public_verify_form_refuses_a_file_larger_than_any_of_ours(
    browser: Browser, db: Session, test_chain: ThrowawayChain, verify_settings: dict[str, object]
) -> None:
    request = _anchored(db, test_chain)
    headers = {"X-CSRF-Token": browser.csrf_token(f"/verify/{request.id}")}
    big = {"document": ("report.pdf", b"%PDF-1.7" + b"x" * (8 * MiB))}

    page = browser.post(f"/verify/{request.id}", headers=headers, files=big)
    assert page.status_code == 413
    assert "larger than 8 MB, far larger than any document we issue" in page.text

    huge = browser.post(
        "/verify", headers={**headers, "Content-Length": str(20 * MiB)}, content=b"x"
    )
    assert huge.status_code == 413


def test_the_public_verify_page_is_rate_limited_per_address(
    browser: Browser, db: Session, test_chain: ThrowawayChain, verify_settings: dict[str, object]
) -> None:
    verify_settings["ledger_verify_rate"] = "3/minute"
    request = _anchored(db, test_chain)

    answers = [browser.get(f"/verify/{request.id}").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    refused = browser.get(f"/verify/{request.id}")
    assert int(refused.headers["retry-after"]) > 0
    assert "Wait" in refused.text


def test_a_verdict_is_reused_for_a_while_so_a_popular_qr_code_asks_the_chain_once(
    browser: Browser, db: Session, test_chain: ThrowawayChain, verify_settings: dict[str, object]
) -> None:
    request = _anchored(db, test_chain)
    first = browser.get(f"/verify/{request.id}")
    assert "was registered on the public ledger on" in first.text

    # the chain goes away: the cached verdict still answers, a fresh check could not
    verify_settings["ledger_rpc_url"] = "http://127.0.0.1:9"
    again = browser.get(f"/verify/{request.id}")
    assert "was registered on the public ledger on" in again.text

    views.forget_verdicts()
    verify_settings["ledger_verdict_cache_seconds"] = 0
    uncached = browser.get(f"/verify/{request.id}")
    assert "was registered on the public ledger on" not in uncached.text
