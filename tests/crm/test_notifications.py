"""Notifications: inbox, badge, marking read, and e-mail delivery against a real SMTP server."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string
from email.message import Message

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from core.config import Settings, get_settings
from core.mail import SmtpServer, smtp_server
from crm.capabilities import grant
from crm.company import manufacturer_org_id
from crm.models import Capability, Notification, Organization, OrgKind, User
from crm.notifications import (
    email_pending,
    list_for,
    mark_read,
    notify,
    notify_capability,
    notify_org,
    unread_count,
)
from tests.crm.company_factories import give_profile
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm import conftest as app_fixtures
from tests.fieldcrm.conftest import Browser

with warnings.catch_warnings():
    # Python 3.11's stdlib SMTP server: deprecated, but a real server speaking SMTP
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd

browser = app_fixtures.browser  # the whole-app client fixture, as a package conftest would share


@dataclass
class Mailbox:
    """A local SMTP server's received messages, by recipient."""

    port: int
    received: list[tuple[str, Message]] = field(default_factory=list)

    def to(self, address: str) -> list[Message]:
        return [message for rcpt, message in self.received if rcpt == address]


class _Recorder(smtpd.SMTPServer):
    def __init__(self, mailbox: Mailbox, socket_map: dict[int, object]) -> None:
        # the remote address is unused: process_message keeps the messages instead of relaying
        super().__init__(("127.0.0.1", 0), ("127.0.0.1", 0), map=socket_map, decode_data=False)
        self.mailbox = mailbox

    def process_message(
        self, peer: object, mailfrom: str, rcpttos: list[str], data: bytes | str, **kwargs: object
    ) -> None:
        message = message_from_bytes(data) if isinstance(data, bytes) else message_from_string(data)
        self.mailbox.received.extend((rcpt, message) for rcpt in rcpttos)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free local port, served by a thread until the test ends."""
    socket_map: dict[int, object] = {}
    box = Mailbox(port=0)
    server = _Recorder(box, socket_map)
    assert server.socket is not None
    box.port = server.socket.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            asyncore.loop(timeout=0.05, map=socket_map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        stop.set()
        thread.join(timeout=5)
        asyncore.close_all(map=socket_map)


def _server(mailbox: Mailbox) -> SmtpServer:
    settings = Settings(smtp_url=SecretStr(f"smtp://127.0.0.1:{mailbox.port}"))
    server = smtp_server(settings)
    assert server is not None
    return server


def _staff(db: Session) -> User:
    return make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER))


def test_notify_writes_one_row_per_distinct_user(db: Session) -> None:
    a, b = _staff(db), _staff(db)

    made = notify(db, user_ids=[a.id, b.id, a.id], title="Hello", body="Body", link="/x")

    assert [n.user_id for n in made] == [a.id, b.id]
    assert unread_count(db, user_id=a.id) == 1


def test_capability_and_organisation_notifications_reach_active_users_only(db: Session) -> None:
    finance, other, gone = _staff(db), _staff(db), _staff(db)
    for user in (finance, gone):
        grant(db, user_id=user.id, capability=Capability.FINANCE)
    gone.is_active = False
    distributor = make_org(db, kind=OrgKind.DISTRIBUTOR)
    partners = [make_user(db, org=distributor) for _ in range(2)]
    db.flush()

    by_capability = notify_capability(db, Capability.FINANCE, title="Approve")
    by_org = notify_org(db, distributor.id, title="Your quote")

    assert [n.user_id for n in by_capability] == [finance.id]
    assert sorted(n.user_id for n in by_org) == sorted(p.id for p in partners)
    assert unread_count(db, user_id=other.id) == 0


def test_marking_read_is_per_user_and_another_users_notification_is_not_found(
    db: Session,
) -> None:
    me, someone = _staff(db), _staff(db)
    mine = notify(db, user_ids=[me.id], title="One") + notify(db, user_ids=[me.id], title="Two")
    theirs = notify(db, user_ids=[someone.id], title="Theirs")[0]

    assert mark_read(db, user_id=me.id, notification_id=mine[0].id) == 1
    assert unread_count(db, user_id=me.id) == 1
    with pytest.raises(Exception, match="No notification"):
        mark_read(db, user_id=me.id, notification_id=theirs.id)
    assert mark_read(db, user_id=me.id) == 1
    assert unread_count(db, user_id=me.id) == 0
    assert unread_count(db, user_id=someone.id) == 1
    assert [n.title for n in list_for(db, user_id=me.id)] == ["Two", "One"]


def test_the_inbox_page_badge_and_mark_read(browser: Browser, db: Session) -> None:
    me, someone = _staff(db), _staff(db)
    first = notify(db, user_ids=[me.id], title="Q-000001 waits for Sales review", link="/a")[0]
    notify(db, user_ids=[me.id], title="Second note")
    theirs = notify(db, user_ids=[someone.id], title="Not for you")[0]
    browser.log_in(me.email, PASSWORD)
    token = browser.csrf_token("/notifications")

    assert "(2)" in browser.get("/notifications/badge", headers={"HX-Request": "true"}).text
    inbox = browser.get("/notifications").text
    assert "Q-000001 waits for Sales review" in inbox
    assert "Not for you" not in inbox
    assert 'hx-get="/notifications/badge"' in inbox  # the header polls the badge

    read = browser.post(f"/notifications/{first.id}/read", data={"csrf_token": token})
    assert read.status_code == 303
    assert "(1)" in browser.get("/notifications/badge").text
    refused = browser.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token})
    assert refused.status_code == 404
    assert theirs.read_at is None
    all_read = browser.post(
        "/notifications/read", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert all_read.status_code == 200
    assert all_read.headers["HX-Trigger"] == "notifications-read"
    assert "(" not in browser.get("/notifications/badge").text


def test_pending_notifications_are_emailed_once(db: Session, mailbox: Mailbox) -> None:
    me = _staff(db)
    notify(db, user_ids=[me.id], title="Q-000007 approved", body="Go ahead.", link="/portal/x")

    sent = email_pending(
        db, server=_server(mailbox), sender="crm@example.test", public_url="https://crm.test"
    )
    again = email_pending(
        db, server=_server(mailbox), sender="crm@example.test", public_url="https://crm.test"
    )

    assert sent >= 1
    assert again == 0
    [message] = mailbox.to(me.email)
    assert message["Subject"] == "Q-000007 approved"
    assert message["From"] == "crm@example.test"
    body = message.get_payload()
    assert isinstance(body, str)
    assert "Go ahead." in body
    assert "https://crm.test/portal/x" in body
    assert db.scalars(select(Notification.emailed_at).where(Notification.user_id == me.id)).one()


def test_an_email_closes_with_the_company_name_address_and_contact(
    db: Session, mailbox: Mailbox
) -> None:
    me = _staff(db)
    give_profile(db, db.get_one(Organization, manufacturer_org_id(db)))
    notify(db, user_ids=[me.id], title="WO-000042 completed", body="Report attached.")
    email_pending(
        db, server=_server(mailbox), sender="crm@example.test", public_url="https://crm.test"
    )
    [message] = mailbox.to(me.email)
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert body.startswith("Report attached.")
    assert body.rstrip().endswith(
        "-- \nKältetechnik Nord GmbH\nLeopoldstraße 12\n80802 München\nGermany\n"
        "+49 89 1234 5600  |  billing@kaeltetechnik.example  |  www.kaeltetechnik.example"
    )


def test_a_refused_delivery_stays_unsent_for_the_next_run(db: Session) -> None:
    me = _staff(db)
    note = notify(db, user_ids=[me.id], title="Later")[0]
    closed = SmtpServer(host="127.0.0.1", port=1, implicit_tls=False, user=None, password=None)

    email_pending(db, server=closed, sender="crm@example.test", public_url="http://x")

    assert note.emailed_at is None


@dataclass
class Committed:
    user_email: str
    ids: dict[str, int]


@pytest.fixture
def committed(db_engine: Engine) -> Iterator[Committed]:
    """A committed user with three unsent notifications; removed afterwards."""
    with Session(db_engine) as session:
        org = make_org(session, kind=OrgKind.MANUFACTURER)
        user = make_user(session, org=org)
        for number in range(3):
            notify(session, user_ids=[user.id], title=f"Note {number}")
        session.commit()
        made = Committed(user.email, {"user": user.id, "org": org.id})
    try:
        yield made
    finally:
        with db_engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = :user"), made.ids)
            conn.execute(text("DELETE FROM organizations WHERE id = :org"), made.ids)


def test_a_second_worker_skips_rows_the_first_is_sending(
    db_engine: Engine, committed: Committed, mailbox: Mailbox
) -> None:
    server = _server(mailbox)
    with Session(db_engine) as first, Session(db_engine) as second:
        # without SKIP LOCKED the second would wait for the first: fail instead of hanging
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        email_pending(first, server=server, sender="a@example.test", public_url="http://x")
        # the first has not committed: its rows are locked and skipped, not sent twice
        email_pending(second, server=server, sender="b@example.test", public_url="http://x")
        first.commit()
        email_pending(second, server=server, sender="b@example.test", public_url="http://x")
        second.commit()

    received = mailbox.to(committed.user_email)
    assert sorted(str(m["Subject"]) for m in received) == ["Note 0", "Note 1", "Note 2"]
    assert {str(m["From"]) for m in received} == {"a@example.test"}


def test_smtp_urls_are_parsed_and_no_url_means_no_email() -> None:
    def parse(url: str | None) -> SmtpServer | None:
        return smtp_server(Settings(smtp_url=None if url is None else SecretStr(url)))

    assert parse(None) is None
    assert parse("smtp://mailer:p%40ss@mail.example.test:2525") == SmtpServer(
        "mail.example.test", 2525, False, "mailer", "p@ss"
    )
    assert parse("smtps://mail.example.test") == SmtpServer(
        "mail.example.test", 465, True, None, None
    )
    with pytest.raises(ValueError, match="smtp://"):
        parse("http://mail.example.test")
    assert get_settings().mail_from


def test_the_worker_runs_the_email_job() -> None:
    from fieldcrm.worker import blueprints

    crm = dict(blueprints())["crm"]
    assert "crm.jobs.email_notifications" in crm.tasks
