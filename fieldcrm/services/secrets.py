"""var/secrets.env: the generated secrets of a local installation (mode 0600, never logged)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from core.config import MQTT_SERVICE_ACCOUNTS, secrets_file

_GENERATED = (
    "FIELDCRM_SECRET_KEY",
    "FIELDCRM_LOCAL_PG_PASSWORD",
    *(f"FIELDCRM_MQTT_{name.upper()}_PASSWORD" for name in MQTT_SERVICE_ACCOUNTS),
)


def ensure_secrets(var_dir: Path) -> Path:
    """Create the secrets file, adding any missing key; existing values are kept."""
    path = secrets_file(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = read_secrets(path)
    missing = [key for key in _GENERATED if key not in existing]
    if missing or not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as out:
            for key in missing:
                out.write(f"{key}={secrets.token_urlsafe(32)}\n")
    path.chmod(0o600)
    return path


def read_secrets(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}
