"""Single-use links that let a user set a new password: the token travels in an e-mail, only
its SHA-256 is stored, it expires and is spent by its first use."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.auth.models import PasswordResetToken
from core.db import utcnow

RESET_LINK_LIFETIME = timedelta(minutes=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh random token and the hash to store of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def issue_reset_token(
    session: Session, *, user_id: int, lifetime: timedelta = RESET_LINK_LIFETIME
) -> str:
    """A new reset token for the user (shown once, for the e-mail); earlier unused ones of the
    user stop working, so only the newest link counts."""
    now = utcnow()
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    token, hashed = new_token()
    session.add(
        PasswordResetToken(
            token_hash=hashed, user_id=user_id, created_at=now, expires_at=now + lifetime
        )
    )
    session.flush()
    return token


def reset_token_user(session: Session, *, token: str, lock: bool = False) -> int | None:
    """The user a live (unused, unexpired) token belongs to, else None; `lock` holds the row
    until commit, so two uses of one link cannot both pass."""
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row.user_id


def spend_reset_tokens(session: Session, *, user_id: int) -> None:
    """Mark every unused token of the user used (the password was just set)."""
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


_KEEP_SPENT = timedelta(days=7)


def purge_reset_tokens(session: Session) -> None:
    """Forget tokens that expired a week ago."""
    session.execute(
        delete(PasswordResetToken).where(PasswordResetToken.expires_at < utcnow() - _KEEP_SPENT)
    )
