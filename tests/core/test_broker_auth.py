"""The broker's password file and ACL, checked against a real Mosquitto."""

from __future__ import annotations

import threading

import pytest

from core.broker import mosquitto_hash, verify_mosquitto_hash
from core.mqtt import Message, MqttError
from tests.brokers import LocalBroker

TELEMETRY = "fleet/+/telemetry"


class Inbox:
    """Collects messages from a subscriber thread and waits for one topic."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._arrived = threading.Condition()

    def __call__(self, message: Message) -> None:
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    def wait_for(self, topic: str, timeout: float = 5) -> None:
        with self._arrived:
            assert self._arrived.wait_for(
                lambda: any(m.topic == topic for m in self.messages), timeout
            ), f"no message on {topic}; got {[m.topic for m in self.messages]}"


def test_password_hash_matches_mosquitto_format() -> None:
    encoded = mosquitto_hash("s3cret-password")
    assert encoded.startswith("$7$")
    assert verify_mosquitto_hash("s3cret-password", encoded)
    assert not verify_mosquitto_hash("other-password", encoded)


def test_wrong_password_is_refused(mqtt_broker: LocalBroker) -> None:
    client = mqtt_broker.client("fieldcrm-ingest")
    client.password = "not-the-password"
    client._client.username_pw_set(client.username, client.password)
    with pytest.raises(MqttError, match="refused"):
        client.connect(timeout=5)


def test_unknown_user_is_refused(mqtt_broker: LocalBroker) -> None:
    mqtt_broker.passwords["nobody"] = "whatever-password"
    with pytest.raises(MqttError, match="refused"):
        mqtt_broker.client("nobody").connect(timeout=5)


def test_device_publishes_only_under_its_own_topic(mqtt_broker: LocalBroker) -> None:
    mqtt_broker.passwords["dev-alpha"] = "alpha-password-1"
    mqtt_broker.add_account("dev-alpha", "alpha-password-1")
    inbox = Inbox()
    ingest = mqtt_broker.client("fieldcrm-ingest", on_message=inbox)
    ingest.subscribe(f"$share/ingest/{TELEMETRY}")
    ingest.connect()
    device = mqtt_broker.client("dev-alpha")
    device.connect()
    try:
        device.publish("fleet/dev-beta/telemetry", b'{"forged": true}')
        device.publish("fleet/dev-alpha/telemetry", b'{"seq": 1}')
        inbox.wait_for("fleet/dev-alpha/telemetry")
        assert [m.topic for m in inbox.messages] == ["fleet/dev-alpha/telemetry"]
    finally:
        device.close()
        ingest.close()


def test_device_reads_only_its_own_commands(mqtt_broker: LocalBroker) -> None:
    for name in ("dev-gamma", "dev-delta"):
        mqtt_broker.passwords[name] = f"{name}-password"
        mqtt_broker.add_account(name, f"{name}-password")
    gamma_inbox = Inbox()
    gamma = mqtt_broker.client("dev-gamma", on_message=gamma_inbox)
    gamma.subscribe("fleet/dev-gamma/cmd/#")
    gamma.subscribe("fleet/dev-delta/cmd/#")
    gamma.connect()
    # no service sends commands yet; a device may write under its own topics, cmd included
    delta = mqtt_broker.client("dev-delta")
    delta.connect()
    try:
        delta.publish("fleet/dev-delta/cmd/reboot", b"1")
        gamma.publish("fleet/dev-gamma/cmd/reboot", b"1")
        gamma_inbox.wait_for("fleet/dev-gamma/cmd/reboot")
        assert [m.topic for m in gamma_inbox.messages] == ["fleet/dev-gamma/cmd/reboot"]
    finally:
        delta.close()
        gamma.close()


def test_removed_account_cannot_connect_after_reload(mqtt_broker: LocalBroker) -> None:
    mqtt_broker.passwords["dev-revoked"] = "revoked-password"
    mqtt_broker.add_account("dev-revoked", "revoked-password")
    first = mqtt_broker.client("dev-revoked")
    first.connect()
    first.close()
    mqtt_broker.remove_account("dev-revoked")
    with pytest.raises(MqttError, match="refused"):
        mqtt_broker.client("dev-revoked").connect(timeout=5)
