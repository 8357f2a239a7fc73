"""The one settings object, read from FIELDCRM_* variables and var/secrets.env."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE_NAME = "secrets.env"
LOCAL_DB_USER = "fieldcrm"
LOCAL_DB_NAME = "fieldcrm"
MQTT_SERVICE_ACCOUNTS = ("ingest", "worker", "web")
# the broker usernames of those accounts: fieldcrm-ingest, ...; no device or engineer has it
MQTT_SERVICE_USER_PREFIX = "fieldcrm-"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the setting and what to do."""


class Settings(BaseSettings):
    """Everything configurable; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="FIELDCRM_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    secret_key: SecretStr | None = None

    database_url: str | None = None
    test_database_url: str | None = None
    mqtt_url: str | None = None
    # PEM file of the CA that signed an mqtts:// broker's certificate; unset: the system's
    mqtt_ca_file: Path | None = None
    # production over plain mqtt:// to a broker that is not on this host anyway
    mqtt_allow_plain: bool = False
    ledger_rpc_url: str | None = None
    ledger_private_key: SecretStr | None = None
    # registries and issuers a document may be anchored by, besides the registries this
    # installation deployed and its own anchoring account: "chain_id:0xaddress", "0xaddress"
    ledger_trusted_registries: list[str] = []
    ledger_trusted_issuers: list[str] = []
    # the public verify pages: checks per client address (limits' notation), and how long a
    # verdict is reused for the same document before the chain is asked again
    ledger_verify_rate: str = "30/minute"
    ledger_verdict_cache_seconds: int = 60

    pg_port: int = 54329
    mqtt_port: int = 18830
    chain_port: int = 18545
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    https: bool = False
    # production serves over https (Secure cookies, HSTS); plain http only when this says so
    allow_http: bool = False
    # a scraper sends "Authorization: Bearer <token>" for /metrics; else administrators only
    metrics_token: SecretStr | None = None
    # the address people reach the app at (QR codes on printed reports point here)
    public_url: str | None = None

    local_pg_password: SecretStr | None = None
    mqtt_ingest_password: SecretStr | None = None
    mqtt_worker_password: SecretStr | None = None
    mqtt_web_password: SecretStr | None = None

    telemetry_max_payload_bytes: int = 256 * 1024
    telemetry_max_batch_readings: int = 10_000
    telemetry_max_future_seconds: int = 300
    telemetry_max_past_days: int = 30
    telemetry_retention_days: int = 90

    dispatch_offer_seconds: int = 120
    dispatch_candidate_pool: int = 10
    dispatch_excluded_sample: int = 10

    service_orders_cleared_alert_action: Literal["cancel", "downgrade"] = "cancel"
    service_orders_predictive_margin_hours: int = 24
    service_orders_signature_max_bytes: int = 256 * 1024
    service_orders_intake_debounce_ms: int = 200

    # an approval step pending this long escalates to the next level (a step may set its own)
    approval_escalation_hours: int = 48

    # uploaded files (partner documents, training videos) under server-generated names
    upload_dir: Path | None = None
    upload_max_bytes: int = 50 * 1024 * 1024
    video_max_bytes: int = 500 * 1024 * 1024
    # e-mail for notifications: smtp://[user:password@]host[:port]; unset = in-app only
    smtp_url: SecretStr | None = None
    # PEM file of the CA that signed the SMTP server's certificate; unset: the system's
    smtp_ca_file: Path | None = None
    mail_from: str = "fieldcrm@localhost"

    # a tile server for the maps, e.g. https://tiles.example.org/{z}/{x}/{y}.png ({s} may
    # stand for a subdomain); unset = the offline base map cut from npm geodata at setup
    map_tile_url: str = ""
    map_attribution: str = ""

    # how dates, times and numbers read where neither the user nor the organization chose
    # (IANA zone, CLDR locale; docs/decisions.md "Time zones and locales")
    default_time_zone: str = "Europe/Berlin"
    default_locale: str = "en_GB"

    session_max_age_hours: int = 12
    # a session nobody used for this long ends (the browser left open on a shared PC)
    session_idle_minutes: int = 120
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # administrators and dispatchers log in with a code from an authenticator app too; unset:
    # required in production (enrolled at the next login), optional elsewhere
    require_staff_totp: bool | None = None

    @model_validator(mode="after")
    def _refuse_missing_secret_in_production(self) -> Settings:
        if self.env == "production" and not (
            self.secret_key and self.secret_key.get_secret_value()
        ):
            raise ValueError("FIELDCRM_SECRET_KEY must be set in production")
        return self

    @model_validator(mode="after")
    def _refuse_plain_http_in_production(self) -> Settings:
        if self.env == "production" and not self.https and not self.allow_http:
            raise ValueError(
                "FIELDCRM_HTTPS must be true in production (serve it behind a TLS proxy): "
                "session cookies would travel in clear. FIELDCRM_ALLOW_HTTP=true runs it over "
                "plain http anyway, with a warning at start"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unusable_mqtt_url(self) -> Settings:
        if self.mqtt_url is None:
            if self.mqtt_ca_file is not None:
                raise ValueError(
                    "FIELDCRM_MQTT_CA_FILE is for an mqtts:// FIELDCRM_MQTT_URL; the local "
                    "broker speaks plain MQTT on 127.0.0.1"
                )
            return self
        url = urlsplit(self.mqtt_url)
        if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
            raise ValueError(
                "FIELDCRM_MQTT_URL must look like mqtts://host:port or mqtt://host:port"
            )
        if url.scheme == "mqtt" and self.mqtt_ca_file is not None:
            raise ValueError(
                "FIELDCRM_MQTT_CA_FILE is set but FIELDCRM_MQTT_URL is plain mqtt://: "
                "use mqtts:// for TLS"
            )
        if (
            url.scheme == "mqtt"
            and self.env == "production"
            and not self.mqtt_allow_plain
            and not is_loopback(url.hostname)
        ):
            raise ValueError(
                f"FIELDCRM_MQTT_URL: plain mqtt:// to {url.hostname} would send the broker "
                "passwords and every reading in clear; use mqtts:// (FIELDCRM_MQTT_CA_FILE for a "
                "private CA), or FIELDCRM_MQTT_ALLOW_PLAIN=true on a network you trust"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unusable_tile_url(self) -> Settings:
        if self.map_tile_url:
            map_tile_source(self.map_tile_url)
        return self

    @model_validator(mode="after")
    def _refuse_unknown_zone_or_locale(self) -> Settings:
        try:
            ZoneInfo(self.default_time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"FIELDCRM_DEFAULT_TIME_ZONE: {self.default_time_zone!r} is not an IANA time "
                "zone (for example Europe/Berlin)"
            ) from exc
        try:
            Locale.parse(self.default_locale)
        except (ValueError, UnknownLocaleError) as exc:
            raise ValueError(
                f"FIELDCRM_DEFAULT_LOCALE: {self.default_locale!r} is not a locale (for "
                "example en_GB or de_DE)"
            ) from exc
        return self

    @property
    def staff_totp_required(self) -> bool:
        if self.require_staff_totp is not None:
            return self.require_staff_totp
        return self.env == "production"

    @property
    def uses_local_database(self) -> bool:
        return self.database_url is None

    @property
    def uses_local_broker(self) -> bool:
        return self.mqtt_url is None

    @property
    def uses_local_chain(self) -> bool:
        return self.ledger_rpc_url is None

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL of the application database."""
        if self.database_url:
            return _as_psycopg_url(self.database_url)
        return self._local_database_url(LOCAL_DB_NAME)

    def resolved_test_database_url(self) -> str:
        """The database the test suite migrates and rolls back in; never the app's own."""
        if self.test_database_url:
            return _as_psycopg_url(self.test_database_url)
        if self.database_url:
            raise ConfigError(
                "FIELDCRM_TEST_DATABASE_URL: set it when FIELDCRM_DATABASE_URL points to an "
                "external server (tests never run in the application database)"
            )
        return self._local_database_url(f"{LOCAL_DB_NAME}_test")

    def resolved_upload_dir(self) -> Path:
        return self.upload_dir or self.var_dir / "uploads"

    def resolved_public_url(self) -> str:
        scheme = "https" if self.https else "http"
        return (self.public_url or f"{scheme}://{self.web_host}:{self.web_port}").rstrip("/")

    def resolved_mqtt_url(self) -> str:
        return self.mqtt_url or f"mqtt://127.0.0.1:{self.mqtt_port}"

    def resolved_rpc_url(self) -> str:
        return self.ledger_rpc_url or f"http://127.0.0.1:{self.chain_port}"

    def mqtt_password(self, account: str) -> str:
        """The password of one of the project's own broker accounts."""
        value = getattr(self, f"mqtt_{account}_password", None)
        if value is None:
            raise ConfigError(
                f"FIELDCRM_MQTT_{account.upper()}_PASSWORD is not set: run `make setup` "
                "(it writes var/secrets.env) or set it in the environment"
            )
        return str(value.get_secret_value())

    def session_secret(self) -> bytes:
        if self.secret_key is None:
            raise ConfigError("FIELDCRM_SECRET_KEY is not set: run `make setup` or set it")
        return self.secret_key.get_secret_value().encode()

    def _local_database_url(self, dbname: str) -> str:
        if self.local_pg_password is None:
            raise ConfigError(
                "FIELDCRM_LOCAL_PG_PASSWORD is not set: run `make setup` to create the local "
                "database, or set FIELDCRM_DATABASE_URL to an external one"
            )
        password = quote(self.local_pg_password.get_secret_value(), safe="")
        return f"postgresql+psycopg://{LOCAL_DB_USER}:{password}@127.0.0.1:{self.pg_port}/{dbname}"


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine's loopback (traffic never leaves it)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def map_tile_source(tile_url: str) -> str:
    """The CSP source (scheme, host, port) that serves the tiles of a tile URL template."""
    parts = urlsplit(tile_url.replace("{s}", "s"))
    host = tile_url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    problem = ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "is not an http(s) URL"
    elif any(f"{{{name}}}" not in tile_url for name in "zxy"):
        problem = "needs {z}, {x} and {y}"
    elif "{s}" in host and not host.startswith("{s}."):
        problem = "may use {s} only as the first part of the host"
    elif not all(c.isalnum() or c in ".-:" for c in host.removeprefix("{s}.")):
        problem = "has an unusable host"
    if problem:
        raise ValueError(f"FIELDCRM_MAP_TILE_URL {problem}: {tile_url!r}")
    return f"{parts.scheme}://{host.replace('{s}', '*')}"


def _as_psycopg_url(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg" + url[len(scheme) :]
    if scheme != "postgresql+psycopg":
        raise ConfigError(f"FIELDCRM_DATABASE_URL: expected a postgresql:// URL, got {scheme}://")
    return url


def secrets_file(var_dir: Path | None = None) -> Path:
    base = var_dir or Path(os.environ.get("FIELDCRM_VAR_DIR", PROJECT_ROOT / "var"))
    return base / SECRETS_FILE_NAME


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, falling back to var/secrets.env written by setup."""
    path = secrets_file()
    env_file = path if path.exists() else None
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        raise ConfigError("; ".join(_describe(error) for error in exc.errors())) from exc


def _describe(error: Mapping[str, Any]) -> str:
    field = "FIELDCRM_" + "_".join(str(part) for part in error["loc"]).upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    return message if message.startswith("FIELDCRM_") or not error["loc"] else f"{field}: {message}"
