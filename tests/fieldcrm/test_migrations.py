"""The migrations and the models describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from core.db import make_engine
from fieldcrm.migrate import alembic_config, include_object, upgrade
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


LATE_TABLE_OF_0004 = "work_order_photos"


def test_a_failing_migration_leaves_nothing_behind(db_engine: Engine, tmp_path: Path) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from tests.e2e.conftest import _drop_database

    url = db_engine.url.set(database=f"{db_engine.url.database}_failmig")
    rendered = url.render_as_string(hide_password=False)
    _drop_database(rendered, create_again=True)
    head = ScriptDirectory.from_config(alembic_config(rendered)).get_current_head()
    assert head is not None
    upgrade(rendered)  # a healthy database at head
    command.downgrade(alembic_config(rendered), "0003_rules_alerts_health")
    broken = make_engine(rendered)
    with broken.begin() as conn:
        # a table 0004 creates after service_contracts already exists: it fails half-way
        conn.execute(text(f"CREATE TABLE {LATE_TABLE_OF_0004} (id int)"))
    with pytest.raises(Exception, match="already exists"):
        upgrade(rendered)
    with broken.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('service_contracts')")).scalar() is None
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "0003_rules_alerts_health"
        )
    broken.dispose()
