"""Every route checks who is asking: an anonymous caller gets nothing but the public pages;
every unsafe method needs a valid CSRF token, even from a logged-in user."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from core.auth.roles import Role
from fieldcrm.app import create_app
from tests.fieldcrm.conftest import Browser
from tests.telemetry.view_factories import log_in_as

# the only routes an anonymous person may use
PUBLIC = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    # a login's second step (the signed pending token, no session), a forgotten password's
    # reset by e-mailed link, an invited colleague's link to choose a password
    ("POST", "/login/code"),
    ("GET", "/password/forgot"),
    ("POST", "/password/forgot"),
    ("GET", "/password/reset/{token}"),
    ("POST", "/password/reset/{token}"),
    ("GET", "/invitation/{token}"),
    ("POST", "/invitation/{token}"),
    # development and test installations without SMTP only (a 404 in production)
    ("GET", "/dev/outbox"),
    ("GET", "/healthz"),
    # ledger: anyone holding a certificate verifies it, no account needed
    ("GET", "/verify"),
    ("POST", "/verify"),
    ("GET", "/verify/how-it-works"),
    ("GET", "/verify/{request_id}"),
    ("POST", "/verify/{request_id}"),
    ("GET", "/api/ledger/verify/{request_id}"),
    # the page a printed service report's QR code opens, and the report itself
    ("GET", "/certificates/{certificate_id}"),
    ("GET", "/certificates/{certificate_id}.pdf"),
}
REFUSED = {303, 401, 403}


def _routes() -> list[tuple[str, str]]:
    found = []
    pending = list(create_app().routes)
    while pending:
        route = pending.pop()
        if isinstance(route, APIRoute):
            found += [(method, route.path) for method in sorted(route.methods)]
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        pending += list(included.routes) if included is not None else []
        pending += getattr(route, "routes", [])
    return sorted(set(found))


ROUTES = [r for r in _routes() if r not in PUBLIC and r[0] != "HEAD"]


def test_the_sweep_sees_the_app() -> None:
    assert len(ROUTES) > 10


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_anonymous_caller_is_turned_away(
    browser: Browser, db: Session, method: str, path: str
) -> None:
    url = re.sub(r"\{[^}]+\}", "1", path)
    token = browser.csrf_token()  # a valid CSRF token: the refusal must come from auth
    response = browser.request(method, url, headers={"X-CSRF-Token": token})
    assert response.status_code in REFUSED, f"{method} {path}: {response.status_code}"
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login")


UNSAFE = [
    (method, path)
    for method, path in _routes()
    if method in {"POST", "PUT", "PATCH", "DELETE"} and path != "/login"
]


@pytest.mark.parametrize(("method", "path"), UNSAFE, ids=[f"{m} {p}" for m, p in UNSAFE])
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_every_unsafe_method_without_a_valid_csrf_token_is_refused(
    browser: Browser, db: Session, method: str, path: str, token: str
) -> None:
    log_in_as(browser, db, Role.ADMIN)  # logged in: the refusal must come from CSRF
    url = re.sub(r"\{[^}]+\}", "1", path)
    headers = {"X-CSRF-Token": "forged." + "0" * 64} if token == "forged" else {}
    response = browser.request(method, url, headers=headers)
    assert response.status_code == 403, f"{method} {path}: {response.status_code}"
