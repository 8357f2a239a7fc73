"""Outgoing e-mail: one message over SMTP, configured by `settings.smtp_url`.

smtps://[user:password@]host[:port] speaks TLS from the start; smtp:// upgrades with
STARTTLS. Either way the server's certificate and name are verified (against
FIELDCRM_SMTP_CA_FILE when set, else the system's trust store). A server that does not
offer STARTTLS is refused, so a man in the middle cannot strip it and read the password
or the mail, except a server on this machine spoken to without credentials (a local
relay or a developer's mail catcher): loopback traffic never crosses a network.
No URL means no e-mail (in-app only).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.config import Settings, is_loopback

SMTP_TIMEOUT_S = 10.0


class InsecureMailServer(smtplib.SMTPException):
    """The server would have us talk in clear; str() says which server and what to do."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to hand e-mail over, parsed from the SMTP URL."""

    host: str
    port: int
    implicit_tls: bool
    user: str | None
    password: str | None
    ca_file: Path | None = None

    @property
    def may_stay_plain(self) -> bool:
        """Without STARTTLS only to this machine, and only with nothing secret to log in with."""
        return self.user is None and is_loopback(self.host)


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
        ca_file=settings.smtp_ca_file,
    )


def send_mail(server: SmtpServer, *, sender: str, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises smtplib/OSError errors for the caller to count."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    context = ssl.create_default_context(
        cafile=None if server.ca_file is None else str(server.ca_file)
    )
    client: smtplib.SMTP
    if server.implicit_tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_S)
    with client:
        client.ehlo()
        if not server.implicit_tls:
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif not server.may_stay_plain:
                raise InsecureMailServer(
                    f"FIELDCRM_SMTP_URL: {server.host}:{server.port} does not offer STARTTLS, "
                    f"so the {'password' if server.user else 'mail'} would travel in clear; "
                    "nothing was sent. Use smtps:// or a server with STARTTLS"
                )
        if server.user is not None:
            client.login(server.user, server.password or "")
        client.send_message(message)
