from datetime import date

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.errors import NotFound, PermissionDenied
from crm import service
from crm.models import Asset, OrgKind
from crm.schemas import AssetCreate, OrganizationCreate
from tests.crm.factories import make_asset, make_org, make_product_model, make_site, make_user
from tests.crm.factories import principal_of as as_principal


def _ids(assets: list[Asset] | tuple[Asset, ...]) -> set[int]:
    return {asset.id for asset in assets}


def test_customer_sees_only_own_assets_and_not_found_for_anothers(db: Session) -> None:
    alice_org, bob_org = make_org(db), make_org(db)
    alice = as_principal(make_user(db, org=alice_org))
    own = make_asset(db, owner=alice_org)
    foreign = make_asset(db, owner=bob_org)

    assert _ids(list(service.list_assets(db, principal=alice))) == {own.id}
    assert service.get_asset(db, principal=alice, asset_id=own.id).id == own.id
    with pytest.raises(NotFound):
        service.get_asset(db, principal=alice, asset_id=foreign.id)


def test_other_tenants_asset_looks_exactly_like_a_missing_one(db: Session) -> None:
    alice_org, bob_org = make_org(db), make_org(db)
    alice = as_principal(make_user(db, org=alice_org))
    foreign = make_asset(db, owner=bob_org)

    with pytest.raises(NotFound) as hidden:
        service.get_asset(db, principal=alice, asset_id=foreign.id)
    with pytest.raises(NotFound) as missing:
        service.get_asset(db, principal=alice, asset_id=foreign.id + 1_000_000)

    assert hidden.value.code == missing.value.code
    assert hidden.value.details == missing.value.details


def test_distributor_sees_assets_of_its_customers_only(db: Session) -> None:
    distributor = make_org(db, kind=OrgKind.DISTRIBUTOR)
    rival = make_org(db, kind=OrgKind.DISTRIBUTOR)
    served = make_org(db, distributor=distributor)
    served_too = make_org(db, distributor=distributor)
    rivals_customer, direct_customer = make_org(db, distributor=rival), make_org(db)
    partner = as_principal(make_user(db, org=distributor))
    mine = {make_asset(db, owner=served).id, make_asset(db, owner=served_too).id}
    theirs = make_asset(db, owner=rivals_customer)
    direct = make_asset(db, owner=direct_customer)

    assert _ids(list(service.list_assets(db, principal=partner))) == mine
    for hidden in (theirs, direct):
        with pytest.raises(NotFound):
            service.get_asset(db, principal=partner, asset_id=hidden.id)
    visible_orgs = {org.id for org in service.list_organizations(db, principal=partner)}
    assert visible_orgs == {distributor.id, served.id, served_too.id}


def test_staff_see_every_asset_and_an_engineer_without_jobs_none(db: Session) -> None:
    manufacturer = make_org(db, kind=OrgKind.MANUFACTURER)
    assets = {make_asset(db, owner=make_org(db)).id for _ in range(2)}

    for role in (Role.ADMIN, Role.DISPATCHER):
        someone = as_principal(make_user(db, org=manufacturer, role=role))
        assert assets <= _ids(list(service.list_assets(db, principal=someone)))
    engineer = as_principal(make_user(db, org=manufacturer, role=Role.ENGINEER))
    assert _ids(list(service.list_assets(db, principal=engineer))) == set()
    assert {o.id for o in service.list_organizations(db, principal=engineer)} == {manufacturer.id}


def test_only_staff_create_organizations_and_assets(db: Session) -> None:
    customer_org = make_org(db)
    customer = as_principal(make_user(db, org=customer_org))
    site = make_site(db, org=customer_org)
    model = make_product_model(db)

    with pytest.raises(PermissionDenied):
        service.create_organization(
            db, actor=customer, data=OrganizationCreate(kind=OrgKind.CUSTOMER, name="Sneaky")
        )
    with pytest.raises(PermissionDenied):
        service.create_asset(
            db,
            actor=customer,
            data=AssetCreate(
                serial="X1",
                product_model_id=model.id,
                site_id=site.id,
                owner_org_id=customer_org.id,
                install_date=date(2025, 1, 1),
            ),
        )
