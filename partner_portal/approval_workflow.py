"""The approval workflow as data: its steps, when each applies, who decides it, its time-out.

The newest active workflow applies to new rounds; each round copies the steps it needs
(partner_portal.approvals), so an edit changes only rounds started afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from core.errors import InvalidInput, NotFound, PermissionDenied
from crm.audit import UPDATE, record_change, snapshot
from crm.models import Capability
from partner_portal.models import ApprovalStep, ApprovalWorkflow, ConditionField, Inquiry

DEFAULT_WORKFLOW_NAME = "Inquiries and quote requests"
DEFAULT_STEPS: tuple[tuple[str, Capability, ConditionField, Decimal | None], ...] = (
    ("Sales review", Capability.SALES_MANAGER, ConditionField.ALWAYS, None),
    (
        "Sales manager discount approval",
        Capability.SALES_MANAGER,
        ConditionField.MAX_DISCOUNT_PCT,
        Decimal(10),
    ),
    ("Finance approval", Capability.FINANCE, ConditionField.MAX_DISCOUNT_PCT, Decimal(20)),
    ("Director approval", Capability.DIRECTOR, ConditionField.TOTAL_VALUE, Decimal(50000)),
)
MAX_TIMEOUT_HOURS = 24 * 90
_STEP_FIELDS = ("name", "approver_capability", "condition_field", "threshold", "timeout_hours")


def default_timeout_hours() -> int:
    """How long a step without a time-out of its own waits before it escalates."""
    return get_settings().approval_escalation_hours


def ensure_default_workflow(session: Session) -> ApprovalWorkflow:
    """The active workflow; creates the default one (four steps) when none is active."""
    workflow = active_workflow(session)
    if workflow is not None:
        return workflow
    workflow = ApprovalWorkflow(name=DEFAULT_WORKFLOW_NAME, is_active=True)
    session.add(workflow)
    session.flush()
    for position, (name, capability, field, threshold) in enumerate(DEFAULT_STEPS, start=1):
        session.add(
            ApprovalStep(
                workflow_id=workflow.id,
                position=position,
                name=name,
                approver_capability=capability.value,
                condition_field=field.value,
                threshold=threshold,
            )
        )
    session.flush()
    return workflow


def active_workflow(session: Session) -> ApprovalWorkflow | None:
    """The workflow new submissions follow (the newest active one)."""
    return session.scalar(
        select(ApprovalWorkflow)
        .where(ApprovalWorkflow.is_active)
        .order_by(ApprovalWorkflow.id.desc())
        .limit(1)
    )


def workflow_steps(session: Session, workflow_id: int) -> Sequence[ApprovalStep]:
    """The steps of a workflow in position order."""
    return session.scalars(
        select(ApprovalStep)
        .where(ApprovalStep.workflow_id == workflow_id)
        .order_by(ApprovalStep.position)
    ).all()


def edit_step(
    session: Session,
    *,
    actor: Principal,
    step_id: int,
    name: str,
    approver_capability: str,
    condition_field: str,
    threshold: Decimal | None,
    timeout_hours: int | None = None,
) -> ApprovalStep:
    """An administrator changes a step; rounds already started keep the steps they copied."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only administrators change the approval workflow.")
    step = session.get(ApprovalStep, step_id)
    if step is None:
        raise NotFound(f"No approval step {step_id}.", entity="approval_step")
    if not name.strip():
        raise InvalidInput("Give the step a name.", field="name")
    if approver_capability not in set(Capability) - {Capability.PARTNER_ADMIN}:
        raise InvalidInput("Choose a staff capability to decide the step.", field="capability")
    if condition_field not in set(ConditionField):
        raise InvalidInput("Choose when the step applies.", field="condition_field")
    always = condition_field == ConditionField.ALWAYS
    if always != (threshold is None) or (threshold is not None and threshold < 0):
        raise InvalidInput(
            "A step that applies always has no threshold; any other needs one of 0 or more.",
            field="threshold",
        )
    if timeout_hours is not None and not 0 < timeout_hours <= MAX_TIMEOUT_HOURS:
        raise InvalidInput(
            f"The time-out is a number of hours from 1 to {MAX_TIMEOUT_HOURS}, or empty for "
            f"the default ({default_timeout_hours()} h).",
            field="timeout_hours",
        )
    before = snapshot(step, _STEP_FIELDS)
    step.name = name.strip()[:200]
    step.approver_capability = approver_capability
    step.condition_field = condition_field
    step.threshold = threshold
    step.timeout_hours = timeout_hours
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=ApprovalStep.__tablename__,
        entity_id=step.id,
        before=before,
        after=snapshot(step, _STEP_FIELDS),
    )
    return step


def step_applies(step: ApprovalStep, *, max_discount_pct: Decimal, total_value: Decimal) -> bool:
    """Whether the step's condition holds for these inquiry figures."""
    field = ConditionField(step.condition_field)
    if field == ConditionField.ALWAYS:
        return True
    value = max_discount_pct if field == ConditionField.MAX_DISCOUNT_PCT else total_value
    return step.threshold is not None and value > step.threshold


def applicable_steps(steps: Sequence[ApprovalStep], inquiry: Inquiry) -> list[ApprovalStep]:
    """The steps an inquiry needs, in position order."""
    return [
        step
        for step in sorted(steps, key=lambda s: s.position)
        if step_applies(
            step, max_discount_pct=inquiry.max_discount_pct, total_value=inquiry.total_value
        )
    ]
