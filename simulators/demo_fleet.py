"""The live demo's devices: each publishes its model's metrics every few seconds.

Values follow a daily cycle with noise inside the normal band; a few devices drift towards
their critical limit so that trend, warning and critical alerts open while you watch.
Usage: python -m simulators.demo_fleet --devices-file var/demo-devices.json
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from core.config import get_settings
from core.mqtt import broker_address, tls_context


@dataclass
class Metric:
    key: str
    normal: float
    spread: float
    limit: float | None


@dataclass
class DemoDevice:
    key: str
    secret: str
    metrics: list[Metric]
    drifting: str | None
    seq: int = 0
    started: float = field(default_factory=time.time)

    def reading(self, rng: random.Random, drift_minutes: float) -> dict[str, object]:
        now = time.time()
        day = math.sin(2 * math.pi * (now % 86400) / 86400)
        values = {}
        for m in self.metrics:
            value = m.normal + m.spread * (0.5 * day + 0.15 * rng.gauss(0, 1))
            if m.key == self.drifting and m.limit is not None:
                # reach the critical limit after `drift_minutes`, then stay near it
                progress = min(1.2, (now - self.started) / (drift_minutes * 60))
                value += (m.limit - m.normal) * progress
            values[m.key] = round(value, 3)
        self.seq += 1
        return {"ts": int(now * 1000), "seq": self.seq, "m": values}


def load(path: Path) -> list[DemoDevice]:
    return [
        DemoDevice(d["key"], d["secret"], [Metric(**m) for m in d["metrics"]], d.get("drifting"))
        for d in json.loads(path.read_text())
    ]


def run(
    devices: list[DemoDevice],
    *,
    url: str,
    interval: float,
    drift_minutes: float,
    stop: threading.Event,
    ca_file: Path | None = None,
) -> None:
    """Publish until stopped; paho buffers while the broker is away and sends on reconnect."""
    address = broker_address(url)
    tls = tls_context(ca_file) if address.tls else None
    rng = random.Random(7)  # noqa: S311  # demo values, not secrets
    clients = []
    for device in devices:
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=device.key, protocol=paho.MQTTv5
        )
        client.username_pw_set(device.key, device.secret)
        if tls is not None:
            client.tls_set_context(tls)
        client.reconnect_delay_set(1, 30)
        client.connect_async(address.host, address.port)
        client.loop_start()
        clients.append(client)
    try:
        while not stop.is_set():
            for device, client in zip(devices, clients, strict=True):
                client.publish(
                    f"fleet/{device.key}/telemetry",
                    json.dumps(device.reading(rng, drift_minutes)),
                    qos=1,
                )
            stop.wait(interval)
    finally:
        for client in clients:
            client.disconnect()
            client.loop_stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices-file", type=Path, required=True)
    parser.add_argument("--url", default=None)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between readings")
    parser.add_argument(
        "--drift-minutes",
        type=float,
        default=20.0,
        help="how long a drifting device takes to reach its critical limit",
    )
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    settings = get_settings()
    run(
        load(args.devices_file),
        url=args.url or settings.resolved_mqtt_url(),
        ca_file=settings.mqtt_ca_file,
        interval=args.interval,
        drift_minutes=args.drift_minutes,
        stop=stop,
    )


if __name__ == "__main__":
    main()
