"""`fieldcrm up`: run every process as a child, restart the ones that die, stop all on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_RESTART_WINDOW = 60.0
_MAX_RESTARTS_PER_WINDOW = 5
_STOP_GRACE = 15.0


@dataclass
class Process:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()


def process_argv(name: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "fieldcrm.cli", name, *extra]


def supervise(processes: list[Process], say: Callable[[str], None]) -> int:
    """Run until SIGINT/SIGTERM; a process that keeps crashing stops the whole run."""
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        while not stopping:
            time.sleep(0.2)
            for process in processes:
                code = process.exited()
                if code is None or stopping:
                    continue
                now = time.monotonic()
                process.restarts = [t for t in process.restarts if now - t < _RESTART_WINDOW]
                if len(process.restarts) >= _MAX_RESTARTS_PER_WINDOW:
                    say(
                        f"{process.name} exited {_MAX_RESTARTS_PER_WINDOW} times within a "
                        f"minute (last code {code}); stopping"
                    )
                    stopping = True
                    break
                say(f"{process.name} exited with code {code}; restarting")
                process.restarts.append(now)
                process.start()
        return _terminate(processes)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _terminate(processes: list[Process]) -> int:
    live = [p.proc for p in processes if p.proc is not None and p.proc.poll() is None]
    for proc in live:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE
    for proc in live:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0
