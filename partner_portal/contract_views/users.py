"""The portal's users page: partner admins invite, (de)activate and promote colleagues."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import SessionDep
from core.web.deps import require_role
from core.web.templating import render
from partner_portal.partner_users import (
    Invitation,
    invite_user,
    list_partner_users,
    set_partner_admin,
    set_user_active,
)

router = APIRouter()
DistributorPrincipal = Annotated[Principal, Depends(require_role(Role.DISTRIBUTOR))]
_USERS = "partner_portal/users/list.html"


def _page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    invitation: Invitation | None = None,
) -> Response:
    rows = list_partner_users(session, actor=principal)
    is_admin = any(row.is_admin and row.user.id == principal.user_id for row in rows)
    return render(
        request,
        _USERS,
        {"rows": rows, "is_admin": is_admin, "invitation": invitation},
        # the initial password must not stay in a cache or the back button's history
        headers={"Cache-Control": "no-store"},
    )


@router.get("/portal/users", name="portal_users")
def users_page(request: Request, session: SessionDep, principal: DistributorPrincipal) -> Response:
    return _page(request, session, principal)


@router.post("/portal/users", name="portal_user_invite")
def invite(
    request: Request,
    session: SessionDep,
    principal: DistributorPrincipal,
    email: Annotated[str, Form(max_length=320)],
    full_name: Annotated[str, Form(max_length=200)],
    admin: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Create the account and show its initial password once."""
    invitation = invite_user(
        session,
        actor=principal,
        email=email.strip().lower(),
        full_name=full_name.strip(),
        make_admin=admin == "yes",
    )
    return _page(request, session, principal, invitation)


@router.post("/portal/users/{user_id}/active", name="portal_user_active")
def set_active(
    user_id: int,
    session: SessionDep,
    principal: DistributorPrincipal,
    active: Annotated[str, Form(max_length=8)],
) -> Response:
    """active=yes reactivates, anything else deactivates (their sessions end at once)."""
    set_user_active(session, actor=principal, user_id=user_id, active=active == "yes")
    return RedirectResponse("/portal/users", status_code=303)


@router.post("/portal/users/{user_id}/admin", name="portal_user_admin")
def set_admin(
    user_id: int,
    session: SessionDep,
    principal: DistributorPrincipal,
    admin: Annotated[str, Form(max_length=8)],
) -> Response:
    """admin=yes makes them a partner admin, anything else takes it away."""
    set_partner_admin(session, actor=principal, user_id=user_id, admin=admin == "yes")
    return RedirectResponse("/portal/users", status_code=303)
