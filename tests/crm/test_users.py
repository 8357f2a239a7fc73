from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.models import WebSession
from core.auth.principal import Principal
from core.auth.roles import Role
from core.auth.sessions import create_session
from core.config import get_settings
from core.errors import InvalidInput, PermissionDenied, TooManyAttempts
from crm import service
from crm.models import OrgKind, User
from crm.schemas import UserCreate, UserUpdate
from tests.crm.factories import PASSWORD, make_org, make_user, principal_of

CLIENT = "203.0.113.7"


def _session_count(db: Session, user: User) -> int:
    return db.scalar(select(func.count()).where(WebSession.user_id == user.id)) or 0


def _log_in(db: Session, user: User) -> None:
    create_session(db, principal=principal_of(user), max_age=timedelta(hours=1))


def test_right_password_gives_the_users_principal_and_stamps_last_login(db: Session) -> None:
    user = make_user(db, email="Field.Tech@Example.test")

    principal = service.authenticate(
        db, email="  FIELD.TECH@example.test ", password=PASSWORD, client=CLIENT
    )

    assert principal == Principal(
        user_id=user.id,
        org_id=user.org_id,
        role=Role.CUSTOMER,
        name=user.full_name,
        email="field.tech@example.test",
    )
    assert user.last_login_at is not None


@pytest.mark.parametrize("email", ["known", "unknown@example.test"])
def test_wrong_password_or_unknown_email_is_invalid_credentials(db: Session, email: str) -> None:
    user = make_user(db)

    with pytest.raises(PermissionDenied) as refused:
        service.authenticate(
            db,
            email=user.email if email == "known" else email,
            password="not the password",
            client=CLIENT,
        )

    assert refused.value.code == "invalid_credentials"


def test_deactivated_user_cannot_log_in(db: Session) -> None:
    user = make_user(db)
    user.is_active = False

    with pytest.raises(PermissionDenied) as refused:
        service.authenticate(db, email=user.email, password=PASSWORD, client=CLIENT)

    assert refused.value.code == "invalid_credentials"


def test_too_many_failures_block_even_the_right_password(db: Session) -> None:
    user = make_user(db)
    for _ in range(get_settings().login_max_failures):
        with pytest.raises(PermissionDenied):
            service.authenticate(db, email=user.email, password="wrong-guess-1", client=CLIENT)

    with pytest.raises(TooManyAttempts):
        service.authenticate(db, email=user.email, password=PASSWORD, client=CLIENT)


def test_success_clears_earlier_failures(db: Session) -> None:
    user = make_user(db)
    for _ in range(get_settings().login_max_failures - 1):
        with pytest.raises(PermissionDenied):
            service.authenticate(db, email=user.email, password="wrong-guess-1", client=CLIENT)
    service.authenticate(db, email=user.email, password=PASSWORD, client=CLIENT)

    with pytest.raises(PermissionDenied):
        service.authenticate(db, email=user.email, password="wrong-guess-2", client=CLIENT)
    service.authenticate(db, email=user.email, password=PASSWORD, client=CLIENT)


def test_role_change_revokes_the_users_sessions(db: Session) -> None:
    manufacturer = make_org(db, kind=OrgKind.MANUFACTURER)
    admin = principal_of(make_user(db, org=manufacturer, role=Role.ADMIN))
    engineer, bystander = (make_user(db, org=manufacturer, role=Role.ENGINEER) for _ in range(2))
    _log_in(db, engineer)
    _log_in(db, bystander)

    service.update_user(db, actor=admin, user_id=engineer.id, data=UserUpdate(role=Role.DISPATCHER))

    assert _session_count(db, engineer) == 0
    assert _session_count(db, bystander) == 1


def test_renaming_keeps_sessions_but_deactivation_and_new_password_end_them(db: Session) -> None:
    user = make_user(db)
    admin = principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)))
    _log_in(db, user)

    service.update_user(
        db, actor=principal_of(user), user_id=user.id, data=UserUpdate(full_name="New Name")
    )
    assert _session_count(db, user) == 1
    service.set_password(db, actor=principal_of(user), user_id=user.id, password="a fresh secret")
    assert _session_count(db, user) == 0
    _log_in(db, user)
    service.update_user(db, actor=admin, user_id=user.id, data=UserUpdate(is_active=False))
    assert _session_count(db, user) == 0


def test_customer_cannot_promote_themselves_or_add_staff(db: Session) -> None:
    customer_org = make_org(db)
    customer = principal_of(make_user(db, org=customer_org))

    with pytest.raises(PermissionDenied):
        service.update_user(
            db, actor=customer, user_id=customer.user_id, data=UserUpdate(role=Role.ADMIN)
        )
    with pytest.raises(PermissionDenied):
        service.create_user(
            db,
            actor=customer,
            data=UserCreate(
                org_id=customer_org.id,
                email="boss@example.test",
                full_name="Boss",
                role=Role.ADMIN,
                password=PASSWORD,
            ),
        )


def test_role_must_fit_the_kind_of_organization(db: Session) -> None:
    admin = principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)))

    with pytest.raises(InvalidInput):
        service.create_user(
            db,
            actor=admin,
            data=UserCreate(
                org_id=make_org(db).id,
                email="x@example.test",
                full_name="X",
                role=Role.DISPATCHER,
                password=PASSWORD,
            ),
        )
