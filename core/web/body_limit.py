"""How large a request body may be: 1 MB unless the route says otherwise.

FastAPI enforces the caps (`max_body_size` on a router or route, Starlette's body-limit
responder underneath): a declared Content-Length over the cap is refused at the first read,
a body streamed without one is counted and cut off at the cap, so no handler, form parser or
spool file ever holds more than the route allows. Every router is included with
`DEFAULT_MAX_BODY` (fieldcrm/app.py); a route that takes files names its own cap where it is
declared: `@router.post(..., max_body_size=8 * MiB)`. The refusal is a 413 in words
(core/web/errors.py).
"""

from __future__ import annotations

from typing import TypedDict

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024
DEFAULT_MAX_BODY = 1 * MiB


class FormLimits(TypedDict, total=False):
    """FastAPI's `form_limits` of a route: how many files and fields its form may have."""

    max_files: int
    max_fields: int
    max_part_size: int


ONE_FILE = FormLimits(max_files=1, max_fields=50)  # a one-file upload route


def in_words(size: int) -> str:
    """1 MB, 8 MB, 64 KB: how a cap reads in a message."""
    if size >= MiB:
        return f"{size / MiB:g} MB"
    return f"{size / 1024:g} KB"


_MESSAGE = (
    "What you sent is larger than this form accepts. Choose a smaller file, or send less at once."
)
_HTML_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Too large - fieldcrm</title></head><body><h1>Too large</h1>"
    f'<p>{_MESSAGE}</p><p><a href="/">Back to the start page</a></p></body></html>'
)


class TooLargeInWords:
    """Says Starlette's bare 413 ("Content Too Large", sent by its body-limit responder
    when a handler never read the body or the cap was passed mid-parse) in our words: JSON
    for the API, a flash for htmx, a page otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def wording_send(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and _is_bare_413(message):
                replaced = True
                await _refusal(scope)(scope, receive, send)
                return
            if replaced:
                return  # the bare body and anything after it
            await send(message)

        await self.app(scope, receive, wording_send)


def _is_bare_413(message: Message) -> bool:
    if message.get("status") != 413:
        return False
    headers = Headers(raw=message.get("headers", []))
    return headers.get("content-type", "").startswith("text/plain")


def _refusal(scope: Scope) -> Response:
    headers = Headers(scope=scope)
    close = {"Connection": "close"}  # the unread rest of the body is not ours to drain
    if scope["path"].startswith("/api/") or "application/json" in headers.get("accept", ""):
        body = {"error": {"code": "too_large", "message": _MESSAGE, "details": {}}}
        return JSONResponse(body, status_code=413, headers=close)
    if headers.get("hx-request") == "true":
        return HTMLResponse(
            f'<div class="flash flash-error" role="alert">{_MESSAGE}</div>',
            status_code=413,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML", **close},
        )
    return HTMLResponse(_HTML_PAGE, status_code=413, headers=close)
