"""Simulated devices on real MQTT connections, driven from one selector loop per process."""

from __future__ import annotations

import contextlib
import json
import random
import selectors
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from core.mqtt import broker_address, tls_context

_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE
# Past this many due messages in one turn the loop polls the sockets first, so acks keep flowing.
_BURST = 256
_RECONNECT_EVERY = 0.5


@dataclass(frozen=True)
class DeviceCredential:
    """A device's MQTT username (its key, also its topic segment) and its secret."""

    key: str
    secret: str


def load_devices(path: Path) -> list[DeviceCredential]:
    """Read `[{"key": ..., "secret": ...}, ...]` from a JSON file."""
    return [DeviceCredential(item["key"], item["secret"]) for item in json.loads(path.read_text())]


class SimulatedDevice:
    """One device: its connection, its seq counter, drifting metric values, ack counts."""

    def __init__(self, cred: DeviceCredential, metrics: tuple[str, ...], rng: random.Random):
        self.key = cred.key
        self.topic = f"fleet/{cred.key}/telemetry"
        self.metrics = metrics
        self.rng = rng
        self.baselines = [rng.uniform(20.0, 80.0) for _ in metrics]
        self.levels = list(self.baselines)
        self.seq = 0
        self.sent = 0
        self.acked = 0
        self.refused = 0
        self.connected = False
        self.refusal: str | None = None
        self.sock: Any = None
        self.wants_write = False
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=cred.key, protocol=paho.MQTTv5
        )
        self.client.username_pw_set(cred.key, cred.secret)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def next_payload(self) -> bytes:
        """The next reading: seq + 1, ts now (epoch ms), each metric drifting a little."""
        self.seq += 1
        gauss = self.rng.gauss
        levels = self.levels
        # a noisy walk pulled back to the device's baseline: plausible, never runs away
        for i, level in enumerate(levels):
            levels[i] = level + 0.05 * (self.baselines[i] - level) + gauss(0.0, 0.5)
        readings = {key: round(value, 3) for key, value in zip(self.metrics, levels, strict=True)}
        return orjson.dumps({"ts": time.time_ns() // 1_000_000, "seq": self.seq, "m": readings})

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.refusal = str(reason)
            return
        self.connected = True

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connected = False

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.refused += 1
        else:
            self.acked += 1


class FleetDriver:
    """Connects a share of the fleet and publishes at a paced rate from one thread."""

    def __init__(
        self,
        url: str,
        creds: list[DeviceCredential],
        *,
        metrics: tuple[str, ...],
        seed: int,
        inflight: int,
        ca_file: str | None = None,
    ):
        address = broker_address(url)
        self.host, self.port = address.host, address.port
        tls = tls_context(ca_file) if address.tls else None
        rng = random.Random(seed)  # noqa: S311  # reproducible readings, not secrets
        self.devices = [
            SimulatedDevice(cred, metrics, random.Random(rng.random()))  # noqa: S311
            for cred in creds
        ]
        for device in self.devices:
            device.client.max_inflight_messages_set(inflight)
            if tls is not None:
                device.client.tls_set_context(tls)
        self.selector = selectors.DefaultSelector()
        self.reconnects = 0

    def connect_all(self, *, timeout: float) -> None:
        """Open every device's connection; raise if one is refused or not up in time."""
        for device in self.devices:
            device.client.connect(self.host, self.port, keepalive=60, clean_start=True)
            self._register(device)
        deadline = time.monotonic() + timeout
        while not all(device.connected for device in self.devices):
            refused = [d for d in self.devices if d.refusal is not None]
            if refused:
                raise ConnectionError(f"broker refused {refused[0].key}: {refused[0].refusal}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"devices not connected within {timeout:.0f}s")
            self._poll(0.05)

    def publish_for(
        self,
        *,
        rate: float,
        duration: float,
        first_seq: int,
        max_messages: int | None,
        drain_timeout: float,
    ) -> dict[str, Any]:
        """Publish `rate` msgs/s round-robin over the devices, then wait for the acks."""
        for device in self.devices:
            device.seq = first_seq - 1
        total = int(rate * duration)
        if max_messages is not None:
            total = min(total, max_messages)
        count = len(self.devices)
        start = time.time()
        t0 = time.monotonic()
        generated = 0
        last_misc = t0
        while generated < total:
            now = time.monotonic()
            due = min(total, int((now - t0) * rate) + 1) - generated
            for _ in range(min(due, _BURST)):
                self._publish(self.devices[generated % count])
                generated += 1
            next_due = t0 + generated / rate
            self._poll(0.0 if due > _BURST else max(0.0, min(next_due - now, 0.05)))
            if now - last_misc >= _RECONNECT_EVERY:
                self._housekeeping()
                last_misc = now
        end = time.time()
        self._drain(drain_timeout)
        return {
            "sent": sum(d.sent for d in self.devices),
            "acked": sum(d.acked for d in self.devices),
            "refused": sum(d.refused for d in self.devices),
            "reconnects": self.reconnects,
            "last_seq": {d.key: d.seq for d in self.devices if d.sent},
            "start": start,
            "end": end,
            "drained_at": time.time(),
        }

    def close(self) -> None:
        """Disconnect every device cleanly."""
        for device in self.devices:
            if device.connected:
                device.client.disconnect()
            self._unregister(device)
        self.selector.close()

    def _publish(self, device: SimulatedDevice) -> None:
        # Disconnected or over its in-flight window, paho keeps the message and sends it
        # later (after the next CONNACK): the device buffers instead of dropping.
        device.client.publish(device.topic, device.next_payload(), qos=1)
        device.sent += 1
        if not device.wants_write and device.client.want_write():
            self._want_write(device, True)

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_misc = time.monotonic()
        while time.monotonic() < deadline:
            if all(d.acked + d.refused >= d.sent for d in self.devices):
                return
            self._poll(0.05)
            if time.monotonic() - last_misc >= _RECONNECT_EVERY:
                self._housekeeping()
                last_misc = time.monotonic()

    def _poll(self, timeout: float) -> None:
        for key, mask in self.selector.select(timeout):
            device: SimulatedDevice = key.data
            if mask & _READ:
                device.client.loop_read()
            if mask & _WRITE and device.sock is not None:
                device.client.loop_write()
                if not device.client.want_write():
                    self._want_write(device, False)
            if device.sock is not None and device.client.socket() is not device.sock:
                self._unregister(device)  # paho closed it: the connection was lost

    def _housekeeping(self) -> None:
        """Keepalive pings, and reconnect devices whose connection dropped."""
        for device in self.devices:
            if device.sock is not None:
                device.client.loop_misc()
                if device.client.socket() is not device.sock:
                    self._unregister(device)
            if device.sock is None:
                self._reconnect(device)

    def _reconnect(self, device: SimulatedDevice) -> None:
        try:
            rc = device.client.reconnect()
        except OSError:
            return  # the broker is still down; try again next turn
        if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            self.reconnects += 1
            self._register(device)

    def _register(self, device: SimulatedDevice) -> None:
        # Nagle stays on: it coalesces a burst of small PUBLISH packets into fewer segments.
        sock = device.client.socket()
        if sock is None:
            return  # the connection failed at once; the next housekeeping turn retries
        device.sock = sock
        device.wants_write = device.client.want_write()
        self.selector.register(sock, _READ | (_WRITE if device.wants_write else 0), device)

    def _unregister(self, device: SimulatedDevice) -> None:
        if device.sock is None:
            return
        with contextlib.suppress(KeyError, ValueError):  # gone with its closed socket
            self.selector.unregister(device.sock)
        device.sock = None
        device.connected = False

    def _want_write(self, device: SimulatedDevice, on: bool) -> None:
        if device.sock is None:
            return
        device.wants_write = on
        self.selector.modify(device.sock, _READ | (_WRITE if on else 0), device)
