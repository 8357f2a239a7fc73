"""How a document's recipient reads dates, times and numbers, kept with the letterhead the
document printed (its re-rendering stays byte-identical after the organization changes them).

Revision ID: 0017_snapshot_reader
Revises: 0016_quote_validity
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_snapshot_reader"
down_revision: str | None = "0016_quote_validity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL on the snapshots of documents issued before: they print as the installation reads
    op.add_column("company_profile_snapshots", sa.Column("time_zone", sa.String(64)))
    op.add_column("company_profile_snapshots", sa.Column("locale", sa.String(16)))


def downgrade() -> None:
    op.drop_column("company_profile_snapshots", "locale")
    op.drop_column("company_profile_snapshots", "time_zone")
