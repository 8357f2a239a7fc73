from __future__ import annotations

import logging
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import Conflict, DomainError, NotFound, TooManyAttempts
from core.web.deps import CurrentPrincipal, get_principal, require_role, safe_next_path
from core.web.errors import install_error_handlers

HTMX = {"HX-Request": "true"}
ENGINEER = Principal(user_id=7, org_id=1, role=Role.ENGINEER, name="Eva Engineer", email="e@x")
# Module level: with postponed annotations FastAPI resolves them in the module's globals.
StaffOnly = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.DISPATCHER))]


def _app(principal: Principal | None = None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.dependency_overrides[get_principal] = lambda: principal

    @app.get("/assets/{asset_id}")
    @app.get("/api/assets/{asset_id}")
    def asset(asset_id: int) -> dict[str, int]:
        raise NotFound(f"Asset {asset_id} does not exist.", asset_id=asset_id)

    @app.get("/assets/{asset_id}/readings")
    def readings(asset_id: int, limit: int = 10) -> dict[str, int]:
        return {"asset_id": asset_id, "limit": limit}

    @app.post("/orders/1/accept")
    def accept() -> None:
        raise Conflict("The work order was reassigned.")

    @app.post("/api/login")
    def login() -> None:
        raise TooManyAttempts("Too many failed logins.", retry_after=900)

    @app.get("/api/odd")
    def odd() -> None:
        raise DomainError("Odd.", code="something_else")

    @app.get("/boom")
    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret=hunter2")

    @app.get("/engineer")
    @app.get("/api/me")
    def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"name": principal.name}

    @app.get("/staff")
    def staff(principal: StaffOnly) -> dict[str, str]:
        return {"name": principal.name}

    return app


def _client(principal: Principal | None = None) -> TestClient:
    return TestClient(_app(principal), raise_server_exceptions=False, follow_redirects=False)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/assets/5", 404, "not_found"),
        ("POST", "/api/login", 429, "too_many_attempts"),
        ("GET", "/api/odd", 400, "something_else"),
    ],
)
def test_domain_errors_map_to_json_with_status_by_code(
    method: str, path: str, status: int, code: str
) -> None:
    response = _client().request(method, path)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_json_error_carries_message_and_details() -> None:
    body = _client().get("/api/assets/5").json()

    assert body["error"] == {
        "code": "not_found",
        "message": "Asset 5 does not exist.",
        "details": {"asset_id": 5},
    }


def test_too_many_attempts_sets_retry_after() -> None:
    assert _client().post("/api/login").headers["retry-after"] == "900"


def test_accept_json_gets_json_outside_api() -> None:
    response = _client().get("/assets/5", headers={"Accept": "application/json"})

    assert response.json()["error"]["code"] == "not_found"


def test_htmx_request_gets_a_flash_fragment() -> None:
    response = _client().post("/orders/1/accept", headers=HTMX)

    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#flash"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert "The work order was reassigned." in response.text
    assert "<html" not in response.text


def test_browser_gets_a_full_error_page() -> None:
    response = _client().get("/assets/5")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    assert "Asset 5 does not exist." in response.text
    assert "Check the address" in response.text


def test_unknown_route_gets_the_error_page() -> None:
    response = _client().get("/nowhere")

    assert response.status_code == 404
    assert "<html" in response.text


def test_the_not_found_page_says_what_happened_instead_of_repeating_its_title() -> None:
    page = _client().get("/nowhere").text

    assert "<h1>Not found</h1>" in page
    assert "<p>There is no page at this address.</p>" in page
    assert "Not Found" not in page


def test_a_page_address_with_a_malformed_id_is_not_found() -> None:
    response = _client().get("/assets/abc")

    assert response.status_code == 404
    assert "There is no page at this address." in response.text
    assert "Check your input" not in response.text


def test_a_malformed_id_in_an_htmx_request_gets_the_not_found_fragment() -> None:
    response = _client().get("/assets/abc", headers=HTMX)

    assert response.status_code == 404
    assert "There is no page at this address." in response.text
    assert "<html" not in response.text


def test_unhandled_exception_is_logged_and_answered_with_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="core.web.errors"):
        response = _client().get("/api/boom?token=abc")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert "RuntimeError on GET /api/boom" in caplog.text
    assert "token=abc" not in caplog.messages[0]


def test_unhandled_exception_page_for_browsers() -> None:
    response = _client().get("/boom")

    assert response.status_code == 500
    assert "Something went wrong" in response.text


def test_validation_error_lists_fields_without_echoing_input() -> None:
    response = _client().get("/api/assets/not-a-number")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "asset_id" in error["message"]
    assert "not-a-number" not in response.text


def test_bad_query_input_on_a_page_is_still_422() -> None:
    response = _client().get("/assets/5/readings?limit=lots")

    assert response.status_code == 422
    assert "limit" in response.text


def test_anonymous_page_redirects_to_login_with_next() -> None:
    response = _client().get("/engineer?tab=today")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fengineer%3Ftab%3Dtoday"


def test_anonymous_htmx_request_gets_hx_redirect_to_the_current_page() -> None:
    headers = {**HTMX, "HX-Current-URL": "http://testserver/engineer/jobs"}

    response = _client().get("/engineer", headers=headers)

    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Fengineer%2Fjobs"


def test_anonymous_api_request_gets_401_json() -> None:
    response = _client().get("/api/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_logged_in_principal_passes() -> None:
    assert _client(ENGINEER).get("/api/me").json() == {"name": "Eva Engineer"}


def test_allowed_role_passes_the_role_guard() -> None:
    dispatcher = Principal(user_id=2, org_id=1, role=Role.DISPATCHER, name="Dora", email="d@x")

    assert _client(dispatcher).get("/staff").json() == {"name": "Dora"}


def test_wrong_role_gets_permission_denied_naming_the_audience() -> None:
    response = _client(ENGINEER).get("/staff")

    assert response.status_code == 403
    assert "administrators and dispatchers" in response.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/engineer?tab=1", "/engineer?tab=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
    ],
)
def test_safe_next_path_keeps_only_local_paths(value: str | None, expected: str) -> None:
    assert safe_next_path(value) == expected


def test_a_conflict_with_its_own_code_is_still_409() -> None:
    from core.errors import Conflict
    from core.web.errors import _status_of

    assert _status_of(Conflict("exists", code="device_exists")) == 409
    assert _status_of(DomainError("odd", code="something_else")) == 400
