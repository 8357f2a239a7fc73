"""Your settings: each logged-in user picks their own time zone and formats (locale), as a page
and as JSON (GET/PUT /api/me/preferences); never anyone else's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field

from core.db import SessionDep, utcnow
from core.formatting import (
    Reader,
    is_locale,
    is_time_zone,
    locale_choices,
    locale_name,
    reader_of,
    time_zone_groups,
)
from core.web.deps import CurrentPrincipal
from core.web.flash import see_other
from core.web.forms import FormModel, PageForm, blank_form, read_form, render_form
from crm import account_views, two_factor_views
from crm.preferences import (
    own_preferences,
    reader_of_org,
    reader_of_principal,
    set_own_preferences,
)
from crm.service.two_factor import has_two_factor

router = APIRouter(tags=["me"])
router.include_router(account_views.router)  # your password, and the forgotten one's reset
router.include_router(two_factor_views.router)  # staff: the authenticator app
_PAGE = "crm/settings.html"
FOLLOW = ""  # the choice "same as my organization"


def _zone(value: str | None) -> str | None:
    if value and not is_time_zone(value):
        raise ValueError("Choose a time zone from the list")
    return value


def _locale(value: str | None) -> str | None:
    if value and not is_locale(value):
        raise ValueError("Choose a format from the list")
    return value


class PreferencesForm(FormModel):
    """The settings form; an empty choice follows the organization."""

    time_zone: Annotated[
        str,
        Field(max_length=64),
        AfterValidator(_zone),
    ] = FOLLOW
    locale: Annotated[
        str,
        Field(max_length=16),
        AfterValidator(_locale),
    ] = FOLLOW


class Preferences(BaseModel):
    """A user's own choices (null: the organization's) and what they read with now."""

    time_zone: Annotated[str | None, Field(max_length=64), AfterValidator(_zone)] = None
    locale: Annotated[str | None, Field(max_length=16), AfterValidator(_locale)] = None


class PreferencesOut(Preferences):
    effective_time_zone: str
    effective_locale: str


def _page(request: Request, session: SessionDep, principal: CurrentPrincipal,
          form: PageForm[PreferencesForm]) -> Response:  # fmt: skip
    organization = reader_of_org(session, org_id=principal.org_id)
    return render_form(
        request,
        _PAGE,
        {
            "organization": organization,
            "organization_locale": locale_name(organization.locale),
            "zone_groups": time_zone_groups(),
            "locales": locale_choices(utcnow()),
            "now": utcnow(),
            "two_factor": has_two_factor(session, user_id=principal.user_id),
        },
        form=form,
    )


@router.get("/settings", name="settings", include_in_schema=False)
def settings_page(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    time_zone, locale = own_preferences(session, principal=principal)
    form = blank_form(PreferencesForm, time_zone=time_zone or FOLLOW, locale=locale or FOLLOW)
    return _page(request, session, principal, form)


@router.post("/settings", include_in_schema=False)
async def save_settings(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request, PreferencesForm)
    if form.data is None:
        return _page(request, session, principal, form)
    set_own_preferences(
        session,
        principal=principal,
        time_zone=form.data.time_zone or None,
        locale=form.data.locale or None,
    )
    session.commit()
    return see_other(request, "/settings", flash="Saved: dates, times and numbers read your way.")


def _out(session: SessionDep, principal: CurrentPrincipal, reader: Reader) -> PreferencesOut:
    time_zone, locale = own_preferences(session, principal=principal)
    return PreferencesOut(
        time_zone=time_zone,
        locale=locale,
        effective_time_zone=reader.time_zone,
        effective_locale=reader.locale,
    )


@router.get("/api/me/preferences")
def get_preferences(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> PreferencesOut:
    """Your own time zone and locale (null: your organization's) and those in effect."""
    return _out(session, principal, reader_of(request))


@router.put("/api/me/preferences")
def put_preferences(
    data: Preferences, session: SessionDep, principal: CurrentPrincipal
) -> PreferencesOut:
    """Set your own time zone and locale; null follows your organization."""
    set_own_preferences(session, principal=principal, time_zone=data.time_zone, locale=data.locale)
    session.commit()
    return _out(session, principal, reader_of_principal(session, principal))
