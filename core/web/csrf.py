"""Signed double-submit CSRF protection as pure ASGI middleware."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import get_settings
from core.web import cookies

CSRF_COOKIE = cookies.CSRF  # the base name; behind https it goes as __Host-fieldcrm_csrf
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 64 * 1024

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
_MULTIPART_MEDIA_TYPE = "multipart/form-data"
_BOUNDARY = re.compile(r'boundary="?([^";]{1,200})"?', re.IGNORECASE)
_FIRST_PART = re.compile(
    rb'\Acontent-disposition:\s*form-data;\s*name="?' + CSRF_FIELD.encode() + rb'"?\s*\r\n\r\n',
    re.IGNORECASE,
)
_MESSAGE = "This form has expired. Reload the page and try again."
_HTML_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Form expired - fieldcrm</title></head><body><h1>Form expired</h1>"
    f'<p>{_MESSAGE}</p><p><a href="/">Back to the start page</a></p></body></html>'
)


def csrf_token_for(cookie_value: str, secret: bytes, *, session_token: str | None = None) -> str:
    """The token pages embed for a CSRF cookie value and the session it goes with: a new
    session (a login, a logout) gives every form a new token, so one seen before it is void."""
    bound = f"{cookie_value}\x00{session_token or ''}"
    return hmac.new(secret, bound.encode(), hashlib.sha256).hexdigest()


def new_csrf_cookie(response: Response) -> None:
    """Give the browser a fresh CSRF cookie with this response (at login)."""
    response.headers.append("set-cookie", _cookie_header(secrets.token_urlsafe(32)))


class CSRFMiddleware:
    """Sets the CSRF cookie, exposes the page token, and refuses unsafe requests without it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        headers = Headers(scope=scope)
        jar = cookie_parser(headers.get("cookie", ""))
        cookie_value = _cookie_value(jar.get(cookies.cookie_name(CSRF_COOKIE)))
        is_new_cookie = cookie_value is None
        if cookie_value is None:
            cookie_value = secrets.token_urlsafe(32)
            send = _setting_cookie(send, cookie_value)
        session_token = jar.get(cookies.cookie_name(cookies.SESSION))
        expected = csrf_token_for(
            cookie_value, settings.session_secret(), session_token=session_token
        )
        scope.setdefault("state", {})["csrf_token"] = expected

        if scope["method"] in _UNSAFE_METHODS and not _is_api_client(headers):
            submitted, receive = await _submitted_token(headers, receive)
            # A fresh cookie means the browser never saw a page token for it.
            if (
                is_new_cookie
                or submitted is None
                or not hmac.compare_digest(submitted, expected.encode())
            ):
                await _refusal(scope, headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cookie_value(value: str | None) -> str | None:
    # Only accept what we issue, so a planted odd value cannot reach the HMAC or the header.
    if value and 32 <= len(value) <= 128 and value.replace("-", "").replace("_", "").isalnum():
        return value
    return None


def _is_api_client(headers: Headers) -> bool:
    # Browsers attach cookies on their own; a bearer client without cookies cannot be forged.
    authorization = headers.get("authorization", "")
    return authorization.lower().startswith("bearer ") and "cookie" not in headers


def _cookie_header(cookie_value: str) -> str:
    cookie = f"{cookies.cookie_name(CSRF_COOKIE)}={cookie_value}; Path=/; HttpOnly; SameSite=Lax"
    return cookie + "; Secure" if get_settings().https else cookie


def _setting_cookie(send: Send, cookie_value: str) -> Send:
    cookie = _cookie_header(cookie_value)

    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(raw=list(message.get("headers", [])))
            headers.append("set-cookie", cookie)
            message["headers"] = headers.raw
        await send(message)

    return send_with_cookie


async def _submitted_token(headers: Headers, receive: Receive) -> tuple[bytes | None, Receive]:
    header = headers.get(CSRF_HEADER)
    if header:
        return header.encode(), receive
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == _MULTIPART_MEDIA_TYPE:
        return await _first_part_token(headers, receive)
    if media_type != _FORM_MEDIA_TYPE:
        return None, receive
    body = await _read_small_body(headers, receive)
    if body is None:
        return None, receive
    # latin-1 maps every byte to one character, so odd input cannot raise while decoding.
    form = parse_qs(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    values = form.get(CSRF_FIELD)
    return (values[0].encode("latin-1") if values else None), _replaying(body, receive)


async def _read_small_body(headers: Headers, receive: Receive) -> bytes | None:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _first_part_token(headers: Headers, receive: Receive) -> tuple[bytes | None, Receive]:
    """A file form sent without JavaScript carries the token as its first field (pages put the
    hidden input first): read up to the end of that part only, then hand on the whole body."""
    found = _BOUNDARY.search(headers.get("content-type", ""))
    if found is None:
        return None, receive
    delimiter = b"--" + found.group(1).encode("latin-1")
    buffered = b""
    more = True
    while more and len(buffered) <= MAX_FORM_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        buffered += message.get("body", b"")
        more = bool(message.get("more_body", False))
        token = _token_of_first_part(buffered, delimiter)
        if token is not None:
            return token, _replaying(buffered, receive, more_body=more)
    return None, _replaying(buffered, receive, more_body=more)


def _token_of_first_part(buffered: bytes, delimiter: bytes) -> bytes | None:
    start = buffered.find(delimiter + b"\r\n")
    if start != 0:
        return None
    part = buffered[len(delimiter) + 2 :]
    end = part.find(b"\r\n" + delimiter)
    if end < 0:
        return None
    matched = _FIRST_PART.match(part[:end])
    return part[matched.end() : end] if matched else None


def _replaying(body: bytes, receive: Receive, *, more_body: bool = False) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more_body}

    return replay


def _refusal(scope: Scope, headers: Headers) -> Response:
    path: str = scope["path"]
    if path.startswith("/api/") or "application/json" in headers.get("accept", ""):
        return JSONResponse(
            {"error": {"code": "csrf_failed", "message": _MESSAGE, "details": {}}},
            status_code=403,
        )
    if headers.get("hx-request") == "true":
        return HTMLResponse(
            f'<div class="flash flash-error" role="alert">{_MESSAGE}</div>',
            status_code=403,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    return HTMLResponse(_HTML_PAGE, status_code=403)
