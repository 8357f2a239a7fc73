"""A service report that cannot be made is recorded in words, shown to staff on the dispatch
board, tried again with a growing pause and retried by an administrator; the others are issued
all the same (issue 13, finding 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.db import utcnow
from service_orders.models import CertificateFailure, ServiceCertificate, WorkOrder
from service_orders.report_issuing import (
    MAX_ATTEMPTS,
    failure_reason,
    issue_missing_certificates,
    next_attempt,
    report_failures,
)
from tests.fieldcrm.conftest import Browser
from tests.service_orders.page_factories import log_in_staff
from tests.service_orders.test_certificates import PUBLIC_URL, _completed
from tests.service_orders.workorder_factories import png
from tests.telemetry.view_factories import log_in_as

BROKEN_SIGNATURE = b"\x89PNG\r\n\x1a\n not an image"  # as stored before signatures were checked
REASON = "The signature is not a readable PNG image."


def _broken_and_good(db: Session) -> tuple[WorkOrder, WorkOrder]:
    broken, good = _completed(db), _completed(db)
    broken.signature_png = BROKEN_SIGNATURE
    db.flush()
    return broken, good


def _issued(db: Session) -> set[int]:
    return set(db.scalars(select(ServiceCertificate.work_order_id)))


def test_a_worker_run_issues_the_others_and_records_why_one_failed(db: Session) -> None:
    broken, good = _broken_and_good(db)
    now = utcnow()

    assert issue_missing_certificates(db, public_url=PUBLIC_URL, now=now) == 1

    assert good.id in _issued(db)
    assert broken.id not in _issued(db)
    failure = db.get_one(CertificateFailure, broken.id)
    assert (failure.attempts, failure.reason) == (1, REASON)
    assert failure.first_failed_at == failure.last_failed_at == now
    assert failure.next_attempt_at == now + timedelta(minutes=1)
    assert db.get(CertificateFailure, good.id) is None


def test_the_worker_waits_out_each_pause_and_gives_up_after_the_last_attempt(
    db: Session,
) -> None:
    broken, _ = _broken_and_good(db)
    now = utcnow()
    issue_missing_certificates(db, public_url=PUBLIC_URL, now=now)
    failure = db.get_one(CertificateFailure, broken.id)

    issue_missing_certificates(db, public_url=PUBLIC_URL, now=now + timedelta(seconds=30))
    assert failure.attempts == 1  # still pausing: not tried

    pauses = []
    while failure.next_attempt_at is not None:
        pauses.append(failure.next_attempt_at - failure.last_failed_at)
        issue_missing_certificates(db, public_url=PUBLIC_URL, now=failure.next_attempt_at)
        db.refresh(failure)
    assert failure.attempts == MAX_ATTEMPTS
    assert pauses == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]

    issue_missing_certificates(db, public_url=PUBLIC_URL, now=now + timedelta(days=2))
    db.refresh(failure)
    assert failure.attempts == MAX_ATTEMPTS  # given up: only a retry by hand is left
    [listed] = report_failures(db)
    assert listed.gave_up
    assert listed.why == "the signature is not a readable PNG image"


def test_a_later_successful_attempt_issues_the_report_and_clears_the_failure(
    db: Session,
) -> None:
    broken, _ = _broken_and_good(db)
    now = utcnow()
    issue_missing_certificates(db, public_url=PUBLIC_URL, now=now)
    broken.signature_png = png(40, 20)  # the cause put right
    db.flush()

    assert (
        issue_missing_certificates(db, public_url=PUBLIC_URL, now=now + timedelta(minutes=1)) == 1
    )

    assert broken.id in _issued(db)
    assert db.get(CertificateFailure, broken.id) is None
    assert report_failures(db) == []


def test_an_unexpected_error_is_recorded_in_words_too() -> None:
    words = failure_reason(OSError(28, "No space left on device"))
    assert words.startswith("an unexpected error (OSError: [Errno 28] No space left on device)")
    assert len(failure_reason(RuntimeError("x" * 2000))) <= 300
    assert next_attempt(MAX_ATTEMPTS, utcnow()) is None


def _failed_once(db: Session) -> WorkOrder:
    broken, _ = _broken_and_good(db)
    issue_missing_certificates(db, public_url=PUBLIC_URL)
    return broken


def test_the_board_says_in_words_which_report_failed_and_when_it_is_tried_again(
    browser: Browser, db: Session
) -> None:
    broken = _failed_once(db)
    log_in_staff(browser, db)  # a dispatcher

    page = browser.get("/staff/dispatch").text

    assert "Service reports not made yet" in page
    assert broken.number in page
    assert "Service report could not be made: the signature is not a readable PNG image —" in page
    assert "will retry at <time" in page
    assert "Tried 1 of 8 times" in page
    assert "Retry now" not in page  # administrators only
    assert "an administrator can retry it" not in page  # the worker still tries by itself


def test_the_board_shows_no_failures_card_when_every_report_was_made(
    browser: Browser, db: Session
) -> None:
    log_in_staff(browser, db, Role.ADMIN)
    assert "Service reports not made yet" not in browser.get("/staff/dispatch").text


def test_an_administrator_retries_now_once_the_cause_is_put_right(
    browser: Browser, db: Session
) -> None:
    broken = _failed_once(db)
    log_in_staff(browser, db, Role.ADMIN)
    token = browser.csrf_token("/staff/dispatch")
    path = f"/staff/dispatch/service-reports/{broken.id}/retry"

    again = browser.post(path, data={"csrf_token": token})
    assert again.status_code == 303
    failure = db.get_one(CertificateFailure, broken.id)
    db.refresh(failure)
    assert failure.attempts == 2  # still broken: counted, and shown again

    broken.signature_png = png(40, 20)
    db.flush()
    done = browser.post(path, data={"csrf_token": token})

    assert done.status_code == 303
    assert done.headers["location"] == "/staff/dispatch"
    assert broken.id in _issued(db)
    assert db.get(CertificateFailure, broken.id) is None
    board = browser.get("/staff/dispatch").text
    assert f"The service report of {broken.number} is made" in board
    assert "Service reports not made yet" not in board


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.ENGINEER, Role.CUSTOMER])
def test_only_an_administrator_may_retry(browser: Browser, db: Session, role: Role) -> None:
    broken = _failed_once(db)
    log_in_as(browser, db, role)
    token = browser.csrf_token("/settings")
    response = browser.post(
        f"/staff/dispatch/service-reports/{broken.id}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert db.get_one(CertificateFailure, broken.id).attempts == 1


def test_a_retry_needs_the_csrf_token(browser: Browser, db: Session) -> None:
    broken = _failed_once(db)
    log_in_staff(browser, db, Role.ADMIN)
    response = browser.post(f"/staff/dispatch/service-reports/{broken.id}/retry")
    assert response.status_code == 403
    assert db.get_one(CertificateFailure, broken.id).attempts == 1


def test_retrying_a_report_that_did_not_fail_is_not_found(browser: Browser, db: Session) -> None:
    order = _completed(db)
    log_in_staff(browser, db, Role.ADMIN)
    token = browser.csrf_token("/staff/dispatch")
    response = browser.post(
        f"/staff/dispatch/service-reports/{order.id}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 404
