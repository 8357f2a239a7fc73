"""A small MQTT v5 client wrapper around paho-mqtt 2.

It keeps the mechanics (connect, reconnect, resubscribe on every CONNACK, publish
and wait for the broker's ack, manual acks) and leaves the policy (what to
subscribe, what to do with a message) to the caller.

`mqtt://host:port` is plain MQTT; `mqtts://host:port` is MQTT over TLS, the broker's
certificate verified against the system's trust store or a CA file, and its name checked
against the URL's host. Every connection the project opens (service accounts, simulated
devices) takes its address and TLS from here.
"""

from __future__ import annotations

import hashlib
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from core.config import MQTT_SERVICE_USER_PREFIX, Settings

DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883
SCHEMES = ("mqtt", "mqtts")
_CLIENT_ID_ROUNDS = 100_000


class MqttError(Exception):
    """The broker refused or did not answer; str() is one line saying which and why."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and whether the connection is TLS, from an MQTT URL."""

    host: str
    port: int
    tls: bool


def broker_address(url: str) -> BrokerAddress:
    """Parse mqtt://host[:port] or mqtts://host[:port]; refuse any other scheme."""
    parsed = urlsplit(url)
    if parsed.scheme not in SCHEMES:
        raise MqttError(f"{url!r} is not an MQTT URL: use mqtt://host:port or mqtts://host:port")
    tls = parsed.scheme == "mqtts"
    return BrokerAddress(
        parsed.hostname or "127.0.0.1",
        parsed.port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT),
        tls,
    )


class _ClosingSSLSocket(ssl.SSLSocket):
    """Closes itself when the handshake fails: paho drops such a socket without closing it."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def tls_context(ca_file: Path | str | None) -> ssl.SSLContext:
    """A client context that verifies the broker's certificate and host name.

    Against `ca_file` (PEM) when given, else the system's trust store. One context may
    serve many paho clients (a simulated fleet).
    """
    try:
        context = ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise MqttError(f"cannot read the broker's CA file {ca_file} ({exc})") from exc
    context.sslsocket_class = _ClosingSSLSocket
    return context


def random_client_id(prefix: str) -> str:
    """A client id nobody can guess: another account using it would take the connection over."""
    return f"{prefix}-{secrets.token_hex(12)}"


def session_client_id(name: str, *, secret: str) -> str:
    """A stable client id for a persistent session, unguessable without `secret`.

    Mosquitto gives a client id to whoever connects with it last, session included; derived
    with PBKDF2 so that the id (which the broker logs) is no cheaper a clue to the secret
    than the broker's own password file.
    """
    key = hashlib.pbkdf2_hmac(
        "sha256", secret.encode(), f"fieldcrm-client-id:{name}".encode(), _CLIENT_ID_ROUNDS
    )
    return f"{name}-{key[:10].hex()}"


@dataclass(frozen=True, slots=True)
class Message:
    """A received message; `generation` counts the connection it arrived on."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool
    generation: int = 0


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str
    qos: int = 1


@dataclass
class MqttClient:
    """One connection to the broker, as one account, with a reconnect loop."""

    url: str
    username: str
    password: str
    client_id: str
    ca_file: Path | str | None = None
    clean_start: bool = True
    session_expiry: int = 0
    manual_ack: bool = False
    receive_maximum: int = 0
    on_message: Callable[[Message], None] | None = None
    subscriptions: list[Subscription] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.generation = 0
        self.session_present = False
        self._refused: ReasonCode | None = None
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5
        )
        address = broker_address(self.url)
        self.host, self.port, self.tls = address.host, address.port, address.tls
        if self.tls:
            self._client.tls_set_context(tls_context(self.ca_file))
        self._client.username_pw_set(self.username, self.password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.max_queued_messages_set(0)
        self._client.manual_ack_set(self.manual_ack)
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_subscribe = lambda *args: self._subscribed.set()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def connect(self, *, timeout: float = 10) -> None:
        """Connect and start the network thread; raise MqttError if refused or unreachable."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho is untyped here
        if self.session_expiry:
            props.SessionExpiryInterval = self.session_expiry
        if self.receive_maximum:
            # how many unacknowledged QoS 1 messages the broker may have in flight to us
            props.ReceiveMaximum = self.receive_maximum
        try:
            self._client.connect(
                self.host, self.port, keepalive=30, clean_start=self.clean_start, properties=props
            )
        except OSError as exc:
            raise self._connect_error(exc) from exc
        self._client.loop_start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._connected.is_set():
            if self._refused is not None:
                self.close()
                raise MqttError(
                    f"broker at {self.host}:{self.port} refused {self.username!r}: {self._refused}"
                )
            time.sleep(0.02)
        if not self._connected.is_set():
            self.close()
            raise MqttError(f"no CONNACK from {self.host}:{self.port} within {timeout:.0f}s")

    def _connect_error(self, exc: OSError) -> MqttError:
        where = f"{self.host}:{self.port}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return MqttError(
                f"TLS: the broker at {where} is not trusted ({exc.verify_message}); "
                "check the host name in the URL and FIELDCRM_MQTT_CA_FILE"
            )
        # a plain listener hangs up on a TLS hello
        if self.tls and isinstance(exc, ssl.SSLError | ConnectionResetError):
            reason = getattr(exc, "reason", None) or exc.strerror or exc
            return MqttError(
                f"TLS handshake with {where} failed ({reason}); "
                "does the broker speak TLS on this port?"
            )
        return MqttError(f"cannot connect to {where} ({exc.strerror or exc})")

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe now and again after every reconnect."""
        self.subscriptions.append(Subscription(topic, qos))
        if self.connected:
            self._client.subscribe(topic, qos)

    def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, timeout: float = 10
    ) -> int:
        """Publish and wait until the broker acknowledged it (QoS >= 1); return the reason code."""
        info = self._client.publish(topic, payload, qos=qos)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise MqttError(f"publish to {topic} not acknowledged within {timeout:.0f}s")
        return 0 if info.rc is None else int(info.rc)

    def ack(self, message: Message) -> bool:
        """Acknowledge a message received with manual_ack (after it is safely stored).

        A message from an earlier connection is not acknowledged: after a reconnect the
        broker redelivers it and may reuse its packet id for another message, which a late
        ack would then acknowledge unseen. Returns whether the ack was sent.
        """
        if message.generation != self.generation or message.qos == 0:
            return False
        self._client.ack(message.mid, message.qos)
        return True

    def wait_subscribed(self, timeout: float = 5) -> bool:
        """Wait for the broker's SUBACK to the subscriptions made on connect."""
        return self._subscribed.wait(timeout)

    def unsubscribe(self, topic: str, *, timeout: float = 5) -> None:
        """Stop receiving `topic` (also after reconnects); wait for the broker's UNSUBACK."""
        self.subscriptions = [sub for sub in self.subscriptions if sub.topic != topic]
        done = threading.Event()
        self._client.on_unsubscribe = lambda *args: done.set()
        self._client.unsubscribe(topic)
        done.wait(timeout)

    def close(self, *, end_session: bool = False) -> None:
        """Disconnect; with end_session the broker forgets the session (and what it queued)."""
        props = None
        if end_session:
            props = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]  # paho is untyped here
            props.SessionExpiryInterval = 0
        self._client.disconnect(properties=props)
        self._client.loop_stop()
        self._connected.clear()

    def _handle_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._refused = reason
            client.disconnect()
            return
        self.session_present = bool(getattr(flags, "session_present", False))
        self.generation += 1
        for sub in self.subscriptions:
            client.subscribe(sub.topic, sub.qos)
        self._connected.set()

    def _handle_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()

    def _handle_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        if self.on_message is not None:
            self.on_message(
                Message(
                    msg.topic, bytes(msg.payload), msg.qos, msg.mid, msg.retain, self.generation
                )
            )


def service_client(
    settings: Settings, account: str, *, client_id: str, **options: Any
) -> MqttClient:
    """A (not yet connected) connection to the configured broker as one of our own accounts."""
    return MqttClient(
        url=settings.resolved_mqtt_url(),
        username=MQTT_SERVICE_USER_PREFIX + account,
        password=settings.mqtt_password(account),
        client_id=client_id,
        ca_file=settings.mqtt_ca_file,
        **options,
    )
