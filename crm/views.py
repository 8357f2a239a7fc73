"""HTML pages of crm: login (password, then a staff user's code), logout and each role's
landing page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.auth.sessions import STEP_PAGES, create_session, end_session
from core.config import get_settings
from core.db import SessionDep
from core.errors import PermissionDenied, TooManyAttempts
from core.listing import ListPage, list_params
from core.web.cookies import cookie_name
from core.web.csrf import new_csrf_cookie
from core.web.deps import (
    SESSION_COOKIE,
    OptionalPrincipal,
    StaffPrincipal,
    require_role,
    safe_next_path,
)
from core.web.forms import GENERAL, FormModel, Say, blank_form, read_form
from core.web.templating import nav_for, render
from crm import company_views, outbox_views, overview
from crm.capabilities import capabilities_of
from crm.login_steps import code_step_token, code_step_user
from crm.models import Capability, User
from crm.service import authenticate, principal_of
from crm.service.accounts import step_after_login
from crm.service.two_factor import has_two_factor, verify_login_code

router = APIRouter(include_in_schema=False)
router.include_router(company_views.router)  # the company profile page and its API
router.include_router(outbox_views.router)  # development only: the e-mails not sent

DistributorPrincipal = Annotated[Principal, Depends(require_role(Role.DISTRIBUTOR))]
_LOGIN = "crm/login.html"
_LOGIN_CODE = "crm/login_code.html"


class LoginForm(FormModel):
    """The login form; the password is taken as typed, blanks included."""

    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")

    email: Annotated[str, Field(max_length=320), Say(missing="Enter your e-mail address")]
    password: Annotated[str, Field(max_length=1024), Say(missing="Enter your password")]
    next: Annotated[str, Field(max_length=2000)] = ""


class LoginCodeForm(FormModel):
    """The second step of a login: the code of the authenticator app, or a recovery code."""

    token: Annotated[str, Field(max_length=1000)] = ""
    code: Annotated[str, Field(max_length=40), Say(missing="Enter the 6-digit code from your app")]
    next: Annotated[str, Field(max_length=2000)] = ""


# staff whose work is one list start there (partner_portal's page, named by its path only)
_START_BY_CAPABILITY = {Capability.FINANCE: "/staff/partners/finance"}


def home_path(session: Session, principal: Principal) -> str:
    """Where a principal lands after login: finance on what waits for them, everyone else on
    the first entry of their navigation."""
    if principal.is_staff:
        held = capabilities_of(session, user_id=principal.user_id)
        for capability, path in _START_BY_CAPABILITY.items():
            if capability in held:
                return path
    return nav_for(principal)[0][1]


@router.get("/")
def index(session: SessionDep, principal: OptionalPrincipal) -> Response:
    target = home_path(session, principal) if principal else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login", name="login")
def login_page(
    request: Request, session: SessionDep, principal: OptionalPrincipal, next: str | None = None
) -> Response:
    if principal is not None:
        home = home_path(session, principal)
        return RedirectResponse(safe_next_path(next, default=home), status_code=303)
    form = blank_form(LoginForm, next=safe_next_path(next, default=""))
    return render(request, _LOGIN, {"form": form})


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await read_form(request, LoginForm)
    form.values["next"] = safe_next_path(form.value("next"), default="")
    if form.data is None:
        return render(request, _LOGIN, {"form": form}, status_code=422)
    client = request.client.host if request.client else "unknown"
    try:
        principal = authenticate(
            session, email=form.data.email, password=form.data.password, client=client
        )
    except (PermissionDenied, TooManyAttempts) as exc:
        # The failed attempt must be kept for throttling: this edge commits it.
        session.commit()
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        headers = {"Retry-After": str(exc.details.get("retry_after", 60))} if status == 429 else {}
        form.add_error(GENERAL, exc.message)
        return render(request, _LOGIN, {"form": form}, status_code=status, headers=headers)
    if has_two_factor(session, user_id=principal.user_id):
        user = session.get(User, principal.user_id)
        assert user is not None  # authenticate just found them
        code_form = blank_form(LoginCodeForm, token=code_step_token(user), next=form.data.next)
        return render(request, _LOGIN_CODE, {"form": code_form})
    return _open_session(request, session, principal=principal, next_path=form.data.next)


@router.post("/login/code")
async def login_code(request: Request, session: SessionDep) -> Response:
    """The code after the password: only a right one makes the session."""
    form = await read_form(request, LoginCodeForm)
    form.values["next"] = safe_next_path(form.value("next"), default="")
    user = code_step_user(session, str(form.value("token")))
    if user is None:
        again = blank_form(LoginForm, next=form.values["next"])
        again.add_error(GENERAL, "This login took too long. Enter your e-mail and password again.")
        return render(request, _LOGIN, {"form": again}, status_code=401)
    if form.data is None:
        return render(request, _LOGIN_CODE, {"form": form}, status_code=422)
    client = request.client.host if request.client else "unknown"
    try:
        verify_login_code(session, user_id=user.id, code=form.data.code, client=client)
    except (PermissionDenied, TooManyAttempts) as exc:
        session.commit()  # the wrong code counts for the throttle
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        headers = {"Retry-After": str(exc.details.get("retry_after", 60))} if status == 429 else {}
        form.add_error("code", exc.message)
        return render(request, _LOGIN_CODE, {"form": form}, status_code=status, headers=headers)
    return _open_session(request, session, principal=principal_of(user), next_path=form.data.next)


def _open_session(
    request: Request, session: Session, *, principal: Principal, next_path: str
) -> Response:
    """The session cookie and the way on: the step a fresh session must finish first (a
    password someone else chose, a required second factor), else where it was going."""
    settings = get_settings()
    max_age = timedelta(hours=settings.session_max_age_hours)
    step = step_after_login(session, user_id=principal.user_id)
    token = create_session(session, principal=principal, max_age=max_age, pending_step=step)
    if step is not None:
        target = STEP_PAGES[step]
    else:
        target = safe_next_path(next_path, default=home_path(session, principal))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        cookie_name(SESSION_COOKIE),
        token,
        max_age=int(max_age.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.https,
        path="/",
    )
    new_csrf_cookie(response)  # the forms of the anonymous visit are void from here on
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    name = cookie_name(SESSION_COOKIE)
    token = request.cookies.get(name)
    if token:
        end_session(session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(name, path="/", secure=get_settings().https, httponly=True)
    new_csrf_cookie(response)
    return response


@router.get("/staff")
def staff_home(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    return render(
        request,
        "crm/home.html",
        {
            "heading": "Dashboard",
            "organizations": overview.organizations_by_kind(session),
            "asset_count": overview.count_visible_assets(session, principal=principal),
            "listing": _installed_base(request, session, principal),
        },
    )


def _installed_base(
    request: Request, session: SessionDep, principal: Principal
) -> ListPage[overview.InstalledAsset]:
    params = list_params(
        request.query_params, sorts=overview.INSTALLED_BASE_SORTS, default_sort="owner"
    )
    return overview.installed_base(session, principal=principal, params=params)


@router.get("/portal/equipment")
def distributor_equipment(
    request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    return _installed_base_page(request, session, principal, "Your customers' equipment")


def _installed_base_page(
    request: Request, session: SessionDep, principal: Principal, heading: str
) -> Response:
    return render(
        request,
        "crm/home.html",
        {
            "heading": heading,
            "asset_count": overview.count_visible_assets(session, principal=principal),
            "listing": _installed_base(request, session, principal),
        },
    )
