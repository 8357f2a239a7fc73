"""Foundation: extensions, shared business records, auth tables and the job queue.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = "role IN ('admin', 'dispatcher', 'engineer', 'distributor', 'customer')"
_PROCRASTINATE_TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)


def _created_at() -> sa.Column[sa.DateTime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    _create_crm_tables()
    _create_auth_tables()
    # The schema is several statements with RAISE '... %' format strings; psycopg reads a
    # lone % as a placeholder, so double it as procrastinate's own apply_schema does.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def _create_crm_tables() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=True),
        _created_at(),
        sa.CheckConstraint(
            "distributor_id IS NULL OR kind = 'customer'",
            name=op.f("ck_organizations_distributor_only_for_customers"),
        ),
        sa.CheckConstraint(
            "kind IN ('manufacturer', 'distributor', 'customer')",
            name=op.f("ck_organizations_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["organizations.id"],
            name=op.f("fk_organizations_distributor_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_index(op.f("ix_organizations_distributor_id"), "organizations", ["distributor_id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _created_at(),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower_case")),
        sa.CheckConstraint(_ROLES, name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_users_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_org_id"), "users", ["org_id"])

    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column(
            "location",
            Geography(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_sites_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_index("ix_sites_location", "sites", ["location"], postgresql_using="gist")
    op.create_index(op.f("ix_sites_org_id"), "sites", ["org_id"])

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("job_title", sa.String(length=120), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_contacts_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_contacts_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(op.f("ix_contacts_org_id"), "contacts", ["org_id"])
    op.create_index(op.f("ix_contacts_site_id"), "contacts", ["site_id"])

    op.create_table(
        "product_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manufacturer_org_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["manufacturer_org_id"],
            ["organizations.id"],
            name=op.f("fk_product_models_manufacturer_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_models")),
        sa.UniqueConstraint("code", name=op.f("uq_product_models_code")),
    )
    op.create_index(
        op.f("ix_product_models_manufacturer_org_id"), "product_models", ["manufacturer_org_id"]
    )

    op.create_table(
        "metric_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_model_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=False),
        sa.Column("max_value", sa.Float(), nullable=False),
        sa.Column("warn_low", sa.Float(), nullable=True),
        sa.Column("warn_high", sa.Float(), nullable=True),
        sa.Column("crit_low", sa.Float(), nullable=True),
        sa.Column("crit_high", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "min_value < max_value", name=op.f("ck_metric_definitions_plausible_range")
        ),
        sa.ForeignKeyConstraint(
            ["product_model_id"],
            ["product_models.id"],
            ondelete="CASCADE",
            name=op.f("fk_metric_definitions_product_model_id_product_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_definitions")),
        sa.UniqueConstraint(
            "product_model_id", "key", name=op.f("uq_metric_definitions_product_model_id_key")
        ),
    )

    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("product_model_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("install_date", sa.Date(), nullable=False),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column(
            "runtime_hours", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False
        ),
        _created_at(),
        sa.CheckConstraint("runtime_hours >= 0", name=op.f("ck_assets_runtime_hours_not_negative")),
        sa.CheckConstraint(
            "warranty_end IS NULL OR warranty_end >= install_date",
            name=op.f("ck_assets_warranty_after_install"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
            name=op.f("fk_assets_owner_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_model_id"],
            ["product_models.id"],
            name=op.f("fk_assets_product_model_id_product_models"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_assets_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint(
            "product_model_id", "serial", name=op.f("uq_assets_product_model_id_serial")
        ),
    )
    op.create_index(op.f("ix_assets_owner_org_id"), "assets", ["owner_org_id"])
    op.create_index(op.f("ix_assets_site_id"), "assets", ["site_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_org_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            ondelete="SET NULL",
            name=op.f("fk_audit_log_actor_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_actor_user_id"), "audit_log", ["actor_user_id"])
    op.create_index("ix_audit_log_entity_entity_id", "audit_log", ["entity", "entity_id"])


def _create_auth_tables() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_web_sessions_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_email_at", "login_failures", ["email", "failed_at"])
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "failed_at"])


def downgrade() -> None:
    _drop_procrastinate_schema()
    for table in (
        "login_failures",
        "web_sessions",
        "audit_log",
        "assets",
        "metric_definitions",
        "product_models",
        "contacts",
        "sites",
        "users",
        "organizations",
    ):
        op.drop_table(table)
    op.execute("DROP EXTENSION IF EXISTS postgis")
    op.execute("DROP EXTENSION IF EXISTS timescaledb")


def _drop_procrastinate_schema() -> None:
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE"
    )
    # PL/pgSQL bodies record no dependency on tables, so the functions are dropped by name.
    op.execute(
        """
        DO $$
        DECLARE fn regprocedure;
        BEGIN
            FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
                      JOIN pg_namespace n ON n.oid = p.pronamespace
                      WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || fn || ' CASCADE';
            END LOOP;
        END $$
        """
    )
    for type_name in _PROCRASTINATE_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
