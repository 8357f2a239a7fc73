"""The one writer: deploys, numbers its transactions, recovers from a stale nonce."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.chain import ChainWriter, connect, read_root, signing_key
from tests.ledger.conftest import ThrowawayChain


def test_nonce_too_low_rereads_the_pending_nonce_and_succeeds(
    test_chain: ThrowawayChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    w3 = connect(test_chain.url)
    writer = ChainWriter(w3, signing_key(test_chain.settings()))
    contract = writer.deploy().contract
    assert contract is not None
    real = w3.eth.get_transaction_count
    calls: list[int] = []

    def stale_first(address: Any, block: Any = "latest") -> int:
        calls.append(1)
        count = int(real(address, block))
        return count - 1 if len(calls) == 1 else count  # a nonce already used

    monkeypatch.setattr(w3.eth, "get_transaction_count", stale_first)
    writer._nonces.pop(writer._slot, None)
    sent = writer.anchor(contract, b"\x42" * 32)
    assert len(calls) == 2
    assert read_root(w3, contract, b"\x42" * 32).issuer is not None
    assert sent.log_index is not None


def test_another_sender_with_the_same_key_does_not_stall_the_writer(
    test_chain: ThrowawayChain,
) -> None:
    key = signing_key(test_chain.settings())
    ours = ChainWriter(connect(test_chain.url), key)
    contract = ours.deploy().contract
    assert contract is not None
    # the same key through another endpoint name: its own nonce bookkeeping
    theirs = ChainWriter(connect(test_chain.url.replace("127.0.0.1", "localhost")), key)
    theirs.anchor(contract, b"\x43" * 32)
    ours.anchor(contract, b"\x44" * 32)
    assert read_root(connect(test_chain.url), contract, b"\x44" * 32).issuer is not None
