"""The names of our cookies: behind https they carry the `__Host-` prefix, which browsers
accept only when Secure, for path / and without a Domain, so a sibling subdomain or a plain
http page cannot plant or overwrite them."""

from __future__ import annotations

from core.config import get_settings

SESSION = "fieldcrm_session"
CSRF = "fieldcrm_csrf"
FLASH = "fieldcrm_flash"

_HOST_PREFIX = "__Host-"


def cookie_name(base: str) -> str:
    """The name a cookie goes by in this deployment (`__Host-` prefixed when https)."""
    return f"{_HOST_PREFIX}{base}" if get_settings().https else base
