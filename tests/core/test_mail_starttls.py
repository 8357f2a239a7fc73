"""E-mail is never sent in clear past this machine, and a password never in clear at all:
checked against real SMTP servers (aiosmtpd) with and without STARTTLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from core.config import Settings
from core.mail import InsecureMailServer, SmtpServer, send_mail, smtp_server
from fieldcrm.services.base import free_port
from tests.tls import Authority, issue_server_certificate, make_authority


@dataclass
class Recorder:
    """What one server saw: the logins offered to it and the mail it accepted."""

    logins: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login.decode())
        return AuthResult(success=data.password == b"s3cret-pass")


@dataclass
class MailServer:
    port: int
    seen: Recorder


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("mail-ca"), "mail-test-ca")


def _serve(recorder: Recorder, **options: Any) -> Iterator[MailServer]:
    port = free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=recorder.authenticate,
        **options,
    )
    controller.start()
    try:
        yield MailServer(port, recorder)
    finally:
        controller.stop()


@pytest.fixture
def plain_server() -> Iterator[MailServer]:
    """A server without STARTTLS that would take a password in clear (as a careless one does)."""
    yield from _serve(Recorder(), auth_require_tls=False)


@pytest.fixture
def starttls_server(authority: Authority, tmp_path: Path) -> Iterator[MailServer]:
    """A server offering STARTTLS with a certificate for `localhost` from our test CA."""
    certificate = issue_server_certificate(authority, tmp_path, "mail", dns=("localhost",))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    yield from _serve(Recorder(), tls_context=context, require_starttls=True)


def _server(url: str, *, ca_file: Path | None = None) -> SmtpServer:
    server = smtp_server(Settings(smtp_url=SecretStr(url), smtp_ca_file=ca_file))
    assert server is not None
    return server


def _send(server: SmtpServer) -> None:
    send_mail(server, sender="crm@example.test", to="ann@example.test", subject="Hi", body="x")


def test_a_password_is_never_sent_to_a_server_without_starttls(plain_server: MailServer) -> None:
    server = _server(f"smtp://mailer:s3cret-pass@127.0.0.1:{plain_server.port}")

    with pytest.raises(InsecureMailServer, match=r"does not offer STARTTLS.*password"):
        _send(server)

    assert plain_server.seen.logins == []
    assert plain_server.seen.recipients == []


def test_starttls_is_used_and_verified_before_logging_in(
    starttls_server: MailServer, authority: Authority
) -> None:
    server = _server(
        f"smtp://mailer:s3cret-pass@localhost:{starttls_server.port}", ca_file=authority.cert
    )

    _send(server)

    assert starttls_server.seen.logins == ["mailer"]
    assert starttls_server.seen.recipients == ["ann@example.test"]


def test_a_starttls_certificate_we_do_not_trust_stops_before_the_login(
    starttls_server: MailServer, tmp_path: Path
) -> None:
    stranger = make_authority(tmp_path / "other", "someone-else")
    server = _server(
        f"smtp://mailer:s3cret-pass@localhost:{starttls_server.port}", ca_file=stranger.cert
    )

    with pytest.raises(ssl.SSLCertVerificationError):
        _send(server)

    assert starttls_server.seen.logins == []


def test_a_certificate_for_another_name_stops_before_the_login(
    starttls_server: MailServer, authority: Authority
) -> None:
    server = _server(
        f"smtp://mailer:s3cret-pass@127.0.0.1:{starttls_server.port}", ca_file=authority.cert
    )

    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _send(server)

    assert starttls_server.seen.logins == []


def test_a_local_mail_catcher_without_credentials_may_stay_plain(
    plain_server: MailServer,
) -> None:
    _send(_server(f"smtp://127.0.0.1:{plain_server.port}"))

    assert plain_server.seen.recipients == ["ann@example.test"]


def test_only_this_machine_without_a_password_may_stay_plain() -> None:
    assert _server("smtp://127.0.0.1:2525").may_stay_plain
    assert _server("smtp://localhost").may_stay_plain
    assert not _server("smtp://mailer:pw@127.0.0.1:2525").may_stay_plain
    assert not _server("smtp://mail.example.test").may_stay_plain
    assert not _server("smtp://192.0.2.10").may_stay_plain
