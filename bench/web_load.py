"""Web load for the page benchmarks: the real app in uvicorn on a scratch database, logged-in
sessions (CSRF and all, like a browser), a timed closed-loop load, and percentiles.

Each session is one httpx client with its own cookies and one request in flight at a time;
latency is measured in the benchmark process from sending the request to the last byte of
the body, so it includes the client's own event loop on the same machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.cpu import CpuMeter
from fieldcrm.services.base import free_port

_CLI = [sys.executable, "-m", "fieldcrm.cli"]
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_CONCURRENCY = 8
"""Logins in flight at once: each verifies an argon2 hash (~0.1 s of a core)."""


@dataclass(frozen=True)
class WebServer:
    url: str
    workers: int
    pid: int
    log: Path


@contextmanager
def web_server(database_url: str, *, workers: int, log: Path) -> Iterator[WebServer]:
    """`fieldcrm web` on a free port against `database_url`; stopped (with its workers) after."""
    port = free_port()
    env = {**os.environ, "FIELDCRM_DATABASE_URL": database_url}
    argv = [*_CLI, "web", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, log)
        yield WebServer(base, workers, proc.pid, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"web server not healthy in 60 s: {log.read_text()[-2000:]}")


@dataclass
class WebSession:
    """One logged-in user: their client and the (label, path) pages they cycle through."""

    email: str
    client: httpx.AsyncClient
    pages: list[tuple[str, str]] = field(default_factory=list)


async def log_in(base: str, email: str, password: str) -> WebSession:
    """Log in like a browser: the login page sets the CSRF cookie, the form sends the token."""
    client = httpx.AsyncClient(
        base_url=base,
        follow_redirects=False,
        timeout=httpx.Timeout(60.0),
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )
    page = await client.get("/login")
    match = _CSRF_FIELD.search(page.text)
    if page.status_code != 200 or match is None:
        await client.aclose()
        raise RuntimeError(f"no login form for {email}: HTTP {page.status_code}")
    response = await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": match.group(1)}
    )
    if response.status_code != 303 or response.headers.get("location", "").startswith("/login"):
        await client.aclose()
        raise RuntimeError(f"login of {email} failed: HTTP {response.status_code}")
    return WebSession(email, client)


async def log_in_all(base: str, credentials: Sequence[tuple[str, str]]) -> list[WebSession]:
    """Log every (email, password) in, a few at a time; all or an error."""
    gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

    async def one(email: str, password: str) -> WebSession:
        async with gate:
            return await log_in(base, email, password)

    return list(await asyncio.gather(*(one(email, pw) for email, pw in credentials)))


async def close_all(sessions: Sequence[WebSession]) -> None:
    await asyncio.gather(*(session.client.aclose() for session in sessions))


@dataclass(frozen=True)
class Sample:
    label: str
    ms: float
    status: int


@dataclass
class LoadResult:
    """Every timed request of one load run."""

    seconds: float
    concurrency: int
    samples: list[Sample]

    def figures(self, prefix: str = "") -> dict[str, Any]:
        """p50/p99 overall (`<prefix>p50_ms`) and per label (`<prefix><label>_p99_ms`), counts,
        rate; a label "group:variant" is reported both alone and in its group."""
        everything = [s.ms for s in self.samples]
        bad = [s for s in self.samples if s.status != 200]
        out: dict[str, Any] = {
            f"{prefix}p50_ms": percentile(everything, 50),
            f"{prefix}p99_ms": percentile(everything, 99),
            f"{prefix}max_ms": round(max(everything), 1) if everything else None,
            f"{prefix}requests": len(self.samples),
            f"{prefix}errors": len(bad),
            f"{prefix}requests_per_s": round(len(self.samples) / self.seconds, 1),
        }
        by_label: dict[str, list[float]] = defaultdict(list)
        for sample in self.samples:
            # "chart:90d" counts as itself and as "chart"
            by_label[sample.label.replace(":", "_")].append(sample.ms)
            if ":" in sample.label:
                by_label[sample.label.split(":")[0]].append(sample.ms)
        for label, values in sorted(by_label.items()):
            out[f"{prefix}{label}_p50_ms"] = percentile(values, 50)
            out[f"{prefix}{label}_p99_ms"] = percentile(values, 99)
            out[f"{prefix}{label}_requests"] = len(values)
        if bad:
            statuses = Counter(f"{s.label}:{s.status}" for s in bad)
            out[f"{prefix}error_statuses"] = dict(statuses.most_common(10))
        return out


def percentile(values: Sequence[float], pct: int) -> float | None:
    """The pct-th percentile (inclusive method), ms rounded to 0.1; None without samples."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 1)


async def run_load(
    sessions: Sequence[WebSession],
    *,
    seconds: float,
    warm_up_s: float = 2.0,
    think_s: float = 0.0,
) -> LoadResult:
    """Every session requests its pages in turn for `seconds` after a warm-up: back to back,
    or with a think time of `think_s` on average (0.5 to 1.5 times it) after each answer.

    Sessions start at different points of their page list so that the mix is even at any
    moment. Only requests sent after the warm-up are counted; a transport error counts as
    status 0.
    """
    pause = random.Random(len(sessions))
    samples: list[Sample] = []
    began = time.perf_counter()
    measure_from = began + warm_up_s
    deadline = measure_from + seconds

    async def loop(index: int, session: WebSession) -> None:
        turn = index
        while True:
            sent = time.perf_counter()
            if sent >= deadline:
                return
            label, path = session.pages[turn % len(session.pages)]
            turn += 1
            try:
                response = await session.client.get(path)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            if sent >= measure_from:
                samples.append(Sample(label, (time.perf_counter() - sent) * 1000, status))
            if think_s:
                await asyncio.sleep(think_s * pause.uniform(0.5, 1.5))

    await asyncio.gather(*(loop(i, s) for i, s in enumerate(sessions) if s.pages))
    return LoadResult(seconds=seconds, concurrency=len(sessions), samples=samples)


async def probe(sessions: Sequence[WebSession]) -> dict[str, int]:
    """One request of every distinct page label (by the first session that has it): status."""
    seen: dict[str, int] = {}
    for session in sessions:
        for label, path in session.pages:
            if label not in seen:
                seen[label] = (await session.client.get(path)).status_code
    return seen


def keep_pages(sessions: Sequence[WebSession], labels: set[str]) -> None:
    """Drop the pages whose label is not in `labels` (a page this checkout does not have)."""
    for session in sessions:
        session.pages = [(label, path) for label, path in session.pages if label in labels]


async def healthz_baseline(sessions: Sequence[WebSession], *, seconds: float) -> dict[str, Any]:
    """`GET /healthz` (one `SELECT 1`) from every session at once: what any request gets."""
    saved = [session.pages for session in sessions]
    for session in sessions:
        session.pages = [("healthz", "/healthz")]
    try:
        figures = (await run_load(sessions, seconds=seconds)).figures()
    finally:
        for session, pages in zip(sessions, saved, strict=True):
            session.pages = pages
    return {
        "baseline_healthz_p50_ms": figures["healthz_p50_ms"],
        "baseline_healthz_p99_ms": figures["healthz_p99_ms"],
        "baseline_healthz_requests_per_s": figures["requests_per_s"],
    }


async def serial_figures(session: WebSession, *, seconds: float) -> dict[str, Any]:
    """The same pages from one session alone: the service time without queueing."""
    return (await run_load([session], seconds=seconds, warm_up_s=0.5)).figures(prefix="serial_")


def load_model(think_s: float) -> str:
    """How the sessions made their requests, in words for the JSON line."""
    if think_s:
        return f"every session: a page, then a pause of {think_s} s on average, and again"
    return "closed loop: every session keeps one request in flight, no think time"


async def metered_load(
    server: WebServer, sessions: Sequence[WebSession], *, seconds: float, think_s: float = 0.0
) -> tuple[LoadResult, dict[str, float]]:
    """`run_load` with the CPU it took: the machine's busy share and, in percent of one core,
    the web server (its workers included) and this benchmark's own client. On a shared
    machine a busy share near 100% with little of it ours means the figures are pessimistic."""
    meter = CpuMeter({"web": server.pid, "bench_client": os.getpid()})
    load = await run_load(sessions, seconds=seconds, think_s=think_s)
    cpu = meter.percent()
    cpu.pop("loadgen_cpu_pct", None)  # no load generator child here
    return load, cpu
