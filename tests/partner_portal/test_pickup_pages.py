"""The pickups page: the template imports as downloaded; row errors next to the upload."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_portal.models import PickupLine
from tests.crm.factories import PASSWORD, make_product_model, make_user
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.factories import make_distributor, make_program

HEADER = "picked_on,product_code,quantity,net_value,currency,document_number,line_no\n"


def _htmx(browser: Browser) -> dict[str, str]:
    return {"X-CSRF-Token": browser.csrf_token("/portal/pickups"), "HX-Request": "true"}


def _upload_section(html: str) -> str:
    match = re.search(r'<section[^>]*id="upload".*?</section>', html, re.S)
    assert match, "no upload section"
    return match.group(0)


def test_the_downloaded_template_imports_unchanged(browser: Browser, db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    browser.log_in(make_user(db, org=distributor).email, PASSWORD)

    template = browser.get("/portal/pickups/template.csv")
    assert template.status_code == 200
    assert product.code in template.text
    uploaded = browser.post(
        "/portal/pickups/upload",
        files={"file": ("pickups-template.csv", template.content, "text/csv")},
        headers=_htmx(browser),
    )

    assert uploaded.status_code == 204, uploaded.text
    assert uploaded.headers["hx-redirect"] == "/portal/pickups?imported=1"
    page = browser.get(uploaded.headers["hx-redirect"]).text
    assert "Imported 1 line." in _upload_section(page)
    assert "EXAMPLE-1" in page
    count = select(func.count()).where(PickupLine.distributor_org_id == distributor.id)
    assert db.scalar(count) == 1


def test_every_row_error_is_shown_next_to_the_upload(browser: Browser, db: Session) -> None:
    make_program(db)
    distributor = make_distributor(db)
    product = make_product_model(db)
    browser.log_in(make_user(db, org=distributor).email, PASSWORD)
    body = (
        HEADER
        + f"2026-02-01,{product.code},1,50.00,EUR,INV-9,1\n"
        + "2026-02-01,PUMP-100,1 piece,50.00,USD,INV-9,2\n"
    )

    refused = browser.post(
        "/portal/pickups/upload",
        files={"file": ("march.csv", body, "text/csv")},
        headers=_htmx(browser),
    )

    assert refused.status_code == 422
    upload = re.sub(r"<[^>]+>", "", _upload_section(refused.text))  # the words as read
    assert "Nothing was imported from march.csv" in upload
    assert "Row 3, column product_code: there is no product PUMP-100" in upload
    assert "Row 3, column quantity: enter a number such as 12 or 12.5" in upload
    assert "Row 3, column currency: enter the currency we settle in: EUR (not USD)" in upload
    assert "Input should" not in refused.text
    # only the upload card is swapped: the list and its filters stay as they are
    assert 'id="pickups"' not in refused.text
    assert (
        db.scalar(select(func.count()).where(PickupLine.distributor_org_id == distributor.id)) == 0
    )


def test_a_successful_import_redirects_to_the_fresh_list(browser: Browser, db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    browser.log_in(make_user(db, org=distributor).email, PASSWORD)
    page = browser.get("/portal/pickups").text
    form = re.search(r'<form[^>]*hx-post="/portal/pickups/upload"[^>]*>', page)
    assert form is not None
    assert 'hx-target="#upload"' in form.group(0)

    stored = browser.post(
        "/portal/pickups/upload",
        files={"file": ("p.csv", HEADER + f"2026-02-01,{product.code},3,90.00,EUR,D-1,1\n")},
        headers=_htmx(browser),
    )
    # redirect after the POST: reloading the page shows the list and imports nothing again
    assert stored.status_code == 204
    listing = browser.get(stored.headers["hx-redirect"]).text
    assert "Imported 1 line." in _upload_section(listing)
    assert "€90.00" in listing
