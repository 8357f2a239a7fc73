"""Ledger: anchor requests, batches, proofs, contract deployments.

Revision ID: 0007_ledger
Revises: 0006_engineer_mqtt
Create Date: 2026-11-22 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_ledger"
down_revision: str | None = "0006_engineer_mqtt"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(length=66), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("deploy_tx", sa.String(length=66), nullable=False),
        sa.Column("deploy_block", sa.BigInteger(), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_deployments")),
    )
    op.create_index(
        "ix_chain_deployments_active",
        "chain_deployments",
        ["chain_id"],
        unique=True,
        postgresql_where=sa.text("retired_at IS NULL"),
    )
    op.create_table(
        "anchor_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=True),
        sa.Column("contract", sa.String(length=42), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'anchored', 'orphaned')", name=op.f("ck_anchor_batches_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchor_batches")),
    )
    op.create_table(
        "anchor_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'anchored', 'orphaned')", name=op.f("ck_anchor_requests_status")
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_anchor_requests_sha256_hex")),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["anchor_batches.id"],
            name=op.f("fk_anchor_requests_batch_id_anchor_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchor_requests")),
    )
    op.create_index("ix_anchor_requests_batch_id", "anchor_requests", ["batch_id"])
    op.create_index("ix_anchor_requests_sha256", "anchor_requests", ["sha256"])
    op.create_index(
        "ix_anchor_requests_pending",
        "anchor_requests",
        ["requested_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "anchor_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("receipt", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["anchor_batches.id"],
            name=op.f("fk_anchor_proofs_batch_id_anchor_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["anchor_requests.id"],
            name=op.f("fk_anchor_proofs_request_id_anchor_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchor_proofs")),
        sa.UniqueConstraint(
            "request_id", "batch_id", name=op.f("uq_anchor_proofs_request_id_batch_id")
        ),
    )
    op.create_index(op.f("ix_anchor_proofs_batch_id"), "anchor_proofs", ["batch_id"])


def downgrade() -> None:
    op.drop_table("anchor_proofs")
    op.drop_table("anchor_requests")
    op.drop_table("anchor_batches")
    op.drop_table("chain_deployments")
