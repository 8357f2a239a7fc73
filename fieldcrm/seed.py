"""`fieldcrm seed --demo`: a small, believable data set, created through the service layer.

Idempotent: when the demo admin exists nothing is created again. Deterministic (seeded RNG).
The full demo fleet (200+ assets, engineers, distributors' history) grows with later issues.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.db import get_sessionmaker
from crm.models import OrgKind, User
from crm.schemas import (
    AssetCreate,
    MetricDefinitionCreate,
    OrganizationCreate,
    ProductModelCreate,
    SiteCreate,
    UserCreate,
)
from crm.service import (
    create_asset,
    create_organization,
    create_product_model,
    create_site,
    create_user,
)

DEMO_PASSWORD = "demo-password"  # noqa: S105  # printed by `make run`; demo data only
DEMO_DOMAIN = "fieldcrm.demo"


@dataclass(frozen=True)
class Login:
    role: str
    email: str
    name: str


_Metric = tuple[str, str, str, float, float, float | None, float | None]
_MODELS: list[tuple[str, str, str, list[_Metric]]] = [
    (
        "EX-220",
        "Excavator EX-220",
        "excavator",
        [
            ("hydraulic_pressure", "Hydraulic pressure", "bar", 0, 450, 320, 350),
            ("oil_temp", "Oil temperature", "°C", -30, 150, 90, 105),
            ("engine_rpm", "Engine speed", "rpm", 0, 3000, 2400, 2700),
            ("vibration", "Vibration", "mm/s", 0, 100, 7.1, 11.2),
        ],
    ),
    (
        "AC-75",
        "Air compressor AC-75",
        "compressor",
        [
            ("discharge_pressure", "Discharge pressure", "bar", 0, 20, 11, 13),
            ("discharge_temp", "Discharge temperature", "°C", -20, 200, 100, 115),
            ("vibration", "Vibration", "mm/s", 0, 100, 4.5, 7.1),
        ],
    ),
    (
        "CH-400",
        "Chiller CH-400",
        "chiller",
        [
            ("supply_temp", "Chilled water supply", "°C", -10, 40, 9, 12),
            ("condenser_pressure", "Condenser pressure", "bar", 0, 40, 18, 22),
            ("compressor_current", "Compressor current", "A", 0, 600, 420, 480),
        ],
    ),
    (
        "GN-500",
        "Generator GN-500",
        "generator",
        [
            ("coolant_temp", "Coolant temperature", "°C", -30, 150, 95, 105),
            ("output_kw", "Output", "kW", 0, 600, 520, 560),
            ("fuel_level", "Fuel level", "%", 0, 100, None, None),
        ],
    ),
]

# Customers in and around Munich, each with sites (name, address, lat, lon).
_CUSTOMERS = [
    (
        "Isar Bau GmbH",
        0,
        [
            ("Yard Freimann", "Freisinger Landstr. 50, München", 48.1890, 11.6120),
            ("Site Riem", "Messestr. 1, München", 48.1360, 11.6900),
        ],
    ),
    ("Ammersee Kälte AG", 0, [("Plant Herrsching", "Seestr. 12, Herrsching", 48.0000, 11.1750)]),
    (
        "Würmtal Logistik",
        1,
        [
            ("Hub Gräfelfing", "Lochhamer Str. 9, Gräfelfing", 48.1190, 11.4300),
            ("Hub Starnberg", "Hanfelder Str. 3, Starnberg", 47.9990, 11.3350),
        ],
    ),
    (
        "Erding Energie",
        1,
        [("Substation Erding", "Anton-Bruckner-Str. 2, Erding", 48.3060, 11.9070)],
    ),
]
_DISTRIBUTORS = ["Alpen Distribution GmbH", "Donau Partner KG"]


def seed_demo(*, only_if_empty: bool = False) -> list[Login]:
    """Create the demo data in one transaction; return the logins (nothing new if present)."""
    with get_sessionmaker().begin() as session:
        if only_if_empty and session.scalar(select(func.count()).select_from(User)):
            return _existing_logins(session)
        if session.scalar(select(User.id).where(User.email == f"admin@{DEMO_DOMAIN}")):
            return _existing_logins(session)
        _create(session, random.Random(42))  # noqa: S311  # reproducible demo data, not secrets
        return _existing_logins(session)


def _create(session: Session, rng: random.Random) -> None:
    maker = create_organization(
        session,
        actor=SYSTEM,
        data=OrganizationCreate(kind=OrgKind.MANUFACTURER, name="Nordwind Machinery"),
    )
    for role, local, name in [
        (Role.ADMIN, "admin", "Alex Admin"),
        (Role.DISPATCHER, "dispatcher", "Dana Dispatcher"),
        (Role.ENGINEER, "engineer", "Erik Engineer"),
        (Role.ENGINEER, "engineer2", "Eva Engineer"),
    ]:
        _user(session, maker.id, role, local, name)
    distributors = []
    for index, name in enumerate(_DISTRIBUTORS):
        org = create_organization(
            session, actor=SYSTEM, data=OrganizationCreate(kind=OrgKind.DISTRIBUTOR, name=name)
        )
        distributors.append(org)
        _user(
            session,
            org.id,
            Role.DISTRIBUTOR,
            "distributor" if index == 0 else f"distributor{index + 1}",
            f"Partner {name.split()[0]}",
        )
    models = [
        create_product_model(
            session,
            actor=SYSTEM,
            data=ProductModelCreate(
                manufacturer_org_id=maker.id, code=code, name=name, family=family
            ),
            metrics=[
                MetricDefinitionCreate(
                    key=key,
                    label=label,
                    unit=unit,
                    min_value=lo,
                    max_value=hi,
                    warn_high=warn,
                    crit_high=crit,
                )
                for key, label, unit, lo, hi, warn, crit in metrics
            ],
        )
        for code, name, family, metrics in _MODELS
    ]
    for index, (name, distributor, sites) in enumerate(_CUSTOMERS):
        customer = create_organization(
            session,
            actor=SYSTEM,
            data=OrganizationCreate(
                kind=OrgKind.CUSTOMER, name=name, distributor_id=distributors[distributor].id
            ),
        )
        _user(
            session,
            customer.id,
            Role.CUSTOMER,
            "customer" if index == 0 else f"customer{index + 1}",
            f"{name.split()[0]} Operations",
        )
        for site_name, address, lat, lon in sites:
            site = create_site(
                session,
                actor=SYSTEM,
                data=SiteCreate(
                    org_id=customer.id, name=site_name, address=address, lat=lat, lon=lon
                ),
            )
            for _ in range(3):
                model = rng.choice(models)
                installed = date(2022, 1, 1) + timedelta(days=rng.randrange(900))
                create_asset(
                    session,
                    actor=SYSTEM,
                    data=AssetCreate(
                        serial=f"{model.code}-{rng.randrange(10**5, 10**6)}",
                        product_model_id=model.id,
                        site_id=site.id,
                        owner_org_id=customer.id,
                        install_date=installed,
                        warranty_end=installed + timedelta(days=3 * 365),
                        runtime_hours=Decimal(rng.randrange(200, 9000)),
                    ),
                )


def _user(session: Session, org_id: int, role: Role, local: str, name: str) -> None:
    create_user(
        session,
        actor=SYSTEM,
        data=UserCreate(
            org_id=org_id,
            email=f"{local}@{DEMO_DOMAIN}",
            full_name=name,
            role=role,
            password=DEMO_PASSWORD,
        ),
    )


def _existing_logins(session: Session) -> list[Login]:
    users = session.scalars(
        select(User).where(User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.id)
    ).all()
    return [Login(user.role, user.email, user.full_name) for user in users]


def print_logins(console: Console, logins: list[Login]) -> None:
    if not logins:
        console.print("no demo users (the database already had other users)")
        return
    table = Table("role", "e-mail", "name", title=f"Demo logins (password: {DEMO_PASSWORD})")
    for login in logins:
        table.add_row(login.role, login.email, login.name)
    console.print(table)
