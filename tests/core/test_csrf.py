from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.testclient import TestClient

from core.web.csrf import CSRF_COOKIE, MAX_FORM_BYTES, CSRFMiddleware, csrf_token_for
from tests.core.conftest import TEST_SECRET


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CSRFMiddleware)

    @app.get("/page")
    def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.csrf_token)

    @app.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        form = await request.form()
        return JSONResponse({key: str(value) for key, value in form.items()})

    @app.post("/api/things")
    def create_thing() -> JSONResponse:
        return JSONResponse({"created": True})

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(_app())


def _page_token(client: TestClient) -> str:
    return str(client.get("/page").text)


def test_get_sets_an_httponly_lax_cookie_and_exposes_its_signed_token(client: TestClient) -> None:
    response = client.get("/page")

    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    assert "Path=/" in set_cookie
    assert "Secure" not in set_cookie
    cookie_value = client.cookies[CSRF_COOKIE]
    assert response.text == csrf_token_for(cookie_value, TEST_SECRET.encode())


def test_cookie_is_not_reissued_when_present(client: TestClient) -> None:
    client.get("/page")

    assert "set-cookie" not in client.get("/page").headers


@pytest.mark.usefixtures("https")
def test_cookie_is_secure_behind_https(client: TestClient) -> None:
    assert "Secure" in client.get("/page").headers["set-cookie"]


def test_post_without_token_is_refused_with_an_html_page(client: TestClient) -> None:
    _page_token(client)

    response = client.post("/echo", data={"name": "pump"})

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Reload the page" in response.text


def test_api_post_without_token_is_refused_with_json(client: TestClient) -> None:
    _page_token(client)

    response = client.post("/api/things", json={})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_htmx_refusal_is_retargeted_to_the_flash_area(client: TestClient) -> None:
    _page_token(client)

    response = client.post("/echo", headers={"HX-Request": "true"})

    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#flash"


def test_post_with_header_token_passes(client: TestClient) -> None:
    token = _page_token(client)

    response = client.post("/api/things", json={}, headers={"X-CSRF-Token": token})

    assert response.status_code == 200
    assert response.json() == {"created": True}


def test_post_with_form_field_passes_and_the_app_still_reads_the_body(client: TestClient) -> None:
    token = _page_token(client)

    response = client.post("/echo", data={"csrf_token": token, "name": "pump 7"})

    assert response.status_code == 200
    assert response.json() == {"csrf_token": token, "name": "pump 7"}


def test_wrong_token_is_refused(client: TestClient) -> None:
    _page_token(client)

    response = client.post("/echo", data={"csrf_token": "0" * 64, "name": "pump"})

    assert response.status_code == 403


def test_token_signed_with_another_secret_is_refused(client: TestClient) -> None:
    _page_token(client)
    forged = csrf_token_for(client.cookies[CSRF_COOKIE], b"another secret")

    assert client.post("/echo", headers={"X-CSRF-Token": forged}).status_code == 403


def test_non_ascii_token_is_refused_not_crashing(client: TestClient) -> None:
    _page_token(client)

    response = client.post(
        "/echo",
        content="csrf_token=%C3%A9",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )

    assert response.status_code == 403


def test_valid_token_without_its_cookie_is_refused() -> None:
    first = TestClient(_app())
    token = _page_token(first)

    response = TestClient(_app()).post("/echo", headers={"X-CSRF-Token": token})

    assert response.status_code == 403


def test_multipart_form_field_is_not_accepted(client: TestClient) -> None:
    token = _page_token(client)

    response = client.post("/echo", data={"csrf_token": token}, files={"f": ("a.txt", b"x")})

    assert response.status_code == 403


def test_oversized_form_is_refused(client: TestClient) -> None:
    token = _page_token(client)

    response = client.post("/echo", data={"csrf_token": token, "notes": "x" * MAX_FORM_BYTES})

    assert response.status_code == 403


def test_bearer_client_without_cookies_is_exempt() -> None:
    response = TestClient(_app()).post(
        "/api/things", json={}, headers={"Authorization": "Bearer device-token"}
    )

    assert response.status_code == 200


def test_bearer_header_does_not_exempt_a_browser_with_cookies(client: TestClient) -> None:
    _page_token(client)

    response = client.post("/api/things", json={}, headers={"Authorization": "Bearer x"})

    assert response.status_code == 403
