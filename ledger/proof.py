"""The proof receipt: a versioned JSON document a third party can check with an RPC endpoint."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.merkle import PathStep, leaf_hash, root_from_path

HASH_SCHEME = "fieldcrm-merkle-sha256-v1"
_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_HEX32_0X = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class ReceiptError(ValueError):
    """The receipt is not a well-formed receipt of a scheme we know."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a root was anchored: enough to find and re-check the event on any node."""

    chain_id: int
    contract: str
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "contract": self.contract,
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
            "block_hash": self.block_hash,
            "log_index": self.log_index,
        }


@dataclass(frozen=True, slots=True)
class Receipt:
    """A parsed receipt; `anchor` is None while the root is not yet on chain."""

    doc_hash: bytes
    salt: bytes
    path: tuple[PathStep, ...]
    root: bytes
    anchor: Anchor | None

    def computed_root(self) -> bytes:
        """The root that the document hash, salt and path imply."""
        return root_from_path(leaf_hash(self.salt, self.doc_hash), self.path)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (keys in a stable order)."""
        return {
            "hash_scheme": HASH_SCHEME,
            "doc_hash": self.doc_hash.hex(),
            "salt": self.salt.hex(),
            "path": [{"side": step.side, "hash": step.hash.hex()} for step in self.path],
            "root": self.root.hex(),
            "anchor": self.anchor.as_dict() if self.anchor else None,
        }

    def to_json(self) -> str:
        """Compact JSON, small enough for a QR code at a few hundred documents per batch."""
        return json.dumps(self.as_dict(), separators=(",", ":"))


def make_receipt(
    *,
    doc_hash: bytes,
    salt: bytes,
    path: Sequence[PathStep],
    root: bytes,
    anchor: Anchor | None = None,
) -> Receipt:
    """A receipt for one document of a batch."""
    return Receipt(doc_hash, salt, tuple(path), root, anchor)


def document_hash(document: bytes) -> bytes:
    """The document hash the ledger anchors: plain SHA-256 of the file's bytes."""
    return hashlib.sha256(document).digest()


def parse_receipt(data: Mapping[str, Any] | str | bytes) -> Receipt:
    """Validate and parse a receipt (a dict or its JSON text); raise ReceiptError if malformed."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ReceiptError(f"receipt is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise ReceiptError("receipt must be a JSON object")
    if data.get("hash_scheme") != HASH_SCHEME:
        raise ReceiptError(f"unknown hash_scheme {data.get('hash_scheme')!r}")
    path = data.get("path")
    if not isinstance(path, list):
        raise ReceiptError("path must be a list")
    steps = []
    for step in path:
        if not isinstance(step, Mapping) or step.get("side") not in ("left", "right"):
            raise ReceiptError("each path step needs side 'left' or 'right' and a hash")
        steps.append(PathStep(step["side"], _hex32(step.get("hash"), "path hash")))
    anchor = data.get("anchor")
    return Receipt(
        doc_hash=_hex32(data.get("doc_hash"), "doc_hash"),
        salt=_hex32(data.get("salt"), "salt"),
        path=tuple(steps),
        root=_hex32(data.get("root"), "root"),
        anchor=None if anchor is None else _parse_anchor(anchor),
    )


def _hex32(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise ReceiptError(f"{what} must be 64 lowercase hex characters")
    return bytes.fromhex(value)


def _parse_anchor(value: object) -> Anchor:
    if not isinstance(value, Mapping):
        raise ReceiptError("anchor must be an object or null")
    ints = {key: value.get(key) for key in ("chain_id", "block_number", "log_index")}
    for key, number in ints.items():
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ReceiptError(f"anchor.{key} must be a non-negative integer")
    for key in ("tx_hash", "block_hash"):
        if not isinstance(value.get(key), str) or not _HEX32_0X.match(value[key]):
            raise ReceiptError(f"anchor.{key} must be 0x and 64 lowercase hex characters")
    if not isinstance(value.get("contract"), str) or not _ADDRESS.match(value["contract"]):
        raise ReceiptError("anchor.contract must be a 0x address")
    return Anchor(
        chain_id=value["chain_id"],
        contract=value["contract"],
        tx_hash=value["tx_hash"],
        block_number=value["block_number"],
        block_hash=value["block_hash"],
        log_index=value["log_index"],
    )


def offline_problem(receipt: Receipt, document: bytes | None = None) -> str | None:
    """Why the receipt (and document) do not hang together, or None when they do."""
    if document is not None and document_hash(document) != receipt.doc_hash:
        return "the document's SHA-256 differs from the receipt's doc_hash"
    if receipt.computed_root() != receipt.root:
        return "the path does not lead from the document to the receipt's root"
    return None
