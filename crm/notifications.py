"""Notifications: messages in a user's inbox, e-mailed once when SMTP is configured."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import NotFound
from core.mail import SmtpServer, send_mail
from crm.capabilities import users_with_capability
from crm.company import email_signature
from crm.models import Capability, Notification, User

logger = logging.getLogger(__name__)

EMAIL_MAX_AGE = timedelta(days=2)
"""Older unsent notifications are not e-mailed (e.g. when SMTP is configured later)."""


def notify(
    session: Session,
    *,
    user_ids: Iterable[int],
    title: str,
    body: str = "",
    link: str | None = None,
) -> list[Notification]:
    """One notification per distinct user, in the order given."""
    made = [
        Notification(user_id=user_id, title=title[:200], body=body, link=link)
        for user_id in dict.fromkeys(user_ids)
    ]
    session.add_all(made)
    session.flush()
    return made


def notify_capability(
    session: Session,
    capability: Capability,
    *,
    title: str,
    body: str = "",
    link: str | None = None,
    exclude: Iterable[int] = (),
) -> list[Notification]:
    """Notify every active holder of the capability (but those in `exclude`)."""
    skipped = set(exclude)
    holders = users_with_capability(session, capability=capability)
    ids = [user.id for user in holders if user.id not in skipped]
    return notify(session, user_ids=ids, title=title, body=body, link=link)


def notify_org(
    session: Session, org_id: int, *, title: str, body: str = "", link: str | None = None
) -> list[Notification]:
    """Notify every active user of an organisation."""
    ids = session.scalars(
        select(User.id).where(User.org_id == org_id, User.is_active).order_by(User.id)
    )
    return notify(session, user_ids=ids, title=title, body=body, link=link)


def unread_count(session: Session, *, user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return (
        session.scalar(
            select(func.count()).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def list_for(session: Session, *, user_id: int, limit: int = 100) -> Sequence[Notification]:
    """The user's notifications, newest first."""
    return session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()


def mark_read(session: Session, *, user_id: int, notification_id: int | None = None) -> int:
    """Mark one notification (or, without an id, all of them) read; another's is NotFound."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        owner = session.scalar(
            select(Notification.user_id).where(Notification.id == notification_id)
        )
        if owner != user_id:
            raise NotFound(f"No notification {notification_id}.", entity="notification")
        query = query.where(Notification.id == notification_id)
    result = session.execute(
        query.values(read_at=utcnow()), execution_options={"synchronize_session": False}
    )
    return int(getattr(result, "rowcount", 0))


def email_pending(
    session: Session, *, server: SmtpServer, sender: str, public_url: str, limit: int = 100
) -> int:
    """E-mail unsent recent notifications of active users; returns how many went out.

    Rows are locked FOR UPDATE SKIP LOCKED, so two workers never send the same one; a
    message the server refuses stays unsent and is tried again on the next run.
    """
    rows = session.execute(
        select(Notification, User.email)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.emailed_at.is_(None),
            Notification.created_at >= utcnow() - EMAIL_MAX_AGE,
            User.is_active,
        )
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(of=Notification, skip_locked=True)
    ).all()
    sent = 0
    signature = email_signature(session) if rows else ""
    for notification, email in rows:
        try:
            send_mail(
                server,
                sender=sender,
                to=email,
                subject=notification.title,
                body="\n\n".join(
                    part for part in (_email_body(notification, public_url), signature) if part
                ),
            )
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("Notification %s not e-mailed: %s", notification.id, exc)
            continue
        notification.emailed_at = utcnow()
        sent += 1
    session.flush()
    return sent


def _email_body(notification: Notification, public_url: str) -> str:
    parts = [notification.body] if notification.body else []
    if notification.link:
        parts.append(f"Open: {public_url.rstrip('/')}{notification.link}")
    return "\n\n".join(parts) or notification.title
