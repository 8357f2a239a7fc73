"""Work orders: the alerts each covers, the progress of PM plans per asset.

Revision ID: 0005_work_order_tracking
Revises: 0004_service_orders
Create Date: 2026-11-22 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_work_order_tracking"
down_revision: str | None = "0004_service_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_order_alerts",
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("clear_handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_work_order_alerts_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_alerts_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_work_order_alerts")),
    )
    op.create_index(
        "ix_work_order_alerts_work_order_id", "work_order_alerts", ["work_order_id"], unique=False
    )
    op.create_table(
        "pm_progress",
        sa.Column("pm_plan_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("last_done_on", sa.Date(), nullable=False),
        sa.Column("last_done_hours", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("last_work_order_id", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_pm_progress_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["last_work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_pm_progress_last_work_order_id_work_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["pm_plan_id"],
            ["pm_plans.id"],
            name=op.f("fk_pm_progress_pm_plan_id_pm_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pm_plan_id", "asset_id", name=op.f("pk_pm_progress")),
    )


def downgrade() -> None:
    op.drop_table("pm_progress")
    op.drop_index("ix_work_order_alerts_work_order_id", table_name="work_order_alerts")
    op.drop_table("work_order_alerts")
