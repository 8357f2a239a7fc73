"""A partner admin manages their own organisation's portal users: invite, (de)activate, and
who else is a partner admin. Everyone else in the organisation sees the list only.

Another organisation's user is NotFound, never "forbidden": ids do not reveal who exists.
An invitation e-mails the colleague a link to choose their own password (nobody else ever
knows it); inviting an address that has an account in another organisation looks the same to
the admin (a pending invitation), creates nothing, and only tells that address's owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.auth.reset_tokens import new_token, token_hash
from core.auth.roles import Role
from core.config import get_settings
from core.db import utcnow
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, DELETE, UPDATE, record_change
from crm.capabilities import capabilities_of, grant, has_capability, revoke
from crm.models import Capability, Organization, User, UserCapability
from crm.outbox import Mail, can_deliver
from crm.schemas import UserCreate, UserUpdate, normalise_email
from crm.service.accounts import require_good_password
from crm.service.users import apply_user_update, create_user
from partner_portal.models import PartnerInvitation

INVITATION_LIFETIME = timedelta(days=7)
_INVITATIONS = PartnerInvitation.__tablename__


@dataclass(frozen=True, slots=True)
class PartnerUser:
    """One row of the users page."""

    user: User
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation just made and the e-mail to send (to the colleague, with the link; or,
    for an address with an account elsewhere, a notice to its owner)."""

    invitation: PartnerInvitation
    mail: Mail


def require_partner_admin(session: Session, actor: Principal) -> None:
    """Only a distributor user holding the partner admin capability manages users."""
    if actor.role != Role.DISTRIBUTOR or not has_capability(
        session, user_id=actor.user_id, capability=Capability.PARTNER_ADMIN
    ):
        raise PermissionDenied("Only a partner admin of your organisation may manage its users.")


def list_partner_users(session: Session, *, actor: Principal) -> list[PartnerUser]:
    """The actor's organisation's users, active first, by name."""
    if actor.role != Role.DISTRIBUTOR:
        raise PermissionDenied("This list is for distributor partners.")
    admins = set(session.scalars(_admin_ids()))
    users = session.scalars(
        select(User)
        .where(User.org_id == actor.org_id)
        .order_by(User.is_active.desc(), User.full_name, User.id)
    )
    return [PartnerUser(user, user.id in admins) for user in users]


def invite_user(
    session: Session, *, actor: Principal, email: str, full_name: str, make_admin: bool = False
) -> Invitation:
    """Invite a colleague: an e-mailed link, valid for a week, to choose their password and so
    create their account. A newer invitation of the same address replaces an older one."""
    require_partner_admin(session, actor)
    try:
        email, full_name = normalise_email(email), full_name.strip()
    except ValueError:
        full_name = ""
    if not full_name or len(full_name) > 200 or len(email) > 320:
        raise InvalidInput(
            "Enter the colleague's full name and a valid e-mail address.", field="email"
        )
    settings = get_settings()
    if not can_deliver(settings):
        raise Conflict(
            "Invitations are sent by e-mail, which this installation cannot send yet "
            "(FIELDCRM_SMTP_URL): ask its operator.",
            code="mail_not_configured",
        )
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None and existing.org_id == actor.org_id:
        raise Conflict("A user with this e-mail already exists.", code="email_taken", field="email")
    now = utcnow()
    session.execute(
        update(PartnerInvitation)
        .where(*_pending(now), PartnerInvitation.org_id == actor.org_id)
        .where(PartnerInvitation.email == email)
        .values(withdrawn_at=now)
    )
    token, hashed = new_token()
    invitation = PartnerInvitation(
        org_id=actor.org_id,
        email=email,
        full_name=full_name,
        make_admin=make_admin,
        token_hash=hashed,
        invited_by=actor.user_id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=_INVITATIONS,
        entity_id=invitation.id,
        before=None,
        after={"email": email, "full_name": full_name, "make_admin": make_admin},
    )
    org_name = session.get(Organization, actor.org_id).name  # type: ignore[union-attr]  # the actor's
    base_url = settings.resolved_public_url()
    if existing is None:
        mail = _invitation_mail(invitation, org_name, actor.name, f"{base_url}/invitation/{token}")
    else:
        # the token is never sent: this invitation cannot be accepted, and no account is made
        mail = _existing_account_mail(existing, org_name, actor.name, f"{base_url}/login")
    return Invitation(invitation, mail)


def pending_invitations(session: Session, *, actor: Principal) -> Sequence[PartnerInvitation]:
    """The organisation's invitations nobody answered yet, newest first."""
    if actor.role != Role.DISTRIBUTOR:
        raise PermissionDenied("This list is for distributor partners.")
    return session.scalars(
        select(PartnerInvitation)
        .where(*_pending(utcnow()), PartnerInvitation.org_id == actor.org_id)
        .order_by(PartnerInvitation.created_at.desc(), PartnerInvitation.id.desc())
    ).all()


def withdraw_invitation(session: Session, *, actor: Principal, invitation_id: int) -> None:
    """Make a pending invitation's link stop working."""
    invitation = session.get(PartnerInvitation, invitation_id)
    if invitation is None or invitation.org_id != actor.org_id:
        raise NotFound(f"No invitation {invitation_id} in your organisation.", entity=_INVITATIONS)
    require_partner_admin(session, actor)
    if invitation.accepted_at is None and invitation.withdrawn_at is None:
        invitation.withdrawn_at = utcnow()
        session.flush()
        record_change(
            session,
            actor=actor,
            action=UPDATE,
            entity=_INVITATIONS,
            entity_id=invitation.id,
            before={"status": "pending"},
            after={"status": "withdrawn"},
        )


def open_invitation(
    session: Session, *, token: str, lock: bool = False
) -> PartnerInvitation | None:
    """The live invitation of a link (pending, not expired, its address still free), else
    None; `lock` holds it until commit, so one link cannot make two accounts."""
    query = select(PartnerInvitation).where(
        PartnerInvitation.token_hash == token_hash(token), *_pending(utcnow())
    )
    invitation = session.scalar(query.with_for_update() if lock else query)
    if invitation is None:
        return None
    taken = session.scalar(select(User.id).where(User.email == invitation.email))
    return None if taken is not None else invitation


def accept_invitation(session: Session, *, token: str, password: str) -> User:
    """Create the invited colleague's account with the password they chose; the link is used
    up. They log in next (partner admin too, when the invitation said so)."""
    invitation = open_invitation(session, token=token, lock=True)
    if invitation is None:
        raise InvalidInput(
            "This invitation no longer works. Ask whoever invited you for a new one.",
            code="invitation_invalid",
        )
    require_good_password(password, email=invitation.email)
    user = create_user(
        session,
        actor=SYSTEM,  # the colleague chose the password: nothing to change at first login
        data=UserCreate(
            org_id=invitation.org_id,
            email=invitation.email,
            full_name=invitation.full_name,
            role=Role.DISTRIBUTOR,
            password=password,
        ),
    )
    invitation.accepted_at = utcnow()
    invitation.user_id = user.id
    if invitation.make_admin:
        _set_admin(session, SYSTEM, user, admin=True)
    session.flush()
    return user


def _pending(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        PartnerInvitation.accepted_at.is_(None),
        PartnerInvitation.withdrawn_at.is_(None),
        PartnerInvitation.expires_at > now,
    )


def _invitation_mail(invitation: PartnerInvitation, org: str, inviter: str, link: str) -> Mail:
    days = INVITATION_LIFETIME.days
    return Mail(
        to=invitation.email,
        subject=f"{inviter} invites you to {org} on fieldcrm",
        body=(
            f"Hello {invitation.full_name},\n\n"
            f"{inviter} invites you to the partner portal of {org} on fieldcrm. Open this link "
            f"within {days} days to choose your password; then log in with this e-mail "
            "address:\n\n"
            f"{link}\n\n"
            "The link works once. If you did not expect this, ignore this e-mail."
        ),
    )


def _existing_account_mail(user: User, org: str, inviter: str, login: str) -> Mail:
    return Mail(
        to=user.email,
        subject=f"{inviter} tried to invite you to {org} on fieldcrm",
        body=(
            f"Hello {user.full_name},\n\n"
            f"{inviter} of {org} tried to invite this e-mail address to fieldcrm. It already "
            "has an account, so nothing was changed and they were not told. To work with "
            f"{org} as well, contact them; to log in to your account:\n\n{login}"
        ),
    )


def set_user_active(session: Session, *, actor: Principal, user_id: int, active: bool) -> User:
    """Deactivate (their sessions end at once) or reactivate a colleague."""
    # another organisation's user is not found, whoever asks; then only admins may act
    user = _colleague(session, actor, user_id)
    require_partner_admin(session, actor)
    _lock_org(session, actor.org_id)
    if user.is_active == active:
        return user
    if not active:
        if user.id == actor.user_id:
            raise Conflict("You cannot deactivate yourself; ask another partner admin.")
        _keep_an_admin(session, actor, user)
    return apply_user_update(session, actor=actor, user=user, data=UserUpdate(is_active=active))


def set_partner_admin(session: Session, *, actor: Principal, user_id: int, admin: bool) -> User:
    """Make a colleague a partner admin, or take it away (never from the last one)."""
    user = _colleague(session, actor, user_id)
    require_partner_admin(session, actor)
    _lock_org(session, actor.org_id)
    if admin and not user.is_active:
        raise Conflict("Reactivate this user before making them a partner admin.")
    if not admin:
        _keep_an_admin(session, actor, user)
    _set_admin(session, actor, user, admin=admin)
    return user


def _set_admin(session: Session, actor: Principal, user: User, *, admin: bool) -> None:
    held = Capability.PARTNER_ADMIN in capabilities_of(session, user_id=user.id)
    if held == admin:
        return
    if admin:
        grant(session, user_id=user.id, capability=Capability.PARTNER_ADMIN)
    else:
        revoke(session, user_id=user.id, capability=Capability.PARTNER_ADMIN)
    record_change(
        session,
        actor=actor,
        action=CREATE if admin else DELETE,
        entity="user_capabilities",
        entity_id=f"{user.id},{Capability.PARTNER_ADMIN.value}",
        before=None if admin else {"capability": Capability.PARTNER_ADMIN.value},
        after={"capability": Capability.PARTNER_ADMIN.value} if admin else None,
    )


def _colleague(session: Session, actor: Principal, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.org_id != actor.org_id:
        raise NotFound(f"No user {user_id} in your organisation.", entity="users")
    return user


def _keep_an_admin(session: Session, actor: Principal, leaving: User) -> None:
    """Refuse when `leaving` is the organisation's only active partner admin."""
    if not has_capability(session, user_id=leaving.id, capability=Capability.PARTNER_ADMIN):
        return
    others = session.scalar(
        select(User.id)
        .where(User.org_id == actor.org_id, User.is_active, User.id != leaving.id)
        .where(User.id.in_(_admin_ids()))
        .limit(1)
    )
    if others is None:
        raise Conflict(
            "This is the last partner admin of your organisation; make someone else a "
            "partner admin first.",
            code="last_partner_admin",
        )


def _admin_ids() -> Select[int]:
    return select(UserCapability.user_id).where(
        UserCapability.capability == Capability.PARTNER_ADMIN
    )


def _lock_org(session: Session, org_id: int) -> None:
    # two admins demoting each other at once must not leave the organisation without one
    session.execute(select(Organization.id).where(Organization.id == org_id).with_for_update())
