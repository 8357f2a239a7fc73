"""The chain client (web3.py 8): deploy the registry, anchor roots, read roots and revocations.

One writer per key: transactions are signed locally, priced with EIP-1559 fees and numbered
by a nonce this process tracks itself; "nonce too low" (another sender, a restarted chain)
re-reads the pending nonce and tries again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import Nonce, TxParams, TxReceipt, Wei

from core.config import ConfigError, Settings
from ledger.compile import load_artifact
from ledger.proof import Receipt

# anvil's first well-known development account: for the project's LOCAL chain only
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
_NONCE_RETRIES = 3


class ChainUnavailable(Exception):
    """The RPC endpoint cannot be reached or did not answer in time; try again later."""


@dataclass(frozen=True, slots=True)
class Sent:
    """A mined transaction and, for an anchor, where its Anchored event sits."""

    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int | None
    gas_used: int
    contract: str | None = None


@dataclass(frozen=True, slots=True)
class RootInfo:
    issuer: str | None
    anchored_at: int | None
    revoked_at: int | None


def connect(rpc_url: str, *, timeout: float = 10.0) -> Web3:
    """A Web3 over HTTP with a bounded request timeout."""
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))


def registry(w3: Web3, address: str) -> Contract:
    """The AnchorRegistry contract at `address`."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact()["abi"])


def hex0x(value: bytes) -> str:
    return Web3.to_hex(value)


def signing_key(settings: Settings) -> str:
    """The issuer key: FIELDCRM_LEDGER_PRIVATE_KEY, or anvil's dev key on the local chain."""
    if settings.ledger_private_key is not None:
        return settings.ledger_private_key.get_secret_value()
    if settings.uses_local_chain:
        return ANVIL_DEV_KEY
    raise ConfigError(
        "FIELDCRM_LEDGER_PRIVATE_KEY must be set when FIELDCRM_LEDGER_RPC_URL names a chain"
    )


def read_root(w3: Web3, contract: str, root: bytes) -> RootInfo:
    """Issuer, anchoring time and revocation time of a root (None when not anchored)."""
    with unavailable_on_io():
        issuer, anchored_at, revoked_at = registry(w3, contract).functions.rootInfo(root).call()
    if int(issuer, 16) == 0:
        return RootInfo(None, None, None)
    return RootInfo(issuer, anchored_at, revoked_at or None)


def document_revoked_at(w3: Web3, contract: str, *, issuer: str, doc_hash: bytes) -> int | None:
    """When `issuer` revoked the document (None: not revoked by them; another issuer's
    revocation of the same hash is theirs alone)."""
    with unavailable_on_io():
        value = (
            registry(w3, contract)
            .functions.documentRevokedAt(Web3.to_checksum_address(issuer), doc_hash)
            .call()
        )
    return int(value) or None


class unavailable_on_io:  # a context manager named like a phrase: `with unavailable_on_io():`
    """Turn connection failures and timeouts into ChainUnavailable."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        # requests' errors subclass OSError; web3 wraps some as ProviderConnectionError
        if isinstance(exc, OSError | ProviderConnectionError | TimeExhausted):
            raise ChainUnavailable(f"{type(exc).__name__}: {exc}") from exc


class ChainWriter:
    """The one writer for a key on a chain: nonce tracking, fees, signing, receipts."""

    # shared by every writer of the process: one lock and one nonce counter per (node, key)
    _locks: ClassVar[dict[tuple[str, str], threading.Lock]] = {}
    # the next nonce and the last transaction sent with the one before it
    _nonces: ClassVar[dict[tuple[str, str], tuple[int, HexBytes]]] = {}

    def __init__(
        self, w3: Web3, key: str, *, confirmations: int = 1, receipt_timeout: float = 60.0
    ) -> None:
        self.w3 = w3
        self.account: LocalAccount = Account.from_key(key)
        self.confirmations = max(1, confirmations)
        self.receipt_timeout = receipt_timeout
        self._endpoint = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]  # HTTPProvider
        self._lock = self._locks.setdefault(
            (self._endpoint, self.account.address), threading.Lock()
        )
        self._slot = (self._endpoint, self.account.address)

    def deploy(self) -> Sent:
        """Deploy the AnchorRegistry; its owner and first issuer is this writer's account."""
        artifact = load_artifact()
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        return self._transact(lambda params: factory.constructor().build_transaction(params))

    def anchor(self, contract: str, root: bytes) -> Sent:
        """Anchor one root; the receipt's Anchored event gives its log index."""
        return self._call(registry(self.w3, contract).functions.anchor(root))

    def revoke_root(self, contract: str, root: bytes, *, reason: str) -> Sent:
        """Revoke a whole batch; the registry allows it only to the root's issuer."""
        return self._call(registry(self.w3, contract).functions.revokeRoot(root, reason))

    def revoke_document(self, receipt: Receipt, *, reason: str) -> Sent:
        """Revoke the receipt's document: the registry checks its path to the root and that
        this writer anchored that root (NotInRoot / NotRootIssuer otherwise)."""
        if receipt.anchor is None:
            raise ValueError("the receipt's batch is not anchored yet: nothing to revoke")
        path = [(step.hash, step.side == "left") for step in receipt.path]
        function = registry(self.w3, receipt.anchor.contract).functions.revokeDocument(
            receipt.doc_hash, receipt.salt, path, receipt.root, reason
        )
        return self._call(function)

    def call(self, function: ContractFunction) -> Sent:
        """Send any registry function (revocations, issuer list) from this writer."""
        return self._call(function)

    def _call(self, function: ContractFunction) -> Sent:
        return self._transact(lambda params: function.build_transaction(params))

    def _transact(self, build: Any) -> Sent:
        with unavailable_on_io(), self._lock:
            for attempt in range(_NONCE_RETRIES):
                params = self._params()
                params["nonce"] = Nonce(self._next_nonce(refresh=attempt > 0))
                tx = build(params)
                signed = self.account.sign_transaction(tx)
                try:
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except Web3RPCError as exc:
                    if "nonce too low" in str(exc).lower() or "already known" in str(exc).lower():
                        continue
                    raise
                self._nonces[self._slot] = (params["nonce"] + 1, tx_hash)
                return self._wait(tx_hash)
            raise ChainUnavailable("nonce kept colliding with another sender; try again")

    def _params(self) -> TxParams:
        latest = self.w3.eth.get_block("latest")
        tip = self.w3.eth.max_priority_fee
        base = int(latest.get("baseFeePerGas", 0))
        return {
            "from": self.account.address,
            "chainId": self.w3.eth.chain_id,
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": Wei(2 * base + tip),
        }

    def _next_nonce(self, *, refresh: bool) -> int:
        pending = int(self.w3.eth.get_transaction_count(self.account.address, "pending"))
        if refresh or self._slot not in self._nonces:
            return pending
        known, last = self._nonces[self._slot]
        if known <= pending:
            return pending  # the node is level with us, or another sender went ahead
        # ahead of the node: right while our last transaction is still in its pool; if the
        # node forgot it (a reset chain, a dropped pool) a gap would stall us: start over
        return known if self._node_knows(last) else pending

    def _node_knows(self, tx_hash: HexBytes) -> bool:
        try:
            self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        return True

    def _wait(self, tx_hash: HexBytes) -> Sent:
        receipt: TxReceipt = self.w3.eth.wait_for_transaction_receipt(
            tx_hash, timeout=self.receipt_timeout, poll_latency=0.05
        )
        if receipt["status"] != 1:
            raise Web3RPCError(f"transaction {hex0x(tx_hash)} reverted")
        deadline = time.monotonic() + self.receipt_timeout
        while self.w3.eth.block_number - receipt["blockNumber"] + 1 < self.confirmations:
            if time.monotonic() > deadline:
                raise ChainUnavailable("confirmations did not arrive in time")
            time.sleep(0.5)
        logs = receipt["logs"]
        address = receipt.get("contractAddress")
        return Sent(
            tx_hash=hex0x(tx_hash),
            block_number=receipt["blockNumber"],
            block_hash=hex0x(receipt["blockHash"]),
            log_index=logs[-1]["logIndex"] if logs else None,
            gas_used=receipt["gasUsed"],
            contract=str(address) if address else None,
        )


def find_anchor(w3: Web3, contract: str, root: bytes, *, from_block: int = 0) -> Sent | None:
    """The Anchored event of a root already on chain (a batch sent before a crash)."""
    with unavailable_on_io():
        event = registry(w3, contract).events.Anchored()
        logs = event.get_logs(from_block=from_block, argument_filters={"root": root})
    if not logs:
        return None
    log = logs[-1]
    with unavailable_on_io():
        receipt = w3.eth.get_transaction_receipt(log["transactionHash"])
    return Sent(
        tx_hash=hex0x(log["transactionHash"]),
        block_number=log["blockNumber"],
        block_hash=hex0x(log["blockHash"]),
        log_index=log["logIndex"],
        gas_used=receipt["gasUsed"],
    )
