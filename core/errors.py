"""Domain errors carry a code, never an HTTP status; the web layer maps codes once."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the operation. `code` is stable and machine-readable."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "invalid_input"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
