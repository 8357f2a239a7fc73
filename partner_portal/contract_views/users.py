"""The portal's users page: partner admins invite, (de)activate and promote colleagues; the
invited colleague's page to choose a password (the e-mailed link)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import AfterValidator, ConfigDict, Field

from core.auth.passwords import MAX_PASSWORD_LENGTH, PASSWORD_RULE
from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import SessionDep
from core.web.deps import require_role
from core.web.flash import see_other
from core.web.forms import FormModel, PageForm, Say, blank_form, read_form, render_form
from core.web.templating import is_htmx
from crm.models import Organization
from crm.outbox import deliver
from crm.schemas import normalise_email
from partner_portal.models import PartnerInvitation
from partner_portal.partner_users import (
    INVITATION_LIFETIME,
    accept_invitation,
    invite_user,
    list_partner_users,
    open_invitation,
    pending_invitations,
    set_partner_admin,
    set_user_active,
    withdraw_invitation,
)

router = APIRouter()
DistributorPrincipal = Annotated[Principal, Depends(require_role(Role.DISTRIBUTOR))]
_USERS = "partner_portal/users/list.html"
_ACCEPT = "partner_portal/users/accept.html"
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


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


Secret = Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH)]


class ChoosePasswordForm(FormModel):
    """The invited colleague's password, taken as typed."""

    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")

    new_password: Annotated[Secret, Say(missing="Enter a password")]
    repeat_password: Annotated[Secret, Say(missing="Enter the password again")]


def _page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: PageForm[InviteForm] | None = None,
    invitation: PartnerInvitation | None = None,
) -> Response:
    rows = list_partner_users(session, actor=principal)
    is_admin = any(row.is_admin and row.user.id == principal.user_id for row in rows)
    context = {
        "rows": rows,
        "is_admin": is_admin,
        "invitation": invitation,
        "pending": pending_invitations(session, actor=principal),
        "invitation_days": INVITATION_LIFETIME.days,
    }
    # after an invitation htmx swaps the whole content: the message and the pending list
    block = "content" if invitation is not None and is_htmx(request) else None
    headers = {"HX-Retarget": "#content", "HX-Reswap": "innerHTML"} if block else {}
    return render_form(
        request,
        _USERS,
        context,
        form=form or blank_form(InviteForm),
        block=block,
        headers={"Cache-Control": "no-store", **headers},
    )


@router.get("/portal/users", name="portal_users")
def users_page(request: Request, session: SessionDep, principal: DistributorPrincipal) -> Response:
    return _page(request, session, principal)


@router.post("/portal/users", name="portal_user_invite")
async def invite(
    request: Request, session: SessionDep, principal: DistributorPrincipal, later: BackgroundTasks
) -> Response:
    """E-mail the colleague a link to choose their password; the page says the same whether
    or not the address has an account elsewhere (its owner alone is told)."""
    form = await read_form(request, InviteForm)
    sent = None
    with form.refusals(session):
        if form.data is not None:
            sent = invite_user(
                session,
                actor=principal,
                email=form.data.email,
                full_name=form.data.full_name,
                make_admin=form.data.admin == "yes",
            )
    if sent is None:
        return _page(request, session, principal, form=form)
    deliver(session, mail=sent.mail, later=later)
    session.commit()
    return _page(request, session, principal, invitation=sent.invitation)


@router.post(
    "/portal/users/invitations/{invitation_id}/withdraw", name="portal_invitation_withdraw"
)
def withdraw(invitation_id: int, session: SessionDep, principal: DistributorPrincipal) -> Response:
    """The invitation's link stops working."""
    withdraw_invitation(session, actor=principal, invitation_id=invitation_id)
    return RedirectResponse("/portal/users", status_code=303)


@router.get("/invitation/{token}", name="invitation")
def invitation_page(token: str, request: Request, session: SessionDep) -> Response:
    return _accept_page(request, session, token, blank_form(ChoosePasswordForm))


@router.post("/invitation/{token}")
async def accept(token: str, request: Request, session: SessionDep) -> Response:
    """Create the account with the password the colleague chose; they log in next."""
    form = await read_form(request, ChoosePasswordForm)
    data = form.data
    if data is not None and data.new_password != data.repeat_password:
        form.add_error("repeat_password", "The two passwords are not the same")
    if data is None or form.errors:
        return _accept_page(request, session, token, form)
    with form.refusals(session):
        accept_invitation(session, token=token, password=data.new_password)
    if form.errors:
        return _accept_page(request, session, token, form)
    session.commit()
    return see_other(request, "/login", flash="Your account is ready: log in with your password.")


def _accept_page(
    request: Request, session: SessionDep, token: str, form: PageForm[ChoosePasswordForm]
) -> Response:
    invitation = open_invitation(session, token=token)
    organisation = session.get(Organization, invitation.org_id) if invitation else None
    context = {"invitation": invitation, "organisation": organisation, "rule": PASSWORD_RULE}
    response = render_form(request, _ACCEPT, context, form=form, headers=_PRIVATE)
    if invitation is None:
        response.status_code = 404  # the link names no live invitation
    return response


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
