"""The background job queue: procrastinate on the application's PostgreSQL.

Each package declares its tasks on a `Blueprint` in its jobs.py; the composition
root (fieldcrm.worker) binds them all to one App, built lazily from the settings.
"""

from __future__ import annotations

from collections.abc import Iterable

from procrastinate import App, Blueprint, PsycopgConnector
from sqlalchemy.engine import make_url

from core.config import get_settings


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The libpq URL (postgresql://...) behind a SQLAlchemy psycopg URL."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def make_job_app(blueprints: Iterable[tuple[str, Blueprint]], *, url: str | None = None) -> App:
    """An App bound to the database, with every (namespace, blueprint) pair's tasks."""
    conninfo = libpq_conninfo(url or get_settings().resolved_database_url())
    app = App(connector=PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4))
    for namespace, blueprint in blueprints:
        app.add_tasks_from(blueprint, namespace=namespace)
    return app
