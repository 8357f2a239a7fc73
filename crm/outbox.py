"""Account e-mails (reset links, invitations, security notices): sent over SMTP after the
response when FIELDCRM_SMTP_URL is set; kept in the outbox (the page /dev/outbox) in a
development or test installation without SMTP, so the flows can be tried; never kept in
production, where a missing SMTP URL only logs that the mail could not go."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTasks

from core.config import Settings, get_settings
from core.mail import SmtpServer, send_mail, smtp_server
from crm.models import OutboxMessage

logger = logging.getLogger(__name__)

OUTBOX_ENVS = frozenset({"development", "test"})


@dataclass(frozen=True, slots=True)
class Mail:
    """One plain-text message to one person."""

    to: str
    subject: str
    body: str


def outbox_enabled(settings: Settings) -> bool:
    """Whether mails land in the outbox: a development or test installation without SMTP."""
    return settings.env in OUTBOX_ENVS and settings.smtp_url is None


def can_deliver(settings: Settings) -> bool:
    """Whether a mail reaches its recipient somehow (SMTP, or the outbox to try things)."""
    return settings.smtp_url is not None or outbox_enabled(settings)


def deliver(session: Session, *, mail: Mail, later: BackgroundTasks) -> None:
    """Send `mail` once the response is out (after the edge committed, and so that the time
    it takes says nothing to the client), or keep it in the outbox with this transaction."""
    settings = get_settings()
    server = smtp_server(settings)
    if server is not None:
        later.add_task(_send, server, settings.mail_from, mail)
    elif outbox_enabled(settings):
        session.add(OutboxMessage(recipient=mail.to, subject=mail.subject, body=mail.body))
        session.flush()
    else:
        logger.warning("No FIELDCRM_SMTP_URL: the e-mail %r could not be sent", mail.subject)


def _send(server: SmtpServer, sender: str, mail: Mail) -> None:
    try:
        send_mail(server, sender=sender, to=mail.to, subject=mail.subject, body=mail.body)
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("The e-mail %r was not sent: %s", mail.subject, exc)


def outbox(
    session: Session, *, recipient: str | None = None, limit: int = 50
) -> Sequence[OutboxMessage]:
    """The kept mails, newest first (of one recipient when given)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient.strip().lower())
    return session.scalars(query).all()
