"""Who is asking: the identity every service function and route works with."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.roles import STAFF_ROLES, Role


@dataclass(frozen=True, slots=True)
class Principal:
    """A logged-in user as seen by the request: identity, tenant and role."""

    user_id: int
    org_id: int
    role: Role
    name: str
    email: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


SYSTEM = Principal(
    user_id=0, org_id=0, role=Role.ADMIN, name="system", email="system@fieldcrm.local"
)
"""The actor of background jobs and the CLI (audited as user_id NULL)."""
