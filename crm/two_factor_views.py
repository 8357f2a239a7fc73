"""Your settings, two-factor authentication (staff): set up an authenticator app from a QR
code, confirm it with a code, keep the ten recovery codes shown once; turn it off with the
password and a code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from core.auth.sessions import PendingStep, StepRequired, set_pending_step
from core.auth.totp import grouped, provisioning_uri, qr_svg_data_uri
from core.config import get_settings
from core.db import SessionDep
from core.errors import InvalidInput, TooManyAttempts
from core.web.flash import see_other
from core.web.forms import GENERAL, FormModel, PageForm, Say, blank_form, read_form, render_form
from crm.account_deps import CurrentLogin, LiveLogin, step_context
from crm.service.accounts import step_after_login
from crm.service.two_factor import (
    confirm_enrolment,
    disable_two_factor,
    enrolment_secret,
    has_two_factor,
    recovery_codes_left,
)

router = APIRouter(include_in_schema=False)
_PAGE = "crm/two_factor.html"
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
Code = Annotated[str, Field(max_length=40), Say(missing="Enter the 6-digit code from your app")]


class ConfirmForm(FormModel):
    code: Code


class DisableForm(FormModel):
    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")

    password: Annotated[str, Field(max_length=1024), Say(missing="Enter your current password")]
    code: Code


def _allowed(login: LiveLogin) -> None:
    # a password someone else chose is changed before anything else, this page included
    if login.step is PendingStep.CHANGE_PASSWORD:
        raise StepRequired(login.step)


def _page(
    request: Request,
    session: Session,
    login: LiveLogin,
    *,
    form: PageForm[ConfirmForm] | PageForm[DisableForm] | None = None,
    recovery_codes: list[str] | None = None,
) -> Response:
    principal = login.principal
    context: dict[str, object] = {
        "is_staff": principal.is_staff,
        "required": get_settings().staff_totp_required,
        "recovery_codes": recovery_codes,
        **step_context(login),
    }
    enrolled = principal.is_staff and has_two_factor(session, user_id=principal.user_id)
    context["enrolled"] = enrolled
    if enrolled:
        context["codes_left"] = recovery_codes_left(session, user_id=principal.user_id)
        form = form or blank_form(DisableForm)
    elif principal.is_staff:
        secret = enrolment_secret(session, principal=principal)
        context["qr"] = qr_svg_data_uri(provisioning_uri(secret, account=principal.email))
        context["secret"] = grouped(secret)
        form = form or blank_form(ConfirmForm)
    else:
        form = form or blank_form(ConfirmForm)
    return render_form(request, _PAGE, context, form=form, headers=_PRIVATE)


@router.get("/settings/two-factor", name="two_factor")
def two_factor_page(request: Request, session: SessionDep, login: CurrentLogin) -> Response:
    _allowed(login)
    return _page(request, session, login)


@router.post("/settings/two-factor/confirm")
async def confirm(request: Request, session: SessionDep, login: CurrentLogin) -> Response:
    """Turn it on; the recovery codes are shown by this response only (no-store), never
    again."""
    _allowed(login)
    form = await read_form(request, ConfirmForm)
    codes = None
    with form.refusals(session):
        if form.data is not None:
            codes = confirm_enrolment(session, principal=login.principal, code=form.data.code)
    if codes is None:
        return _page(request, session, login, form=form)
    _next_step(session, login)
    session.commit()
    done = LiveLogin(login.principal, None, login.token)
    return _page(request, session, done, recovery_codes=codes)


@router.post("/settings/two-factor/disable")
async def disable(request: Request, session: SessionDep, login: CurrentLogin) -> Response:
    _allowed(login)
    form = await read_form(request, DisableForm)
    if form.data is None:
        return _page(request, session, login, form=form)
    client = request.client.host if request.client else "unknown"
    try:
        disable_two_factor(
            session,
            principal=login.principal,
            password=form.data.password,
            code=form.data.code,
            client=client,
        )
    except (InvalidInput, TooManyAttempts) as exc:
        session.commit()  # a wrong password or code counts for the throttle
        field = exc.details.get("field")
        form.add_error(field if isinstance(field, str) else GENERAL, exc.message)
        return _page(request, session, login, form=form)
    _next_step(session, login)
    session.commit()
    return see_other(request, "/settings/two-factor", flash="Two-factor authentication is off.")


def _next_step(session: Session, login: LiveLogin) -> None:
    step = step_after_login(session, user_id=login.principal.user_id)
    set_pending_step(session, token=login.token, step=step)
