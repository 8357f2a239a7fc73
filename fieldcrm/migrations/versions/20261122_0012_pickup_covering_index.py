"""Pickup lines: the (distributor, day) index covers the summed columns, so a distributor's
dashboard and a settlement read only the index.

Revision ID: 0012_pickup_covering_index
Revises: 0011_product_list_prices
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_pickup_covering_index"
down_revision: str | None = "0011_product_list_prices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_pickup_lines_distributor_picked_on"


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="pickup_lines")
    op.create_index(
        _INDEX,
        "pickup_lines",
        ["distributor_org_id", "picked_on"],
        postgresql_include=["currency", "net_value", "quantity", "product_model_id"],
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="pickup_lines")
    op.create_index(_INDEX, "pickup_lines", ["distributor_org_id", "picked_on"])
