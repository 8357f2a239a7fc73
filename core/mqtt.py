"""A small MQTT v5 client wrapper around paho-mqtt 2.

It keeps the mechanics (connect, reconnect, resubscribe on every CONNACK, publish
and wait for the broker's ack, manual acks) and leaves the policy (what to
subscribe, what to do with a message) to the caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

DEFAULT_PORT = 1883


class MqttError(Exception):
    """The broker refused or did not answer; str() is one line saying which and why."""


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
    clean_start: bool = True
    session_expiry: int = 0
    manual_ack: bool = False
    receive_maximum: int = 0
    on_message: Callable[[Message], None] | None = None
    subscriptions: list[Subscription] = field(default_factory=list)

    def __post_init__(self) -> None:
        parsed = urlsplit(self.url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or DEFAULT_PORT
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.generation = 0
        self._refused: ReasonCode | None = None
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5
        )
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
            raise MqttError(
                f"cannot connect to {self.host}:{self.port} ({exc.strerror or exc})"
            ) from exc
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
