"""Rules and their per-device state, alerts with their events, health scores and meters.

Revision ID: 0003_rules_alerts_health
Revises: 0002_telemetry
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_rules_alerts_health"
down_revision: str | None = "0002_telemetry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "status IN ('open', 'acknowledged')"
_SEVERITY = "severity IN ('warning', 'major', 'critical')"


def _now(name: str) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _ts(name: str) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    _create_rules()
    _create_alerts()
    _create_health()


def _create_rules() -> None:
    op.create_table(
        "rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_model_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("metric_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint(
            "kind IN ('threshold', 'duration', 'rate_of_change', 'anomaly', 'trend')",
            name=op.f("ck_rules_kind"),
        ),
        sa.CheckConstraint(_SEVERITY, name=op.f("ck_rules_severity")),
        sa.ForeignKeyConstraint(
            ["product_model_id"],
            ["product_models.id"],
            name=op.f("fk_rules_product_model_id_product_models"),
        ),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_rules_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
    )
    op.create_index(
        "uq_rules_model_metric_kind",
        "rules",
        ["product_model_id", "metric_key", "kind"],
        unique=True,
        postgresql_where=sa.text("asset_id IS NULL"),
    )
    op.create_index(
        "uq_rules_asset_metric_kind",
        "rules",
        ["asset_id", "metric_key", "kind"],
        unique=True,
        postgresql_where=sa.text("asset_id IS NOT NULL"),
    )
    op.create_table(
        "rule_states",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        _ts("last_ts"),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        _now("updated_at"),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_rule_states_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rules.id"], name=op.f("fk_rule_states_rule_id_rules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("device_id", "rule_id", name=op.f("pk_rule_states")),
    )


def _create_alerts() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("metric_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _now("opened_at"),
        _now("updated_at"),
        _ts("escalated_at"),
        _ts("acknowledged_at"),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        _ts("cleared_at"),
        sa.Column("clear_reason", sa.String(16), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        _ts("predicted_failure_at"),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'cleared')", name=op.f("ck_alerts_status")
        ),
        sa.CheckConstraint(_SEVERITY, name=op.f("ck_alerts_severity")),
        sa.CheckConstraint(
            "(status = 'cleared') = (cleared_at IS NOT NULL)", name=op.f("ck_alerts_cleared_at")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_alerts_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_alerts_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_alerts_rule_id_rules")),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(
        "uq_alerts_active_device_rule",
        "alerts",
        ["device_id", "rule_id"],
        unique=True,
        postgresql_where=sa.text(_ACTIVE),
    )
    op.create_index("ix_alerts_asset_id_opened_at", "alerts", ["asset_id", "opened_at"])
    op.create_index("ix_alerts_status_opened_at", "alerts", ["status", "opened_at"])
    op.create_index(op.f("ix_alerts_rule_id"), "alerts", ["rule_id"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        _now("at"),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_events_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_alert_events_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_alert_id"), "alert_events", ["alert_id"])


def _create_health() -> None:
    op.create_table(
        "asset_service_meters",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("last_service_runtime_hours", sa.Numeric(12, 2), nullable=False),
        sa.Column("service_interval_hours", sa.Numeric(12, 2), nullable=False),
        _ts("last_service_at"),
        _now("updated_at"),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_service_meters_asset_id_assets")
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_asset_service_meters")),
    )
    op.create_table(
        "asset_health",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("contributors", postgresql.JSONB(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        _ts("predicted_failure_at"),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_health_asset_id_assets")
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_asset_health")),
    )
    op.create_table(
        "health_scores",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("contributors", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "ts", name=op.f("pk_health_scores")),
    )
    # A score a minute per reporting asset: 10,000 assets write ~14 M small rows a day, so
    # 7-day chunks stay well inside memory; the primary key (asset_id, ts) serves the charts.
    op.execute(
        "SELECT create_hypertable('health_scores', by_range('ts', INTERVAL '7 days'), "
        "create_default_indexes => false)"
    )


def downgrade() -> None:
    op.drop_table("health_scores")
    op.drop_table("asset_health")
    op.drop_table("asset_service_meters")
    op.drop_table("alert_events")
    op.drop_table("alerts")
    op.drop_table("rule_states")
    op.drop_table("rules")
