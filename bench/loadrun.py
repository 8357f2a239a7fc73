"""Run the load generator (simulators.loadgen) as a separate program, like a real fleet."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from bench.fixtures import BenchBroker, Fleet

# One loadgen process publishes about 15,000 msgs/s here; above that it needs a second one.
_RATE_PER_PROCESS = 10_000


@dataclass(frozen=True)
class LoadRun:
    """The load generator's report of one run."""

    rate: float
    sent: int
    acked: int
    refused: int
    reconnects: int
    first_seq: int
    last_seq: dict[str, int]
    start: float
    end: float
    achieved_rate: float

    @property
    def next_seq(self) -> int:
        return max(self.last_seq.values(), default=self.first_seq - 1) + 1


def run_loadgen(
    broker: BenchBroker,
    fleet: Fleet,
    *,
    rate: float,
    seconds: float,
    first_seq: int,
    drain_timeout: float = 30,
) -> LoadRun:
    """Publish `rate` msgs/s from every device of the fleet for `seconds`; return the report."""
    processes = 1 if rate <= _RATE_PER_PROCESS else 2
    cmd = [
        sys.executable,
        "-m",
        "simulators.loadgen",
        "--devices-file",
        str(fleet.devices_file),
        "--url",
        broker.url,
        "--rate",
        str(rate),
        "--duration",
        str(seconds),
        "--metrics",
        ",".join(fleet.metric_keys),
        "--processes",
        str(processes),
        "--first-seq",
        str(first_seq),
        "--drain-timeout",
        str(drain_timeout),
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + drain_timeout + 180, check=False
    )
    if not done.stdout.strip():
        raise RuntimeError(f"loadgen failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return LoadRun(
        rate=rate,
        sent=report["sent"],
        acked=report["acked"],
        refused=report["refused"],
        reconnects=report["reconnects"],
        first_seq=report["first_seq"],
        last_seq=report["last_seq"],
        start=report["start"],
        end=report["end"],
        achieved_rate=report["achieved_rate"],
    )
