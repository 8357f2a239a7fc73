"""Partner-portal tables: distributor profiles, pickup lines, rebate programs with their tiers,
rebate statements and the lines that made them up."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow
from core.labels import register_labels

_MONEY = Numeric(14, 2)
_MEASURE = Numeric(18, 3)
_CURRENCY_CHECK = "currency ~ '^[A-Z]{3}$'"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Tier(StrEnum):
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Measure(StrEnum):
    NET_VALUE = "net_value"
    QUANTITY = "quantity"


class Calculation(StrEnum):
    RETROACTIVE = "retroactive"
    INCREMENTAL = "incremental"


class Growth(StrEnum):
    NONE = "none"
    ON_INCREMENT = "on_increment"
    ON_TOTAL = "on_total"


register_labels(
    "rebate_period",
    {PeriodKind.MONTH: "Month", PeriodKind.QUARTER: "Quarter", PeriodKind.YEAR: "Year"},
)
register_labels(
    "rebate_measure", {Measure.NET_VALUE: "Net sales value", Measure.QUANTITY: "Units bought"}
)
register_labels(
    "rebate_calculation",
    {
        Calculation.RETROACTIVE: "Retroactive: the reached band's rate on everything",
        Calculation.INCREMENTAL: "Incremental: each band's rate on its own slice",
    },
)
register_labels(
    "rebate_growth",
    {
        Growth.NONE: "No growth condition",
        Growth.ON_INCREMENT: "Rebate on the growth over last year",
        Growth.ON_TOTAL: "Rebate on everything when it grew over last year",
    },
)


class StatementStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ISSUED = "issued"
    PAID = "paid"


class DistributorProfile(Base):
    """A distributor organisation's partner data: tier and region."""

    __tablename__ = "distributor_profiles"
    __table_args__ = (CheckConstraint(_one_of("tier", Tier), name="tier"),)

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), default=Tier.SILVER)
    region: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class PickupLine(Base):
    """Goods a distributor took from the manufacturer; a return is a negative quantity."""

    __tablename__ = "pickup_lines"
    __table_args__ = (
        # a document line is recorded once: a re-sent ERP export or CSV is refused
        UniqueConstraint("distributor_org_id", "document_number", "line_no"),
        # covering: the dashboard's and settlement's sums are index-only scans
        Index(
            "ix_pickup_lines_distributor_picked_on",
            "distributor_org_id",
            "picked_on",
            postgresql_include=["currency", "net_value", "quantity", "product_model_id"],
        ),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        CheckConstraint("line_no > 0", name="line_no_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    distributor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    picked_on: Mapped[date] = mapped_column(Date)
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(_MEASURE)
    net_value: Mapped[Decimal] = mapped_column(_MONEY)
    currency: Mapped[str] = mapped_column(CHAR(3))
    document_number: Mapped[str] = mapped_column(String(64))
    line_no: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class RebateProgram(Base):
    """A rebate program as data; how it computes is in partner_portal.rebates."""

    __tablename__ = "rebate_programs"
    __table_args__ = (
        CheckConstraint(_one_of("period_kind", PeriodKind), name="period_kind"),
        CheckConstraint(_one_of("measure", Measure), name="measure"),
        CheckConstraint(_one_of("calculation", Calculation), name="calculation"),
        CheckConstraint(_one_of("growth", Growth), name="growth"),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        CheckConstraint("cap_measure IS NULL OR cap_measure >= 0", name="cap_measure"),
        CheckConstraint("cap_payout IS NULL OR cap_payout >= 0", name="cap_payout"),
        # marginal bands of a quantity cannot be priced: the rebate base is the net value
        CheckConstraint(
            "calculation = 'retroactive' OR measure = 'net_value'", name="incremental_on_value"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    period_kind: Mapped[str] = mapped_column(String(16))
    measure: Mapped[str] = mapped_column(String(16))
    product_family: Mapped[str | None] = mapped_column(String(64))
    calculation: Mapped[str] = mapped_column(String(16))
    growth: Mapped[str] = mapped_column(String(16), default=Growth.NONE)
    cap_measure: Mapped[Decimal | None] = mapped_column(_MEASURE)
    cap_payout: Mapped[Decimal | None] = mapped_column(_MONEY)
    currency: Mapped[str] = mapped_column(CHAR(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class RebateTier(Base):
    """One band of a program: [lower_bound, upper_bound) earns rate percent."""

    __tablename__ = "rebate_tiers"
    __table_args__ = (
        UniqueConstraint("program_id", "lower_bound"),
        CheckConstraint("lower_bound >= 0", name="lower_bound"),
        CheckConstraint("upper_bound IS NULL OR upper_bound > lower_bound", name="half_open"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("rebate_programs.id", ondelete="CASCADE"))
    lower_bound: Mapped[Decimal] = mapped_column(_MEASURE)
    upper_bound: Mapped[Decimal | None] = mapped_column(_MEASURE)
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))


class RebateStatement(Base):
    """One distributor's settlement of one program period; at most one per period."""

    __tablename__ = "rebate_statements"
    __table_args__ = (
        # two settlement runs, even concurrent ones, give one statement
        UniqueConstraint("distributor_org_id", "program_id", "period_start"),
        CheckConstraint(_one_of("status", StatementStatus), name="status"),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        CheckConstraint("period_end >= period_start", name="period"),
        Index("ix_rebate_statements_program_id_period_start", "program_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("rebate_programs.id"))
    period_start: Mapped[date] = mapped_column(Date)
    # the last day of the period, inclusive
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=StatementStatus.DRAFT)
    measure: Mapped[Decimal] = mapped_column(_MEASURE)
    ytd_measure: Mapped[Decimal] = mapped_column(_MEASURE)
    prior_ytd_measure: Mapped[Decimal] = mapped_column(_MEASURE)
    ytd_rebate: Mapped[Decimal] = mapped_column(_MONEY)
    previously_settled: Mapped[Decimal] = mapped_column(_MONEY)
    payout: Mapped[Decimal] = mapped_column(_MONEY)
    currency: Mapped[str] = mapped_column(CHAR(3))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    anchor_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("anchor_requests.id"))
    # the letterheads printed on the PDF, as they were at issue (crm company_profile_snapshots)
    issuer_profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("company_profile_snapshots.id")
    )
    recipient_profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("company_profile_snapshots.id")
    )
    # the issued PDF, whose SHA-256 is `sha256`; its QR code opens the public verify page
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


class RebateStatementLine(Base):
    """What made a statement up: the period's pickups of one product model."""

    __tablename__ = "rebate_statement_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("rebate_statements.id", ondelete="CASCADE"), index=True
    )
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"))
    quantity: Mapped[Decimal] = mapped_column(_MEASURE)
    net_value: Mapped[Decimal] = mapped_column(_MONEY)
    line_count: Mapped[int]


# --- tiers of distributors -------------------------------------------------------------------


class TierRule(Base):
    """A distributor reaches `tier` with at least `min_net_value` of pickups in the 12 months
    before a period end; evaluated at period end (promotion and demotion)."""

    __tablename__ = "tier_rules"
    __table_args__ = (
        CheckConstraint(_one_of("tier", Tier), name="tier"),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        CheckConstraint("min_net_value >= 0", name="min_net_value"),
    )

    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    min_net_value: Mapped[Decimal] = mapped_column(_MONEY)
    currency: Mapped[str] = mapped_column(CHAR(3))


class TierChange(Base):
    """History of a distributor's tier: who or which period-end review changed it, and why."""

    __tablename__ = "tier_changes"
    __table_args__ = (Index("ix_tier_changes_org_id_changed_at", "org_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    from_tier: Mapped[str] = mapped_column(String(16))
    to_tier: Mapped[str] = mapped_column(String(16))
    # the review's period end (inclusive) for an automatic change; NULL for a manual one
    period_end: Mapped[date | None] = mapped_column(Date)
    trailing_net_value: Mapped[Decimal | None] = mapped_column(_MONEY)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


# --- document library and training -------------------------------------------------------------


class Audience:
    """Mixin: who sees a document or video. NULL or empty = no restriction of that kind;
    kinds combine with AND, values within one kind with OR."""

    audience_tiers: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))
    audience_regions: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    audience_distributor_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))


class PortalDocument(Audience, Base):
    """A document in the partner library; its files are its versions."""

    __tablename__ = "portal_documents"
    __table_args__ = (
        Index("ix_portal_documents_search", "search", postgresql_using="gin"),
        CheckConstraint("expires_at IS NULL OR expires_at > publish_at", name="expiry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[str] = mapped_column(String(64))
    product_family: Mapped[str | None] = mapped_column(String(64))
    # a policy must be acknowledged by each partner user, version by version
    requires_acknowledgement: Mapped[bool] = mapped_column(default=False, server_default="false")
    publish_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime | None]
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(description, '') "
            "|| ' ' || coalesce(category, '') || ' ' || coalesce(product_family, ''))",
            persisted=True,
        ),
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class StoredFile:
    """Mixin: an uploaded file kept under the upload directory by a server-generated name."""

    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))


class PortalDocumentVersion(StoredFile, Base):
    """One uploaded file of a document; the highest version is the current one."""

    __tablename__ = "portal_document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "version"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("portal_documents.id", ondelete="CASCADE"))
    version: Mapped[int]
    change_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class DocumentAcknowledgement(Base):
    """A user accepted one version of a policy document."""

    __tablename__ = "document_acknowledgements"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("portal_document_versions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class DocumentDownload(Base):
    """Every download of a document version, by whom."""

    __tablename__ = "document_downloads"
    __table_args__ = (Index("ix_document_downloads_version_id_at", "version_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("portal_document_versions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class TrainingVideo(Audience, StoredFile, Base):
    """A training video partners play in the browser."""

    __tablename__ = "training_videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    product_family: Mapped[str | None] = mapped_column(String(64))
    duration_s: Mapped[int | None]
    publish_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class TrainingProgress(Base):
    """How far a user watched a video; completed once they reached the end."""

    __tablename__ = "training_progress"

    video_id: Mapped[int] = mapped_column(
        ForeignKey("training_videos.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    position_s: Mapped[int] = mapped_column(default=0, server_default="0")
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


# --- inquiries, quote requests and their approval workflow -----------------------------------


class InquiryKind(StrEnum):
    INQUIRY = "inquiry"
    QUOTE_REQUEST = "quote_request"


class InquiryStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_APPROVAL = "in_approval"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ConditionField(StrEnum):
    """What an approval step's condition looks at."""

    ALWAYS = "always"
    MAX_DISCOUNT_PCT = "max_discount_pct"
    TOTAL_VALUE = "total_value"


class ApprovalStatus(StrEnum):
    WAITING = "waiting"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    CANCELLED = "cancelled"


class ApprovalWorkflow(Base):
    """An approval workflow as data: ordered steps, each with a condition and a deciding
    capability. The active one applies to new submissions."""

    __tablename__ = "approval_workflows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class ApprovalStep(Base):
    """Step `position` applies when `condition_field` > `threshold` (or always)."""

    __tablename__ = "approval_steps"
    __table_args__ = (
        UniqueConstraint("workflow_id", "position"),
        CheckConstraint(_one_of("condition_field", ConditionField), name="condition_field"),
        CheckConstraint(
            "(condition_field = 'always') = (threshold IS NULL)", name="threshold_with_condition"
        ),
        CheckConstraint("timeout_hours > 0", name="timeout_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(
        ForeignKey("approval_workflows.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(200))
    # crm.models.Capability: who decides this step
    approver_capability: Mapped[str] = mapped_column(String(32))
    condition_field: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # hours a pending step waits before it escalates; None: the setting's default
    timeout_hours: Mapped[int | None] = mapped_column(SmallInteger)


class Inquiry(Base):
    """A distributor's inquiry or quote request."""

    __tablename__ = "inquiries"
    __table_args__ = (
        CheckConstraint(_one_of("kind", InquiryKind), name="kind"),
        CheckConstraint(_one_of("status", InquiryStatus), name="status"),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        Index("ix_inquiries_distributor_org_id_created_at", "distributor_org_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(24), default=InquiryStatus.SUBMITTED)
    currency: Mapped[str] = mapped_column(CHAR(3))
    # computed from the lines at each submission: what the workflow's conditions look at
    list_value: Mapped[Decimal] = mapped_column(_MONEY, default=Decimal(0), server_default="0")
    total_value: Mapped[Decimal] = mapped_column(_MONEY, default=Decimal(0), server_default="0")
    max_discount_pct: Mapped[Decimal] = mapped_column(
        Numeric(7, 4), default=Decimal(0), server_default="0"
    )
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("approval_workflows.id"))
    # each resubmission after "request changes" starts a new round of approvals
    round: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    decided_at: Mapped[datetime | None]
    # the approved quote (PDF), generated when the last step approves a quote request
    quote_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    # what the quote printed: its letterheads as at approval, and until when it holds
    quote_issuer_profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("company_profile_snapshots.id")
    )
    quote_recipient_profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("company_profile_snapshots.id")
    )
    quote_valid_until: Mapped[date | None] = mapped_column(Date)


class InquiryLine(Base):
    """A product and quantity asked about, with the price or discount the distributor asks."""

    __tablename__ = "inquiry_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "requested_discount_pct IS NULL OR (requested_discount_pct >= 0 "
            "AND requested_discount_pct <= 100)",
            name="discount_percent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"))
    quantity: Mapped[Decimal] = mapped_column(_MEASURE)
    list_price: Mapped[Decimal] = mapped_column(_MONEY)
    requested_price: Mapped[Decimal | None] = mapped_column(_MONEY)
    requested_discount_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))


class InquiryApproval(Base):
    """One required step of one round: waiting -> pending -> approved / rejected / changes."""

    __tablename__ = "inquiry_approvals"
    __table_args__ = (
        UniqueConstraint("inquiry_id", "round", "position"),
        CheckConstraint(_one_of("status", ApprovalStatus), name="status"),
        CheckConstraint("timeout_hours > 0", name="timeout_positive"),
        # the pending step that escalates is found by the periodic job
        Index(
            "ix_inquiry_approvals_escalates_at",
            "escalates_at",
            postgresql_where="status = 'pending' AND escalates_at IS NOT NULL",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(SmallInteger)
    # the workflow step's position; `number` is what a person reads: 1, 2, 3 within the round
    position: Mapped[int] = mapped_column(SmallInteger)
    number: Mapped[int] = mapped_column(SmallInteger)
    step_name: Mapped[str] = mapped_column(String(200))
    # who decides now: the step's capability, or the next level's after an escalation
    approver_capability: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    timeout_hours: Mapped[int] = mapped_column(SmallInteger)
    pending_since: Mapped[datetime | None]
    escalates_at: Mapped[datetime | None]
    delegated_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delegated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    # set when an administrator decided the step in place of its approvers
    override_reason: Mapped[str | None] = mapped_column(Text)


class InquiryEvent(Base):
    """The history of an inquiry: submitted, approved by, changes requested, resubmitted..."""

    __tablename__ = "inquiry_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


# --- distributor contracts ---------------------------------------------------------------------


class ContractStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class ContractTemplate(Base):
    """An agreement's text with placeholders for the distributor's data; versioned by name."""

    __tablename__ = "contract_templates"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class DistributorContract(Base):
    """One version of a distributor's agreement, generated from a template; the accepted
    version's PDF hash is anchored on the ledger."""

    __tablename__ = "distributor_contracts"
    __table_args__ = (
        UniqueConstraint("distributor_org_id", "version"),
        CheckConstraint(_one_of("status", ContractStatus), name="status"),
        # at most one accepted (in force) agreement per distributor
        Index(
            "ux_distributor_contracts_in_force",
            "distributor_org_id",
            unique=True,
            postgresql_where="status = 'accepted'",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("contract_templates.id"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ContractStatus.OFFERED)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None]
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str | None] = mapped_column(String(64))
    anchor_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("anchor_requests.id"))


class PartnerInvitation(Base):
    """A partner admin's invitation of a colleague: a link (only its SHA-256 is kept) to choose
    a password and so create the account. Pending invitations are listed alike whether or not
    the e-mail already has an account elsewhere: one that has gets no link, only a notice to
    its owner, so the list never tells which addresses exist."""

    __tablename__ = "partner_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200))
    make_admin: Mapped[bool] = mapped_column(default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    # set once the colleague chose a password (user_id is then their account) or it was withdrawn
    accepted_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
