"""Health checks of the services the product needs; each failure names the setting and a fix."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import LiteralString
from urllib.parse import urlsplit

import psycopg
from sqlalchemy.engine import make_url

from core.config import ConfigError, Settings
from core.jobs import libpq_conninfo

MIN_TIMESCALEDB = (2, 13)
MIN_POSTGIS = (3, 3)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


class ServiceUnavailable(Exception):
    """A required service cannot be reached; str() is one line naming the setting."""


def _where(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"


def _db_setting(settings: Settings) -> str:
    return (
        "FIELDCRM_DATABASE_URL"
        if settings.database_url
        else "the local database (FIELDCRM_PG_PORT)"
    )


def connect_database(
    settings: Settings, url: str | None = None
) -> psycopg.Connection[tuple[object, ...]]:
    """Open a plain connection, turning every failure into one clear line."""
    try:
        url = url or settings.resolved_database_url()
    except ConfigError as exc:
        raise ServiceUnavailable(str(exc)) from exc
    try:
        return psycopg.connect(libpq_conninfo(url), connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        fix = (
            "check the URL"
            if settings.database_url
            else "start it with `fieldcrm services start` (or `make setup`)"
        )
        raise ServiceUnavailable(
            f"{_db_setting(settings)}: cannot connect to {_where(url)}: {reason}; {fix}"
        ) from exc


def check_database(settings: Settings) -> list[Check]:
    """PostgreSQL reachable, TimescaleDB preloaded and installed, PostGIS installed."""
    try:
        conn = connect_database(settings)
    except ServiceUnavailable as exc:
        return [Check("postgresql", False, str(exc))]
    with conn:
        version = _scalar(conn, "SHOW server_version")
        preload = _scalar(conn, "SHOW shared_preload_libraries")
        installed = _pairs(conn, "SELECT extname, extversion FROM pg_extension")
        available = _pairs(
            conn,
            "SELECT name, default_version FROM pg_available_extensions "
            "WHERE name IN ('timescaledb', 'postgis')",
        )
    checks = [
        Check(
            "postgresql",
            True,
            f"PostgreSQL {version} at {_where(settings.resolved_database_url())}",
        )
    ]
    checks.append(
        Check(
            "timescaledb preloaded",
            "timescaledb" in preload,
            f"shared_preload_libraries = {preload!r}",
            "add timescaledb to shared_preload_libraries and restart PostgreSQL",
        )
    )
    for ext, minimum in (("timescaledb", MIN_TIMESCALEDB), ("postgis", MIN_POSTGIS)):
        have = installed.get(ext)
        if have is None:
            fix = (
                "run `fieldcrm migrate`"
                if ext in available
                else f"install the {ext} extension for this server (`make setup` does it locally)"
            )
            checks.append(Check(ext, False, "not installed in the database", fix))
            continue
        ok = tuple(int(part) for part in str(have).split(".")[:2]) >= minimum
        checks.append(
            Check(
                ext,
                ok,
                f"version {have}",
                "" if ok else f"needs {ext} >= {'.'.join(map(str, minimum))}",
            )
        )
    return checks


def _scalar(conn: psycopg.Connection[tuple[object, ...]], query: LiteralString) -> str:
    row = conn.execute(query).fetchone()
    return "" if row is None else str(row[0])


def _pairs(conn: psycopg.Connection[tuple[object, ...]], query: LiteralString) -> dict[str, str]:
    return {str(row[0]): str(row[1]) for row in conn.execute(query).fetchall()}


def check_tcp(name: str, url: str, setting: str, *, default_port: int) -> Check:
    """Can we open a TCP connection to the service behind a URL?"""
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return Check(name, True, f"reachable at {host}:{port}")
    except OSError as exc:
        return Check(
            name,
            False,
            f"{setting}: cannot connect to {host}:{port} ({exc.strerror or exc})",
            "start it with `fieldcrm services start` or fix the URL",
        )


def require_broker(settings: Settings, *, account: str = "worker") -> None:
    """Connect once as one of our accounts; raise ServiceUnavailable naming the setting."""
    from core.mqtt import MqttError, random_client_id, service_client

    setting = "FIELDCRM_MQTT_URL" if settings.mqtt_url else "the local broker (FIELDCRM_MQTT_PORT)"
    try:
        client = service_client(
            settings, account, client_id=random_client_id(f"fieldcrm-check-{account}")
        )
        client.connect(timeout=5)
    except (MqttError, ConfigError) as exc:
        raise ServiceUnavailable(
            f"{setting}: {exc}; start it with `fieldcrm services start` or fix the URL"
        ) from exc
    client.close()
