"""Map domain errors and HTTP failures to JSON, an htmx fragment or an error page."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from core.auth.roles import Role
from core.auth.sessions import StepRequired
from core.errors import DomainError
from core.web.templating import is_htmx, render

logger = logging.getLogger(__name__)

LOGIN_PATH = "/login"

_STATUS_BY_CODE = {
    "not_found": 404,
    "permission_denied": 403,
    "conflict": 409,
    "invalid_input": 422,
    "illegal_transition": 409,
    "too_many_attempts": 429,
}
_CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_input",
    429: "too_many_attempts",
}
_TITLES = {
    400: "Request refused",
    401: "Login required",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Could not do that now",
    413: "Too large",
    422: "Check your input",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
_HINTS = {
    403: "If you need this, ask an administrator of your organization for access.",
    404: "Check the address, or go back to your start page.",
    409: "The record changed in the meantime. Reload the page and try again.",
    422: "Correct the input and send it again.",
    429: "Wait a moment, then try again.",
    500: "Try again in a minute. If it keeps happening, tell your administrator.",
    503: "Try again in a minute.",
}
_DEFAULT_HINT = "Go back and try again."
_ADMIN_403_HINT = (
    "A rule of the process refuses this, not your access: the message says who may do it."
)
# Starlette's own details ("Not Found") only repeat the title; these say what happened.
_MESSAGES = {
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request.",
    413: (
        "What you sent is larger than this form accepts. Choose a smaller file, or send less"
        " at once."
    ),
}


class LoginRequired(Exception):
    """The page needs a logged-in user: HTML gets a redirect to /login, the API a 401."""


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into responses, once for all packages."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StepRequired, _step_required)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unhandled)


def error_response(
    request: Request,
    *,
    status_code: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error in the shape the client reads: JSON, an htmx flash fragment or a page."""
    if wants_json(request):
        body = {"error": {"code": code, "message": message, "details": dict(details or {})}}
        return JSONResponse(body, status_code=status_code, headers=headers)
    context = {
        "status_code": status_code,
        "title": _TITLES.get(status_code, _TITLES[400]),
        "message": message,
        "hint": _hint(request, status_code, details),
    }
    if is_htmx(request):
        fragment_headers = {**(headers or {}), "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return render(
            request,
            "core/_error_fragment.html",
            context,
            status_code=status_code,
            headers=fragment_headers,
        )
    return render(request, "core/error.html", context, status_code=status_code, headers=headers)


def _hint(request: Request, status_code: int, details: Mapping[str, Any] | None) -> str:
    """The next step: the error's own hint, else the status's; an administrator is never
    told to ask an administrator."""
    own = (details or {}).get("hint")
    if isinstance(own, str) and own:
        return own
    principal = getattr(request.state, "principal", None)
    if status_code == 403 and getattr(principal, "role", None) == Role.ADMIN:
        return _ADMIN_403_HINT
    return _HINTS.get(status_code, _DEFAULT_HINT)


def wants_json(request: Request) -> bool:
    """Whether the client is an API consumer rather than a browser page."""
    if request.url.path.startswith("/api/"):
        return True
    return "application/json" in request.headers.get("accept", "") and not is_htmx(request)


def _status_of(exc: DomainError) -> int:
    """By the error's class first (a Conflict with its own code is still 409), then its code."""
    for cls in type(exc).__mro__:
        code = getattr(cls, "code", None)
        if cls is not DomainError and isinstance(code, str) and code in _STATUS_BY_CODE:
            return _STATUS_BY_CODE[code]
    return _STATUS_BY_CODE.get(exc.code, 400)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)  # registered for DomainError only
    status_code = _status_of(exc)
    headers = {}
    retry_after = exc.details.get("retry_after")
    if status_code == 429 and retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    return error_response(
        request,
        status_code=status_code,
        code=exc.code,
        message=exc.message,
        details=exc.details,
        headers=headers,
    )


async def _step_required(request: Request, exc: Exception) -> Response:
    """A session with a step to finish: a page goes to the step's page, the API gets 403
    with the step's code (password_change_required, two_factor_enrolment_required)."""
    assert isinstance(exc, StepRequired)  # registered for StepRequired only
    if wants_json(request):
        return await _domain_error(request, exc)
    if is_htmx(request):
        return Response(status_code=403, headers={"HX-Redirect": exc.location})
    return RedirectResponse(exc.location, status_code=303)


async def _login_required(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        return error_response(
            request, status_code=401, code="not_authenticated", message="Log in first."
        )
    login_url = f"{LOGIN_PATH}?{urlencode({'next': _page_path(request)})}"
    if is_htmx(request):
        # A 303 would be followed inside the XHR and the login page swapped into a fragment.
        return Response(status_code=401, headers={"HX-Redirect": login_url})
    return RedirectResponse(login_url, status_code=303)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 401:
        return await _login_required(request, exc)
    detail = exc.detail
    message = detail if isinstance(detail, str) else _TITLES.get(exc.status_code, "Error")
    # Starlette's body-limit refusal says "Content Too Large", not the status's phrase
    bare = message in (HTTPStatus(exc.status_code).phrase, "Content Too Large")
    if bare and exc.status_code in _MESSAGES:
        message = _MESSAGES[exc.status_code]
    return error_response(
        request,
        status_code=exc.status_code,
        code=_CODE_BY_STATUS.get(exc.status_code, "http_error"),
        message=message,
        details={} if isinstance(detail, str) else {"detail": detail},
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # registered for it only
    # Only location, message and type: the rejected input may be a password.
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    if not wants_json(request) and any(error["loc"][:1] == ["path"] for error in errors):
        # /customer/devices/abc names no device: for a page that is "not found", not bad input
        return error_response(request, status_code=404, code="not_found", message=_MESSAGES[404])
    fields = sorted({str(error["loc"][-1]) for error in errors if error["loc"]})
    message = "Some fields are missing or invalid"
    return error_response(
        request,
        status_code=422,
        code="invalid_input",
        message=f"{message}: {', '.join(fields)}." if fields else f"{message}.",
        details={"errors": errors},
    )


async def _unhandled(request: Request, exc: Exception) -> Response:
    # Path only: query strings and bodies can carry tokens or personal data.
    logger.error(
        "Unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return error_response(
        request,
        status_code=500,
        code="internal_error",
        message="The server could not complete this request.",
    )


def _page_path(request: Request) -> str:
    # For htmx the page to come back to is the one in the address bar, not the fragment URL.
    current = request.headers.get("hx-current-url") if is_htmx(request) else None
    if current:
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
