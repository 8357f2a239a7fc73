"""The engineer's phone: job history with reports, photo thumbnails, notes saved, bottom bar."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from core.db import utcnow
from crm.models import Site
from service_orders.certificates import issue_certificate
from service_orders.models import Engineer, WorkOrder, WorkOrderPhoto
from service_orders.photos import THUMBNAIL_PX, add_photo
from service_orders.workorders import complete_work_order
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import (
    HTMX,
    Crew,
    held,
    htmx_token,
    log_in_engineer,
    make_crew,
)
from tests.service_orders.workorder_factories import png


def _finished(
    db: Session,
    crew: Crew,
    engineer: Engineer,
    *,
    title: str,
    days_ago: int,
    outcome: str = "fixed",
) -> WorkOrder:
    """A job the engineer completed and the customer signed, `days_ago` days back."""
    job = held(db, crew, engineer, status="on_site", title=title)
    complete_work_order(
        db, actor=crew.principal(db, engineer), work_order_id=job.id, outcome=outcome,
        signature_png=png(), signed_by="Dana Customer",
    )  # fmt: skip
    job.completed_at = utcnow() - timedelta(days=days_ago)
    db.flush()
    return job


def _photo(width: int = 1600, height: int = 1200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_history_lists_my_finished_jobs_newest_first_with_their_reports(
    browser: Browser, db: Session, headers: dict[str, str]
) -> None:
    crew = make_crew(db)
    older = _finished(db, crew, crew.ann, title="Old compressor visit", days_ago=9)
    newer = _finished(db, crew, crew.ann, title="New pump visit", days_ago=1, outcome="not_fixed")
    still_open = held(db, crew, crew.ann, status="on_site", title="Still working")
    bobs = _finished(db, crew, crew.bob, title="Bob's visit", days_ago=2)
    certificate = issue_certificate(db, work_order_id=older.id, public_url="https://x.test")
    log_in_engineer(browser, db, crew, crew.ann)

    page = browser.get("/engineer/history", headers=headers)

    assert page.status_code == 200
    text = page.text
    assert text.index(newer.number) < text.index(older.number)
    assert still_open.number not in text
    assert bobs.number not in text
    assert f'href="/engineer/jobs/{older.id}"' in text
    assert f'href="/certificates/{certificate.id}"' in text
    assert f'href="/certificates/{certificate.id}.pdf"' in text
    assert "Not fixed" in text  # the outcome in words
    assert "report is being prepared" in text  # the newer one has no certificate yet
    assert "2 finished jobs" in text


def test_history_searches_number_site_and_serial_and_pages(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    jobs = [_finished(db, crew, crew.ann, title=f"Visit {i}", days_ago=i) for i in range(27)]
    site = db.get_one(Site, crew.asset.site_id)
    site.name = "Yard Freimann"
    db.flush()
    log_in_engineer(browser, db, crew, crew.ann)

    first = browser.get("/engineer/history").text
    second = browser.get("/engineer/history?page=2").text
    by_number = browser.get(f"/engineer/history?q={jobs[5].number}").text
    by_site = browser.get("/engineer/history?q=freimann").text
    by_serial = browser.get(f"/engineer/history?q={crew.asset.serial}").text
    nothing = browser.get("/engineer/history?q=nowhere").text

    assert "1–25 of 27 finished jobs" in first
    assert jobs[0].number in first
    assert jobs[26].number not in first
    assert jobs[26].number in second
    assert "1 finished job<" in by_number
    assert "27 finished jobs" in by_site
    assert "27 finished jobs" in by_serial
    assert "No finished jobs match." in nothing


def test_a_completed_job_links_to_its_signed_report(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    job = _finished(db, crew, crew.ann, title="Done", days_ago=0)
    log_in_engineer(browser, db, crew, crew.ann)

    before = browser.get(f"/engineer/jobs/{job.id}").text
    certificate = issue_certificate(db, work_order_id=job.id, public_url="https://x.test")
    after = browser.get(f"/engineer/jobs/{job.id}").text

    assert "report is being prepared" in before
    assert f'href="/certificates/{certificate.id}"' in after
    assert f'href="/certificates/{certificate.id}.pdf"' in after


def test_the_engineers_pages_have_the_bottom_bar_and_history_in_the_header(
    browser: Browser, db: Session
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.ann)

    for url in ("/engineer", "/engineer/history", f"/engineer/jobs/{job.id}"):
        text = browser.get(url).text
        bar = text.split('<nav class="engineer-nav" aria-label="Engineer">')[1].split("</nav>")[0]
        assert 'href="/engineer"' in bar, url
        assert 'href="/engineer/history"' in bar, url
        assert 'href="/notifications"' in bar, url
        assert '<a href="/engineer/history"' in text.split("</header>")[0], url
    history = browser.get("/engineer/history").text
    assert '<a href="/engineer/history" aria-current="page">History</a>' in history


def test_saving_notes_says_so_beside_the_button(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.ann)
    url = f"/engineer/jobs/{job.id}/notes"

    headers = htmx_token(browser, f"/engineer/jobs/{job.id}")
    swapped = browser.post(url, data={"notes": "Seal replaced"}, headers=headers)

    assert swapped.status_code == 200
    assert swapped.text.strip() == "Notes saved"  # the status line's new words, nothing else
    page = browser.get(f"/engineer/jobs/{job.id}").text
    assert '<p id="notes-status" class="form-status" role="status"></p>' in page
    db.refresh(job)
    assert job.notes == "Seal replaced"


def test_saving_notes_without_javascript_shows_the_message_once(
    browser: Browser, db: Session
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    log_in_engineer(browser, db, crew, crew.ann)
    token = browser.csrf_token(f"/engineer/jobs/{job.id}")

    sent = browser.post(
        f"/engineer/jobs/{job.id}/notes",
        data={"notes": "Filter changed", "csrf_token": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/engineer/jobs/{job.id}#notes-card"
    shown = browser.get(f"/engineer/jobs/{job.id}").text
    again = browser.get(f"/engineer/jobs/{job.id}").text

    assert 'role="status">Notes saved</p>' in shown
    assert shown.count("Notes saved") == 1  # beside the button, not also on top
    assert "Notes saved" not in again


def test_photos_show_as_thumbnails_made_once_and_guarded_like_the_photo(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    photo = add_photo(
        db, actor=crew.principal(db, crew.ann), work_order_id=job.id, data=_photo(),
        directory=photo_dir,
    )  # fmt: skip
    log_in_engineer(browser, db, crew, crew.ann)

    page = browser.get(f"/engineer/jobs/{job.id}").text
    small = browser.get(f"/api/service-orders/photos/{photo.id}/thumbnail")
    cached = next((photo_dir / "thumbs").iterdir())
    made_at = cached.stat().st_mtime_ns
    again = browser.get(f"/api/service-orders/photos/{photo.id}/thumbnail")

    thumb_url = f"/api/service-orders/photos/{photo.id}/thumbnail"
    assert f'<a class="photo-link" href="/api/service-orders/photos/{photo.id}"' in page
    assert f'<img src="{thumb_url}" alt="Photo 1"' in page
    assert ">Photo 1</a>" not in page  # no more bare links
    assert small.status_code == 200
    assert small.headers["content-type"] == "image/jpeg"
    assert small.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(small.content)) as image:
        assert image.size == (THUMBNAIL_PX, THUMBNAIL_PX)
    assert len(small.content) < len(_photo()) / 4
    assert again.content == small.content
    assert cached.stat().st_mtime_ns == made_at  # served from disk, not made again
    log_in_engineer(browser, db, crew, crew.bob)
    assert browser.get(thumb_url).status_code == 404
    browser.cookies.clear()
    assert browser.get(thumb_url).status_code == 401


def test_a_photo_that_cannot_be_read_has_no_thumbnail(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    crew = make_crew(db)
    job = held(db, crew, crew.ann, status="on_site")
    broken = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10
    photo = add_photo(
        db, actor=crew.principal(db, crew.ann), work_order_id=job.id, data=broken,
        directory=photo_dir,
    )  # fmt: skip
    log_in_engineer(browser, db, crew, crew.ann)

    assert browser.get(f"/api/service-orders/photos/{photo.id}/thumbnail").status_code == 404
    assert db.get(WorkOrderPhoto, photo.id) is not None
