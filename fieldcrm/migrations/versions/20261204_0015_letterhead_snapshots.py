"""Letterheads as issued: company profile snapshots, referenced by the statements, quotes and
service reports that printed them; the quote's validity date.

Revision ID: 0015_letterhead_snapshots
Revises: 0014_time_zones_company_profile
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_letterhead_snapshots"
down_revision: str | None = "0014_time_zones_company_profile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SNAPSHOTS = "company_profile_snapshots"
_REFERENCES = (
    ("rebate_statements", "issuer_profile_id"),
    ("rebate_statements", "recipient_profile_id"),
    ("inquiries", "quote_issuer_profile_id"),
    ("inquiries", "quote_recipient_profile_id"),
    ("service_certificates", "issuer_profile_id"),
    ("service_certificates", "recipient_profile_id"),
)


def upgrade() -> None:
    op.create_table(
        _SNAPSHOTS,
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("vat_id", sa.String(32), nullable=False),
        sa.Column("registration_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(64), nullable=False),
        sa.Column("website", sa.String(200), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_company_profile_snapshots_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_profile_snapshots")),
    )
    op.create_index(op.f("ix_company_profile_snapshots_org_id"), _SNAPSHOTS, ["org_id"])
    for table, column in _REFERENCES:
        op.add_column(table, sa.Column(column, sa.String(64), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_{column}_{_SNAPSHOTS}"), table, _SNAPSHOTS, [column], ["id"]
        )
    op.add_column("inquiries", sa.Column("quote_valid_until", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("inquiries", "quote_valid_until")
    for table, column in reversed(_REFERENCES):
        op.drop_constraint(op.f(f"fk_{table}_{column}_{_SNAPSHOTS}"), table, type_="foreignkey")
        op.drop_column(table, column)
    op.drop_index(op.f("ix_company_profile_snapshots_org_id"), table_name=_SNAPSHOTS)
    op.drop_table(_SNAPSHOTS)
