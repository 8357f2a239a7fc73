"""Request dependencies: who is asking, and which roles a page admits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from core.auth.principal import Principal
from core.auth.roles import Role
from core.auth.sessions import resolve_session
from core.db import SessionDep
from core.errors import PermissionDenied
from core.formatting import load_reader
from core.web.cookies import SESSION, cookie_name
from core.web.errors import LoginRequired

SESSION_COOKIE = SESSION  # the base name; behind https it goes as __Host-fieldcrm_session

_ROLE_LABELS = {
    Role.ADMIN: "administrators",
    Role.DISPATCHER: "dispatchers",
    Role.ENGINEER: "service engineers",
    Role.DISTRIBUTOR: "distributor partners",
    Role.CUSTOMER: "customers",
}


def get_principal(request: Request, session: SessionDep) -> Principal | None:
    """The logged-in principal from the session cookie, or None; also set on request.state."""
    token = request.cookies.get(cookie_name(SESSION_COOKIE))
    principal = resolve_session(session, token=token) if token else None
    request.state.principal = principal
    request.state.reader = load_reader(session, principal)
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_principal)]


def require_login(principal: OptionalPrincipal) -> Principal:
    """The logged-in principal; anonymous requests get the login page (or 401 on /api/)."""
    if principal is None:
        raise LoginRequired
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_login)]


def require_role(*roles: Role) -> Callable[[Principal | None], Principal]:
    """A dependency admitting only principals holding one of `roles`."""
    allowed = frozenset(roles)
    labels = " and ".join(_ROLE_LABELS[role] for role in roles)

    def role_guard(principal: OptionalPrincipal) -> Principal:
        if principal is None:
            raise LoginRequired
        if principal.role not in allowed:
            raise PermissionDenied(f"This page is for {labels} only.")
        return principal

    return role_guard


StaffPrincipal = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.DISPATCHER))]
AdminPrincipal = Annotated[Principal, Depends(require_role(Role.ADMIN))]


def safe_next_path(value: str | None, *, default: str = "/") -> str:
    """A local path to redirect to after login; anything that could leave the site is refused."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(ord(char) < 32 or char == "\\" for char in value)
    ):
        return default
    return value
