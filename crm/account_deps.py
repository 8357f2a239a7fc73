"""Who is asking on the pages of a step a fresh login must finish first (changing a password
someone else chose, setting up a required second factor): the one dependency that admits a
session with a pending step; every other route refuses it (core.auth.sessions.StepRequired)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from core.auth.principal import Principal
from core.auth.sessions import PendingStep, resolve_session_with_step
from core.db import SessionDep
from core.formatting import load_reader
from core.web.cookies import SESSION, cookie_name
from core.web.errors import LoginRequired


@dataclass(frozen=True, slots=True)
class LiveLogin:
    """The caller, the step their session must finish (None: none), and its cookie token."""

    principal: Principal
    step: PendingStep | None
    token: str


def live_login(request: Request, session: SessionDep) -> LiveLogin:
    """The logged-in caller, whether or not a step is pending; anonymous: LoginRequired."""
    token = request.cookies.get(cookie_name(SESSION))
    live = resolve_session_with_step(session, token=token) if token else None
    if token is None or live is None:
        raise LoginRequired
    principal, step = live
    request.state.principal = principal
    request.state.reader = load_reader(session, principal)
    return LiveLogin(principal, step, token)


CurrentLogin = Annotated[LiveLogin, Depends(live_login)]


def step_context(login: LiveLogin) -> dict[str, object]:
    """What base.html needs to show a step's page without the way out (no nav, no inbox)."""
    return {"pending_step": login.step, "nav": []} if login.step else {}
