"""Redirect after a successful POST, with a one-time message the next page shows.

The message rides in a short-lived signed cookie, so a refresh of the page it lands on neither
sends the form again nor repeats the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.config import get_settings
from core.web.cookies import FLASH, cookie_name

FLASH_COOKIE = FLASH  # the base name; behind https it goes as __Host-fieldcrm_flash
_MAX_AGE_S = 60
_MAX_MESSAGE = 500


def see_other(request: Request, url: str, *, flash: str | None = None) -> Response:
    """303 to `url` (for htmx: HX-Redirect, a real page load), `flash` shown there once."""
    if request.headers.get("hx-request") == "true":
        # htmx would follow a 303 inside its request and swap the next page into the form
        response: Response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            cookie_name(FLASH_COOKIE),
            _signed(flash[:_MAX_MESSAGE]),
            max_age=_MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=get_settings().https,
            path="/",
        )
    return response


def pop_flash(request: Request, response: Response) -> None:
    """Forget the message on `response` once a full page has shown it."""
    name = cookie_name(FLASH_COOKIE)
    if name in request.cookies:
        response.delete_cookie(name, path="/", secure=get_settings().https)


def flash_message(request: Request) -> str | None:
    """The message waiting for this request, if its signature holds."""
    value = request.cookies.get(cookie_name(FLASH_COOKIE), "")
    encoded, _, signature = value.partition(".")
    if not signature or not hmac.compare_digest(signature, _signature(encoded)):
        return None
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _signed(message: str) -> str:
    encoded = base64.urlsafe_b64encode(message.encode()).decode().rstrip("=")
    return f"{encoded}.{_signature(encoded)}"


def _signature(encoded: str) -> str:
    key = get_settings().session_secret() + b"|flash"
    return hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
