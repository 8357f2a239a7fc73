"""Partner portal core: distributor profiles, pickup lines, rebate programs and tiers,
rebate statements and their lines.

Revision ID: 0009_partner_rebates
Revises: 0008_service_certificates
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_partner_rebates"
down_revision: str | None = "0008_service_certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rebate_programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period_kind", sa.String(length=16), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("product_family", sa.String(length=64), nullable=True),
        sa.Column("calculation", sa.String(length=16), nullable=False),
        sa.Column("growth", sa.String(length=16), nullable=False),
        sa.Column("cap_measure", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("cap_payout", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "calculation = 'retroactive' OR measure = 'net_value'",
            name=op.f("ck_rebate_programs_incremental_on_value"),
        ),
        sa.CheckConstraint(
            "calculation IN ('retroactive', 'incremental')",
            name=op.f("ck_rebate_programs_calculation"),
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_rebate_programs_currency")),
        sa.CheckConstraint(
            "growth IN ('none', 'on_increment', 'on_total')", name=op.f("ck_rebate_programs_growth")
        ),
        sa.CheckConstraint(
            "measure IN ('net_value', 'quantity')", name=op.f("ck_rebate_programs_measure")
        ),
        sa.CheckConstraint(
            "period_kind IN ('month', 'quarter', 'year')",
            name=op.f("ck_rebate_programs_period_kind"),
        ),
        sa.CheckConstraint(
            "cap_measure IS NULL OR cap_measure >= 0", name=op.f("ck_rebate_programs_cap_measure")
        ),
        sa.CheckConstraint(
            "cap_payout IS NULL OR cap_payout >= 0", name=op.f("ck_rebate_programs_cap_payout")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebate_programs")),
    )
    op.create_table(
        "distributor_profiles",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "tier IN ('silver', 'gold', 'platinum')", name=op.f("ck_distributor_profiles_tier")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_distributor_profiles_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_distributor_profiles")),
    )
    op.create_table(
        "rebate_tiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("lower_bound", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("upper_bound", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.CheckConstraint("lower_bound >= 0", name=op.f("ck_rebate_tiers_lower_bound")),
        sa.CheckConstraint("rate >= 0 AND rate <= 100", name=op.f("ck_rebate_tiers_rate_percent")),
        sa.CheckConstraint(
            "upper_bound IS NULL OR upper_bound > lower_bound",
            name=op.f("ck_rebate_tiers_half_open"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["rebate_programs.id"],
            name=op.f("fk_rebate_tiers_program_id_rebate_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebate_tiers")),
        sa.UniqueConstraint(
            "program_id", "lower_bound", name=op.f("uq_rebate_tiers_program_id_lower_bound")
        ),
    )
    op.create_table(
        "pickup_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("distributor_org_id", sa.Integer(), nullable=False),
        sa.Column("picked_on", sa.Date(), nullable=False),
        sa.Column("product_model_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("net_value", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("document_number", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_pickup_lines_currency")),
        sa.CheckConstraint("line_no > 0", name=op.f("ck_pickup_lines_line_no_positive")),
        sa.ForeignKeyConstraint(
            ["distributor_org_id"],
            ["organizations.id"],
            name=op.f("fk_pickup_lines_distributor_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_model_id"],
            ["product_models.id"],
            name=op.f("fk_pickup_lines_product_model_id_product_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_lines")),
        sa.UniqueConstraint(
            "distributor_org_id",
            "document_number",
            "line_no",
            name=op.f("uq_pickup_lines_distributor_org_id_document_number_line_no"),
        ),
    )
    op.create_index(
        "ix_pickup_lines_distributor_picked_on",
        "pickup_lines",
        ["distributor_org_id", "picked_on"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pickup_lines_product_model_id"), "pickup_lines", ["product_model_id"], unique=False
    )
    op.create_table(
        "rebate_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("distributor_org_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("measure", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("ytd_measure", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("prior_ytd_measure", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("ytd_rebate", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("previously_settled", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("payout", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("anchor_request_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_rebate_statements_currency")),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'issued', 'paid')",
            name=op.f("ck_rebate_statements_status"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_rebate_statements_period")),
        sa.ForeignKeyConstraint(
            ["anchor_request_id"],
            ["anchor_requests.id"],
            name=op.f("fk_rebate_statements_anchor_request_id_anchor_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_rebate_statements_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_rebate_statements_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["distributor_org_id"],
            ["organizations.id"],
            name=op.f("fk_rebate_statements_distributor_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["rebate_programs.id"],
            name=op.f("fk_rebate_statements_program_id_rebate_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebate_statements")),
        sa.UniqueConstraint(
            "distributor_org_id",
            "program_id",
            "period_start",
            name=op.f("uq_rebate_statements_distributor_org_id_program_id_period_start"),
        ),
    )
    op.create_index(
        "ix_rebate_statements_program_id_period_start",
        "rebate_statements",
        ["program_id", "period_start"],
        unique=False,
    )
    op.create_table(
        "rebate_statement_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("product_model_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("net_value", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_model_id"],
            ["product_models.id"],
            name=op.f("fk_rebate_statement_lines_product_model_id_product_models"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["rebate_statements.id"],
            name=op.f("fk_rebate_statement_lines_statement_id_rebate_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebate_statement_lines")),
    )
    op.create_index(
        op.f("ix_rebate_statement_lines_statement_id"),
        "rebate_statement_lines",
        ["statement_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_rebate_statement_lines_statement_id"), table_name="rebate_statement_lines"
    )
    op.drop_table("rebate_statement_lines")
    op.drop_index("ix_rebate_statements_program_id_period_start", table_name="rebate_statements")
    op.drop_table("rebate_statements")
    op.drop_index(op.f("ix_pickup_lines_product_model_id"), table_name="pickup_lines")
    op.drop_index("ix_pickup_lines_distributor_picked_on", table_name="pickup_lines")
    op.drop_table("pickup_lines")
    op.drop_table("rebate_tiers")
    op.drop_table("distributor_profiles")
    op.drop_table("rebate_programs")
