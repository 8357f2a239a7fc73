"""Your settings belong to you: every role reads and changes its own time zone and locale, and
no request reaches another user's, not even a colleague's in the same organization."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import OrgKind, User
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm.conftest import Browser

_KIND = {
    Role.ADMIN: OrgKind.MANUFACTURER,
    Role.DISPATCHER: OrgKind.MANUFACTURER,
    Role.ENGINEER: OrgKind.MANUFACTURER,
    Role.DISTRIBUTOR: OrgKind.DISTRIBUTOR,
    Role.CUSTOMER: OrgKind.CUSTOMER,
}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_role_sets_only_its_own_preferences(
    browser: Browser, db: Session, role: Role
) -> None:
    org = make_org(db, kind=_KIND[role])
    me, colleague = make_user(db, org=org, role=role), make_user(db, org=org, role=role)
    browser.log_in(me.email, PASSWORD)
    token = browser.csrf_token("/settings")

    assert browser.get("/settings").status_code == 200
    api = browser.put(
        "/api/me/preferences",
        json={"time_zone": "Asia/Tokyo", "locale": "de_DE", "user_id": colleague.id},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 200, api.text
    form = browser.post(
        "/settings",
        data={"time_zone": "Asia/Tokyo", "locale": "de_DE", "user_id": str(colleague.id),
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert form.status_code == 303

    db.expire_all()
    assert (db.get(User, me.id).time_zone, db.get(User, me.id).locale) == ("Asia/Tokyo", "de_DE")  # type: ignore[union-attr]  # made above
    untouched = db.get(User, colleague.id)
    assert untouched is not None
    assert (untouched.time_zone, untouched.locale) == (None, None)


def test_a_wrong_zone_is_refused_by_the_api(browser: Browser, db: Session) -> None:
    me = make_user(db, org=make_org(db), role=Role.CUSTOMER)
    browser.log_in(me.email, PASSWORD)
    refused = browser.put(
        "/api/me/preferences",
        json={"time_zone": "Mars/Olympus"},
        headers={"X-CSRF-Token": browser.csrf_token("/settings")},
    )
    assert refused.status_code == 422
