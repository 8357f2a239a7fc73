"""A live server on its own freshly migrated and seeded database, and a real Chromium.

The server reads the chain of a throw-away anvil, so a test can anchor the documents the demo
seed queued (the worker, which would do it, does not run here) and see them verified.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.config import PROJECT_ROOT, get_settings
from core.db import make_engine
from core.jobs import libpq_conninfo
from fieldcrm.demo_engineers import ensure_demo_engineers
from fieldcrm.migrate import upgrade
from fieldcrm.services.base import free_port
from ledger.anchoring import anchor_pending
from tests.ledger.conftest import ANVIL, ThrowawayChain

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
# full-page screenshots of every open page of a failed test
FAILURE_SHOTS = Path(__file__).parent / "results"
PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}


@dataclass
class LiveServer:
    url: str
    engine: Engine
    chain: ThrowawayChain
    console_errors: list[str] = field(default_factory=list)

    def session(self) -> Session:
        """A session on the live server's database (the caller commits)."""
        return Session(self.engine, expire_on_commit=False)

    def anchor_waiting_documents(self) -> int:
        """What the worker's ledger job does: anchor every queued hash on the test chain."""
        with self.session() as session:
            return anchor_pending(session, self.chain.settings())


def _drop_database(url: str, *, create_again: bool = False) -> None:
    target = make_url(url)
    admin = libpq_conninfo(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        name = sql.Identifier(str(target.database))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if create_again:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


@pytest.fixture(scope="session")
def e2e_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayChain]:
    """An anvil of the run's own, the developer's chain stays untouched (a missing anvil fails,
    unlike the ledger tests' skip: without it no browser test would run)."""
    if not ANVIL.exists():
        pytest.fail(f"{ANVIL} is missing: run `make setup` (npm ci installs anvil)")
    chain = ThrowawayChain(free_port(), tmp_path_factory.mktemp("anvil") / "anvil.log")
    chain.start()
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture(scope="session")
def live_server(worker_id: str, e2e_chain: ThrowawayChain) -> Iterator[LiveServer]:
    """The real app in uvicorn, on a database of its own with the demo data."""
    test_url = make_url(get_settings().resolved_test_database_url())
    # per process: two runs at once (a developer's terminal and another's) must not share it
    name = f"{test_url.database}_e2e_{worker_id}_{os.getpid()}"
    url = test_url.set(database=name).render_as_string(hide_password=False)
    _drop_database(url, create_again=True)
    upgrade(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "FIELDCRM_LEDGER_RPC_URL"},
        "FIELDCRM_DATABASE_URL": url,
        "FIELDCRM_CHAIN_PORT": str(e2e_chain.port),
        # the QR codes of the documents the seed issues point at this server
        "FIELDCRM_PUBLIC_URL": base,
        # the whole run calls from one address: the public pages' limit is not under test here
        "FIELDCRM_LEDGER_VERIFY_RATE": "1000/minute",
    }
    cli = [sys.executable, "-m", "fieldcrm.cli"]
    seeded = subprocess.run(
        [*cli, "seed", "--demo"], env=env, capture_output=True, text=True, timeout=120
    )
    if seeded.returncode != 0:
        pytest.fail(f"`fieldcrm seed --demo` failed:\n{seeded.stderr[-3000:]}")
    engine = make_engine(url)
    with Session(engine) as session:
        ensure_demo_engineers(session)  # what `fieldcrm up` adds to the seed
        session.commit()
    log = RESULTS / f"e2e-server-{worker_id}.log"
    RESULTS.mkdir(exist_ok=True)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*cli, "web", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_healthy(base, server, log)
        yield LiveServer(base, engine, e2e_chain)
    finally:
        server.terminate()
        server.wait(timeout=15)
        engine.dispose()
        _drop_database(url)


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


def _page(chromium: Browser, live_server: LiveServer, *, mobile: bool) -> Iterator[Page]:
    """A fresh browser context whose console errors (CSP violations included) are collected."""
    context = chromium.new_context(
        viewport=PHONE if mobile else LAPTOP,
        is_mobile=mobile,
        has_touch=mobile,
        base_url=live_server.url,
        accept_downloads=True,
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
    context.close()


@pytest.fixture
def phone(chromium: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh phone-sized browser context."""
    yield from _page(chromium, live_server, mobile=True)


@pytest.fixture
def laptop(chromium: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh laptop-sized browser context."""
    yield from _page(chromium, live_server, mobile=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """When a test fails, a full-page PNG of every page it has open goes to tests/e2e/results/."""
    report = yield
    browser = getattr(item, "funcargs", {}).get("chromium")
    if call.when == "call" and report.failed and isinstance(browser, Browser):
        FAILURE_SHOTS.mkdir(exist_ok=True)
        pages = [p for context in browser.contexts for p in context.pages if not p.is_closed()]
        for index, page in enumerate(pages):
            suffix = f"-{index}" if len(pages) > 1 else ""
            page.screenshot(path=str(FAILURE_SHOTS / f"{item.name}{suffix}.png"), full_page=True)
    return report
