"""The roles a user can hold, and who counts as staff."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    ENGINEER = "engineer"
    DISTRIBUTOR = "distributor"
    CUSTOMER = "customer"


STAFF_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})
