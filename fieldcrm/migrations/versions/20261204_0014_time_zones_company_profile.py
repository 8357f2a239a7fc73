"""Time zones and locales of organizations and users; the company profile (letterhead) of
documents.

Revision ID: 0014_time_zones_company_profile
Revises: 0013_approval_handoffs
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_time_zones_company_profile"
down_revision: str | None = "0013_approval_handoffs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("organizations", "users"):
        op.add_column(table, sa.Column("time_zone", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("locale", sa.String(16), nullable=True))
    op.create_table(
        "company_profiles",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False, server_default=""),
        sa.Column("vat_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("registration_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("email", sa.String(320), nullable=False, server_default=""),
        sa.Column("phone", sa.String(64), nullable=False, server_default=""),
        sa.Column("website", sa.String(200), nullable=False, server_default=""),
        sa.Column("terms", sa.Text(), nullable=False, server_default=""),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_company_profiles_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_company_profiles")),
    )


def downgrade() -> None:
    op.drop_table("company_profiles")
    for table in ("users", "organizations"):
        op.drop_column(table, "locale")
        op.drop_column(table, "time_zone")
