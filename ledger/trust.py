"""Which registries and issuers a verdict may call ours: anyone can deploy an AnchorRegistry
on a public chain and anchor a forgery there, so a receipt's contract is only believed when
this installation deployed it (or it is configured), and the root's issuer is our account."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from eth_account import Account
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import ConfigError, Settings
from ledger.chain import signing_key
from ledger.models import ChainDeployment


@dataclass(frozen=True, slots=True)
class Trust:
    """Registries as (chain id, lower-case address), issuers as lower-case addresses."""

    registries: frozenset[tuple[int, str]]
    issuers: frozenset[str]

    def knows_registry(self, chain_id: int, contract: str) -> bool:
        return (chain_id, contract.lower()) in self.registries

    def knows_issuer(self, issuer: str) -> bool:
        return issuer.lower() in self.issuers


def parse_registry(text: str) -> tuple[int, str]:
    """ "31337:0xabc…" as (31337, "0xabc…"); ValueError for anything else."""
    chain, _, address = text.strip().partition(":")
    if not chain.isdigit() or not _is_address(address):
        raise ValueError(f"a registry is written chain_id:0xaddress, not {text!r}")
    return int(chain), address.lower()


def parse_issuer(text: str) -> str:
    if not _is_address(text.strip()):
        raise ValueError(f"an issuer is a 0x address of 40 hex digits, not {text!r}")
    return text.strip().lower()


def configured_trust(
    settings: Settings, *, registries: Sequence[str] = (), issuers: Sequence[str] = ()
) -> Trust:
    """What the settings (and any given extras) trust, without the database."""
    found_registries = {
        parse_registry(r) for r in [*settings.ledger_trusted_registries, *registries]
    }
    found_issuers = {parse_issuer(i) for i in [*settings.ledger_trusted_issuers, *issuers]}
    with suppress(ConfigError):  # a verifying-only installation names its issuers in settings
        found_issuers.add(Account.from_key(signing_key(settings)).address.lower())
    return Trust(frozenset(found_registries), frozenset(found_issuers))


def installation_trust(
    session: Session, settings: Settings, *, issuers: Sequence[str] = ()
) -> Trust:
    """The registries this installation deployed (retired ones too: old receipts name them),
    the configured ones, and our anchoring account (plus any given issuers)."""
    configured = configured_trust(settings, issuers=issuers)
    deployed = {
        (chain_id, contract.lower())
        for chain_id, contract in session.execute(
            select(ChainDeployment.chain_id, ChainDeployment.contract)
        )
    }
    return Trust(configured.registries | deployed, configured.issuers)


def _is_address(text: str) -> bool:
    digits = text.removeprefix("0x")
    return (
        text.startswith("0x")
        and len(digits) == 40
        and all(c in "0123456789abcdefABCDEF" for c in digits)
    )
