"""Make the demo's engineer users dispatchable: home bases, skills, a round-the-clock shift."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.db import utcnow
from crm.models import User
from fieldcrm.demo_places import TOWNS
from service_orders.engineers import SkillIn, add_shift, create_engineer
from service_orders.models import Engineer

# home bases: Munich and the towns the demo customers are in
_BASES = [(48.137, 11.575), (48.262, 11.668)] + [(lat, lon) for _, lat, lon in TOWNS]
_FAMILIES = ("excavator", "compressor", "chiller", "generator")


def _skills(index: int, certified: date) -> list[SkillIn]:
    """The first engineers can do everything (demo logins); the rest specialise."""
    if index < 2:
        return [SkillIn(family=f, level=2, certified_until=certified) for f in _FAMILIES]
    first = _FAMILIES[index % len(_FAMILIES)]
    second = _FAMILIES[(index + 1 + index // 4) % len(_FAMILIES)]
    return [
        SkillIn(family=first, level=1 + index % 3, certified_until=certified),
        *([SkillIn(family=second, level=1, certified_until=certified)] if second != first else []),
    ]


def ensure_demo_engineers(session: Session) -> int:
    """An Engineer for every engineer user without one (idempotent); returns how many."""
    users = session.scalars(
        select(User)
        .where(User.role == Role.ENGINEER, User.id.not_in(select(Engineer.user_id)))
        .order_by(User.id)
    ).all()
    certified = date.today() + timedelta(days=365)
    now = utcnow()
    for index, user in enumerate(users):
        lat, lon = _BASES[index % len(_BASES)]
        engineer = create_engineer(
            session,
            actor=SYSTEM,
            user_id=user.id,
            home_lat=lat,
            home_lon=lon,
            skills=_skills(index, certified),
        )
        # the demo runs at any hour: one long shift instead of a rota
        add_shift(
            session,
            actor=SYSTEM,
            engineer_id=engineer.id,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=90),
        )
    session.flush()
    return len(users)
