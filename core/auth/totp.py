"""Time-based one-time passwords (RFC 6238, pyotp) and recovery codes for a second factor.

The secret is kept sealed (AES-GCM with a key derived from FIELDCRM_SECRET_KEY), so a copy of
the database alone does not let anyone make codes; a code is accepted once (its time step is
remembered), within one step (30 s) of the server's clock either way. Recovery codes are
random words of about 80 bits, stored as SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ISSUER = "fieldcrm"
RECOVERY_CODE_COUNT = 10
_CODE_DIGITS = 6
_ALLOWED_DRIFT_STEPS = 1
_NONCE_BYTES = 12
_AAD = b"fieldcrm totp secret"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_GROUPS, _RECOVERY_GROUP_LENGTH = 4, 4


class UnreadableSecret(Exception):
    """The sealed secret does not open with this installation's key (FIELDCRM_SECRET_KEY
    changed): the user logs in with a recovery code and sets the authenticator up again."""


def new_secret() -> str:
    """A random base32 secret (160 bits), as authenticator apps take it."""
    return pyotp.random_base32()


def sealing_key(secret_key: bytes) -> bytes:
    """The AES-256 key of the sealed secrets, derived from the installation's secret key."""
    return hmac.new(secret_key, b"fieldcrm totp sealing key", hashlib.sha256).digest()


def seal(secret: str, key: bytes) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, secret.encode(), _AAD)
    return base64.urlsafe_b64encode(sealed).decode()


def unseal(sealed: str, key: bytes) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode()
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise UnreadableSecret from exc


def provisioning_uri(secret: str, *, account: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg_data_uri(text: str) -> str:
    """An <img src> of a QR code of `text` (SVG; the CSP admits data: images)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def accepted_step(secret: str, code: str, *, last_step: int | None, at: datetime) -> int | None:
    """The time step a code belongs to when it is valid now and newer than `last_step` (a code
    once accepted is refused after), else None."""
    digits = "".join(code.split())
    if len(digits) != _CODE_DIGITS or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    for step in range(now_step - _ALLOWED_DRIFT_STEPS, now_step + _ALLOWED_DRIFT_STEPS + 1):
        fresh = last_step is None or step > last_step
        if fresh and hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten single-use codes like 'k7dm-3qpx-u9ra-wnfe' (about 80 bits each)."""
    return [
        "-".join(
            "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LENGTH))
            for _ in range(_RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def recovery_code_hash(code: str) -> str:
    """The stored form of a recovery code; case, blanks and dashes as typed do not matter."""
    normal = "".join(char for char in code.lower() if char.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    normal = "".join(char for char in code.lower() if char.isalnum())
    return len(normal) == _RECOVERY_GROUPS * _RECOVERY_GROUP_LENGTH
