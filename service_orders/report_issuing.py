"""Issuing the service reports of completed work orders, each in its own savepoint: a report
that cannot be made is recorded in words, shown to staff, tried again with a growing pause and
never holds up the others (issue 13, finding 2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import DomainError, NotFound, PermissionDenied
from service_orders.certificates import ISSUABLE, issue_certificate
from service_orders.models import CertificateFailure, ServiceCertificate, WorkOrder

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # the worker's tries: 1, 2, 4 … 60 minutes apart, about two hours in all
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=1)
_REASON_CHARS = 300


@dataclass(frozen=True, slots=True)
class ReportFailure:
    """A service report that could not be made, as the board lists it."""

    work_order_id: int
    number: str
    title: str
    reason: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    next_attempt_at: datetime | None

    @property
    def gave_up(self) -> bool:
        return self.next_attempt_at is None

    @property
    def why(self) -> str:
        """The reason as a clause ("the signature is not a readable PNG image")."""
        words = self.reason.rstrip(".")
        if words[:1].isupper() and not words[1:2].isupper():
            words = words[0].lower() + words[1:]
        return words


def issue_missing_certificates(
    session: Session,
    *,
    public_url: str,
    limit: int = 100,
    photo_dir: Path | None = None,
    now: datetime | None = None,
) -> int:
    """The reports of completed work orders that have none yet and are due (the job's body);
    returns how many were issued."""
    now = now or utcnow()
    due = session.scalars(
        select(WorkOrder.id)
        .outerjoin(CertificateFailure, CertificateFailure.work_order_id == WorkOrder.id)
        .where(
            WorkOrder.status.in_(ISSUABLE),
            WorkOrder.id.not_in(select(ServiceCertificate.work_order_id)),
            or_(
                CertificateFailure.work_order_id.is_(None),
                CertificateFailure.next_attempt_at <= now,
            ),
        )
        .order_by(WorkOrder.id)
        .limit(limit)
    ).all()
    failed = [
        work_order_id
        for work_order_id in due
        if issue_or_record(
            session,
            work_order_id=work_order_id,
            public_url=public_url,
            photo_dir=photo_dir,
            now=now,
        )
        is not None
    ]
    return len(due) - len(failed)


def issue_or_record(
    session: Session,
    *,
    work_order_id: int,
    public_url: str,
    photo_dir: Path | None = None,
    now: datetime | None = None,
) -> CertificateFailure | None:
    """Issue one report in its own savepoint: None once it is issued (an earlier failure is
    cleared), else the failure, recorded with the reason and the next try."""
    now = now or utcnow()
    # the worker and an administrator's retry meet here: one of them issues, the other finds it
    session.execute(
        select(WorkOrder.id).where(WorkOrder.id == work_order_id).with_for_update(key_share=True)
    )
    try:
        with session.begin_nested():
            issue_certificate(
                session, work_order_id=work_order_id, public_url=public_url, photo_dir=photo_dir
            )
    except DomainError as exc:  # a refusal in words (a broken signature): no traceback needed
        logger.warning("The service report of work order %s: %s", work_order_id, exc.message)
        return _record(session, work_order_id, exc, now)
    except Exception as exc:  # whatever else stops one report: recorded for staff, logged in full
        logger.exception("The service report of work order %s could not be issued", work_order_id)
        return _record(session, work_order_id, exc, now)
    session.execute(
        delete(CertificateFailure).where(CertificateFailure.work_order_id == work_order_id)
    )
    return None


def retry_report(
    session: Session,
    *,
    actor: Principal,
    work_order_id: int,
    public_url: str,
    photo_dir: Path | None = None,
) -> CertificateFailure | None:
    """An administrator's retry now, whatever the pause says: None once the report is issued."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only administrators can retry a service report.")
    if session.get(CertificateFailure, work_order_id) is None:
        raise NotFound("No service report of this work order waits for a retry.")
    return issue_or_record(
        session, work_order_id=work_order_id, public_url=public_url, photo_dir=photo_dir
    )


def report_failures(session: Session, *, limit: int = 50) -> list[ReportFailure]:
    """The reports that could not be made (and still are not), the oldest failure first."""
    rows = session.execute(
        select(CertificateFailure, WorkOrder.number, WorkOrder.title)
        .join(WorkOrder, WorkOrder.id == CertificateFailure.work_order_id)
        .where(WorkOrder.id.not_in(select(ServiceCertificate.work_order_id)))
        .order_by(CertificateFailure.first_failed_at, CertificateFailure.work_order_id)
        .limit(limit)
    ).all()
    return [
        ReportFailure(
            failure.work_order_id,
            number,
            title,
            failure.reason,
            failure.attempts,
            failure.first_failed_at,
            failure.last_failed_at,
            failure.next_attempt_at,
        )
        for failure, number, title in rows
    ]


def next_attempt(attempts: int, failed_at: datetime) -> datetime | None:
    """When the worker tries again after `attempts` failures; None once it gives up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return failed_at + min(FIRST_PAUSE * (1 << (attempts - 1)), LONGEST_PAUSE)


def failure_reason(exc: BaseException) -> str:
    """What stopped the report, in words: a domain error's message, else the error itself."""
    if isinstance(exc, DomainError):
        words = exc.message
    else:
        words = (
            f"an unexpected error ({type(exc).__name__}: {exc}); the worker's log has the details"
        )
    return words if len(words) <= _REASON_CHARS else words[: _REASON_CHARS - 1] + "…"


def _record(
    session: Session, work_order_id: int, exc: BaseException, now: datetime
) -> CertificateFailure:
    failure = session.get(CertificateFailure, work_order_id)
    if failure is None:
        failure = CertificateFailure(work_order_id=work_order_id, attempts=0, first_failed_at=now)
        session.add(failure)
    failure.attempts += 1
    failure.reason = failure_reason(exc)
    failure.last_failed_at = now
    failure.next_attempt_at = next_attempt(failure.attempts, now)
    session.flush()
    return failure
