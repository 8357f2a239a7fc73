"""Load generator: many devices, each on its own MQTT connection, publishing at a set rate.

Each device authenticates as itself (the broker's ACL lets it write only `fleet/<key>/#`),
publishes QoS 1 telemetry per docs/telemetry-payload.md, and keeps unacknowledged messages
to re-send them after a reconnect, like a real device that buffers. One process drives its
devices from a single selector loop (no thread per connection); `--processes` adds more.

    python -m simulators.loadgen --devices-file devices.json --rate 2000 --duration 30
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from simulators.devices import DeviceCredential, FleetDriver, load_devices

DEFAULT_METRICS = (
    "hydraulic_pressure",
    "oil_temp",
    "engine_rpm",
    "vibration",
    "fuel_level",
    "coolant_temp",
)


@dataclass(frozen=True)
class LoadPlan:
    """What to send: to which broker, how fast, for how long, with which metrics."""

    url: str
    rate: float
    duration: float
    metrics: tuple[str, ...] = DEFAULT_METRICS
    seed: int = 1
    first_seq: int = 1
    inflight: int = 20
    max_messages: int | None = None
    drain_timeout: float = 30.0
    connect_timeout: float = 60.0
    ca_file: str | None = None  # the CA of an mqtts:// broker; None: the system's


@dataclass
class LoadReport:
    """What happened: counts, per-device last seq, the publishing window and the rate."""

    devices: int
    processes: int
    target_rate: float
    sent: int = 0
    acked: int = 0
    refused: int = 0
    reconnects: int = 0
    first_seq: int = 1
    last_seq: dict[str, int] = field(default_factory=dict)
    start: float = 0.0
    end: float = 0.0
    drained_at: float = 0.0

    @property
    def achieved_rate(self) -> float:
        window = self.end - self.start
        return self.sent / window if window > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["achieved_rate"] = round(self.achieved_rate, 1)
        out["duration_s"] = round(self.end - self.start, 3)
        return out


def run_load(plan: LoadPlan, devices: list[DeviceCredential], processes: int = 1) -> LoadReport:
    """Publish the plan's load from `processes` processes; return the merged report."""
    processes = max(1, min(processes, len(devices)))
    shares = [devices[i::processes] for i in range(processes)]
    if processes == 1:
        return _run_share(plan, shares[0], 1.0, 0, None)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results: multiprocessing.queues.Queue[dict[str, Any]] = ctx.Queue()
    workers = [
        ctx.Process(
            target=_worker_main,
            args=(plan, share, len(share) / len(devices), index, barrier, results),
            daemon=True,
        )
        for index, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    timeout = plan.connect_timeout + plan.duration + plan.drain_timeout + 60
    parts = [results.get(timeout=timeout) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    errors = [part["error"] for part in parts if "error" in part]
    if errors:
        raise RuntimeError("; ".join(errors))
    return _merge(plan, len(devices), processes, [LoadReport(**part) for part in parts])


def _worker_main(
    plan: LoadPlan,
    share: list[DeviceCredential],
    fraction: float,
    index: int,
    barrier: Any,
    results: Any,
) -> None:
    try:
        report = _run_share(plan, share, fraction, index, barrier)
        results.put(asdict(report))
    except Exception as exc:  # noqa: BLE001  # the parent reports every worker's failure
        barrier.abort()
        results.put({"error": f"worker {index}: {exc}"})


def _run_share(
    plan: LoadPlan, share: list[DeviceCredential], fraction: float, index: int, barrier: Any
) -> LoadReport:
    driver = FleetDriver(
        plan.url,
        share,
        metrics=plan.metrics,
        seed=plan.seed + index,
        inflight=plan.inflight,
        ca_file=plan.ca_file,
    )
    try:
        driver.connect_all(timeout=plan.connect_timeout)
        if barrier is not None:
            barrier.wait(timeout=plan.connect_timeout)
        cap = None if plan.max_messages is None else round(plan.max_messages * fraction)
        stats = driver.publish_for(
            rate=plan.rate * fraction,
            duration=plan.duration,
            first_seq=plan.first_seq,
            max_messages=cap,
            drain_timeout=plan.drain_timeout,
        )
    finally:
        driver.close()
    return LoadReport(
        devices=len(share),
        processes=1,
        target_rate=plan.rate * fraction,
        first_seq=plan.first_seq,
        **stats,
    )


def _merge(plan: LoadPlan, devices: int, processes: int, parts: list[LoadReport]) -> LoadReport:
    merged = LoadReport(devices, processes, plan.rate, first_seq=plan.first_seq)
    for part in parts:
        merged.sent += part.sent
        merged.acked += part.acked
        merged.refused += part.refused
        merged.reconnects += part.reconnects
        merged.last_seq.update(part.last_seq)
    merged.start = min(part.start for part in parts)
    merged.end = max(part.end for part in parts)
    merged.drained_at = max(part.drained_at for part in parts)
    return merged


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.loadgen", description=__doc__)
    parser.add_argument("--devices-file", type=Path, required=True, help="JSON [{key, secret}]")
    parser.add_argument("--url", help="mqtt(s)://host:port (default: the settings' broker)")
    parser.add_argument("--ca-file", help="CA of an mqtts:// broker (default: the settings')")
    parser.add_argument("--rate", type=float, required=True, help="total messages per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds of publishing")
    parser.add_argument("--metrics", default=",".join(DEFAULT_METRICS), help="comma-separated")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-seq", type=int, default=1)
    parser.add_argument("--inflight", type=int, default=20, help="unacked messages per device")
    parser.add_argument("--max-messages", type=int, help="stop after this many in total")
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the load generator from the command line; print the report as one JSON line."""
    args = _parse_args(argv)
    url, ca_file = args.url, args.ca_file
    if url is None:
        from core.config import get_settings

        settings = get_settings()
        url = settings.resolved_mqtt_url()
        if ca_file is None and settings.mqtt_ca_file is not None:
            ca_file = str(settings.mqtt_ca_file)
    plan = LoadPlan(
        url=url,
        ca_file=ca_file,
        rate=args.rate,
        duration=args.duration,
        metrics=tuple(key for key in args.metrics.split(",") if key),
        seed=args.seed,
        first_seq=args.first_seq,
        inflight=args.inflight,
        max_messages=args.max_messages,
        drain_timeout=args.drain_timeout,
    )
    started = time.monotonic()
    report = run_load(plan, load_devices(args.devices_file), args.processes)
    out = report.as_dict()
    out["wall_s"] = round(time.monotonic() - started, 3)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0 if report.acked == report.sent and report.refused == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
