"""Verify a receipt (and optionally the document) with nothing but an RPC endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from eth_typing import HexStr
from web3 import Web3
from web3.logs import DISCARD

from ledger.chain import (
    ChainUnavailable,
    connect,
    document_revoked_at,
    hex0x,
    read_root,
    registry,
    unavailable_on_io,
)
from ledger.compile import is_current_code
from ledger.proof import Receipt, ReceiptError, offline_problem, parse_receipt
from ledger.trust import Trust

Status = Literal[
    "valid",
    "tampered",
    "revoked",
    "pending",
    "not_found",
    "orphaned",
    "unknown_registry",
    "unknown_issuer",
]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome and, when the root was found on chain, who anchored it, when and where."""

    status: Status
    reason: str
    doc_hash: str | None = None
    issuer: str | None = None
    anchored_at: datetime | None = None
    revoked_at: datetime | None = None
    chain_id: int | None = None
    contract: str | None = None
    block_number: int | None = None
    tx_hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("anchored_at", "revoked_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def verify(
    receipt: Mapping[str, Any] | str | bytes,
    document_bytes: bytes | None,
    rpc_url: str,
    *,
    trust: Trust,
) -> Verdict:
    """Check the receipt's maths offline, then its anchor and revocations on chain, believing
    only the registries and issuers `trust` names (ledger/trust.py)."""
    try:
        parsed = parse_receipt(receipt)
    except ReceiptError as exc:
        return Verdict("tampered", f"not a valid receipt: {exc}")
    problem = offline_problem(parsed, document_bytes)
    if problem is not None:
        return Verdict("tampered", problem, doc_hash=parsed.doc_hash.hex())
    if parsed.anchor is None:
        return Verdict("pending", "the batch is not anchored yet", doc_hash=parsed.doc_hash.hex())
    return _on_chain(parsed, connect(rpc_url), trust)


def _on_chain(receipt: Receipt, w3: Web3, trust: Trust) -> Verdict:
    anchor = receipt.anchor
    assert anchor is not None
    where = Verdict(
        "not_found",
        "",
        doc_hash=receipt.doc_hash.hex(),
        chain_id=anchor.chain_id,
        contract=anchor.contract,
        block_number=anchor.block_number,
        tx_hash=anchor.tx_hash,
    )
    if not trust.knows_registry(anchor.chain_id, anchor.contract):
        return replace(
            where,
            status="unknown_registry",
            reason="the receipt names a registry we did not deploy: anyone can deploy one, so "
            "it proves nothing about us",
        )
    with unavailable_on_io():
        chain_id = w3.eth.chain_id
        code = bytes(w3.eth.get_code(Web3.to_checksum_address(anchor.contract)))
        block = (
            w3.eth.get_block(anchor.block_number)
            if anchor.block_number <= (w3.eth.block_number)
            else None
        )
    if chain_id != anchor.chain_id:
        return replace(where, reason=f"the endpoint serves chain {chain_id}")
    if not code or block is None or hex0x(block["hash"]) != anchor.block_hash:
        return replace(
            where, status="orphaned", reason="the anchoring block is not on this chain (reset?)"
        )
    if not is_current_code(code):
        # we replace a registry of an older version and anchor its documents again on the new one
        return replace(
            where,
            status="orphaned",
            reason="the receipt names an earlier version of our registry; the document was "
            "anchored again: its verify link gives the current receipt",
        )
    info = read_root(w3, anchor.contract, receipt.root)
    if info.issuer is None:
        return replace(where, reason="the root is not in the registry")
    if not trust.knows_issuer(info.issuer):
        return replace(
            where,
            status="unknown_issuer",
            reason=f"the root was anchored by {info.issuer}, which is not our anchoring account",
            issuer=info.issuer,
        )
    if not _event_matches(w3, receipt):
        return replace(
            where, status="tampered", reason="the anchor's transaction does not anchor this root"
        )
    anchored = _time(info.anchored_at)
    doc_revoked = document_revoked_at(
        w3, anchor.contract, issuer=info.issuer, doc_hash=receipt.doc_hash
    )
    revoked = info.revoked_at or doc_revoked
    if revoked:
        what = "the whole batch" if info.revoked_at else "this document"
        return replace(
            where,
            status="revoked",
            reason=f"the issuer revoked {what}",
            issuer=info.issuer,
            anchored_at=anchored,
            revoked_at=_time(revoked),
        )
    return replace(
        where,
        status="valid",
        reason="anchored and not revoked",
        issuer=info.issuer,
        anchored_at=anchored,
    )


def _event_matches(w3: Web3, receipt: Receipt) -> bool:
    anchor = receipt.anchor
    assert anchor is not None
    with unavailable_on_io():
        tx = w3.eth.get_transaction_receipt(HexStr(anchor.tx_hash))
    if hex0x(tx["blockHash"]) != anchor.block_hash:
        return False
    events = registry(w3, anchor.contract).events.Anchored().process_receipt(tx, errors=DISCARD)
    return any(
        event["logIndex"] == anchor.log_index
        and event["address"].lower() == anchor.contract.lower()
        and bytes(event["args"]["root"]) == receipt.root
        for event in events
    )


def _time(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


__all__ = ["ChainUnavailable", "Verdict", "verify"]
