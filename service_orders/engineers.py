"""Engineers: who they are, what they may work on, when they work, where they are now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, UPDATE, record_change
from crm.geo import make_point
from crm.models import User
from service_orders.models import Engineer, EngineerSkill, EngineerStatus, Shift


class SkillIn(BaseModel):
    """A product family an engineer may work on, at a level, certified until a date."""

    model_config = ConfigDict(frozen=True)

    family: str = Field(min_length=1, max_length=64)
    level: int = Field(ge=1, le=3)
    certified_until: date | None = None


def create_engineer(
    session: Session,
    *,
    actor: Principal,
    user_id: int,
    home_lat: float,
    home_lon: float,
    skills: Sequence[SkillIn],
    max_concurrent_jobs: int = 2,
) -> Engineer:
    """Make a user with role engineer dispatchable; the location starts at the home base."""
    _require_staff(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.", entity="users")
    if user.role != Role.ENGINEER:
        raise InvalidInput(
            "Only a user with role engineer can be an engineer.", code="not_engineer"
        )
    if engineer_for_user(session, user_id=user_id) is not None:
        raise Conflict("This user is already an engineer.", code="engineer_exists")
    if max_concurrent_jobs < 1:
        raise InvalidInput("max_concurrent_jobs must be at least 1.")
    _check_lat_lon(home_lat, home_lon)
    engineer = Engineer(
        user_id=user_id,
        home_base=make_point(lat=home_lat, lon=home_lon),
        location=make_point(lat=home_lat, lon=home_lon),
        status=EngineerStatus.AVAILABLE,
        max_concurrent_jobs=max_concurrent_jobs,
    )
    session.add(engineer)
    session.flush()
    _replace_skills(session, engineer.id, skills)
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=Engineer.__tablename__,
        entity_id=engineer.id,
        before=None,
        after={
            "user_id": user_id,
            "home": [home_lat, home_lon],
            "max_concurrent_jobs": max_concurrent_jobs,
            "skills": _skills_json(skills),
        },
    )
    return engineer


def set_skills(
    session: Session, *, actor: Principal, engineer_id: int, skills: Sequence[SkillIn]
) -> list[EngineerSkill]:
    """Replace an engineer's skills with `skills`."""
    _require_staff(actor)
    engineer = get_engineer(session, engineer_id=engineer_id)
    before = [
        SkillIn(family=s.family, level=s.level, certified_until=s.certified_until)
        for s in skills_of(session, engineer_id=engineer.id)
    ]
    rows = _replace_skills(session, engineer.id, skills)
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=Engineer.__tablename__,
        entity_id=engineer.id,
        before={"skills": _skills_json(before)},
        after={"skills": _skills_json(skills)},
    )
    return rows


def skills_of(session: Session, *, engineer_id: int) -> Sequence[EngineerSkill]:
    """An engineer's skills, by family."""
    query = select(EngineerSkill).where(EngineerSkill.engineer_id == engineer_id)
    return session.scalars(query.order_by(EngineerSkill.family)).all()


def add_shift(
    session: Session, *, actor: Principal, engineer_id: int, starts_at: datetime, ends_at: datetime
) -> Shift:
    """Add a working period; it may not overlap another shift of the same engineer."""
    _require_staff(actor)
    engineer = get_engineer(session, engineer_id=engineer_id)
    if starts_at >= ends_at:
        raise InvalidInput("A shift must end after it starts.", code="shift_order")
    overlap = select(Shift.id).where(
        Shift.engineer_id == engineer.id, Shift.starts_at < ends_at, Shift.ends_at > starts_at
    )
    if session.scalar(overlap.limit(1)) is not None:
        raise Conflict("The shift overlaps another shift of this engineer.", code="shift_overlap")
    shift = Shift(engineer_id=engineer.id, starts_at=starts_at, ends_at=ends_at)
    session.add(shift)
    session.flush()
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=Shift.__tablename__,
        entity_id=shift.id,
        before=None,
        after={
            "engineer_id": engineer.id,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
    )
    return shift


def update_location(
    session: Session, *, engineer_id: int, lat: float, lon: float, at: datetime
) -> Engineer:
    """Move an engineer's live location; a report older than the stored one is ignored."""
    _check_lat_lon(lat, lon)
    engineer = get_engineer(session, engineer_id=engineer_id)
    # phones buffer and resend: an out-of-order report must not move the engineer back
    if engineer.location_at is not None and at <= engineer.location_at:
        return engineer
    engineer.location = make_point(lat=lat, lon=lon)
    engineer.location_at = at
    session.flush()
    return engineer


def set_status(
    session: Session, *, actor: Principal, engineer_id: int, status: EngineerStatus | str
) -> Engineer:
    """Set available / on job / off shift; staff for anyone, an engineer for themself."""
    engineer = get_engineer(session, engineer_id=engineer_id)
    if not actor.is_staff and actor.user_id != engineer.user_id:
        raise PermissionDenied("An engineer may change only their own status.")
    try:
        target = EngineerStatus(status)
    except ValueError as exc:
        raise InvalidInput(f"Unknown engineer status {status!r}.") from exc
    before = engineer.status
    engineer.status = target
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=Engineer.__tablename__,
        entity_id=engineer.id,
        before={"status": before},
        after={"status": target.value},
    )
    return engineer


def engineer_for_user(session: Session, *, user_id: int) -> Engineer | None:
    """The engineer record of a user, if the user is one."""
    return session.scalar(select(Engineer).where(Engineer.user_id == user_id))


def get_engineer(session: Session, *, engineer_id: int) -> Engineer:
    """One engineer, or NotFound."""
    engineer = session.get(Engineer, engineer_id)
    if engineer is None:
        raise NotFound(f"No engineer {engineer_id}.", entity="engineers")
    return engineer


def _replace_skills(
    session: Session, engineer_id: int, skills: Sequence[SkillIn]
) -> list[EngineerSkill]:
    families = [skill.family for skill in skills]
    if len(set(families)) != len(families):
        raise InvalidInput("Each product family may appear once in an engineer's skills.")
    session.execute(delete(EngineerSkill).where(EngineerSkill.engineer_id == engineer_id))
    rows = [
        EngineerSkill(
            engineer_id=engineer_id,
            family=skill.family,
            level=skill.level,
            certified_until=skill.certified_until,
        )
        for skill in skills
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _skills_json(skills: Sequence[SkillIn]) -> list[dict[str, object]]:
    return [skill.model_dump(mode="json") for skill in skills]


def _check_lat_lon(lat: float, lon: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput(f"Not a position on Earth: lat {lat}, lon {lon}.", code="bad_location")


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only dispatchers and admins manage engineers.")
