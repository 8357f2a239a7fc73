"""How many days an approved quote holds, on the company profile.

Revision ID: 0016_quote_validity
Revises: 0015_letterhead_snapshots
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_quote_validity"
down_revision: str | None = "0015_letterhead_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "company_profiles",
        sa.Column("quote_valid_days", sa.SmallInteger(), nullable=False, server_default="30"),
    )


def downgrade() -> None:
    op.drop_column("company_profiles", "quote_valid_days")
