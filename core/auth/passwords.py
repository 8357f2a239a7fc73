"""Password hashing with argon2 (pwdlib), rehashing when parameters change; the rule a new
password must meet."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
PASSWORD_RULE = (
    f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words are easy to remember "
    "and hard to guess."
)
_MIN_DISTINCT_CHARACTERS = 5
# the passwords every guesser tries first that the length alone would let through
_TOO_COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "qwertyuiopas",
        "qwertyuiop123",
        "passwordpassword",
        "password1234",
        "password12345",
        "iloveyou1234",
        "administrator",
        "letmeinletmein",
        "changemechangeme",
        "fieldcrm1234",
    }
)


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """(valid, new_hash): new_hash is set when the stored hash should be upgraded."""
    return _hasher().verify_and_update(password, password_hash)


@lru_cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not tell."""
    return hash_password("not-a-real-password-0000")


def password_problem(password: str, *, email: str = "") -> str | None:
    """What is wrong with a new password, in words for its owner, or None when it will do:
    long enough, not one of the first guesses, not the e-mail address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH:,} characters"
    folded = password.casefold()
    local = email.casefold().partition("@")[0]
    if len(set(folded)) < _MIN_DISTINCT_CHARACTERS or folded.strip() in _TOO_COMMON:
        return "This password is among the first ones guessed; choose another"
    if email and (folded == email.casefold() or (len(local) >= 4 and local in folded)):
        return "Do not use your e-mail address in the password"
    return None
