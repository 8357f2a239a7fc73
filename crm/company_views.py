"""The company profile page for staff (administrators edit it) and its JSON API."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import SessionDep
from core.errors import InvalidInput, NotFound
from core.web.body_limit import MiB
from core.web.deps import StaffPrincipal
from core.web.flash import see_other
from core.web.forms import FormModel, Say, blank_form, read_form, render_form
from crm.company import (
    LOGO_MAX_SIDE,
    MAX_LOGO_BYTES,
    CompanyProfileUpdate,
    Letterhead,
    company_letterhead,
    manufacturer_org_id,
    quote_valid_days,
    update_company_profile,
)

router = APIRouter()
_PAGE = "crm/company.html"
PAGE_PATH = "/staff/company"


class CompanyProfileForm(FormModel, CompanyProfileUpdate):
    """The page's form: the profile's fields, in words when one is wrong."""

    legal_name: Annotated[
        str, Field(min_length=1, max_length=200), Say(missing="Enter the company's legal name")
    ]
    quote_valid_days: Annotated[
        int, Field(ge=1, le=365), Say(invalid="Enter a number of days from 1 to 365")
    ] = 30
    remove_logo: str = ""


class CompanyProfileRead(BaseModel):
    """The profile as the API answers it; the logo as base64 PNG."""

    legal_name: str
    address: str
    vat_id: str
    registration_id: str
    email: str
    phone: str
    website: str
    terms: str
    quote_valid_days: int
    logo_png_base64: str | None


class CompanyProfileWrite(CompanyProfileUpdate):
    """The profile as the API takes it: a new logo (PNG or JPEG, base64), or remove_logo;
    neither keeps the logo."""

    logo_base64: Annotated[str | None, Field(max_length=MAX_LOGO_BYTES * 4 // 3 + 4)] = None
    remove_logo: bool = False


@router.get(PAGE_PATH, include_in_schema=False)
def company_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    letterhead = company_letterhead(session, actor=principal)
    days = quote_valid_days(session, manufacturer_org_id(session))
    form = blank_form(CompanyProfileForm, **_texts(letterhead), quote_valid_days=days)
    return render_form(request, _PAGE, _context(principal, letterhead), form=form)


@router.post(PAGE_PATH, include_in_schema=False, max_body_size=MAX_LOGO_BYTES + MiB)
async def save_company_page(
    request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    form = await read_form(request, CompanyProfileForm)
    uploads = [f for f in form.files("logo") if f.filename]
    logo = await uploads[0].read(MAX_LOGO_BYTES + 1) if uploads else None
    with form.refusals(session):
        if form.data is not None:
            update_company_profile(
                session,
                actor=principal,
                data=form.data,
                logo=logo,
                remove_logo=form.data.remove_logo == "yes",
            )
    if form.errors:
        letterhead = company_letterhead(session, actor=principal)
        return render_form(request, _PAGE, _context(principal, letterhead), form=form)
    return see_other(request, PAGE_PATH, flash="Company profile saved: new documents use it.")


@router.get(f"{PAGE_PATH}/logo.png", include_in_schema=False)
def company_logo(session: SessionDep, principal: StaffPrincipal) -> Response:
    logo = company_letterhead(session, actor=principal).logo_png
    if logo is None:
        raise NotFound("No logo is set.", entity="company_logo")
    return Response(logo, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/api/crm/company", tags=["crm"])
def read_company_profile(session: SessionDep, principal: StaffPrincipal) -> CompanyProfileRead:
    """The manufacturer's company profile (staff)."""
    return _read(session, company_letterhead(session, actor=principal))


@router.put("/api/crm/company", tags=["crm"], max_body_size=MAX_LOGO_BYTES * 4 // 3 + MiB)
def write_company_profile(
    data: CompanyProfileWrite, session: SessionDep, principal: StaffPrincipal
) -> CompanyProfileRead:
    """Replace the manufacturer's company profile (administrators)."""
    logo = None
    if data.logo_base64 is not None:
        try:
            logo = base64.b64decode(data.logo_base64, validate=True)
        except ValueError:
            raise InvalidInput("Send the logo as base64.", field="logo_base64") from None
    letterhead = update_company_profile(
        session, actor=principal, data=data, logo=logo, remove_logo=data.remove_logo
    )
    return _read(session, letterhead)


def _texts(letterhead: Letterhead) -> dict[str, str]:
    names = (n for n in CompanyProfileUpdate.model_fields if n != "quote_valid_days")
    return {name: getattr(letterhead, name) for name in names}


def _read(session: Session, letterhead: Letterhead) -> CompanyProfileRead:
    logo = letterhead.logo_png
    return CompanyProfileRead(
        **_texts(letterhead),
        quote_valid_days=quote_valid_days(session, manufacturer_org_id(session)),
        logo_png_base64=base64.b64encode(logo).decode() if logo else None,
    )


def _context(principal: Principal, letterhead: Letterhead) -> dict[str, object]:
    return {
        "can_edit": principal.role == Role.ADMIN,
        "letterhead": letterhead,
        "logo_max_side": LOGO_MAX_SIDE,
        "logo_max_mb": MAX_LOGO_BYTES // (1024 * 1024),
    }
