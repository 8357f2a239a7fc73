"""Your settings: a user's own time zone and formats change every time and amount they read."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import Notification, Organization, OrgKind, User
from crm.notifications import notify
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser

browser = web.browser

SENT = datetime(2026, 12, 4, 18, 52, tzinfo=UTC)


def _inbox_with_one_notification(browser: Browser, db: Session) -> User:
    user = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.DISPATCHER)
    (note,) = notify(db, user_ids=[user.id], title="Check the chiller")
    db.get(Notification, note.id).created_at = SENT  # type: ignore[union-attr]  # just made
    db.flush()
    browser.log_in(user.email, PASSWORD)
    return user


def test_a_users_time_zone_shifts_the_times_they_read(browser: Browser, db: Session) -> None:
    _inbox_with_one_notification(browser, db)
    assert "4 Dec 2026, 19:52 CET" in browser.get("/notifications").text  # the installation's

    token = browser.csrf_token("/settings")
    saved = browser.put(
        "/api/me/preferences",
        json={"time_zone": "America/New_York", "locale": "en_US"},
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json() == {
        "time_zone": "America/New_York",
        "locale": "en_US",
        "effective_time_zone": "America/New_York",
        "effective_locale": "en_US",
    }
    page = browser.get("/notifications").text
    assert "Dec 4, 2026, 1:52\u202fPM EST" in page
    assert "19:52" not in page
    assert 'lang="en-US" data-time-zone="America/New_York"' in page


def test_the_organizations_zone_applies_until_the_user_picks_one(
    browser: Browser, db: Session
) -> None:
    user = _inbox_with_one_notification(browser, db)
    org = db.get(Organization, user.org_id)
    assert org is not None
    org.time_zone, org.locale = "Asia/Tokyo", "de_DE"
    db.flush()
    assert "05.12.2026, 03:52" in browser.get("/notifications").text
    body = browser.get("/api/me/preferences").json()
    assert body["time_zone"] is None
    assert (body["effective_time_zone"], body["effective_locale"]) == ("Asia/Tokyo", "de_DE")


def test_the_settings_form_saves_and_says_a_wrong_choice_next_to_the_field(
    browser: Browser, db: Session
) -> None:
    user = make_user(db, org=make_org(db, kind=OrgKind.DISTRIBUTOR), role=Role.DISTRIBUTOR)
    browser.log_in(user.email, PASSWORD)
    page = browser.get("/settings")
    assert page.status_code == 200
    assert '<optgroup label="Europe">' in page.text
    assert "Same as my organization (Europe/Berlin)" in page.text
    token = browser.csrf_token("/settings")

    refused = browser.post(
        "/settings", data={"time_zone": "Mars/Olympus", "locale": "", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "Choose a time zone from the list" in refused.text
    db.refresh(user)
    assert user.time_zone is None

    saved = browser.post(
        "/settings",
        data={"time_zone": "Europe/London", "locale": "en_US", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    db.refresh(user)
    assert (user.time_zone, user.locale) == ("Europe/London", "en_US")
    again = browser.get("/settings").text
    assert '<option value="Europe/London" selected>' in again
    assert "Saved" in again


def test_the_header_links_the_users_name_to_their_settings(browser: Browser, db: Session) -> None:
    user = make_user(db, org=make_org(db), role=Role.CUSTOMER)
    browser.log_in(user.email, PASSWORD)
    assert '<a href="/settings" class="user-name"' in browser.get("/settings").text
