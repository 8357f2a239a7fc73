"""Staff's second factor: an authenticator app's codes (TOTP), with ten single-use recovery
codes; set up on Your settings, asked for at login after the password."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.auth.models import RecoveryCode, TotpCredential
from core.auth.passwords import verify_password
from core.auth.principal import Principal
from core.auth.sessions import (
    clear_login_failures,
    record_login_failure,
)
from core.auth.totp import (
    UnreadableSecret,
    accepted_step,
    looks_like_recovery_code,
    new_recovery_codes,
    new_secret,
    recovery_code_hash,
    seal,
    sealing_key,
    unseal,
)
from core.config import get_settings
from core.db import utcnow
from core.errors import Conflict, InvalidInput, PermissionDenied
from crm.audit import CREATE, DELETE, record_change
from crm.models import User
from crm.notifications import notify
from crm.service._access import get_record, require_staff
from crm.service.users import throttle_login

ENTITY = "totp_credentials"
_WRONG_CODE = "This code is not right: type the 6 digits your app shows now, or a recovery code"


def has_two_factor(session: Session, *, user_id: int) -> bool:
    """Whether the user logs in with a second factor (a confirmed authenticator)."""
    return (
        session.scalar(
            select(TotpCredential.user_id).where(
                TotpCredential.user_id == user_id, TotpCredential.confirmed_at.is_not(None)
            )
        )
        is not None
    )


def recovery_codes_left(session: Session, *, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def enrolment_secret(session: Session, *, principal: Principal) -> str:
    """The secret of the authenticator being set up (a new one on the first call), to show
    as a QR code until the user confirms it with a code."""
    require_staff(principal, to="set up two-factor authentication")
    credential = session.get(TotpCredential, principal.user_id)
    if credential is not None and credential.confirmed_at is not None:
        raise Conflict("Two-factor authentication is already on.", code="two_factor_on")
    key = _key()
    if credential is not None:
        try:
            return unseal(credential.sealed_secret, key)
        except UnreadableSecret:
            session.delete(credential)
            session.flush()
    secret = new_secret()
    session.add(TotpCredential(user_id=principal.user_id, sealed_secret=seal(secret, key)))
    session.flush()
    return secret


def confirm_enrolment(session: Session, *, principal: Principal, code: str) -> list[str]:
    """Turn two-factor authentication on when `code` comes from the app just set up; returns
    the ten recovery codes (shown once, kept only as hashes)."""
    secret = enrolment_secret(session, principal=principal)
    credential = get_record(session, TotpCredential, principal.user_id)
    step = accepted_step(secret, code, last_step=None, at=utcnow())
    if step is None:
        raise InvalidInput(
            "This code is not right: type the 6 digits the app shows now", field="code"
        )
    credential.confirmed_at = utcnow()
    credential.last_step = step
    codes = new_recovery_codes()
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == principal.user_id))
    session.add_all(
        RecoveryCode(user_id=principal.user_id, code_hash=recovery_code_hash(c)) for c in codes
    )
    session.flush()
    _tell(session, principal, on=True)
    return codes


def disable_two_factor(
    session: Session, *, principal: Principal, password: str, code: str, client: str
) -> None:
    """Turn two-factor authentication off: needs the current password and a code (or a
    recovery code); wrong ones count as failed logins."""
    user = get_record(session, User, principal.user_id)
    throttle_login(session, email=user.email, client=client, what="wrong codes or passwords")
    valid, _ = verify_password(password, user.password_hash)
    if not valid:
        record_login_failure(session, email=user.email, client=client)
        raise InvalidInput("This is not your current password", field="password")
    if not check_second_factor(session, user_id=user.id, code=code):
        record_login_failure(session, email=user.email, client=client)
        raise InvalidInput(_WRONG_CODE, field="code")
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    _tell(session, principal, on=False)


def verify_login_code(session: Session, *, user_id: int, code: str, client: str) -> None:
    """The second step of a login: refuse a wrong code (counted and slowed like a wrong
    password, TooManyAttempts after the free ones); a right one clears the failures."""
    user = get_record(session, User, user_id)
    if not user.is_active:
        raise PermissionDenied("Wrong e-mail or password.", code="invalid_credentials")
    throttle_login(session, email=user.email, client=client, what="wrong codes or passwords")
    if not check_second_factor(session, user_id=user.id, code=code):
        record_login_failure(session, email=user.email, client=client)
        raise PermissionDenied(_WRONG_CODE + ".", code="invalid_code", field="code")
    clear_login_failures(session, email=user.email)


def check_second_factor(session: Session, *, user_id: int, code: str) -> bool:
    """Whether `code` is a fresh code of the user's authenticator or an unused recovery code
    (which is used up by this)."""
    credential = session.scalar(
        select(TotpCredential)
        .where(TotpCredential.user_id == user_id, TotpCredential.confirmed_at.is_not(None))
        .with_for_update()  # two requests with one code: the second sees the step taken
    )
    if credential is None:
        return False
    if looks_like_recovery_code(code):
        recovery = session.scalar(
            select(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == recovery_code_hash(code),
                RecoveryCode.used_at.is_(None),
            )
            .with_for_update()
        )
        if recovery is None:
            return False
        recovery.used_at = utcnow()
        session.flush()
        return True
    try:
        secret = unseal(credential.sealed_secret, _key())
    except UnreadableSecret:
        return False
    step = accepted_step(secret, code, last_step=credential.last_step, at=utcnow())
    if step is None:
        return False
    credential.last_step = step
    session.flush()
    return True


def _tell(session: Session, principal: Principal, *, on: bool) -> None:
    notify(
        session,
        user_ids=[principal.user_id],
        title=f"Two-factor authentication was turned {'on' if on else 'off'}",
        body="If this was not you, change your password at once and tell your administrator.",
        link="/settings/two-factor",
    )
    record_change(
        session,
        actor=principal,
        action=CREATE if on else DELETE,
        entity=ENTITY,
        entity_id=principal.user_id,
        before=None if on else {"two_factor": "on"},
        after={"two_factor": "on"} if on else None,
    )


def _key() -> bytes:
    return sealing_key(get_settings().session_secret())
