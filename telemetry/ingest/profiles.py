"""A short-lived cache of device profiles, so a batch costs no lookup most of the time."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from telemetry.stream import DeviceProfile, load_profiles


class ProfileCache:
    """Profiles by device key; unknown keys are remembered too, both for `ttl` seconds."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, DeviceProfile | None]] = {}

    def get(self, session: Session, keys: set[str]) -> dict[str, DeviceProfile | None]:
        now = time.monotonic()
        missing = {k for k in keys if k not in self._entries or self._entries[k][0] < now}
        if missing:
            found = load_profiles(session, keys=missing)
            for key in missing:
                self._entries[key] = (now + self.ttl, found.get(key))
        return {key: self._entries[key][1] for key in keys}
