"""The company profile page and API: administrators edit it (each problem next to its field,
what was typed kept), staff read it, nobody else sees it."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.company import letterhead_of, manufacturer_org_id
from crm.models import Organization, OrgKind
from tests.crm.company_factories import logo_png
from tests.crm.factories import make_org
from tests.fieldcrm.conftest import Browser
from tests.telemetry.view_factories import log_in_as

_PAGE = "/staff/company"
_VALID = {
    "legal_name": "Kältetechnik Nord GmbH",
    "address": "Leopoldstraße 12\n80802 München\nGermany",
    "vat_id": "DE 811 234 567",
    "registration_id": "HRB 234567, Amtsgericht München",
    "email": "billing@kaeltetechnik.example",
    "phone": "+49 89 1234 5600",
    "website": "www.kaeltetechnik.example",
    "quote_valid_days": "30",
    "terms": "Payment within 30 days of the invoice date.",
}


def _as(browser: Browser, db: Session, role: Role) -> dict[str, str]:
    """Log in as a manufacturer's user with `role`; the page's CSRF token as a header."""
    make_org(db, kind=OrgKind.MANUFACTURER)
    org = db.get(Organization, manufacturer_org_id(db))
    log_in_as(browser, db, role, org=org)
    return {"X-CSRF-Token": browser.csrf_token("/staff")}


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def test_administrators_reach_the_page_from_the_navigation(browser: Browser, db: Session) -> None:
    _as(browser, db, Role.ADMIN)
    assert f'href="{_PAGE}"' in browser.get("/staff").text
    browser.cookies.clear()
    _as(browser, db, Role.DISPATCHER)
    assert f'href="{_PAGE}"' not in browser.get("/staff").text


def test_an_administrator_sees_the_profile_with_its_limits(browser: Browser, db: Session) -> None:
    _as(browser, db, Role.ADMIN)
    page = browser.get(_PAGE)
    assert page.status_code == 200
    assert "Company profile" in page.text
    assert "Up to 200 characters." in page.text  # the legal name's limit is said
    assert 'maxlength="32"' in page.text  # the VAT id's


def test_an_administrator_saves_the_profile_with_a_logo(browser: Browser, db: Session) -> None:
    headers = _as(browser, db, Role.ADMIN)
    response = browser.post(
        _PAGE,
        data=_VALID,
        files={"logo": ("logo.jpg", logo_png(600, 200, fmt="JPEG"), "image/jpeg")},
        headers=headers,
    )
    assert response.status_code == 303, response.text
    letterhead = letterhead_of(db, manufacturer_org_id(db))
    assert (letterhead.legal_name, letterhead.vat_id) == ("Kältetechnik Nord GmbH", "DE811234567")
    page = browser.get(_PAGE)
    assert "Company profile saved" in page.text
    assert 'src="/staff/company/logo.png"' in page.text
    logo = browser.get("/staff/company/logo.png")
    assert logo.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(logo.content)) as image:
        assert (image.format, image.size) == ("PNG", (600, 200))


def test_a_wrong_vat_id_is_refused_next_to_it_and_the_input_is_kept(
    browser: Browser, db: Session
) -> None:
    headers = _as(browser, db, Role.ADMIN)
    before = letterhead_of(db, manufacturer_org_id(db))
    response = browser.post(_PAGE, data={**_VALID, "vat_id": "DE12345"}, headers=headers)
    assert response.status_code == 422
    assert "DE123456789" in _field_error(response.text, "vat_id")
    assert 'value="DE12345"' in response.text
    assert "Leopoldstraße 12\n80802 München" in response.text
    assert "There is a problem" in response.text
    assert letterhead_of(db, manufacturer_org_id(db)) == before


def test_a_logo_that_is_not_an_image_is_refused_next_to_the_logo_field(
    browser: Browser, db: Session
) -> None:
    headers = _as(browser, db, Role.ADMIN)
    before = letterhead_of(db, manufacturer_org_id(db))
    response = browser.post(
        _PAGE,
        data=_VALID,
        files={"logo": ("logo.gif", logo_png(fmt="GIF"), "image/gif")},
        headers=headers,
    )
    assert response.status_code == 422
    assert "PNG or JPEG" in _field_error(response.text, "logo")
    assert 'value="Kältetechnik Nord GmbH"' in response.text
    assert letterhead_of(db, manufacturer_org_id(db)) == before  # nothing half saved


def test_a_dispatcher_reads_the_profile_but_cannot_change_it(browser: Browser, db: Session) -> None:
    headers = _as(browser, db, Role.DISPATCHER)
    page = browser.get(_PAGE)
    assert page.status_code == 200
    assert "An administrator changes the company profile." in page.text
    assert '<form id="company_form"' not in page.text
    assert browser.post(_PAGE, data=_VALID, headers=headers).status_code == 403
    assert browser.get("/api/crm/company").status_code == 200
    assert browser.put("/api/crm/company", json=_VALID, headers=headers).status_code == 403


def test_partners_and_customers_never_see_the_profile(browser: Browser, db: Session) -> None:
    for role in (Role.DISTRIBUTOR, Role.CUSTOMER, Role.ENGINEER):
        browser.cookies.clear()
        log_in_as(browser, db, role)
        assert browser.get(_PAGE).status_code in {403, 404}
        assert browser.get("/api/crm/company").status_code in {403, 404}


def test_the_api_writes_and_reads_the_profile(browser: Browser, db: Session) -> None:
    headers = _as(browser, db, Role.ADMIN)
    logo = base64.b64encode(logo_png()).decode()
    body = {**_VALID, "quote_valid_days": 45, "logo_base64": logo}
    written = browser.put("/api/crm/company", json=body, headers=headers)
    assert written.status_code == 200, written.text
    read = browser.get("/api/crm/company").json()
    assert (read["vat_id"], read["quote_valid_days"]) == ("DE811234567", 45)
    assert read["logo_png_base64"]
    refused = browser.put("/api/crm/company", json={**_VALID, "vat_id": "XX"}, headers=headers)
    assert refused.status_code == 422
    removed = browser.put("/api/crm/company", json={**_VALID, "remove_logo": True}, headers=headers)
    assert removed.json()["logo_png_base64"] is None
