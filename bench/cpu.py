"""CPU accounting for a benchmark step: the whole machine and named processes."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _machine() -> dict[str, float]:
    """CPU seconds of the machine since boot (all cores): busy, total, softirq, steal."""
    fields = [float(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return {
        "machine_busy": (sum(fields) - idle) / _TICKS,
        "machine_total": sum(fields) / _TICKS,
        # loopback networking is charged here, to no process: part of the MQTT cost
        "machine_softirq": fields[6] / _TICKS,
        "machine_steal": fields[7] / _TICKS,
    }


def _process(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    parts = stat[stat.rindex(")") + 2 :].split()
    return (float(parts[11]) + float(parts[12])) / _TICKS


def _tree(parent: int) -> float:
    """CPU seconds of a process and its live children (a PostgreSQL postmaster's backends)."""
    total = _process(parent)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
                total += _process(int(entry.name))
    return total


def _children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuMeter:
    """Snapshot at start; `percent()` gives each process tree's share of one core since then."""

    pids: dict[str, int]
    _start: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._start = self._sample()

    def _sample(self) -> dict[str, float]:
        sample = {**_machine(), "wall": time.monotonic()}
        sample["waited_children"] = _children()
        sample.update({name: _tree(pid) for name, pid in self.pids.items()})
        return sample

    def percent(self) -> dict[str, float]:
        """Percent of one core used by each process (machine: percent of all cores)."""
        end = self._sample()
        delta = {key: end[key] - self._start[key] for key in end}
        wall = max(delta.pop("wall"), 1e-9)
        total = delta["machine_total"]
        out = {
            f"{key}_pct": round(100 * delta[key] / total, 1)
            for key in ("machine_busy", "machine_softirq", "machine_steal")
        }
        out["loadgen_cpu_pct"] = round(100 * delta["waited_children"] / wall, 1)
        out.update({f"{name}_cpu_pct": round(100 * delta[name] / wall, 1) for name in self.pids})
        return out
