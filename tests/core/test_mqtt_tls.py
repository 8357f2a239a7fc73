"""mqtts:// is MQTT over verified TLS: checked against a real Mosquitto with a TLS listener
and a certificate from a CA made for the test; plain mqtt:// across a network is refused in
production."""

from __future__ import annotations

import os
import queue
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from core.broker import mosquitto_hash, write_password_file
from core.checks import require_broker
from core.config import Settings, get_settings
from core.mqtt import Message, MqttClient, MqttError
from fieldcrm.services.base import free_port, service_user
from fieldcrm.services.mosquitto import ListenerTls, paths, start_broker, stop_broker, write_config
from simulators.devices import DeviceCredential, FleetDriver
from tests.brokers import LocalBroker
from tests.tls import Authority, give_to, issue_server_certificate, make_authority

DEVICE = "dev-tls-1"


@dataclass(frozen=True)
class TlsBroker:
    """A second real Mosquitto whose only listener speaks TLS as `localhost`."""

    port: int
    authority: Authority
    passwords: dict[str, str]

    def client(self, username: str, *, url: str | None = None, **options: object) -> MqttClient:
        return MqttClient(
            url=url or f"mqtts://localhost:{self.port}",
            username=username,
            password=self.passwords[username],
            client_id=f"{username}-{secrets.token_hex(4)}",
            **options,  # type: ignore[arg-type]  # the test passes MqttClient's own fields
        )


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    user = service_user("mosquitto")
    name = f"mosquitto-tls-{os.getpid()}"
    broker = paths(get_settings().var_dir / "test", user, name=name)
    authority = make_authority(tmp_path_factory.mktemp("mqtt-ca"), "fieldcrm-test-ca")
    certificate = issue_server_certificate(authority, broker.root, "broker", dns=("localhost",))
    give_to(user, certificate.cert, certificate.key)
    port = free_port()
    write_config(broker, port=port, user=user, tls=ListenerTls(certificate.cert, certificate.key))
    passwords = {"fieldcrm-ingest": secrets.token_urlsafe(16), DEVICE: secrets.token_urlsafe(16)}
    write_password_file(
        broker.passwd, {u: mosquitto_hash(pw) for u, pw in passwords.items()}, owner=user
    )
    start_broker(broker, port=port)
    try:
        yield TlsBroker(port, authority, passwords)
    finally:
        stop_broker(broker)
        link = get_settings().var_dir / "test" / name
        shutil.rmtree(link.resolve(), ignore_errors=True)
        link.unlink(missing_ok=True)


def test_mqtts_with_our_ca_carries_a_message_both_ways(tls_broker: TlsBroker) -> None:
    inbox: queue.Queue[Message] = queue.Queue()
    ingest = tls_broker.client(
        "fieldcrm-ingest", ca_file=tls_broker.authority.cert, on_message=inbox.put
    )
    ingest.subscribe("fleet/+/telemetry")
    ingest.connect()
    device = tls_broker.client(DEVICE, ca_file=tls_broker.authority.cert)
    device.connect()
    try:
        assert ingest.tls
        assert ingest.wait_subscribed()
        device.publish(f"fleet/{DEVICE}/telemetry", b'{"seq": 1}')
        message = inbox.get(timeout=5)
        assert (message.topic, message.payload) == (f"fleet/{DEVICE}/telemetry", b'{"seq": 1}')
    finally:
        device.close()
        ingest.close()


def test_a_broker_whose_ca_we_were_not_given_is_refused(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    stranger = make_authority(tmp_path, "someone-else")
    for ca_file in (stranger.cert, None):  # another CA; the system's trust store
        client = tls_broker.client(DEVICE, ca_file=ca_file)
        with pytest.raises(MqttError, match=r"not trusted.*unable to get local issuer"):
            client.connect(timeout=5)


def test_a_certificate_for_another_host_name_is_refused(tls_broker: TlsBroker) -> None:
    client = tls_broker.client(
        DEVICE, url=f"mqtts://127.0.0.1:{tls_broker.port}", ca_file=tls_broker.authority.cert
    )
    with pytest.raises(MqttError, match=r"not trusted.*mismatch"):
        client.connect(timeout=5)


def test_mqtts_to_a_plain_listener_says_the_handshake_failed(mqtt_broker: LocalBroker) -> None:
    port = mqtt_broker.url.rsplit(":", 1)[1]
    client = mqtt_broker.client("fieldcrm-ingest")
    tls_client = MqttClient(
        url=f"mqtts://localhost:{port}",
        username=client.username,
        password=client.password,
        client_id=client.client_id,
    )
    with pytest.raises(MqttError, match="TLS handshake"):
        tls_client.connect(timeout=5)


def test_the_settings_mqtts_url_and_ca_file_reach_every_service_connection(
    tls_broker: TlsBroker,
) -> None:
    settings = Settings(  # type: ignore[call-arg]  # pydantic-settings init kwargs
        mqtt_url=f"mqtts://localhost:{tls_broker.port}",
        mqtt_ca_file=tls_broker.authority.cert,
        mqtt_ingest_password=SecretStr(tls_broker.passwords["fieldcrm-ingest"]),
    )
    require_broker(settings, account="ingest")  # raises unless TLS, CA and login all work


def test_simulated_devices_publish_over_mqtts(tls_broker: TlsBroker) -> None:
    driver = FleetDriver(
        f"mqtts://localhost:{tls_broker.port}",
        [DeviceCredential(DEVICE, tls_broker.passwords[DEVICE])],
        metrics=("temp",),
        seed=1,
        inflight=5,
        ca_file=str(tls_broker.authority.cert),
    )
    try:
        driver.connect_all(timeout=10)
        stats = driver.publish_for(
            rate=50, duration=0.1, first_seq=1, max_messages=5, drain_timeout=5
        )
    finally:
        driver.close()
    assert stats["acked"] == stats["sent"] == 5


def _production(**overrides: object) -> Settings:
    base: dict[str, object] = {
        "env": "production",
        "secret_key": SecretStr(secrets.token_urlsafe(32)),
        "https": True,
    }
    return Settings(**{**base, **overrides})  # type: ignore[arg-type]  # pydantic-settings kwargs


def test_production_refuses_plain_mqtt_to_another_host() -> None:
    with pytest.raises(ValidationError, match="FIELDCRM_MQTT_URL: plain mqtt:// to broker"):
        _production(mqtt_url="mqtt://broker.example.test:1883")
    assert _production(mqtt_url="mqtts://broker.example.test:8883").mqtt_url
    assert _production(mqtt_url="mqtt://127.0.0.1:1883").mqtt_url  # never leaves the host
    assert _production(mqtt_url="mqtt://[::1]:1883").mqtt_url
    allowed = _production(mqtt_url="mqtt://broker.example.test:1883", mqtt_allow_plain=True)
    assert allowed.mqtt_allow_plain


def test_a_broker_url_that_is_not_mqtt_or_a_ca_without_tls_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="mqtts://host:port"):
        Settings(mqtt_url="http://broker.example.test")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="FIELDCRM_MQTT_CA_FILE is set but"):
        Settings(mqtt_url="mqtt://broker.example.test", mqtt_ca_file=tmp_path / "ca.pem")  # type: ignore[call-arg]
