"""Service certificates: the issued, anchored report of each completed work order.

Revision ID: 0008_service_certificates
Revises: 0007_ledger
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_service_certificates"
down_revision: str | None = "0007_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_certificates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("anchor_request_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["anchor_request_id"],
            ["anchor_requests.id"],
            name=op.f("fk_service_certificates_anchor_request_id_anchor_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_service_certificates_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_certificates")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_service_certificates_work_order_id")),
    )


def downgrade() -> None:
    op.drop_table("service_certificates")
