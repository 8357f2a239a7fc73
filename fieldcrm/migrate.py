"""Run Alembic migrations against a database URL, serialised by an advisory lock."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from core.config import PROJECT_ROOT
from core.db import make_engine

_MIGRATION_LOCK = 724_311_001
_SKIP_TABLES_OF_EXTENSIONS = {"spatial_ref_sys"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate filter: PostGIS's and procrastinate's tables come from raw SQL, not models."""
    return not (
        type_ == "table"
        and name is not None
        and (name in _SKIP_TABLES_OF_EXTENSIONS or name.startswith("procrastinate_"))
    )


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate to `revision`; concurrent callers (xdist workers, processes) wait their turn."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            try:
                cfg = alembic_config(url)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
            except BaseException:
                conn.rollback()  # a failed migration leaves nothing half-done behind
                raise
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                conn.commit()
    finally:
        engine.dispose()
