"""Pydantic shapes of the shared business records for create, update and read."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from core.auth.passwords import MIN_PASSWORD_LENGTH
from core.auth.roles import Role
from crm.models import OrgKind

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    """Trim and lower-case an e-mail address; refuse one without user@domain.tld."""
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise ValueError("not a valid e-mail address")
    return email


Email = Annotated[str, Field(max_length=320), AfterValidator(normalise_email)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganizationCreate(BaseModel):
    kind: OrgKind
    name: Name
    distributor_id: int | None = None

    @model_validator(mode="after")
    def _only_customers_have_a_distributor(self) -> Self:
        if self.distributor_id is not None and self.kind != OrgKind.CUSTOMER:
            raise ValueError("only a customer can belong to a distributor")
        return self


class OrganizationRead(_Read):
    id: int
    kind: OrgKind
    name: str
    distributor_id: int | None
    created_at: datetime


class UserCreate(BaseModel):
    org_id: int
    email: Email
    full_name: Name
    role: Role
    password: Password


class UserUpdate(BaseModel):
    """Only the fields that are set change."""

    full_name: Name | None = None
    role: Role | None = None
    is_active: bool | None = None


class UserRead(_Read):
    id: int
    org_id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class SiteCreate(BaseModel):
    org_id: int
    name: Name
    address: Annotated[str, Field(min_length=1, max_length=2000)]
    lat: Latitude
    lon: Longitude


class SiteRead(_Read):
    id: int
    org_id: int
    name: str
    address: str
    lat: float
    lon: float
    created_at: datetime


class ContactCreate(BaseModel):
    org_id: int
    site_id: int | None = None
    full_name: Name
    email: Email | None = None
    phone: Annotated[str, Field(min_length=3, max_length=50)] | None = None
    job_title: Annotated[str, Field(max_length=120)] | None = None


class ContactRead(_Read):
    id: int
    org_id: int
    site_id: int | None
    full_name: str
    email: str | None
    phone: str | None
    job_title: str | None


class MetricDefinitionCreate(BaseModel):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    label: Annotated[str, Field(min_length=1, max_length=120)]
    unit: Annotated[str, Field(max_length=32)]
    min_value: float
    max_value: float
    warn_low: float | None = None
    warn_high: float | None = None
    crit_low: float | None = None
    crit_high: float | None = None

    @model_validator(mode="after")
    def _thresholds_inside_plausible_range(self) -> Self:
        if self.min_value >= self.max_value:
            raise ValueError("min_value must be below max_value")
        ordered = [
            self.min_value,
            self.crit_low,
            self.warn_low,
            self.warn_high,
            self.crit_high,
            self.max_value,
        ]
        present = [value for value in ordered if value is not None]
        if present != sorted(present):
            raise ValueError(
                "thresholds must satisfy min <= crit_low <= warn_low <= warn_high "
                "<= crit_high <= max"
            )
        return self


class MetricDefinitionRead(_Read):
    id: int
    product_model_id: int
    key: str
    label: str
    unit: str
    min_value: float
    max_value: float
    warn_low: float | None
    warn_high: float | None
    crit_low: float | None
    crit_high: float | None


class ProductModelCreate(BaseModel):
    manufacturer_org_id: int
    code: Annotated[str, Field(min_length=1, max_length=64)]
    name: Name
    family: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_ -]*$", max_length=64)]


class ProductModelRead(_Read):
    id: int
    manufacturer_org_id: int
    code: str
    name: str
    family: str
    created_at: datetime


class AssetCreate(BaseModel):
    serial: Annotated[str, Field(min_length=1, max_length=64)]
    product_model_id: int
    site_id: int
    owner_org_id: int
    install_date: date
    warranty_end: date | None = None
    runtime_hours: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal(0)

    @model_validator(mode="after")
    def _warranty_ends_after_install(self) -> Self:
        if self.warranty_end is not None and self.warranty_end < self.install_date:
            raise ValueError("warranty_end must not be before install_date")
        return self


class AssetRead(_Read):
    id: int
    serial: str
    product_model_id: int
    site_id: int
    owner_org_id: int
    install_date: date
    warranty_end: date | None
    runtime_hours: Decimal
    created_at: datetime
