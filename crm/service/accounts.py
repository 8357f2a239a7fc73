"""A user's own password: change it (knowing the current one), or reset it by a single-use
e-mailed link; and the step a new login must finish first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.passwords import hash_password, password_problem, verify_password
from core.auth.principal import Principal
from core.auth.reset_tokens import (
    RESET_LINK_LIFETIME,
    issue_reset_token,
    reset_token_user,
    spend_reset_tokens,
)
from core.auth.sessions import (
    PendingStep,
    check_login_allowed,
    record_login_failure,
    revoke_user_sessions,
)
from core.config import get_settings
from core.errors import InvalidInput
from crm.audit import record_change
from crm.models import User
from crm.notifications import notify
from crm.outbox import Mail
from crm.service._access import get_record
from crm.service.two_factor import has_two_factor
from crm.service.users import CREDENTIALS_SET, principal_of, throttle_login

RESET_REQUESTS_FREE = 3  # per e-mail address in the login window; then each one waits longer
_CHANGED_TITLE = "Your password was changed"
_CHANGED_BODY = (
    "If this was not you, choose a new password at once with 'Forgot your password?' on the "
    "login page, and tell your administrator."
)


def change_own_password(
    session: Session,
    *,
    principal: Principal,
    current: str,
    new: str,
    client: str,
    keep_token: str | None,
) -> None:
    """Replace the user's password when `current` is right: their other sessions end (the one
    of `keep_token`, this browser, stays); a wrong current password counts as a failed login."""
    user = get_record(session, User, principal.user_id)
    throttle_login(session, email=user.email, client=client, what="wrong passwords")
    valid, _ = verify_password(current, user.password_hash)
    if not valid:
        record_login_failure(session, email=user.email, client=client)
        raise InvalidInput("This is not your current password", field="current_password")
    if new == current:
        raise InvalidInput("Choose a password different from the current one", field="new_password")
    _set_own(session, user, new, actor=principal, how="changed", keep_token=keep_token)


def request_password_reset(
    session: Session, *, email: str, client: str, base_url: str
) -> Mail | None:
    """The e-mail with a reset link for an active user of `email`, else None; the caller
    answers the same either way. Requests are throttled per address and per client whether
    or not the address exists (each one is recorded)."""
    email = email.strip().lower()
    settings = get_settings()
    check_login_allowed(
        session,
        email=f"reset:{email}",
        client=f"reset:{client}",
        max_failures=RESET_REQUESTS_FREE,
        window=timedelta(minutes=settings.login_window_minutes),
        what="requests for a new password",
    )
    record_login_failure(session, email=f"reset:{email}", client=f"reset:{client}")
    user = session.scalar(select(User).where(User.email == email, User.is_active))
    if user is None:
        return None
    token = issue_reset_token(session, user_id=user.id)
    minutes = int(RESET_LINK_LIFETIME.total_seconds() // 60)
    return Mail(
        to=user.email,
        subject="Choose a new password for fieldcrm",
        body=(
            f"Hello {user.full_name},\n\n"
            "Someone (we hope you) asked to choose a new password for your fieldcrm account. "
            f"Open this link within {minutes} minutes to choose it:\n\n"
            f"{base_url.rstrip('/')}/password/reset/{token}\n\n"
            "The link works once. If you did not ask, ignore this e-mail: your password stays "
            "as it is."
        ),
    )


def reset_user(session: Session, *, token: str) -> User | None:
    """The user whose live reset link this is, else None (unknown, used or expired)."""
    user_id = reset_token_user(session, token=token)
    user = session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.is_active else None


def reset_password(session: Session, *, token: str, new: str) -> User:
    """Set the password of a live reset link's user: the link and any other of theirs is used
    up, every session of theirs ends (they log in with the new password)."""
    user_id = reset_token_user(session, token=token, lock=True)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise InvalidInput(
            "This link no longer works: it was used or is older than "
            f"{int(RESET_LINK_LIFETIME.total_seconds() // 60)} minutes. Ask for a new one.",
            code="reset_link_invalid",
        )
    _set_own(session, user, new, actor=principal_of(user), how="reset by e-mailed link")
    return user


def require_good_password(password: str, *, email: str, field: str = "new_password") -> None:
    """Refuse a new password that breaks the rule (core.auth.passwords.PASSWORD_RULE)."""
    problem = password_problem(password, email=email)
    if problem is not None:
        raise InvalidInput(problem, field=field)


def step_after_login(session: Session, *, user_id: int) -> PendingStep | None:
    """What a fresh session of the user must do before anything else: change a password
    someone else chose, or (staff, where required) set up two-factor authentication."""
    user = get_record(session, User, user_id)
    if user.must_change_password:
        return PendingStep.CHANGE_PASSWORD
    if (
        principal_of(user).is_staff
        and get_settings().staff_totp_required
        and not has_two_factor(session, user_id=user.id)
    ):
        return PendingStep.ENROL_TWO_FACTOR
    return None


def _set_own(
    session: Session,
    user: User,
    new: str,
    *,
    actor: Principal,
    how: str,
    keep_token: str | None = None,
) -> None:
    require_good_password(new, email=user.email)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.flush()
    spend_reset_tokens(session, user_id=user.id)
    revoke_user_sessions(session, user_id=user.id, keep_token=keep_token)
    notify(session, user_ids=[user.id], title=_CHANGED_TITLE, body=_CHANGED_BODY)
    record_change(
        session,
        actor=actor,
        action=CREDENTIALS_SET,
        entity=User.__tablename__,
        entity_id=user.id,
        before=None,
        after={"password": how},
    )
