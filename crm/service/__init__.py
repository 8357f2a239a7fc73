"""Service functions of the shared business records: keyword-only, they flush, never commit."""

from crm.service.assets import asset_visibility, create_asset, get_asset, list_assets
from crm.service.catalog import create_product_model, metric_definitions
from crm.service.engineer_reach import (
    EngineerReach,
    assets_worked_on_by_engineer,
    register_engineer_reach,
)
from crm.service.organizations import create_organization, list_organizations
from crm.service.sites import NearbySite, create_contact, create_site, nearest_sites
from crm.service.users import (
    authenticate,
    create_user,
    principal_of,
    set_password,
    update_user,
)

__all__ = [
    "EngineerReach",
    "NearbySite",
    "asset_visibility",
    "assets_worked_on_by_engineer",
    "authenticate",
    "create_asset",
    "create_contact",
    "create_organization",
    "create_product_model",
    "create_site",
    "create_user",
    "get_asset",
    "list_assets",
    "list_organizations",
    "metric_definitions",
    "nearest_sites",
    "principal_of",
    "register_engineer_reach",
    "set_password",
    "update_user",
]
