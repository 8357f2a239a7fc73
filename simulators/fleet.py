"""The fleet: each device on its own MQTT connection, publishing its physics in accelerated time.

Time runs `speed` times faster for the machines (a day of wear, load and faults in 24
minutes at speed 60); each reading still carries the real time it was taken, as the ingest
refuses readings from the future. A device that goes offline keeps its readings and sends
them as one batch (the payload's list form) when it is back.
"""

from __future__ import annotations

import heapq
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from core.mqtt import broker_address, tls_context
from simulators.faults import Fault, FaultPlan, assign_faults, effect_at, without_dropped
from simulators.physics import (
    DEVICE_TYPES,
    DeviceState,
    DeviceType,
    Environment,
    initial_state,
    step,
)


class SimClock:
    """Simulated epoch seconds: starts at `origin` and runs `speed` times faster than real."""

    def __init__(self, speed: float, origin: float | None = None) -> None:
        self.speed = speed
        self.origin = time.time() if origin is None else origin
        self._started = time.monotonic()

    def now(self) -> float:
        return self.origin + (time.monotonic() - self._started) * self.speed


@dataclass(frozen=True)
class DeviceIdentity:
    """A device's MQTT credentials and the metric keys its product model defines."""

    key: str
    secret: str
    metrics: tuple[str, ...] = ()


def load_identities(path: Path) -> list[DeviceIdentity]:
    """Read the devices file `fieldcrm up` writes (or the load generator's `[{key, secret}]`)."""
    try:
        items = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no devices file at {path}: `fieldcrm up` writes var/demo-devices.json, "
            "or pass --devices-file"
        ) from None
    out = []
    for item in items:
        metrics = tuple(
            m["key"] if isinstance(m, dict) else str(m) for m in item.get("metrics", ())
        )
        out.append(DeviceIdentity(item["key"], item["secret"], metrics))
    return out


def type_for(identity: DeviceIdentity, index: int) -> DeviceType:
    """The device type whose metrics best match the product model's (rotating if unknown)."""
    if not identity.metrics:
        return DEVICE_TYPES[index % len(DEVICE_TYPES)]
    return max(DEVICE_TYPES, key=lambda kind: len(set(kind.metric_keys()) & set(identity.metrics)))


@dataclass
class SimulatedMachine:
    """One device's physics, faults, counters and the readings it holds while offline."""

    identity: DeviceIdentity
    kind: DeviceType
    published: tuple[str, ...]
    state: DeviceState
    rng: random.Random
    faults: list[Fault] = field(default_factory=list)
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    offline: bool = False

    def reading(self, t: float, env: Environment, ts_ms: int) -> tuple[dict[str, Any] | None, bool]:
        """The next reading at simulated time `t` (None if every sensor is out) and offline."""
        effect = effect_at(self.kind, self.faults, t)
        self.state, values = step(
            self.kind, self.state, t, env, self.rng,
            process_bias=effect.process_bias, sensor_bias=effect.sensor_bias,
        )  # fmt: skip
        sent = without_dropped({k: v for k, v in values.items() if k in self.published}, effect)
        if not sent:
            return None, effect.offline
        self.seq += 1
        return {"ts": ts_ms, "seq": self.seq, "m": sent}, effect.offline


@dataclass
class FleetStats:
    published: int = 0
    batches: int = 0
    batched_readings: int = 0
    refused: int = 0


def build_machines(
    identities: Sequence[DeviceIdentity],
    *,
    seed: int,
    env: Environment,
    start: float,
    plan: FaultPlan,
    faults: dict[str, list[Fault]] | None = None,
) -> list[SimulatedMachine]:
    """A machine per identity; faults as given, or assigned by the plan from the seed."""
    machines = []
    for index, identity in enumerate(identities):
        kind = type_for(identity, index)
        published = tuple(
            k for k in kind.metric_keys() if not identity.metrics or k in identity.metrics
        )
        rng = random.Random(f"{seed}:{identity.key}")  # noqa: S311  # reproducible, not secret
        state = initial_state(kind, env, start, rng)
        machines.append(SimulatedMachine(identity, kind, published, state, rng))
    if faults is None:
        faults = assign_faults(
            [(m.identity.key, m.kind, m.published) for m in machines], plan, start=start, seed=seed
        )
    for machine in machines:
        machine.faults = list(faults.get(machine.identity.key, []))
    return machines


class Fleet:
    """Publishes every machine's readings every `interval_s` real seconds until stopped."""

    def __init__(
        self,
        machines: list[SimulatedMachine],
        *,
        mqtt_url: str,
        clock: SimClock,
        env: Environment,
        interval_s: float,
        buffer_max: int = 5000,
        log: Callable[[str], None] = lambda line: None,
        ca_file: Path | None = None,
    ) -> None:
        address = broker_address(mqtt_url)
        self.host, self.port = address.host, address.port
        self.tls = tls_context(ca_file) if address.tls else None
        self.machines = machines
        self.clock = clock
        self.env = env
        self.interval_s = interval_s
        self.buffer_max = buffer_max
        self.log = log
        self.stats = FleetStats()
        self._lock = threading.Lock()
        self._sent = 0
        self.clients: dict[str, paho.Client] = {}

    def connect(self) -> None:
        """Start every device's connection (each reconnects on its own when it drops)."""
        for machine in self.machines:
            self.clients[machine.identity.key] = self._connected_client(machine.identity)

    def _connected_client(self, identity: DeviceIdentity) -> paho.Client:
        # a fresh client per connection: paho leaks its wake-up socket pair when one client's
        # network loop is started a second time
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=identity.key, protocol=paho.MQTTv5
        )
        client.username_pw_set(identity.key, identity.secret)
        if self.tls is not None:
            client.tls_set_context(self.tls)
        client.reconnect_delay_set(1, 30)
        client.on_publish = self._on_publish
        client.connect_async(self.host, self.port)
        client.loop_start()
        return client

    def run(self, stop: threading.Event, *, duration_s: float = 0.0) -> FleetStats:
        """Publish on schedule (devices staggered over the interval) until stop or duration."""
        ends = time.monotonic() + duration_s if duration_s > 0 else float("inf")
        count = max(1, len(self.machines))
        begin = time.monotonic()
        due = [(begin + self.interval_s * i / count, i) for i in range(len(self.machines))]
        heapq.heapify(due)
        while due and not stop.is_set():
            at, index = heapq.heappop(due)
            if at >= ends:
                stop.wait(max(0.0, ends - time.monotonic()))
                break
            if stop.wait(max(0.0, at - time.monotonic())):
                break
            self.publish_next(self.machines[index])
            heapq.heappush(due, (at + self.interval_s, index))
        return self.stats

    def publish_next(self, machine: SimulatedMachine) -> None:
        """Take the machine's next reading and send it, or keep it while the device is offline."""
        reading, offline = machine.reading(self.clock.now(), self.env, time.time_ns() // 1_000_000)
        client = self.clients[machine.identity.key]
        if offline and not machine.offline:
            machine.offline = True
            client.disconnect()
            client.loop_stop()
            self.log(f"{machine.identity.key} went offline; buffering its readings")
        if reading is None:
            return
        if machine.offline and offline:
            machine.buffer.append(reading)
            del machine.buffer[: -self.buffer_max]  # a full buffer forgets the oldest
            return
        if machine.offline:
            machine.offline = False
            client = self._connected_client(machine.identity)
            self.clients[machine.identity.key] = client
            batch = [*machine.buffer, reading]
            machine.buffer.clear()
            self._send(machine, client, batch)
            with self._lock:
                self.stats.batches += 1
                self.stats.batched_readings += len(batch)
            self.log(f"{machine.identity.key} is back; sent {len(batch)} buffered readings")
            return
        self._send(machine, client, reading)

    def close(self, *, drain_s: float = 5.0) -> None:
        """Wait a little for the broker to acknowledge what was sent, then disconnect."""
        deadline = time.monotonic() + drain_s
        while time.monotonic() < deadline:
            with self._lock:
                if self.stats.published + self.stats.refused >= self._sent:
                    break
            time.sleep(0.05)
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()

    def _send(self, machine: SimulatedMachine, client: paho.Client, payload: Any) -> None:
        # QoS 1: paho keeps what it could not send yet and delivers it after the next CONNACK
        client.publish(f"fleet/{machine.identity.key}/telemetry", json.dumps(payload), qos=1)
        with self._lock:
            self._sent += 1

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self._lock:
            if reason.is_failure:
                self.stats.refused += 1
            else:
                self.stats.published += 1
