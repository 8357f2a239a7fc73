"""The engineer's phone page: the day, offers, status buttons, visit report, isolation, SSE."""

from __future__ import annotations

import base64
import io
import re
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session

import service_orders.views.engineer
from core.auth.roles import Role
from core.db import utcnow
from service_orders.models import WorkOrderPhoto
from telemetry.web import session_opener
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import (
    HTMX,
    held,
    htmx_token,
    log_in_engineer,
    make_crew,
    offered,
    pending_offer,
)
from tests.service_orders.workorder_factories import png
from tests.telemetry.view_factories import app_of, log_in_as


def _stream_in_test_session(browser: Browser, db: Session) -> None:
    # The live stream opens sessions of its own: give it the test's rolled-back session.
    app_of(browser).dependency_overrides[session_opener] = lambda: lambda: nullcontext(db)


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_day_lists_held_jobs_first_then_offers(
    browser: Browser, db: Session, headers: dict[str, str]
) -> None:
    crew = make_crew(db)
    offer_wo = offered(db, crew, title="Offered compressor")
    job = held(db, crew, crew.ann, status="en_route", title="Held pump")
    log_in_engineer(browser, db, crew, crew.ann)

    page = browser.get("/engineer", headers=headers)

    assert page.status_code == 200
    assert ("<html" in page.text) == (headers == {})
    text = page.text
    assert text.index(job.number) < text.index(offer_wo.number)
    assert f"/engineer/offers/{pending_offer(db, offer_wo).id}/accept" in text
    assert "Arrived on site" in text  # en route -> on site is the next step
    assert "geo:48.137,11.575" in text


def test_accepting_an_offer_moves_it_into_the_day(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    work_order = offered(db, crew)
    offer = pending_offer(db, work_order)
    log_in_engineer(browser, db, crew, crew.ann)

    response = browser.post(
        f"/engineer/offers/{offer.id}/accept",
        headers={**htmx_token(browser, "/engineer"), "HX-Target": "jobs"},
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="jobs"' in response.text
    db.refresh(work_order)
    assert work_order.status == "accepted"
    assert work_order.engineer_id == crew.ann.id
    assert "On my way" in response.text


def test_declining_offers_the_job_to_the_next_engineer_and_publishes_after_commit(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    work_order = offered(db, crew)
    offer = pending_offer(db, work_order)
    log_in_engineer(browser, db, crew, crew.ann)

    response = browser.post(
        f"/engineer/offers/{offer.id}/decline",
        data={"reason": "van broken"},
        headers=htmx_token(browser, "/engineer"),
    )

    assert response.status_code == 200
    assert work_order.number not in response.text
    assert pending_offer(db, work_order).engineer_id == crew.bob.id
    assert published == [1]


def test_an_engineer_cannot_see_or_touch_another_engineers_job_or_offer(
    browser: Browser, db: Session, published: list[int], photo_dir: Path
) -> None:
    crew = make_crew(db)
    ann_offer = pending_offer(db, offered(db, crew))
    ann_job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.bob)
    headers = htmx_token(browser, "/engineer")

    assert ann_job.number not in browser.get("/engineer").text
    assert browser.get(f"/engineer/jobs/{ann_job.id}").status_code == 404
    assert browser.get(f"/engineer/jobs/{ann_offer.work_order_id}").status_code == 404
    assert (
        browser.post(f"/engineer/offers/{ann_offer.id}/accept", headers=headers).status_code == 403
    )
    assert (
        browser.post(f"/engineer/offers/{ann_offer.id}/decline", headers=headers).status_code == 403
    )
    attempts = {
        "status": {"target": "on_hold"},
        "checklist": {"done": "0"},
        "parts": {"part_no": "X-1", "quantity": "1"},
        "notes": {"notes": "mine now"},
        "complete": {
            "outcome": "fixed",
            "signed_by": "Eve",
            "signature": "data:image/png;base64," + base64.b64encode(png()).decode(),
        },
    }
    for action, data in attempts.items():
        response = browser.post(f"/engineer/jobs/{ann_job.id}/{action}", data=data, headers=headers)
        assert response.status_code == 404, action
    upload = browser.post(
        f"/engineer/jobs/{ann_job.id}/photos",
        files={"photo": ("a.jpg", JPEG, "image/jpeg")},
        headers=headers,
    )
    assert upload.status_code == 404
    db.refresh(ann_job)
    assert (ann_job.status, ann_job.notes, ann_job.parts) == ("on_site", "", [])
    assert pending_offer(db, db.get_one(type(ann_job), ann_offer.work_order_id)).id == ann_offer.id


def test_status_buttons_follow_the_state_machine(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann)
    log_in_engineer(browser, db, crew, crew.ann)
    headers = htmx_token(browser, "/engineer")

    skipped = browser.post(
        f"/engineer/jobs/{job.id}/status", data={"target": "on_site"}, headers=headers
    )
    assert skipped.status_code == 409
    assert skipped.headers["HX-Retarget"] == "#flash"
    assert "cannot become on site" in skipped.text

    moved = browser.post(
        f"/engineer/jobs/{job.id}/status",
        data={"target": "en_route", "view": "job"},
        headers={**headers, "HX-Target": "job"},
    )
    assert moved.status_code == 200
    assert 'id="job"' in moved.text
    assert 'value="on_site"' in moved.text
    db.refresh(job)
    assert job.status == "en_route"


def test_visit_report_records_checklist_parts_and_notes(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.ann)
    headers = htmx_token(browser, f"/engineer/jobs/{job.id}")
    base = f"/engineer/jobs/{job.id}"

    assert browser.post(f"{base}/checklist", data={"done": "0"}, headers=headers).status_code == 200
    browser.post(f"{base}/parts", data={"part_no": "F-22", "quantity": "2"}, headers=headers)
    browser.post(f"{base}/parts", data={"part_no": "G-1", "quantity": "1,5"}, headers=headers)
    browser.post(f"{base}/parts/0/remove", headers=headers)
    saved = browser.post(f"{base}/notes", data={"notes": "Seal replaced"}, headers=headers)
    page = browser.get(base)

    assert saved.text.strip() == "Notes saved"
    db.refresh(job)
    assert job.checklist[0]["done"] is True
    assert [(p["part_no"], Decimal(p["quantity"])) for p in job.parts] == [("G-1", Decimal("1.5"))]
    assert job.notes == "Seal replaced"
    assert "Seal replaced" in page.text
    assert "G-1" in page.text
    bad = browser.post(f"{base}/parts", data={"part_no": "H", "quantity": "lots"}, headers=headers)
    assert bad.status_code == 422
    assert 'id="quantity-error">Enter the quantity as a number, like 2 or 0.5' in bad.text
    assert 'id="part_no" name="part_no" type="text" value="H"' in bad.text  # kept as typed
    none = browser.post(f"{base}/parts", data={"part_no": "", "quantity": "0"}, headers=headers)
    assert 'id="part_no-error">Enter the part number' in none.text
    assert 'id="quantity-error">Enter a quantity above 0' in none.text


def test_photo_upload_checks_type_and_size_and_serves_with_nosniff(
    browser: Browser, db: Session, published: list[int], photo_dir: Path
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.ann)
    headers = htmx_token(browser, f"/engineer/jobs/{job.id}")
    url = f"/engineer/jobs/{job.id}/photos"

    fake = browser.post(
        url, files={"photo": ("x.jpg", b"<svg onload=alert(1)>", "image/jpeg")}, headers=headers
    )
    huge = browser.post(
        url,
        files={"photo": ("big.jpg", JPEG + b"\x00" * (8 * 1024 * 1024), "image/jpeg")},
        headers=headers,
    )
    good = browser.post(url, files={"photo": ("IMG.png", png(), "image/png")}, headers=headers)

    assert fake.status_code == 422
    assert "JPEG, PNG or WebP" in fake.text
    assert huge.status_code == 422
    assert "larger than 8 MiB" in huge.text
    assert good.status_code == 200
    photo = db.query(WorkOrderPhoto).filter_by(work_order_id=job.id).one()
    assert photo.content_type == "image/png"
    assert photo.stored_name.endswith(".png")
    assert "IMG" not in photo.stored_name
    assert [p.name for p in photo_dir.iterdir()] == [photo.stored_name]
    served = browser.get(f"/api/service-orders/photos/{photo.id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == png()
    log_in_engineer(browser, db, crew, crew.bob)
    assert browser.get(f"/api/service-orders/photos/{photo.id}").status_code == 404


def test_completing_needs_a_png_signature(
    browser: Browser, db: Session, published: list[int]
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.ann)
    headers = htmx_token(browser, f"/engineer/jobs/{job.id}")
    url = f"/engineer/jobs/{job.id}/complete"
    form = {"outcome": "fixed", "signed_by": "Dana Customer"}

    unsigned = browser.post(url, data=form, headers=headers)
    not_png = browser.post(
        url,
        data={**form, "signature": "data:image/png;base64," + base64.b64encode(JPEG).decode()},
        headers=headers,
    )
    db.refresh(job)
    assert (unsigned.status_code, not_png.status_code, job.status) == (422, 422, "on_site")
    # each problem next to its field, what was typed kept, the outcome in words
    assert 'id="signature-error">Ask the customer to sign in the box' in unsigned.text
    assert 'value="Dana Customer"' in unsigned.text
    assert 'id="signature-error">The signature must be a PNG image' in not_png.text
    assert '<option value="fixed" selected>Fixed</option>' in unsigned.text

    signed = browser.post(
        url,
        data={**form, "signature": "data:image/png;base64," + base64.b64encode(png()).decode()},
        headers={**headers, "HX-Target": "job"},
    )
    assert signed.status_code == 200
    assert "Completed" in signed.text
    db.refresh(job)
    assert (job.status, job.signed_by) == ("completed", "Dana Customer")
    assert job.signature_png is not None
    with Image.open(io.BytesIO(job.signature_png)) as kept:  # drawn again as our own PNG
        assert (kept.format, kept.size) == ("PNG", (2, 2))


def test_the_page_shows_the_signature_pad_only_on_site(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    on_site = held(db, crew, crew.ann, status="on_site")
    accepted = held(db, crew, crew.ann)
    log_in_engineer(browser, db, crew, crew.ann)
    assert "signature_pad.umd.min.js" in browser.get(f"/engineer/jobs/{on_site.id}").text
    assert "signature_pad" not in browser.get(f"/engineer/jobs/{accepted.id}").text


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.CUSTOMER, Role.DISTRIBUTOR])
def test_the_engineer_page_is_for_engineers_only(browser: Browser, db: Session, role: Role) -> None:
    log_in_as(browser, db, role)
    _stream_in_test_session(browser, db)
    assert browser.get("/engineer").status_code == 403
    assert browser.get("/engineer", headers=HTMX).status_code == 403
    assert browser.get("/engineer/live").status_code == 403


def test_an_engineer_not_yet_set_up_gets_a_notice(browser: Browser, db: Session) -> None:
    log_in_as(browser, db, Role.ENGINEER)
    page = browser.get("/engineer")
    assert page.status_code == 200
    assert "not set up as a service engineer" in page.text


def test_live_stream_sends_the_days_fingerprint(
    browser: Browser, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    crew = make_crew(db)
    offered(db, crew)
    log_in_engineer(browser, db, crew, crew.ann)
    _stream_in_test_session(browser, db)
    monkeypatch.setattr(service_orders.views.engineer, "LIVE_TICKS", 1)
    page = browser.get("/engineer").text
    version = page.split('data-version="')[1].split('"')[0]

    stream = browser.get("/engineer/live")

    assert stream.headers["content-type"].startswith("text/event-stream")
    assert f"event: jobs\ndata: {version}\n" in stream.text
    log_in_engineer(browser, db, crew, crew.bob)
    assert f"data: {version}" not in browser.get("/engineer/live").text


def test_an_offer_under_a_minute_left_shows_seconds_and_counts_down(
    browser: Browser, db: Session
) -> None:
    crew = make_crew(db)
    work_order = offered(db, crew)
    pending_offer(db, work_order).expires_at = utcnow() + timedelta(seconds=45)
    db.flush()
    log_in_engineer(browser, db, crew, crew.ann)

    text = browser.get("/engineer").text

    clock = re.search(r'<p class="sla offer-clock" data-seconds-left="(\d+)"[^>]*>(.*?)</p>', text)
    assert clock is not None
    assert 40 <= int(clock.group(1)) <= 45
    assert re.fullmatch(r"Offer: answer within <strong>4\d s</strong>", clock.group(2))
    assert "0 min" not in text
    assert '<script src="/static/service_orders/engineer.js" defer></script>' in text


def test_an_expired_offer_says_so_and_takes_no_answer(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    work_order = offered(db, crew)
    offer = pending_offer(db, work_order)
    offer.expires_at = utcnow() - timedelta(seconds=5)
    db.flush()
    log_in_engineer(browser, db, crew, crew.ann)

    text = browser.get(f"/engineer/jobs/{work_order.id}").text

    assert "This offer expired." in text
    assert f"/engineer/offers/{offer.id}/accept" not in text
    assert ">Accept<" not in text
