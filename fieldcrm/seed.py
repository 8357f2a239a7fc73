"""`fieldcrm seed --demo`: a small, believable data set, created through the service layer.

Idempotent: when the demo admin exists nothing is created again. Deterministic (seeded RNG).
Staff with their capabilities, 22 engineers, 5 distributors in different tiers, 30 customers
with sites around Munich and 200+ assets; the partner portal's history is added by
fieldcrm.demo_portal.
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
from core.config import ConfigError, get_settings
from core.db import get_sessionmaker
from crm.capabilities import grant
from crm.models import Capability, Organization, OrgKind, User
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
from fieldcrm.demo_company import seed_company_profiles
from fieldcrm.demo_engineers import ensure_demo_engineers
from fieldcrm.demo_library import seed_library
from fieldcrm.demo_places import TOWNS
from fieldcrm.demo_portal import seed_portal
from fieldcrm.demo_service_history import seed_service_history
from partner_portal.models import DistributorProfile

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
            ("fuel_level", "Fuel level", "%", 0, 100, None, None),
            ("hour_meter", "Hour meter", "h", 0, 200000, None, None),
        ],
    ),
    (
        "AC-75",
        "Air compressor AC-75",
        "compressor",
        [
            ("discharge_pressure", "Discharge pressure", "bar", 0, 20, 11, 13),
            ("discharge_temp", "Discharge temperature", "°C", -20, 200, 100, 115),
            ("oil_temp", "Oil temperature", "°C", -20, 150, 85, 100),
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

# list prices per unit (EUR), used by inquiries and quotes
_LIST_PRICES = {"EX-220": "185000", "AC-75": "24500", "CH-400": "96000", "GN-500": "72000"}

# The first four customers keep the names and sites of the first demo (tests and docs refer to
# them); the rest are spread over southern Bavaria: (town, lat, lon).
_FIRST_CUSTOMERS = [
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
_TRADES = ["Bau", "Kältetechnik", "Logistik", "Stadtwerke", "Beton", "Agrar", "Klinikum"]
_STREETS = ["Industriestr.", "Gewerbering", "Hauptstr.", "Bahnhofstr.", "Am Werk"]
_CUSTOMER_COUNT = 30
_ASSETS_PER_SITE = (4, 7)
# (name, region, partner tier)
_DISTRIBUTORS = [
    ("Alpen Distribution GmbH", "Bavaria South", "gold"),
    ("Donau Partner KG", "Bavaria North", "silver"),
    ("Inn Maschinen GmbH", "Bavaria East", "platinum"),
    ("Lech Technik AG", "Swabia", "silver"),
    ("Zugspitz Service GmbH", "Alpine", "gold"),
]
# staff: (role, e-mail local part, name, capabilities)
_STAFF = [
    (Role.ADMIN, "admin", "Alex Admin", (Capability.CHANNEL_MANAGER,)),
    (Role.DISPATCHER, "dispatcher", "Dana Dispatcher", ()),
    (Role.ADMIN, "finance", "Frieda Finance", (Capability.FINANCE,)),
    (Role.ADMIN, "sales", "Sam Sales", (Capability.SALES_MANAGER,)),
    # a discount over 10% is approved by two different sales managers (four eyes)
    (Role.ADMIN, "saleslead", "Sina Saleslead", (Capability.SALES_MANAGER,)),
    (Role.ADMIN, "director", "Dora Director", (Capability.DIRECTOR,)),
]
_FIRST_NAMES = [
    "Erik", "Eva", "Jonas", "Lena", "Lukas", "Mia", "Felix", "Sophie", "Paul", "Hanna",
    "Max", "Lea", "Tim", "Anna", "Ben", "Laura", "Noah", "Julia", "Elias", "Marie",
    "Leon", "Clara",
]  # fmt: skip
_LAST_NAMES = [
    "Engineer", "Engineer", "Huber", "Wagner", "Bauer", "Maier", "Schmid", "Fischer",
    "Weber", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
]  # fmt: skip
ENGINEER_COUNT = len(_FIRST_NAMES)


DEMO_TIME_ZONE, DEMO_LOCALE = "Europe/Berlin", "en_GB"
# the second customer (login customer2) runs its plant from New York: 12-hour times, $ first
_CUSTOMER_READERS = {1: ("America/New_York", "en_US")}


def seed_demo(*, only_if_empty: bool = False) -> list[Login]:
    """Create the demo data in one transaction; return the logins (nothing new if present).
    Never in production: its accounts share one published password."""
    if get_settings().env == "production":
        raise ConfigError(
            "the demo data is never loaded in production: its accounts share the published "
            f"password {DEMO_PASSWORD!r} (FIELDCRM_ENV=production)"
        )
    with get_sessionmaker().begin() as session:
        if only_if_empty and session.scalar(select(func.count()).select_from(User)):
            return _existing_logins(session)
        if session.scalar(select(User.id).where(User.email == f"admin@{DEMO_DOMAIN}")):
            return _existing_logins(session)
        rng = random.Random(42)  # noqa: S311  # reproducible demo data, not secrets
        _create(session, rng)
        session.flush()
        seed_company_profiles(session)  # before any document is issued: its letterhead
        seed_portal(session, rng, today=date.today())
        ensure_demo_engineers(session)
        seed_service_history(session, rng)
        seed_library(session)
        return _existing_logins(session)


def _create(session: Session, rng: random.Random) -> None:
    maker = create_organization(
        session,
        actor=SYSTEM,
        data=OrganizationCreate(kind=OrgKind.MANUFACTURER, name="Nordwind Machinery"),
    )
    maker.time_zone, maker.locale = DEMO_TIME_ZONE, DEMO_LOCALE
    for role, local, name, capabilities in _STAFF:
        user = _user(session, maker.id, role, local, name)
        for capability in capabilities:
            grant(session, user_id=user.id, capability=capability)
    for index in range(ENGINEER_COUNT):
        local = "engineer" if index == 0 else f"engineer{index + 1}"
        _user(
            session, maker.id, Role.ENGINEER, local, f"{_FIRST_NAMES[index]} {_LAST_NAMES[index]}"
        )
    distributors = [_distributor(session, index, *spec) for index, spec in enumerate(_DISTRIBUTORS)]
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
    for model in models:
        model.list_price = Decimal(_LIST_PRICES[model.code])
        model.list_currency = "EUR"
    for index, (name, distributor, sites) in enumerate(_customers(rng)):
        customer = create_organization(
            session,
            actor=SYSTEM,
            data=OrganizationCreate(
                kind=OrgKind.CUSTOMER, name=name, distributor_id=distributors[distributor].id
            ),
        )
        customer.time_zone, customer.locale = _CUSTOMER_READERS.get(
            index, (DEMO_TIME_ZONE, DEMO_LOCALE)
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
            for _ in range(rng.randint(*_ASSETS_PER_SITE)):
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


_Site = tuple[str, str, float, float]


def _customers(rng: random.Random) -> list[tuple[str, int, list[_Site]]]:
    """The first demo's four customers, then generated ones around the towns of TOWNS."""
    customers = list(_FIRST_CUSTOMERS)
    for index in range(_CUSTOMER_COUNT - len(customers)):
        town, lat, lon = TOWNS[index % len(TOWNS)]
        trade = _TRADES[index % len(_TRADES)]
        sites: list[_Site] = []
        for number in range(1 if index % 3 else 2):
            street = rng.choice(_STREETS)
            sites.append(
                (
                    f"{town} {'Werk' if number == 0 else 'Lager'}",
                    f"{street} {rng.randrange(1, 90)}, {town}",
                    round(lat + rng.uniform(-0.03, 0.03), 4),
                    round(lon + rng.uniform(-0.04, 0.04), 4),
                )
            )
        customers.append((f"{town} {trade}", index % len(_DISTRIBUTORS), sites))
    return customers


def _distributor(session: Session, index: int, name: str, region: str, tier: str) -> Organization:
    org = create_organization(
        session, actor=SYSTEM, data=OrganizationCreate(kind=OrgKind.DISTRIBUTOR, name=name)
    )
    org.time_zone, org.locale = DEMO_TIME_ZONE, DEMO_LOCALE
    session.add(DistributorProfile(org_id=org.id, tier=tier, region=region))
    suffix = "" if index == 0 else str(index + 1)
    admin = _user(
        session, org.id, Role.DISTRIBUTOR, f"distributor{suffix}", f"Partner {name.split()[0]}"
    )
    grant(session, user_id=admin.id, capability=Capability.PARTNER_ADMIN)
    _user(session, org.id, Role.DISTRIBUTOR, f"sales{suffix}.partner", f"{name.split()[0]} Sales")
    return org


def _user(session: Session, org_id: int, role: Role, local: str, name: str) -> User:
    return create_user(
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


def print_logins(console: Console, logins: list[Login], *, per_role: int = 2) -> None:
    """The demo logins: every staff login, a few of the other roles (the README gives the
    naming pattern of the rest)."""
    if not logins:
        console.print("no demo users (the database already had other users)")
        return
    by_role: dict[str, list[Login]] = {}
    for login in logins:
        by_role.setdefault(login.role, []).append(login)
    table = Table("role", "e-mail", "name", title=f"Demo logins (password: {DEMO_PASSWORD})")
    for role, group in by_role.items():
        limit = len(group) if role in {Role.ADMIN, Role.DISPATCHER} else per_role
        for login in group[:limit]:
            table.add_row(login.role, login.email, login.name)
        if len(group) > limit:
            table.add_row(role, f"... and {len(group) - limit} more", "")
    console.print(table)
