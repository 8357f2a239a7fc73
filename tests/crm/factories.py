"""Small builders of crm records for tests of every package; each goes through the services."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Role
from crm import service
from crm.models import Asset, Organization, OrgKind, ProductModel, Site, User
from crm.schemas import (
    AssetCreate,
    MetricDefinitionCreate,
    OrganizationCreate,
    ProductModelCreate,
    SiteCreate,
    UserCreate,
)

PASSWORD = "correct horse battery staple"
_DEFAULT_ROLE = {
    OrgKind.MANUFACTURER: Role.ADMIN,
    OrgKind.DISTRIBUTOR: Role.DISTRIBUTOR,
    OrgKind.CUSTOMER: Role.CUSTOMER,
}
_sequence = itertools.count(1)

OIL_TEMP = MetricDefinitionCreate(
    key="oil_temp",
    label="Oil temperature",
    unit="°C",
    min_value=-40,
    max_value=200,
    warn_high=95,
    crit_high=110,
)


def make_org(
    db: Session,
    *,
    kind: OrgKind = OrgKind.CUSTOMER,
    name: str | None = None,
    distributor: Organization | None = None,
) -> Organization:
    return service.create_organization(
        db,
        actor=SYSTEM,
        data=OrganizationCreate(
            kind=kind,
            name=name or f"{kind.value.title()} {next(_sequence)}",
            distributor_id=distributor.id if distributor else None,
        ),
    )


def make_user(
    db: Session,
    *,
    org: Organization | None = None,
    role: Role | None = None,
    email: str | None = None,
    password: str = PASSWORD,
) -> User:
    org = org or make_org(db)
    return service.create_user(
        db,
        actor=SYSTEM,
        data=UserCreate(
            org_id=org.id,
            email=email or f"user{next(_sequence)}@example.test",
            full_name=f"User {next(_sequence)}",
            role=role or _DEFAULT_ROLE[OrgKind(org.kind)],
            password=password,
        ),
    )


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        org_id=user.org_id,
        role=Role(user.role),
        name=user.full_name,
        email=user.email,
    )


def make_site(
    db: Session,
    *,
    org: Organization,
    lat: float = 48.137,
    lon: float = 11.575,
    name: str | None = None,
) -> Site:
    return service.create_site(
        db,
        actor=SYSTEM,
        data=SiteCreate(
            org_id=org.id,
            name=name or f"Site {next(_sequence)}",
            address="1 Industrial Way",
            lat=lat,
            lon=lon,
        ),
    )


def make_product_model(
    db: Session,
    *,
    manufacturer: Organization | None = None,
    family: str = "compressor",
    metrics: Sequence[MetricDefinitionCreate] = (OIL_TEMP,),
) -> ProductModel:
    manufacturer = manufacturer or make_org(db, kind=OrgKind.MANUFACTURER)
    number = next(_sequence)
    return service.create_product_model(
        db,
        actor=SYSTEM,
        data=ProductModelCreate(
            manufacturer_org_id=manufacturer.id,
            code=f"PM-{number}",
            name=f"Model {number}",
            family=family,
        ),
        metrics=metrics,
    )


def make_asset(
    db: Session,
    *,
    owner: Organization,
    site: Site | None = None,
    product_model: ProductModel | None = None,
    serial: str | None = None,
) -> Asset:
    site = site or make_site(db, org=owner)
    product_model = product_model or make_product_model(db)
    return service.create_asset(
        db,
        actor=SYSTEM,
        data=AssetCreate(
            serial=serial or f"SN-{next(_sequence)}",
            product_model_id=product_model.id,
            site_id=site.id,
            owner_org_id=owner.id,
            install_date=date(2025, 3, 1),
            warranty_end=date(2027, 3, 1),
        ),
    )
