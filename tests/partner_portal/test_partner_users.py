"""Partner admins manage their organisation's users; sessions of a deactivated user end."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound, PermissionDenied
from crm.capabilities import has_capability
from crm.models import AuditLog, Capability, User
from partner_portal.partner_users import (
    accept_invitation,
    invite_user,
    list_partner_users,
    set_partner_admin,
    set_user_active,
)
from tests.crm.account_helpers import NEW_PASSWORD, link_in, link_in_text, mails_to
from tests.crm.factories import PASSWORD
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.contract_factories import make_partner

browser = web.browser  # the whole-app client fixture (this folder has no conftest re-exporting it)


def test_an_admin_invites_a_colleague_who_chooses_a_password_and_logs_in(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    browser.log_in(partner.admin.email, PASSWORD)
    token = browser.csrf_token("/portal/users")

    invited = browser.post(
        "/portal/users",
        data={"csrf_token": token, "email": "New.Colleague@Example.test", "full_name": "Nea"},
    )

    assert invited.status_code == 200
    assert "We sent Nea an invitation to <strong>new.colleague@example.test</strong>" in (
        invited.text
    )
    # no account and no password yet: the colleague chooses it, nobody else ever knows it
    assert db.scalar(select(User).where(User.email == "new.colleague@example.test")) is None
    (mail,) = mails_to(db, "new.colleague@example.test")
    link = link_in(mail)
    browser.post("/logout", data={"csrf_token": browser.csrf_token("/portal/users")})
    page = browser.get(link)
    assert page.status_code == 200
    assert f"Join {partner.org.name}" in page.text
    token = browser.csrf_token(link)
    data = {"csrf_token": token, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
    accepted = browser.post(link, data=data)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/login"
    user = db.scalar(select(User).where(User.email == "new.colleague@example.test"))
    assert user is not None
    assert (user.org_id, user.role, user.must_change_password) == (
        partner.org.id,
        "distributor",
        False,
    )
    assert browser.get(link).status_code == 404  # used up
    browser.log_in("new.colleague@example.test", NEW_PASSWORD)
    assert browser.get("/portal/contracts").status_code == 200


def test_deactivation_ends_the_users_session_at_once(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    colleague = Browser(browser.app, follow_redirects=False)
    colleague.log_in(partner.member.email, PASSWORD)
    assert colleague.get("/portal/users").status_code == 200
    browser.log_in(partner.admin.email, PASSWORD)

    response = browser.post(
        f"/portal/users/{partner.member.id}/active",
        data={"csrf_token": browser.csrf_token("/portal/users"), "active": "no"},
    )

    assert response.status_code == 303
    next_request = colleague.get("/portal/users")
    assert next_request.status_code == 303
    assert next_request.headers["location"].startswith("/login")
    db.refresh(partner.member)
    assert partner.member.is_active is False


def test_a_deactivated_user_can_be_reactivated_and_log_in_again(db: Session) -> None:
    partner = make_partner(db)
    set_user_active(db, actor=partner.admin_principal, user_id=partner.member.id, active=False)
    user = set_user_active(
        db, actor=partner.admin_principal, user_id=partner.member.id, active=True
    )
    assert user.is_active is True
    actions = db.scalars(
        select(AuditLog.after)
        .where(AuditLog.entity == "users", AuditLog.entity_id == str(partner.member.id))
        .order_by(AuditLog.id)
    ).all()
    assert [a["is_active"] for a in actions if a and "is_active" in a][-2:] == [False, True]


def test_the_last_partner_admin_cannot_be_removed_or_deactivated(db: Session) -> None:
    partner = make_partner(db)
    admin = partner.admin_principal
    with pytest.raises(Conflict, match="last partner admin"):
        set_partner_admin(db, actor=admin, user_id=partner.admin.id, admin=False)
    with pytest.raises(Conflict):
        set_user_active(db, actor=admin, user_id=partner.admin.id, active=False)

    set_partner_admin(db, actor=admin, user_id=partner.member.id, admin=True)
    set_partner_admin(db, actor=admin, user_id=partner.admin.id, admin=False)

    assert not has_capability(db, user_id=partner.admin.id, capability=Capability.PARTNER_ADMIN)
    assert has_capability(db, user_id=partner.member.id, capability=Capability.PARTNER_ADMIN)


def test_removing_the_last_admin_through_the_page_is_a_conflict(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    browser.log_in(partner.admin.email, PASSWORD)
    response = browser.post(
        f"/portal/users/{partner.admin.id}/admin",
        data={"csrf_token": browser.csrf_token("/portal/users"), "admin": "no"},
    )
    assert response.status_code == 409
    assert "make someone else a partner admin first" in response.text


def test_a_partner_user_who_is_not_admin_cannot_manage_users(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    member = partner.member_principal
    with pytest.raises(PermissionDenied):
        invite_user(db, actor=member, email="x@example.test", full_name="X")
    with pytest.raises(PermissionDenied):
        set_partner_admin(db, actor=member, user_id=member.user_id, admin=True)

    browser.log_in(partner.member.email, PASSWORD)
    token = browser.csrf_token("/portal/users")
    for path, data in (
        ("/portal/users", {"email": "y@example.test", "full_name": "Y"}),
        (f"/portal/users/{partner.admin.id}/active", {"active": "no"}),
        (f"/portal/users/{partner.member.id}/admin", {"admin": "yes"}),
    ):
        assert browser.post(path, data={"csrf_token": token, **data}).status_code == 403
    db.refresh(partner.admin)
    assert partner.admin.is_active
    assert db.scalar(select(User).where(User.email == "y@example.test")) is None


def test_the_list_shows_the_own_organisation_only(db: Session) -> None:
    partner, other = make_partner(db), make_partner(db)
    rows = list_partner_users(db, actor=partner.member_principal)
    assert {r.user.id for r in rows} == {partner.admin.id, partner.member.id}
    assert {r.user.id for r in rows if r.is_admin} == {partner.admin.id}
    with pytest.raises(NotFound):
        set_user_active(db, actor=partner.admin_principal, user_id=other.member.id, active=False)


def test_an_invited_admin_gets_the_capability_on_accepting(db: Session) -> None:
    partner = make_partner(db)
    invitation = invite_user(
        db,
        actor=partner.admin_principal,
        email="second.admin@example.test",
        full_name="Second Admin",
        make_admin=True,
    )
    token = link_in_text(invitation.mail.body).rsplit("/", 1)[1]
    assert invitation.invitation.token_hash != token  # only its hash is kept

    user = accept_invitation(db, token=token, password=NEW_PASSWORD)

    assert has_capability(db, user_id=user.id, capability=Capability.PARTNER_ADMIN)
