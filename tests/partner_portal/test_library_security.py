"""Tenancy and roles on the library and training pages: another distributor's document or
video is not found, partners cannot use staff pages, forms need their CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.capabilities import grant
from crm.models import Capability
from partner_portal import library
from partner_portal.models import DocumentAcknowledgement, DocumentDownload, TrainingProgress
from tests.fieldcrm import conftest as app_fixtures
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.library_factories import (
    PDF,
    make_document,
    make_partner,
    make_staff,
    make_video,
    upload_dir,  # noqa: F401  # fixture
)
from tests.partner_portal.test_library_pages import log_in

pytestmark = pytest.mark.usefixtures("upload_dir")
browser = app_fixtures.browser  # the whole-app client fixture, as a package conftest would share


def test_another_distributor_gets_404_for_every_url_of_a_document_and_video(
    browser: Browser, db: Session
) -> None:
    staff = make_staff(db)
    a, b = make_partner(db), make_partner(db)
    document = make_document(db, staff, policy=True, distributors=[a.org])
    version = library.versions_of(db, document.id)[0]
    video = make_video(db, staff, distributors=[a.org])
    headers = log_in(browser, b.principal)

    reads = [
        f"/portal/documents/{document.id}",
        f"/portal/documents/{document.id}/versions/{version.id}/download",
        f"/portal/training/{video.id}",
        f"/portal/training/{video.id}/stream",
    ]
    for url in reads:
        assert browser.get(url).status_code == 404, url
    assert browser.get(reads[-1], headers={"Range": "bytes=0-9"}).status_code == 404
    writes = {
        f"/portal/documents/{document.id}/acknowledge": {},
        f"/portal/training/{video.id}/progress": {"position_s": "5"},
    }
    for url, form in writes.items():
        assert browser.post(url, data=form, headers=headers).status_code == 404, url
    assert "/portal/documents/" not in browser.get("/portal/documents").text
    assert f"/portal/training/{video.id}" not in browser.get("/portal/training").text
    assert db.scalars(select(DocumentDownload)).all() == []
    assert db.scalars(select(DocumentAcknowledgement)).all() == []
    assert db.scalars(select(TrainingProgress)).all() == []

    # the same URLs work for the distributor the document is for
    log_in(browser, a.principal)
    for url in reads:
        assert browser.get(url).status_code == 200, url


def test_a_version_of_another_document_is_not_found(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    a, b = make_partner(db), make_partner(db)
    mine = make_document(db, staff)
    theirs = make_document(db, staff, distributors=[a.org])
    their_version = library.versions_of(db, theirs.id)[0]
    log_in(browser, b.principal)

    url = f"/portal/documents/{mine.id}/versions/{their_version.id}/download"
    assert browser.get(url).status_code == 404


def test_partners_cannot_use_staff_pages(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    document = make_document(db, staff)
    partner = make_partner(db)
    headers = log_in(browser, partner.principal)

    for url in ("/staff/partners/documents", "/staff/partners/training"):
        assert browser.get(url).status_code == 403
    posts = [
        ("/staff/partners/documents", {"title": "X", "category": "c"}),
        (f"/staff/partners/documents/{document.id}", {"title": "X", "category": "c"}),
        (f"/staff/partners/documents/{document.id}/versions", {}),
        ("/staff/partners/training", {"title": "X"}),
    ]
    for url, form in posts:
        response = browser.post(
            url, data=form, files={"file": ("x.pdf", PDF, "application/pdf")}, headers=headers
        )
        assert response.status_code in (403, 404), url
    db.refresh(document)
    assert document.title != "X"
    assert len(library.versions_of(db, document.id)) == 1


def test_staff_without_the_channel_manager_capability_cannot_publish(
    browser: Browser, db: Session
) -> None:
    dispatcher = make_staff(db, role=Role.DISPATCHER)
    log_in(browser, dispatcher)
    assert browser.get("/staff/partners/documents").status_code == 403

    grant(db, user_id=dispatcher.user_id, capability=Capability.CHANNEL_MANAGER)
    assert browser.get("/staff/partners/documents").status_code == 200


def test_progress_and_acknowledgement_need_the_csrf_token(browser: Browser, db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    policy = make_document(db, staff, policy=True)
    video = make_video(db, staff)
    log_in(browser, partner.principal)

    assert browser.post(f"/portal/documents/{policy.id}/acknowledge").status_code == 403
    progress = browser.post(f"/portal/training/{video.id}/progress", data={"position_s": "5"})
    assert progress.status_code == 403
    assert db.scalars(select(DocumentAcknowledgement)).all() == []
