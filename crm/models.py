"""Tables of the shared business records and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geography
from geoalchemy2.elements import WKBElement, WKTElement
from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.roles import Role
from core.db import Base, utcnow
from crm.geo import SRID_WGS84, point_lat_lon


class OrgKind(StrEnum):
    MANUFACTURER = "manufacturer"
    DISTRIBUTOR = "distributor"
    CUSTOMER = "customer"


def _in_values(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Organization(Base):
    """A company: the manufacturer itself, a distributor (partner) or a customer."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(_in_values("kind", OrgKind), name="kind"),
        CheckConstraint(
            "distributor_id IS NULL OR kind = 'customer'", name="distributor_only_for_customers"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # how its people read dates, times and numbers (IANA zone, CLDR locale); None: the
    # installation's default (settings)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class CompanyProfile(Base):
    """The letterhead of an organization's documents (the manufacturer's quotes, statements and
    service reports): legal name, address, VAT id, logo and terms."""

    __tablename__ = "company_profiles"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    vat_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    registration_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    website: Mapped[str] = mapped_column(String(200), default="", server_default="")
    terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    logo_png: Mapped[bytes | None]
    # how long an approved quote holds (its "Valid until" date)
    quote_valid_days: Mapped[int] = mapped_column(SmallInteger, default=30, server_default="30")
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class CompanyProfileSnapshot(Base):
    """A company profile as a document printed it, kept unchanged so the document can be
    rendered again byte for byte; `id` is the SHA-256 of its content (crm/company.py)."""

    __tablename__ = "company_profile_snapshots"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text)
    vat_id: Mapped[str] = mapped_column(String(32))
    registration_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(64))
    website: Mapped[str] = mapped_column(String(200))
    terms: Mapped[str] = mapped_column(Text)
    logo_png: Mapped[bytes | None]
    # how the organization read at the time (its documents' dates, times and amounts)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class User(Base):
    """A person who logs in; belongs to exactly one organization."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in_values("role", Role), name="role"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # None: the organization's (then the installation's) time zone and locale
    time_zone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_login_at: Mapped[datetime | None]
    # someone else chose the password (staff created the account or reset it): the next
    # login goes to the change-password page before anything else
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())


class Site(Base):
    """A place where equipment is installed; located for dispatch and the map."""

    __tablename__ = "sites"
    __table_args__ = (Index("ix_sites_location", "location", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text)
    # The GiST index is declared above so that Alembic compares it like any other index.
    location: Mapped[WKBElement | WKTElement] = mapped_column(
        Geography(geometry_type="POINT", srid=SRID_WGS84, spatial_index=False)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    @property
    def lat(self) -> float:
        return point_lat_lon(self.location)[0]

    @property
    def lon(self) -> float:
        return point_lat_lon(self.location)[1]


class Contact(Base):
    """A person at a customer or partner to call or write to; not necessarily a user."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    job_title: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class ProductModel(Base):
    """A model of equipment the manufacturer builds, e.g. a chiller series."""

    __tablename__ = "product_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(64))
    # the manufacturer's list price per unit (quotes and inquiries start from it)
    list_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    list_currency: Mapped[str | None] = mapped_column(CHAR(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class MetricDefinition(Base):
    """A telemetry metric a product model reports, with plausibility limits and thresholds."""

    __tablename__ = "metric_definitions"
    __table_args__ = (
        UniqueConstraint("product_model_id", "key"),
        UniqueConstraint("product_model_id", "position"),
        CheckConstraint("min_value < max_value", name="plausible_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_model_id: Mapped[int] = mapped_column(
        ForeignKey("product_models.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(64))
    # Where this metric's value sits in a stored reading's values array: append-only,
    # so rows written before a metric was added keep their meaning.
    position: Mapped[int] = mapped_column(SmallInteger)
    label: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(32))
    min_value: Mapped[float]
    max_value: Mapped[float]
    warn_low: Mapped[float | None]
    warn_high: Mapped[float | None]
    crit_low: Mapped[float | None]
    crit_high: Mapped[float | None]


class Asset(Base):
    """One installed machine: the installed base that telemetry and service refer to."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("product_model_id", "serial"),
        CheckConstraint("runtime_hours >= 0", name="runtime_hours_not_negative"),
        CheckConstraint(
            "warranty_end IS NULL OR warranty_end >= install_date", name="warranty_after_install"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64))
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    install_date: Mapped[date] = mapped_column(Date)
    warranty_end: Mapped[date | None] = mapped_column(Date)
    runtime_hours: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("0"), server_default="0"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class AuditLog(Base):
    """Who changed what, with the record before and after; append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_org_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Capability(StrEnum):
    """What a user may do beyond their role: a staff position or a partner admin."""

    PARTNER_ADMIN = "partner_admin"
    FINANCE = "finance"
    SALES_MANAGER = "sales_manager"
    DIRECTOR = "director"
    CHANNEL_MANAGER = "channel_manager"


class UserCapability(Base):
    """A capability a user holds; approval steps name the capability that decides them."""

    __tablename__ = "user_capabilities"
    __table_args__ = (CheckConstraint(_in_values("capability", Capability), name="capability"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    capability: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class Notification(Base):
    """A message in one user's inbox (shown in the app; e-mailed when SMTP is configured)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    # a path inside the app, e.g. /portal/inquiries/12
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """An e-mail kept instead of sent: development and test installations without SMTP show
    them on /dev/outbox (crm/outbox.py); production never writes here."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
