"""crm's background work: e-mailing notifications."""

from __future__ import annotations

from procrastinate import Blueprint

from core.config import get_settings
from core.db import get_sessionmaker
from core.mail import smtp_server
from crm.notifications import email_pending

blueprint = Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queue="notifications", queueing_lock="email_notifications")
def email_notifications(timestamp: int) -> int:
    """E-mail notifications not sent yet; does nothing while no SMTP URL is configured."""
    return send_notification_emails()


def send_notification_emails() -> int:
    """One delivery run in its own transaction; returns how many e-mails went out."""
    settings = get_settings()
    server = smtp_server(settings)
    if server is None:
        return 0
    with get_sessionmaker().begin() as session:
        return email_pending(
            session,
            server=server,
            sender=settings.mail_from,
            public_url=settings.resolved_public_url(),
        )
