"""Between the password and the session: a staff user with two-factor authentication gets a
short-lived signed token (not a session: it opens no page) that the code form sends back.

The token names the user and a fingerprint of their password hash, so a password changed in
the meantime voids it; it holds for five minutes. Guessing codes is throttled like passwords.
"""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from core.config import get_settings
from crm.models import User

CODE_STEP_SECONDS = 300
_SALT = "fieldcrm login code step"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().session_secret(), salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def code_step_token(user: User) -> str:
    """The token of a login that passed the password and waits for the code."""
    return str(_serializer().dumps({"u": user.id, "f": _fingerprint(user)}))


def code_step_user(session: Session, token: str) -> User | None:
    """The active user of a live code-step token, else None (forged, old, password changed)."""
    try:
        data: Any = _serializer().loads(token, max_age=CODE_STEP_SECONDS)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if user is None or not user.is_active or data.get("f") != _fingerprint(user):
        return None
    return user
