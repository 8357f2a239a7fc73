"""Engineers' MQTT identity (the hash of each phone's secret); offers by work order.

Revision ID: 0006_engineer_mqtt
Revises: 0005_work_order_tracking
Create Date: 2026-11-22 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_engineer_mqtt"
down_revision: str | None = "0005_work_order_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("engineers", sa.Column("mqtt_secret_hash", sa.String(length=200), nullable=True))
    op.create_index(
        "ix_dispatch_offers_work_order_id_engineer_id",
        "dispatch_offers",
        ["work_order_id", "engineer_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_dispatch_offers_work_order_id_engineer_id", table_name="dispatch_offers")
    op.drop_column("engineers", "mqtt_secret_hash")
