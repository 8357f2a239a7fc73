"""The portal's users page: partner admins invite, (de)activate and promote colleagues."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import AfterValidator, Field

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import SessionDep
from core.web.deps import require_role
from core.web.forms import FormModel, PageForm, Say, blank_form, read_form, render_form
from core.web.templating import is_htmx
from crm.schemas import normalise_email
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


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except ValueError:
        raise ValueError("Enter an e-mail address like name@example.com") from None


class InviteForm(FormModel):
    """The "Add a colleague" form."""

    full_name: Annotated[str, Field(max_length=200), Say(missing="Enter their full name")]
    email: Annotated[
        str,
        Field(max_length=320),
        AfterValidator(_email),
        Say(missing="Enter their e-mail address"),
    ]
    admin: Annotated[str, Field(max_length=8)] = ""


def _page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: PageForm[InviteForm] | None = None,
    invitation: Invitation | None = None,
) -> Response:
    rows = list_partner_users(session, actor=principal)
    is_admin = any(row.is_admin and row.user.id == principal.user_id for row in rows)
    context = {"rows": rows, "is_admin": is_admin, "invitation": invitation}
    # after an invitation htmx swaps the whole content: the new row and the password
    block = "content" if invitation is not None and is_htmx(request) else None
    headers = {"HX-Retarget": "#content", "HX-Reswap": "innerHTML"} if block else {}
    return render_form(
        request,
        _USERS,
        context,
        form=form or blank_form(InviteForm),
        block=block,
        # the initial password must not stay in a cache or the back button's history
        headers={"Cache-Control": "no-store", **headers},
    )


@router.get("/portal/users", name="portal_users")
def users_page(request: Request, session: SessionDep, principal: DistributorPrincipal) -> Response:
    return _page(request, session, principal)


@router.post("/portal/users", name="portal_user_invite")
async def invite(
    request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    """Create the account and show its initial password once: the one POST here that renders
    instead of redirecting, since a GET must never show the password again (no-store)."""
    form = await read_form(request, InviteForm)
    invitation = None
    with form.refusals(session):
        if form.data is not None:
            invitation = invite_user(
                session,
                actor=principal,
                email=form.data.email,
                full_name=form.data.full_name,
                make_admin=form.data.admin == "yes",
            )
    if invitation is None:
        return _page(request, session, principal, form=form)
    return _page(request, session, principal, invitation=invitation)


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
