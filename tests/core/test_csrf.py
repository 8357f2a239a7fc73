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
        async with request.form() as form:
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


def _multipart(*parts: tuple[str, bytes]) -> tuple[bytes, dict[str, str]]:
    """A multipart body with its parts in this order, as a browser sends a form's fields."""
    boundary = "----fieldcrmBoundary7MA4YWxkTrZu0gW"
    body = b""
    for name, value in parts:
        disposition = f'form-data; name="{name}"'
        if name == "file":
            disposition += '; filename="report.pdf"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_a_file_form_without_javascript_passes_with_the_token_as_its_first_field(
    client: TestClient,
) -> None:
    token = _page_token(client)
    file = b"%PDF-1.7 " + b"x" * (3 * MAX_FORM_BYTES)  # larger than a plain form may be
    body, headers = _multipart(("csrf_token", token.encode()), ("file", file))

    response = client.post("/echo", content=body, headers=headers)

    assert response.status_code == 200
    assert response.json()["csrf_token"] == token  # the app reads the whole body after the check


def test_a_file_form_with_the_token_after_the_file_or_a_wrong_one_is_refused(
    client: TestClient,
) -> None:
    token = _page_token(client)
    late, headers = _multipart(("file", b"%PDF-1.7"), ("csrf_token", token.encode()))
    wrong, _ = _multipart(("csrf_token", b"0" * 64), ("file", b"%PDF-1.7"))
    without, _ = _multipart(("file", b"%PDF-1.7"))

    for body in (late, wrong, without):
        assert client.post("/echo", content=body, headers=headers).status_code == 403


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


def test_the_token_is_bound_to_the_session_so_another_session_voids_it(
    client: TestClient,
) -> None:
    client.cookies.set("fieldcrm_session", "session-of-alice")
    token = _page_token(client)
    assert client.post("/api/things", json={}, headers={"X-CSRF-Token": token}).status_code == 200

    client.cookies.set("fieldcrm_session", "session-of-mallory")  # a planted or new session
    refused = client.post("/api/things", json={}, headers={"X-CSRF-Token": token})

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"


@pytest.mark.usefixtures("https")
def test_behind_https_the_cookie_is_host_prefixed_and_only_that_name_counts(
    client: TestClient,
) -> None:
    response = client.get("/page")

    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"__Host-{CSRF_COOKIE}=")
    assert "Secure" in set_cookie
    assert "Path=/" in set_cookie
    assert "Domain" not in set_cookie
    value = client.cookies[f"__Host-{CSRF_COOKIE}"]
    assert response.text == csrf_token_for(value, TEST_SECRET.encode())
    # a cookie without the prefix (which a sibling subdomain could plant) is not ours
    planted = TestClient(_app(), base_url="https://testserver")
    planted.cookies.set(CSRF_COOKIE, value)
    assert planted.post("/echo", headers={"X-CSRF-Token": response.text}).status_code == 403
