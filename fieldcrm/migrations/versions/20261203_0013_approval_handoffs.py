"""Approval steps: consecutive numbers, waiting since, time-out and escalation, delegation and
an administrator's override with its reason.

Revision ID: 0013_approval_handoffs
Revises: 0012_pickup_covering_index
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_approval_handoffs"
down_revision: str | None = "0012_pickup_covering_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "inquiry_approvals"
# Rounds started before get the setting's default time-out of the day (48 h,
# FIELDCRM_APPROVAL_ESCALATION_HOURS) and wait since the inquiry's last change.


def upgrade() -> None:
    op.add_column("approval_steps", sa.Column("timeout_hours", sa.SmallInteger(), nullable=True))
    op.create_check_constraint(
        op.f("ck_approval_steps_timeout_positive"), "approval_steps", "timeout_hours > 0"
    )
    for name, kind in (
        ("number", sa.SmallInteger()),
        ("timeout_hours", sa.SmallInteger()),
        ("pending_since", sa.DateTime(timezone=True)),
        ("escalates_at", sa.DateTime(timezone=True)),
        ("delegated_to", sa.Integer()),
        ("delegated_by", sa.Integer()),
        ("override_reason", sa.Text()),
    ):
        op.add_column(_TABLE, sa.Column(name, kind, nullable=True))
    op.execute(
        """
        UPDATE inquiry_approvals a SET number = n.number, timeout_hours = 48
        FROM (SELECT id, row_number() OVER (PARTITION BY inquiry_id, round ORDER BY position)
              AS number FROM inquiry_approvals) n
        WHERE n.id = a.id
        """
    )
    op.execute(
        """
        UPDATE inquiry_approvals a SET pending_since = i.updated_at,
            escalates_at = CASE WHEN a.approver_capability <> 'director'
                THEN i.updated_at + interval '48 hours' END
        FROM inquiries i
        WHERE i.id = a.inquiry_id AND a.status = 'pending'
        """
    )
    op.alter_column(_TABLE, "number", nullable=False)
    op.alter_column(_TABLE, "timeout_hours", nullable=False)
    op.create_check_constraint(
        op.f("ck_inquiry_approvals_timeout_positive"), _TABLE, "timeout_hours > 0"
    )
    for column in ("delegated_to", "delegated_by"):
        op.create_foreign_key(
            op.f(f"fk_inquiry_approvals_{column}_users"), _TABLE, "users", [column], ["id"]
        )
    op.create_index(
        op.f("ix_inquiry_approvals_escalates_at"),
        _TABLE,
        ["escalates_at"],
        postgresql_where=sa.text("status = 'pending' AND escalates_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inquiry_approvals_escalates_at"), table_name=_TABLE)
    for column in ("delegated_to", "delegated_by"):
        op.drop_constraint(op.f(f"fk_inquiry_approvals_{column}_users"), _TABLE, type_="foreignkey")
    op.drop_constraint(op.f("ck_inquiry_approvals_timeout_positive"), _TABLE, type_="check")
    for name in (
        "override_reason",
        "delegated_by",
        "delegated_to",
        "escalates_at",
        "pending_since",
        "timeout_hours",
        "number",
    ):
        op.drop_column(_TABLE, name)
    op.drop_constraint(op.f("ck_approval_steps_timeout_positive"), "approval_steps", type_="check")
    op.drop_column("approval_steps", "timeout_hours")
