"""Telemetry: metric positions, devices, the readings hypertable, rollups, dead letters.

Revision ID: 0002_telemetry
Revises: 0001_foundation
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_telemetry"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLLUPS = {"readings_1m": "7 days", "readings_1h": "90 days"}


def upgrade() -> None:
    op.add_column("metric_definitions", sa.Column("position", sa.SmallInteger(), nullable=True))
    op.execute(
        "UPDATE metric_definitions m SET position = r.pos FROM ("
        " SELECT id, row_number() OVER (PARTITION BY product_model_id ORDER BY id) - 1 AS pos"
        " FROM metric_definitions) r WHERE r.id = m.id"
    )
    op.alter_column("metric_definitions", "position", nullable=False)
    op.create_unique_constraint(
        op.f("uq_metric_definitions_product_model_id_position"),
        "metric_definitions",
        ["product_model_id", "position"],
    )

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f("ck_devices_status")),
        sa.CheckConstraint(
            "key ~ '^[a-z0-9][a-z0-9_-]{2,62}$'", name=op.f("ck_devices_key_format")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_devices_asset_id_assets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("key", name=op.f("uq_devices_key")),
    )
    op.create_index(op.f("ix_devices_asset_id"), "devices", ["asset_id"])
    op.create_index(
        "uq_devices_active_asset",
        "devices",
        ["asset_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )

    op.create_table(
        "readings",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("values", postgresql.ARRAY(sa.Double()), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "ts", "seq", name=op.f("pk_readings")),
    )
    # One-day chunks: a fleet of 10,000 devices at one message per 10 s writes ~86 M rows a
    # day (~8 GB with the index), about a quarter of this machine's memory, as advised.
    # No default ts index: the primary key (device_id, ts, seq) serves every query we make,
    # and each index less is write throughput gained.
    op.execute(
        "SELECT create_hypertable('readings', by_range('ts', INTERVAL '1 day'), "
        "create_default_indexes => false)"
    )

    for table, chunk in _ROLLUPS.items():
        op.create_table(
            table,
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("position", sa.SmallInteger(), nullable=False),
            sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.Column("total", sa.Double(), nullable=False),
            sa.Column("low", sa.Double(), nullable=False),
            sa.Column("high", sa.Double(), nullable=False),
            sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last", sa.Double(), nullable=False),
            sa.PrimaryKeyConstraint("device_id", "position", "bucket", name=op.f(f"pk_{table}")),
        )
        op.execute(
            f"SELECT create_hypertable('{table}', by_range('bucket', INTERVAL '{chunk}'), "
            "create_default_indexes => false)"
        )

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("device_key", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(
        "ix_dead_letters_device_key_received_at", "dead_letters", ["device_key", "received_at"]
    )
    op.create_index("ix_dead_letters_reason_received_at", "dead_letters", ["reason", "received_at"])


def downgrade() -> None:
    op.drop_table("dead_letters")
    for table in _ROLLUPS:
        op.drop_table(table)
    op.drop_table("readings")
    op.drop_index("uq_devices_active_asset", table_name="devices")
    op.drop_index(op.f("ix_devices_asset_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_constraint(
        op.f("uq_metric_definitions_product_model_id_position"), "metric_definitions"
    )
    op.drop_column("metric_definitions", "position")
