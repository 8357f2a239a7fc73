"""Outgoing e-mail: one message over SMTP, configured by `settings.smtp_url`.

smtp://[user:password@]host[:port] speaks plain SMTP and upgrades with STARTTLS when the
server offers it; smtps:// uses TLS from the start. No URL means no e-mail (in-app only).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from core.config import Settings

SMTP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to hand e-mail over, parsed from the SMTP URL."""

    host: str
    port: int
    implicit_tls: bool
    user: str | None
    password: str | None


def smtp_server(settings: Settings) -> SmtpServer | None:
    """The configured SMTP server, or None when e-mail is off; refuses a malformed URL."""
    if settings.smtp_url is None:
        return None
    url = urlsplit(settings.smtp_url.get_secret_value())
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ValueError("FIELDCRM_SMTP_URL must look like smtp://user:password@host:port")
    implicit_tls = url.scheme == "smtps"
    return SmtpServer(
        host=url.hostname,
        port=url.port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        user=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
    )


def send_mail(server: SmtpServer, *, sender: str, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises smtplib/OSError errors for the caller to count."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    client: smtplib.SMTP
    if server.implicit_tls:
        client = smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_S)
    with client:
        client.ehlo()
        if not server.implicit_tls and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if server.user is not None:
            client.login(server.user, server.password or "")
        client.send_message(message)
