"""Steps the account tests share: a second browser, the reset link from the outbox."""

from __future__ import annotations

import re

from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.models import WebSession
from crm.models import OutboxMessage, User
from crm.outbox import outbox
from tests.fieldcrm.conftest import Browser

LINK = re.compile(r"https?://\S+?(/(?:password/reset|invitation)/[A-Za-z0-9_-]+)")
NEW_PASSWORD = "a lighthouse keeps seven cats"


def another_browser(browser: Browser) -> Browser:
    """A second browser on the same app and database (another device of the same person)."""
    return Browser(browser.app, follow_redirects=False)


def sessions_of(db: Session, user: User) -> int:
    return db.scalar(select(func.count()).where(WebSession.user_id == user.id)) or 0


def mails_to(db: Session, email: str) -> list[OutboxMessage]:
    return list(outbox(db, recipient=email))


def link_in(message: OutboxMessage) -> str:
    """The path of the link (reset or invitation) in a kept mail."""
    return link_in_text(message.body)


def link_in_text(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def form_error(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    return found.group(1)


def post_form(
    browser: Browser, path: str, data: dict[str, str], *, page: str | None = None
) -> Response:
    """POST like the page's form: with the CSRF token of the page it is on."""
    token = browser.csrf_token(page or path)
    return browser.post(path, data={"csrf_token": token, **data})
