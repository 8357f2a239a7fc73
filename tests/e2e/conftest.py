"""A live server on its own freshly migrated and seeded database, and a real Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from psycopg import sql
from sqlalchemy.engine import make_url

from core.config import PROJECT_ROOT, get_settings
from core.jobs import libpq_conninfo
from fieldcrm.migrate import upgrade
from fieldcrm.services.base import free_port

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = PROJECT_ROOT / "test-results"


@dataclass
class LiveServer:
    url: str
    console_errors: list[str] = field(default_factory=list)


def _recreate_database(url: str) -> None:
    target = make_url(url)
    admin = libpq_conninfo(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        name = sql.Identifier(str(target.database))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


@pytest.fixture(scope="session")
def live_server(worker_id: str) -> Iterator[LiveServer]:
    """The real app in uvicorn, on a database of its own with the demo data."""
    test_url = make_url(get_settings().resolved_test_database_url())
    url = test_url.set(database=f"{test_url.database}_e2e_{worker_id}").render_as_string(
        hide_password=False
    )
    _recreate_database(url)
    upgrade(url)
    env = {**os.environ, "FIELDCRM_DATABASE_URL": url}
    cli = [sys.executable, "-m", "fieldcrm.cli"]
    subprocess.run([*cli, "seed", "--demo"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = RESULTS / f"e2e-server-{worker_id}.log"
    RESULTS.mkdir(exist_ok=True)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*cli, "web", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server, log)
        yield LiveServer(base)
    finally:
        server.terminate()
        server.wait(timeout=15)


def _wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"web server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"web server not healthy in 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(
    chromium: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh phone-sized browser context; a screenshot is saved when the test fails."""
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
    )
    page = context.new_page()
    errors: list[str] = []

    def _on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", _on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    live_server.console_errors = errors
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if call.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]  # read by the phone fixture
    return report
