"""Security response headers as pure ASGI middleware."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import get_settings, map_tile_source

_IMG_SRC = "img-src 'self' data: blob:"
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self'; style-src 'self'; {_IMG_SRC}; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def content_security_policy(map_tile_url: str = "") -> str:
    """The policy; a configured tile server may serve images, and nothing else."""
    if not map_tile_url:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        _IMG_SRC, f"{_IMG_SRC} {map_tile_source(map_tile_url)}", 1
    )


_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "geolocation=(self), camera=(self)",
}


class SecurityHeadersMiddleware:
    """Adds CSP and friends to every HTTP response; a route's own header wins."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        extra = dict(_HEADERS)
        extra["content-security-policy"] = content_security_policy(settings.map_tile_url)
        if settings.https:
            extra["strict-transport-security"] = STRICT_TRANSPORT_SECURITY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                # setdefault: a page that needs more (map tiles, /docs) sets its own policy.
                for name, value in extra.items():
                    headers.setdefault(name, value)
                message["headers"] = headers.raw
            await send(message)

        await self.app(scope, receive, send_with_headers)
