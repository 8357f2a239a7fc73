from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from crm import service
from crm.models import AuditLog, OrgKind
from crm.schemas import ContactCreate, UserUpdate
from tests.crm.factories import (
    make_asset,
    make_org,
    make_product_model,
    make_site,
    make_user,
    principal_of,
)


def _audit_rows(db: Session, entity: str, entity_id: int) -> list[AuditLog]:
    return list(
        db.scalars(
            select(AuditLog)
            .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.id)
        )
    )


def test_creating_each_record_writes_a_create_audit_row_with_its_snapshot(db: Session) -> None:
    org = make_org(db, name="Acme Cooling")
    user = make_user(db, org=org)
    site = make_site(db, org=org, lat=52.52, lon=13.405)
    contact = service.create_contact(
        db,
        actor=SYSTEM,
        data=ContactCreate(
            org_id=org.id, site_id=site.id, full_name="Pat Doe", email="Pat@Example.test"
        ),
    )
    model = make_product_model(db)
    asset = make_asset(db, owner=org, site=site, product_model=model)

    for entity, record_id in [
        ("organizations", org.id),
        ("users", user.id),
        ("sites", site.id),
        ("contacts", contact.id),
        ("product_models", model.id),
        ("assets", asset.id),
    ]:
        (row,) = _audit_rows(db, entity, record_id)
        assert row.action == "create"
        assert row.before is None
        assert row.after is not None
        assert row.after["id"] == record_id
        assert row.actor_user_id is None

    (org_row,) = _audit_rows(db, "organizations", org.id)
    assert org_row.after == {
        "id": org.id,
        "kind": "customer",
        "name": "Acme Cooling",
        "distributor_id": None,
    }
    (site_row,) = _audit_rows(db, "sites", site.id)
    assert site_row.after is not None
    assert site_row.after["location"] == {"lat": 52.52, "lon": 13.405}
    (asset_row,) = _audit_rows(db, "assets", asset.id)
    assert asset_row.after is not None
    assert asset_row.after["install_date"] == "2025-03-01"
    assert Decimal(asset_row.after["runtime_hours"]) == 0
    (model_row,) = _audit_rows(db, "product_models", model.id)
    assert model_row.after is not None
    assert [m["key"] for m in model_row.after["metrics"]] == ["oil_temp"]


def test_user_audit_never_contains_the_password_hash(db: Session) -> None:
    user = make_user(db)

    (row,) = _audit_rows(db, "users", user.id)

    assert row.after is not None
    assert "password_hash" not in row.after
    assert user.password_hash not in str(row.after)


def test_update_records_before_and_after_and_the_acting_user(db: Session) -> None:
    manufacturer = make_org(db, kind=OrgKind.MANUFACTURER)
    admin = make_user(db, org=manufacturer, role=Role.ADMIN)
    engineer = make_user(db, org=manufacturer, role=Role.ENGINEER)

    service.update_user(
        db, actor=principal_of(admin), user_id=engineer.id, data=UserUpdate(role=Role.DISPATCHER)
    )

    update = _audit_rows(db, "users", engineer.id)[-1]
    assert update.action == "update"
    assert update.before is not None
    assert update.after is not None
    assert (update.before["role"], update.after["role"]) == ("engineer", "dispatcher")
    assert update.actor_user_id == admin.id
    assert update.actor_org_id == manufacturer.id
