"""The `fieldcrm` command: services, migrations, health, processes, demo data."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from core.checks import ServiceUnavailable, connect_database, require_broker
from core.config import ConfigError, Settings, get_settings
from core.mqtt import MqttError
from fieldcrm.services.base import ServiceError

app = typer.Typer(
    help="fieldcrm: IoT-connected field-service CRM",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
services_app = typer.Typer(
    help="The project's local services (PostgreSQL, Mosquitto, anvil).", no_args_is_help=True
)
app.add_typer(services_app, name="services")
console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

_FRIENDLY = (ConfigError, ServiceError, ServiceUnavailable, MqttError)


def friendly(func: F) -> F:
    """Turn configuration and service failures into one red line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _FRIENDLY as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]  # same signature as func


def _local_services() -> list[Any]:
    from fieldcrm.services import anvil, mosquitto, postgres

    return [postgres, mosquitto, anvil]


@services_app.command("start")
@friendly
def services_start() -> None:
    """Create (first time) and start the local services; external ones are left alone."""
    from fieldcrm.services.secrets import ensure_secrets

    settings = get_settings()
    ensure_secrets(settings.var_dir)
    get_settings.cache_clear()
    settings = get_settings()
    for module in _local_services():
        name = module.__name__.rsplit(".", 1)[-1]
        with console.status(f"starting {name}"):
            module.start(settings)
        state = module.status(settings)
        console.print(f"[green]✓[/green] {state.name}: {state.detail}")


@services_app.command("stop")
@friendly
def services_stop() -> None:
    """Stop the local services (anvil saves its state on the way out)."""
    settings = get_settings()
    for module in reversed(_local_services()):
        module.stop(settings)
        console.print(f"stopped {module.__name__.rsplit('.', 1)[-1]}")


@services_app.command("status")
@friendly
def services_status() -> None:
    """Show whether each local service runs."""
    settings = get_settings()
    table = Table("service", "running", "where")
    down = False
    for module in _local_services():
        state = module.status(settings)
        down = down or not state.running
        table.add_row(
            state.name, "[green]yes[/green]" if state.running else "[red]no[/red]", state.detail
        )
    Console().print(table)
    if down:
        raise typer.Exit(1)


@app.command()
@friendly
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    from fieldcrm.migrate import upgrade

    settings = get_settings()
    connect_database(settings).close()
    with console.status("migrating"):
        upgrade(settings.resolved_database_url())
    console.print("[green]✓[/green] database schema is up to date")


@app.command()
@friendly
def doctor() -> None:
    """Check every service, extension and file the product needs, and say how to fix gaps."""
    from fieldcrm.doctor import run_checks

    checks = run_checks(get_settings())
    table = Table("check", "ok", "detail", "fix")
    for check in checks:
        table.add_row(
            check.name,
            "[green]✓[/green]" if check.ok else "[red]✗[/red]",
            check.detail,
            "" if check.ok else check.fix,
        )
    Console().print(table)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@app.command()
@friendly
def web(
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
    access_log: bool = typer.Option(True, help="log every request"),
) -> None:
    """Serve the web app (JSON API, pages, SSE) with uvicorn."""
    import uvicorn

    settings = get_settings()
    connect_database(settings).close()
    if settings.env == "production" and not settings.https:
        console.print(
            "[yellow]warning:[/yellow] production over plain http (FIELDCRM_ALLOW_HTTP): "
            "session cookies travel in clear; serve it behind a TLS proxy with FIELDCRM_HTTPS=true",
            highlight=False,
        )
    uvicorn.run(
        "fieldcrm.app:create_app",
        factory=True,
        host=host or settings.web_host,
        port=port or settings.web_port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
        log_level="info",
        access_log=access_log,
    )


@app.command()
@friendly
def worker() -> None:
    """Run background jobs from the PostgreSQL queue."""
    from fieldcrm.worker import run_worker

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # procrastinate logs every start and end of every periodic job (several a minute) at
    # INFO: what the product's own jobs say matters more; failures still show as warnings
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    connect_database(get_settings()).close()
    run_worker()


@app.command()
@friendly
def ingest(
    instance: str = typer.Option("1", help="stable name: the broker keeps this session"),
    metrics_port: int = typer.Option(0, help="serve Prometheus metrics on 127.0.0.1:PORT"),
    batch_max: int = typer.Option(5000, help="most messages stored in one transaction"),
    leave: bool = typer.Option(False, help="scale down: drain, then end this instance's session"),
) -> None:
    """Consume device telemetry from MQTT into TimescaleDB; run several to share the load."""
    import signal
    import threading

    from prometheus_client import start_http_server

    from core.db import get_sessionmaker
    from telemetry.ingest.pipeline import Ingest, IngestOptions

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()
    connect_database(settings).close()
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    options = IngestOptions(instance=instance, batch_max=batch_max)
    if leave:
        stop.set()  # connect, drain what the broker holds for this instance, and leave
    Ingest(settings, get_sessionmaker(), options=options, after_insert=_rules()).run(
        stop, leave=leave
    )


def _demo_fleet_argv(settings: Settings) -> list[str]:
    """Devices for the demo assets, and the command that makes them publish."""
    import sys

    from core.db import get_sessionmaker
    from fieldcrm.demo_devices import provision_demo_devices
    from fieldcrm.demo_engineers import ensure_demo_engineers

    with console.status("provisioning the demo devices"), get_sessionmaker()() as session:
        ensure_demo_engineers(session)
        path = provision_demo_devices(session, settings)
    demo = Path(__file__).resolve().parents[1] / "simulators" / "demo.toml"
    simulator = [sys.executable, "-m", "simulators.cli", "--config", str(demo)]
    return [*simulator, "--devices-file", str(path)]


@app.command(
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],
    }
)
def simulate(ctx: typer.Context) -> None:
    """Simulate the fleet, its faults, engineers and pickups (`simulate --help` for the flags)."""
    from simulators.cli import main as run_simulator

    raise typer.Exit(run_simulator(ctx.args))


def _rules() -> Any:
    from telemetry.rules.engine import evaluate_batch

    return evaluate_batch


@app.command()
@friendly
def seed(
    demo: bool = typer.Option(False, "--demo", help="load the demo data set"),
    if_empty: bool = typer.Option(False, "--if-empty", help="only when no users exist"),
) -> None:
    """Load demo data (idempotent) and print the logins."""
    from fieldcrm.seed import print_logins, seed_demo

    if not demo:
        console.print("nothing to do: pass --demo")
        raise typer.Exit(1)
    connect_database(get_settings()).close()
    logins = seed_demo(only_if_empty=if_empty)
    print_logins(Console(), logins)


@app.command()
@friendly
def up(
    demo: bool | None = typer.Option(
        None, help="seed the demo data when the database is empty (default: yes, not in production)"
    ),
    stop_services: bool = typer.Option(True, help="stop the local services on exit"),
) -> None:
    """Start the services, migrate, and run every process; Ctrl-C stops everything."""
    from fieldcrm.runner import Process, process_argv, supervise

    services_start()
    migrate()
    settings = get_settings()
    require_broker(settings)
    processes = [
        # the demo's simulated engineers poll the API: a line per request would bury the rest
        Process("web", process_argv("web", "--no-access-log")),
        Process("worker", process_argv("worker")),
        Process("ingest", process_argv("ingest", "--metrics-port", "9108")),
    ]
    if demo is None:
        demo = settings.env != "production"
    if demo:
        seed(demo=True, if_empty=True)  # refused in production
        processes.append(Process("simulate", _demo_fleet_argv(settings)))
    url = f"http{'s' if settings.https else ''}://{settings.web_host}:{settings.web_port}"
    console.print(
        f"\n[bold]fieldcrm is up[/bold]: {url}/login   (API docs: {url}/docs)\n"
        "Ctrl-C stops everything.",
        highlight=False,
    )
    try:
        supervise(processes, lambda line: console.print(f"[yellow]{line}[/yellow]"))
    finally:
        if stop_services:
            services_stop()


ledger_app = typer.Typer(help="The ledger: verify anchored documents.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
@friendly
def ledger_verify(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the document")],
    receipt: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="its receipt")],
    rpc_url: Annotated[
        str | None, typer.Option(help="any node of the chain (default: ours)")
    ] = None,
    registry: Annotated[
        list[str] | None,
        typer.Option(help="a registry to believe, chain_id:0xaddress (default: ours)"),
    ] = None,
    issuer: Annotated[
        list[str] | None,
        typer.Option(help="an issuer to believe, 0xaddress (default: our anchoring account)"),
    ] = None,
) -> None:
    """Check a document against its receipt and the chain; exit 0 only when it is valid.
    Only registries this installation deployed (or --registry names) are believed."""
    import json

    from core.db import get_sessionmaker
    from ledger.trust import configured_trust, installation_trust
    from ledger.verify import ChainUnavailable, verify

    settings = get_settings()
    try:
        if registry:
            trust = configured_trust(settings, registries=registry, issuers=issuer or [])
        else:  # the registries this installation deployed are in its database
            connect_database(settings).close()  # one clear line when it is down
            with get_sessionmaker()() as session:
                trust = installation_trust(session, settings, issuers=issuer or [])
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    try:
        verdict = verify(
            receipt.read_bytes(),
            file.read_bytes(),
            rpc_url or settings.resolved_rpc_url(),
            trust=trust,
        )
    except ChainUnavailable as exc:
        console.print(f"[red]error:[/red] the chain cannot be reached: {exc}", highlight=False)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(verdict.as_dict(), indent=2))
    if verdict.status != "valid":
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
