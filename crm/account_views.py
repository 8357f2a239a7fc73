"""Passwords: change your own on Your settings (also POST /api/me/password), or choose a new
one by a link e-mailed from the login page's "Forgot your password?"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from core.auth.passwords import MAX_PASSWORD_LENGTH, PASSWORD_RULE
from core.auth.reset_tokens import RESET_LINK_LIFETIME
from core.auth.sessions import STEP_PAGES, set_pending_step
from core.config import get_settings
from core.db import SessionDep
from core.errors import DomainError, InvalidInput, TooManyAttempts
from core.web.flash import see_other
from core.web.forms import GENERAL, FormModel, PageForm, Say, blank_form, read_form, render_form
from core.web.templating import render
from crm.account_deps import CurrentLogin, LiveLogin, step_context
from crm.outbox import deliver
from crm.schemas import normalise_email
from crm.service.accounts import (
    change_own_password,
    request_password_reset,
    reset_password,
    reset_user,
    step_after_login,
)

router = APIRouter(tags=["me"])
_CHANGE = "crm/password_change.html"
_FORGOT = "crm/password_forgot.html"
_RESET = "crm/password_reset.html"
# a page with a password form or a reset link is not cached, nor its address sent on
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

Secret = Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH)]


class _PasswordForm(FormModel):
    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")  # taken as typed


class NewPasswordForm(_PasswordForm):
    new_password: Annotated[Secret, Say(missing="Enter a new password")]
    repeat_password: Annotated[Secret, Say(missing="Enter the new password again")]


class PasswordChangeForm(NewPasswordForm):
    current_password: Annotated[Secret, Say(missing="Enter your current password")]


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except ValueError:
        raise ValueError("Enter an e-mail address like name@example.com") from None


class ForgotForm(FormModel):
    email: Annotated[
        str,
        Field(max_length=320),
        AfterValidator(_email),
        Say(missing="Enter your e-mail address"),
    ]


class PasswordChange(BaseModel):
    """Your current password and the new one."""

    current_password: Secret
    new_password: Secret


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _repeated(form: PageForm[NewPasswordForm] | PageForm[PasswordChangeForm]) -> bool:
    data = form.data
    if data is not None and data.new_password != data.repeat_password:
        form.add_error("repeat_password", "The two new passwords are not the same")
    return data is not None and not form.errors


def _refused(session: Session, form: PageForm[PasswordChangeForm], exc: DomainError) -> None:
    # a wrong current password is a failed login the throttle must see: keep it
    session.commit()
    field = exc.details.get("field")
    form.add_error(field if isinstance(field, str) else GENERAL, exc.message)


def _change_page(
    request: Request, login: LiveLogin, form: PageForm[PasswordChangeForm]
) -> Response:
    context = {"rule": PASSWORD_RULE, "forced": login.step is not None, **step_context(login)}
    return render_form(request, _CHANGE, context, form=form, headers=_PRIVATE)


@router.get("/settings/password", name="password_change", include_in_schema=False)
def password_change_page(request: Request, login: CurrentLogin) -> Response:
    return _change_page(request, login, blank_form(PasswordChangeForm))


@router.post("/settings/password", include_in_schema=False)
async def change_password(request: Request, session: SessionDep, login: CurrentLogin) -> Response:
    form = await read_form(request, PasswordChangeForm)
    if not _repeated(form) or form.data is None:
        return _change_page(request, login, form)
    try:
        _change(session, login, form.data.current_password, form.data.new_password, request)
    except (InvalidInput, TooManyAttempts) as exc:
        _refused(session, form, exc)
        return _change_page(request, login, form)
    next_step = step_after_login(session, user_id=login.principal.user_id)
    session.commit()
    target = STEP_PAGES[next_step] if next_step else ("/" if login.step else "/settings")
    return see_other(request, target, flash="Password changed. Your other sessions have ended.")


@router.post("/api/me/password", status_code=204, response_class=Response)
def put_password(
    data: PasswordChange, request: Request, session: SessionDep, login: CurrentLogin
) -> Response:
    """Change your own password: your other sessions end, this one stays. 422 names the field
    (current_password: wrong; new_password: too short or too common), 429 after repeated
    wrong current passwords. A password someone else chose must be changed here first."""
    try:
        _change(session, login, data.current_password, data.new_password, request)
    except DomainError:
        session.commit()  # the failed attempt counts
        raise
    session.commit()
    return Response(status_code=204)


def _change(session: Session, login: LiveLogin, current: str, new: str, request: Request) -> None:
    change_own_password(
        session,
        principal=login.principal,
        current=current,
        new=new,
        client=_client(request),
        keep_token=login.token,
    )
    set_pending_step(
        session,
        token=login.token,
        step=step_after_login(session, user_id=login.principal.user_id),
    )


@router.get("/password/forgot", name="password_forgot", include_in_schema=False)
def forgot_page(request: Request) -> Response:
    return render_form(request, _FORGOT, {"sent": None}, form=blank_form(ForgotForm))


@router.post("/password/forgot", include_in_schema=False)
async def forgot(request: Request, session: SessionDep, later: BackgroundTasks) -> Response:
    """The same answer whether or not the address has an account (and about as fast)."""
    form = await read_form(request, ForgotForm)
    if form.data is None:
        return render_form(request, _FORGOT, {"sent": None}, form=form)
    email = form.data.email
    try:
        mail = request_password_reset(
            session,
            email=email,
            client=_client(request),
            base_url=get_settings().resolved_public_url(),
        )
    except TooManyAttempts as exc:
        session.commit()
        form.add_error(GENERAL, exc.message)
        headers = {"Retry-After": str(exc.details.get("retry_after", 60))}
        context = {"sent": None, "form": form}
        return render(request, _FORGOT, context, status_code=429, headers=headers)
    if mail is not None:
        deliver(session, mail=mail, later=later)
    session.commit()
    minutes = int(RESET_LINK_LIFETIME.total_seconds() // 60)
    return render_form(request, _FORGOT, {"sent": email, "minutes": minutes}, form=form)


@router.get("/password/reset/{token}", name="password_reset", include_in_schema=False)
def reset_page(token: str, request: Request, session: SessionDep) -> Response:
    user = reset_user(session, token=token)
    return _reset_page(request, blank_form(NewPasswordForm), email=user.email if user else None)


@router.post("/password/reset/{token}", include_in_schema=False)
async def reset(token: str, request: Request, session: SessionDep) -> Response:
    form = await read_form(request, NewPasswordForm)
    user = reset_user(session, token=token)
    if user is None:
        return _reset_page(request, form, email=None)
    if not _repeated(form) or form.data is None:
        return _reset_page(request, form, email=user.email)
    with form.refusals(session):
        reset_password(session, token=token, new=form.data.new_password)
    if form.errors:
        return _reset_page(request, form, email=user.email)
    session.commit()
    return see_other(request, "/login", flash="Your new password is set: log in with it.")


def _reset_page(
    request: Request, form: PageForm[NewPasswordForm], *, email: str | None
) -> Response:
    context = {"email": email, "rule": PASSWORD_RULE}
    response = render_form(request, _RESET, context, form=form, headers=_PRIVATE)
    if email is None:
        response.status_code = 404  # the link names no live reset
    return response
