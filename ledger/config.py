"""The ledger's settings: FIELDCRM_LEDGER_* variables, or the same fields on core's Settings."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import Settings


class _LedgerEnv(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDCRM_LEDGER_", extra="ignore")

    batch_size: int = 10_000
    batch_seconds: int = 60
    confirmations: int = 1
    receipt_timeout_seconds: float = 120.0
    rpc_timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class LedgerOptions:
    """How anchoring batches and waits."""

    batch_size: int
    batch_seconds: int
    confirmations: int
    receipt_timeout_seconds: float
    rpc_timeout_seconds: float


def ledger_options(settings: Settings) -> LedgerOptions:
    """The options, preferring `ledger_*` fields on core's Settings when it has them."""
    env = _LedgerEnv()
    values = {
        name: getattr(settings, f"ledger_{name}", getattr(env, name))
        for name in LedgerOptions.__dataclass_fields__
    }
    return LedgerOptions(**values)
