"""The migrations and the models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from fieldcrm.migrate import include_object
from fieldcrm.models import load_all_models


def test_models_match_the_migrated_schema(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_server_default": False}
        )
        diff = compare_metadata(context, load_all_models().metadata)
    assert diff == []


def test_job_queue_schema_is_installed(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None
