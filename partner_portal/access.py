"""Who may act for which distributor, and loading a distributor organisation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import NotFound, PermissionDenied
from crm.models import Organization, OrgKind

FINANCE_ROLES = frozenset({Role.ADMIN})
"""Finance approves and settles; the admin role stands for finance until it has its own."""


def get_distributor(session: Session, org_id: int) -> Organization:
    """The distributor organisation, or NotFound (also for an organisation of another kind)."""
    org = session.get(Organization, org_id)
    if org is None or org.kind != OrgKind.DISTRIBUTOR:
        raise NotFound(f"No distributor {org_id}.", entity="distributor")
    return org


def require_staff_or_own_distributor(actor: Principal, distributor_org_id: int) -> None:
    """Staff act for every distributor; a distributor's users only for their own."""
    if actor.is_staff:
        return
    if actor.role == Role.DISTRIBUTOR and actor.org_id == distributor_org_id:
        return
    raise PermissionDenied("You may only record pickups of your own organisation.")


FINANCE_LABEL = "an administrator"
"""Who finance is, in the words of a refusal: the role that may actually do it."""


def is_finance(actor: Principal) -> bool:
    """Whether the actor may settle, approve, issue and pay (and so sees those buttons)."""
    return actor.role in FINANCE_ROLES


def require_finance(actor: Principal, *, to: str) -> None:
    """Refuse anyone but finance staff; `to` completes "Only an administrator may ..."."""
    if not is_finance(actor):
        raise PermissionDenied(f"Only {FINANCE_LABEL} may {to}.")
