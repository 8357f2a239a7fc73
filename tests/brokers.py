"""A real Mosquitto for tests: accounts can be added and removed while it runs."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from core.broker import mosquitto_hash, reload_broker, update_password_file
from core.mqtt import MqttClient
from fieldcrm.services.base import service_user
from fieldcrm.services.mosquitto import BrokerPaths


@dataclass(frozen=True)
class LocalBroker:
    """A real Mosquitto started for this test run, with the project's config and ACL."""

    url: str
    paths: BrokerPaths
    passwords: dict[str, str]

    def add_account(self, username: str, password: str) -> None:
        """Add an account to the password file and make the running broker reload it."""
        update_password_file(
            self.paths.passwd,
            add={username: mosquitto_hash(password)},
            owner=service_user("mosquitto"),
        )
        assert reload_broker(self.paths.pid_file)
        time.sleep(0.3)

    def add_accounts(self, accounts: dict[str, str]) -> None:
        """Add many accounts with one rewrite and one reload."""
        update_password_file(
            self.paths.passwd,
            add={user: mosquitto_hash(pw) for user, pw in accounts.items()},
            owner=service_user("mosquitto"),
        )
        assert reload_broker(self.paths.pid_file)
        time.sleep(0.3)

    def remove_account(self, username: str) -> None:
        update_password_file(self.paths.passwd, remove={username}, owner=service_user("mosquitto"))
        assert reload_broker(self.paths.pid_file)
        time.sleep(0.3)

    def client(self, username: str, *, client_id: str | None = None, **kwargs: Any) -> MqttClient:
        return MqttClient(
            url=self.url,
            username=username,
            password=self.passwords[username],
            client_id=client_id or f"{username}-{secrets.token_hex(4)}",
            **kwargs,
        )
