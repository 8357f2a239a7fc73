"""Invitations by link: the partner admin never knows the colleague's password, and an address
that has an account in another organisation gets the same answer as a new one, creates
nothing and tells only its owner (issue 13, finding 7)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import utcnow
from crm.models import Notification, User
from partner_portal.models import PartnerInvitation
from tests.crm.account_helpers import NEW_PASSWORD, link_in, mails_to, post_form
from tests.crm.factories import PASSWORD
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.contract_factories import Partner, make_partner

browser = web.browser


def _invite(browser: Browser, email: str, name: str = "Nea Berg") -> str:
    """The answer the admin reads (the message and the status), the address left out."""
    page = post_form(browser, "/portal/users", {"email": email, "full_name": name})
    answer = re.search(r'<div class="flash flash-ok" role="status">.*?</div>', page.text, re.S)
    assert answer, page.text
    return f"{page.status_code} {answer.group(0).replace(email, '<address>')}"


def _pending_row(page: str, email: str) -> str:
    row = re.search(rf"<tr>\s*<td>[^<]*</td>\s*<td>{re.escape(email)}</td>.*?</tr>", page, re.S)
    assert row, f"{email} is not listed"
    return re.sub(r"/invitations/\d+/", "/invitations/<id>/", row.group(0).replace(email, "@"))


def _users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def _notes(db: Session, partner: Partner) -> int:
    ids = [partner.admin.id, partner.member.id]
    return db.scalar(select(func.count()).where(Notification.user_id.in_(ids))) or 0


def test_an_address_of_another_organisation_gets_the_same_answer_and_no_account(
    browser: Browser, db: Session
) -> None:
    ours, theirs = make_partner(db), make_partner(db)
    browser.log_in(ours.admin.email, PASSWORD)
    users, their_notes = _users(db), _notes(db, theirs)

    new = _invite(browser, "brand.new@example.test")
    taken = _invite(browser, theirs.member.email)

    assert taken == new
    assert taken.startswith("200 ")
    assert _users(db) == users  # neither made an account
    db.refresh(theirs.member)
    assert theirs.member.org_id == theirs.org.id
    pending = browser.get("/portal/users").text  # listed alike: the list does not tell either
    assert _pending_row(pending, theirs.member.email) == _pending_row(
        pending, "brand.new@example.test"
    )
    assert _notes(db, theirs) == their_notes  # nobody in the other organisation is notified
    (notice,) = mails_to(db, theirs.member.email)  # only the address's owner is told
    assert "already has an account, so nothing was changed" in notice.body
    assert "/invitation/" not in notice.body


def test_an_address_of_ones_own_organisation_is_refused_as_before(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    browser.log_in(partner.admin.email, PASSWORD)

    page = post_form(browser, "/portal/users", {"email": partner.member.email, "full_name": "X"})

    assert page.status_code == 422
    assert "A user with this e-mail already exists." in page.text


def test_a_withdrawn_replaced_or_expired_invitation_link_no_longer_works(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    browser.log_in(partner.admin.email, PASSWORD)
    _invite(browser, "one@example.test")
    _invite(browser, "one@example.test")  # a new invitation replaces the first
    newer, older = (link_in(mail) for mail in mails_to(db, "one@example.test"))
    _invite(browser, "two@example.test")
    expiring = link_in(mails_to(db, "two@example.test")[0])
    invitation = db.scalar(
        select(PartnerInvitation).where(PartnerInvitation.email == "two@example.test")
    )
    assert invitation is not None
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    (current,) = db.scalars(
        select(PartnerInvitation.id).where(
            PartnerInvitation.email == "one@example.test", PartnerInvitation.withdrawn_at.is_(None)
        )
    )
    db.flush()

    assert browser.get(older).status_code == 404
    assert browser.get(expiring).status_code == 404
    assert browser.get(newer).status_code == 200
    withdrawn = post_form(
        browser, f"/portal/users/invitations/{current}/withdraw", {}, page="/portal/users"
    )
    assert withdrawn.status_code == 303
    refused = post_form(
        browser,
        newer,
        {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        page="/portal/users",
    )
    assert refused.status_code == 404
    assert db.scalar(select(User).where(User.email == "one@example.test")) is None


def test_a_weak_password_on_the_invitation_page_is_refused_next_to_it(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    browser.log_in(partner.admin.email, PASSWORD)
    _invite(browser, "weak@example.test")
    link = link_in(mails_to(db, "weak@example.test")[0])

    page = post_form(browser, link, {"new_password": "short", "repeat_password": "short"})

    assert page.status_code == 422
    assert '<p class="field-error" id="new_password-error">Use at least 12 characters</p>' in (
        page.text
    )


@pytest.fixture
def production_without_mail(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FIELDCRM_ENV", "production")
    monkeypatch.setenv("FIELDCRM_ALLOW_HTTP", "true")
    monkeypatch.delenv("FIELDCRM_SMTP_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("production_without_mail")
def test_without_email_an_invitation_is_refused_in_words(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    browser.log_in(partner.admin.email, PASSWORD)

    page = post_form(browser, "/portal/users", {"email": "nea@example.test", "full_name": "Nea"})

    assert page.status_code == 422
    assert "Invitations are sent by e-mail, which this installation cannot send yet" in page.text
