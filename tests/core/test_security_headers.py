from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from core.config import ConfigError, get_settings
from core.web.security_headers import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware

CUSTOM_CSP = "default-src 'self'; img-src https://tile.example.org"


def _client() -> TestClient:
    app = FastAPI()
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/page")
    def page() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/map")
    def map_page() -> PlainTextResponse:
        return PlainTextResponse("map", headers={"Content-Security-Policy": CUSTOM_CSP})

    return TestClient(app)


def test_every_response_carries_the_security_headers() -> None:
    headers = _client().get("/page").headers

    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["permissions-policy"] == "geolocation=(self), camera=(self)"


def test_not_found_responses_carry_them_too() -> None:
    response = _client().get("/missing")

    assert response.status_code == 404
    assert response.headers["x-frame-options"] == "DENY"


def test_no_hsts_over_plain_http() -> None:
    assert "strict-transport-security" not in _client().get("/page").headers


@pytest.mark.usefixtures("https")
def test_hsts_when_served_over_https() -> None:
    assert "max-age=" in _client().get("/page").headers["strict-transport-security"]


def test_a_route_may_set_its_own_policy() -> None:
    headers = _client().get("/map").headers

    assert headers.get_list("content-security-policy") == [CUSTOM_CSP]


def _img_src(policy: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("img-src"))


def test_no_tile_host_may_serve_images_when_none_is_configured() -> None:
    policy = _client().get("/page").headers["content-security-policy"]

    assert _img_src(policy) == "img-src 'self' data: blob:"


def test_a_configured_tile_server_may_serve_images_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "FIELDCRM_MAP_TILE_URL", "https://{s}.tiles.example.org:8443/{z}/{x}/{y}.png"
    )
    get_settings.cache_clear()

    policy = _client().get("/page").headers["content-security-policy"]

    assert _img_src(policy) == "img-src 'self' data: blob: https://*.tiles.example.org:8443"
    others = [part for part in policy.split(";") if not part.strip().startswith("img-src")]
    assert all("example.org" not in part for part in others)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org/{z}/{x}.png",
        "https://a{s}.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org; script-src *;/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_url_that_could_not_serve_tiles_is_refused(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("FIELDCRM_MAP_TILE_URL", url)
    get_settings.cache_clear()

    with pytest.raises(ConfigError, match="FIELDCRM_MAP_TILE_URL"):
        get_settings()
