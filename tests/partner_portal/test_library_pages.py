"""The library and training pages through the whole app: browsing, live search, acknowledging,
downloading, streaming with ranges, and staff publishing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.config import get_settings
from partner_portal import library
from partner_portal.models import (
    DocumentAcknowledgement,
    DocumentDownload,
    PortalDocument,
    TrainingProgress,
    TrainingVideo,
)
from tests.crm.factories import PASSWORD
from tests.fieldcrm import conftest as app_fixtures
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.library_factories import (
    MP4,
    PDF,
    make_document,
    make_partner,
    make_staff,
    make_video,
    stored_pdf,
    upload_dir,  # noqa: F401  # fixture
)

pytestmark = pytest.mark.usefixtures("upload_dir")
browser = app_fixtures.browser  # the whole-app client fixture, as a package conftest would share
HTMX = {"HX-Request": "true"}


def log_in(client: Browser, principal: Principal) -> dict[str, str]:
    """Log in; the headers htmx sends on the pages (its CSRF header)."""
    client.cookies.clear()
    client.log_in(principal.email, PASSWORD)
    token = client.csrf_token("/portal" if principal.role == "distributor" else "/staff")
    return {**HTMX, "X-CSRF-Token": token}


def test_partner_library_lists_badges_and_searches_live(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    make_document(db, staff, title="Code of conduct", category="policy", policy=True)
    price_list = make_document(db, staff, title="Price list", description="Spare parts prices")
    library.add_version(db, actor=staff, document_id=price_list.id, upload=stored_pdf(PDF + b"v2"))
    log_in(browser, partner.principal)

    page = browser.get("/portal/documents")
    assert page.status_code == 200
    assert "acknowledge required" in page.text
    assert "new version" in page.text
    assert "1 policy needs your acknowledgement" in page.text

    found = browser.get(
        "/portal/documents",
        params={"q": "spare parts"},
        headers={**HTMX, "HX-Target": "document_list"},
    )
    assert found.status_code == 200
    assert "Price list" in found.text
    assert "Code of conduct" not in found.text
    assert "<html" not in found.text  # only the list, swapped in by htmx


def test_partner_acknowledges_the_current_version(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    policy = make_document(db, staff, title="Code of conduct", policy=True)
    log_in(browser, partner.principal)

    page = browser.get(f"/portal/documents/{policy.id}")
    assert "I have read and accept version 1" in page.text
    token = browser.csrf_token(f"/portal/documents/{policy.id}")
    accepted = browser.post(
        f"/portal/documents/{policy.id}/acknowledge", data={"csrf_token": token}
    )
    assert accepted.status_code == 303
    assert "You acknowledged version 1" in browser.get(f"/portal/documents/{policy.id}").text
    ack = db.scalars(select(DocumentAcknowledgement)).one()
    assert ack.user_id == partner.principal.user_id


def test_download_sends_the_stored_file_as_an_attachment_and_logs_it(
    browser: Browser, db: Session
) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    document = make_document(db, staff)
    version = library.versions_of(db, document.id)[0]
    log_in(browser, partner.principal)

    response = browser.get(f"/portal/documents/{document.id}/versions/{version.id}/download")
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"price list.pdf\"; filename*=UTF-8''price%20list.pdf"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert db.scalars(select(DocumentDownload.version_id)).all() == [version.id]


def test_video_stream_answers_range_requests_with_exactly_those_bytes(
    browser: Browser, db: Session
) -> None:
    video = make_video(db, make_staff(db))
    partner = make_partner(db)
    log_in(browser, partner.principal)
    url = f"/portal/training/{video.id}/stream"

    full = browser.get(url)
    assert full.status_code == 200
    assert full.content == MP4
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "video/mp4"

    part = browser.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == MP4[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(MP4)}"

    tail = browser.get(url, headers={"Range": "bytes=-16"})
    assert tail.status_code == 206
    assert tail.content == MP4[-16:]

    beyond = browser.get(url, headers={"Range": f"bytes={len(MP4)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(MP4)}"


def test_player_page_reports_progress(browser: Browser, db: Session) -> None:
    video = make_video(db, make_staff(db), duration_s=100)
    partner = make_partner(db)
    headers = log_in(browser, partner.principal)

    page = browser.get(f"/portal/training/{video.id}")
    assert "/static/partner_portal/training.js" in page.text
    assert f'data-progress-url="/portal/training/{video.id}/progress"' in page.text

    sent = browser.post(
        f"/portal/training/{video.id}/progress",
        data={"position_s": "40"},
        headers={"X-CSRF-Token": headers["X-CSRF-Token"]},
    )
    assert sent.status_code == 204
    ended = browser.post(
        f"/portal/training/{video.id}/progress",
        data={"position_s": "41", "completed": "true"},
        headers={"X-CSRF-Token": headers["X-CSRF-Token"]},
    )
    assert ended.status_code == 204
    progress = db.get_one(TrainingProgress, (video.id, partner.principal.user_id))
    assert progress.completed_at is not None
    assert "completed" in browser.get("/portal/training").text


def test_staff_publish_a_document_a_new_version_and_see_who_accepted(
    browser: Browser, db: Session
) -> None:
    staff = make_staff(db)
    partner = make_partner(db, tier="gold")
    headers = log_in(browser, staff)

    created = browser.post(
        "/staff/partners/documents",
        data={
            "title": "Returns policy",
            "category": "policy",
            "requires_acknowledgement": "1",
            "audience_tiers": ["gold"],
            "audience_regions": "north, south",
        },
        files={"file": ("returns.pdf", PDF, "application/pdf")},
        headers=headers,
    )
    assert created.status_code == 204, created.text
    document = db.scalars(
        select(PortalDocument).where(PortalDocument.title == "Returns policy")
    ).one()
    assert created.headers["hx-location"] == f"/staff/partners/documents/{document.id}"
    assert (document.audience_tiers, document.audience_regions) == (["gold"], ["north", "south"])

    second = browser.post(
        f"/staff/partners/documents/{document.id}/versions",
        data={"change_note": "Longer return window"},
        files={"file": ("returns-v2.pdf", PDF + b"v2", "application/pdf")},
        headers=headers,
    )
    assert second.status_code == 204
    library.acknowledge(db, actor=partner.principal, document_id=document.id)

    page = browser.get(f"/staff/partners/documents/{document.id}")
    assert page.status_code == 200
    assert "Longer return window" in page.text
    assert partner.org.name in page.text  # in "Acknowledged by"


def test_staff_edit_metadata_and_audience(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    document = make_document(db, staff)
    other = make_partner(db)
    headers = log_in(browser, staff)

    saved = browser.post(
        f"/staff/partners/documents/{document.id}",
        data={
            "title": "Price list 2027",
            "category": "price list",
            "audience_distributor_ids": [str(other.org.id)],
            "expires_at": "2099-01-01T00:00",
        },
        headers=headers,
    )
    assert saved.status_code == 204
    db.refresh(document)
    assert document.title == "Price list 2027"
    assert document.audience_distributor_ids == [other.org.id]
    assert document.expires_at is not None
    # the form's time is the reader's: midnight in Berlin, the installation's zone
    assert document.expires_at == datetime(2099, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))


def test_staff_upload_a_training_video_and_see_completion(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    headers = log_in(browser, staff)

    uploaded = browser.post(
        "/staff/partners/training",
        data={"title": "Commissioning", "duration_s": "320"},
        files={"file": ("commissioning.mp4", MP4, "video/mp4")},
        headers=headers,
    )
    assert uploaded.status_code == 204, uploaded.text
    video = db.scalars(select(TrainingVideo).where(TrainingVideo.title == "Commissioning")).one()
    assert (video.duration_s, video.content_type, video.size_bytes) == (320, "video/mp4", len(MP4))
    assert "Commissioning" in browser.get("/staff/partners/training").text


def test_upload_of_a_wrong_type_or_too_large_file_is_refused_clearly(
    browser: Browser, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = log_in(browser, make_staff(db))
    form = {"title": "T", "category": "c"}

    wrong = browser.post(
        "/staff/partners/documents",
        data=form,
        files={"file": ("invoice.pdf", b"<html>not a pdf</html>", "application/pdf")},
        headers=headers,
    )
    assert wrong.status_code == 415
    assert "Allowed: " in wrong.text
    assert db.scalars(select(PortalDocument)).all() == []

    monkeypatch.setenv("FIELDCRM_UPLOAD_MAX_BYTES", "64")
    get_settings.cache_clear()
    large = browser.post(
        "/staff/partners/documents",
        data=form,
        files={"file": ("big.pdf", PDF + b"x" * 64, "application/pdf")},
        headers=headers,
    )
    assert large.status_code == 413
    assert "larger than 64 bytes" in large.text
    assert db.scalars(select(PortalDocument)).all() == []


def test_pages_fit_a_phone_without_inline_script_or_style(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    document = make_document(db, staff, policy=True)
    video = make_video(db, staff)
    pages = {
        partner.principal: [
            "/portal/documents",
            f"/portal/documents/{document.id}",
            "/portal/training",
            f"/portal/training/{video.id}",
        ],
        staff: [
            "/staff/partners/documents",
            f"/staff/partners/documents/{document.id}",
            "/staff/partners/training",
        ],
    }
    for principal, urls in pages.items():
        log_in(browser, principal)
        for url in urls:
            page = browser.get(url)
            assert page.status_code == 200, url
            assert 'name="viewport"' in page.text
            assert "style=" not in page.text, url
            assert "<script>" not in page.text, url
