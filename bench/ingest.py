"""Ingest benchmark: the product's ingest vs a naive subscriber vs raw COPY; one JSON line.

Everything runs against a real Mosquitto and PostgreSQL of its own (a private broker on a
free port, a `fieldcrm_bench` database), created at the start and removed at the end.

    .venv/bin/python -m bench.ingest                    # the full run, about 10 minutes
    .venv/bin/python -m bench.ingest --step-seconds 10  # a quick look while developing
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.baselines import measure_copy, measure_naive
from bench.fixtures import bench_broker as start_bench_broker
from bench.fixtures import create_fleet, migrated, scratch_database
from bench.product import (
    StepResult,
    final_totals,
    ingest_available,
    ingest_process,
    run_step,
    warm_up,
)
from core.config import get_settings

DEFAULT_RATES = (2000, 4000, 8000, 12000, 16000)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--step-seconds", type=float, default=60.0)
    parser.add_argument("--rates", default=",".join(map(str, DEFAULT_RATES)), help="msgs/s")
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--drain-seconds", type=float, default=20.0, help="per step")
    parser.add_argument("--naive-seconds", type=float, default=20.0)
    parser.add_argument("--naive-rate", type=float, default=5000.0, help="above its capacity")
    parser.add_argument("--copy-rows", type=int, default=300_000)
    parser.add_argument("--database", default="fieldcrm_bench")
    return parser.parse_args(argv)


def _product(
    url: str, broker: Any, fleet: Any, args: argparse.Namespace, first_seq: int, log: Path
) -> dict[str, Any]:
    rates = [float(rate) for rate in args.rates.split(",") if rate]
    steps: list[StepResult] = []
    with ingest_process(url, broker, log) as proc:
        start_seq = seq = warm_up(url, broker, fleet, first_seq=first_seq)
        pids = {"ingest": proc.pid, "broker": int(broker.paths.pid_file.read_text())}
        postmaster = get_settings().var_dir / "pg" / "data" / "postmaster.pid"
        if postmaster.exists():
            pids["postgres"] = int(postmaster.read_text().split()[0])
        for rate in rates:
            if proc.poll() is not None:
                raise RuntimeError(f"ingest exited with {proc.returncode}; see {log}")
            step = run_step(
                url,
                broker,
                fleet,
                rate=rate,
                seconds=args.step_seconds,
                first_seq=seq,
                drain_timeout=args.drain_seconds,
                pids=pids,
            )
            steps.append(step)
            seq = step.load.next_seq
            if not step.sustained:
                break
        sent = sum(step.load.sent for step in steps)
        totals = final_totals(url, sent, start_seq, seq - 1, timeout=120)
    best = max((s for s in steps if s.sustained), key=lambda s: s.rate, default=None)
    width = len(fleet.metric_keys)
    msgs = best.load.achieved_rate if best else 0.0
    return {
        "sustained_msgs_per_s": round(msgs),
        "sustained_readings_per_s": round(msgs * width),
        "lost": best.lost if best else None,
        "duplicates": best.duplicates if best else None,
        "p50_latency_ms": best.p50_ms if best else None,
        "p99_latency_ms": best.p99_ms if best else None,
        "rates_tried": [step.rate for step in steps],
        "steps": [step.as_dict() for step in steps],
        **totals,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns the figures that main prints."""
    began = time.monotonic()
    result: dict[str, Any] = {"devices": args.devices, "duration_s": args.step_seconds}
    with (
        tempfile.TemporaryDirectory(prefix="fieldcrm-bench-") as tmp,
        scratch_database(args.database) as url,
    ):
        migrated(url)
        fleet, hashes = create_fleet(url, devices=args.devices, work_dir=Path(tmp))
        result["metrics_per_msg"] = len(fleet.metric_keys)
        result.update(measure_copy(url, fleet, rows=args.copy_rows))
        with start_bench_broker(hashes) as broker:
            naive, load = measure_naive(
                url, broker, fleet, rate=args.naive_rate, seconds=args.naive_seconds, first_seq=1
            )
            result.update(naive)
            result["ingest_available"] = ingest_available()
            if result["ingest_available"]:
                log = get_settings().var_dir / "bench" / "ingest.log"
                result.update(_product(url, broker, fleet, args, load.next_seq, log))
                result["ingest_log"] = str(log)
    product = result.get("sustained_readings_per_s")
    result["ratio_product_vs_naive"] = (
        round(product / result["naive_readings_per_s"], 2) if product else None
    )
    result["ratio_product_vs_copy"] = (
        round(product / result["copy_readings_per_s"], 3) if product else None
    )
    for key in (
        "sustained_readings_per_s",
        "sustained_msgs_per_s",
        "lost",
        "duplicates",
        "p50_latency_ms",
        "p99_latency_ms",
    ):
        result.setdefault(key, None)
    result.setdefault("rates_tried", [])
    result["wall_s"] = round(time.monotonic() - began, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its one JSON line."""
    result = run(_parse_args(argv))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
