"""Merkle trees and receipts: tampering is detected, a proof binds exactly one document."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import MerkleError, PathStep, build_levels, leaf_hash, node_hash, proof_path
from ledger.proof import (
    Anchor,
    Receipt,
    ReceiptError,
    document_hash,
    make_receipt,
    offline_problem,
    parse_receipt,
)

ANCHOR = Anchor(31337, "0x" + "ab" * 20, "0x" + "11" * 32, 7, "0x" + "22" * 32, 0)


def _batch(documents: list[bytes]) -> list[Receipt]:
    salts = [os.urandom(32) for _ in documents]
    hashes = [document_hash(doc) for doc in documents]
    levels = build_levels([leaf_hash(s, h) for s, h in zip(salts, hashes, strict=True)])
    root = levels[-1][0]
    return [
        make_receipt(doc_hash=h, salt=s, path=proof_path(levels, i), root=root, anchor=ANCHOR)
        for i, (s, h) in enumerate(zip(salts, hashes, strict=True))
    ]


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


DOCS = [f"certificate {i}".encode() for i in range(7)]


def test_each_document_of_a_batch_verifies() -> None:
    for doc, receipt in zip(DOCS, _batch(DOCS), strict=True):
        assert offline_problem(parse_receipt(receipt.to_json()), doc) is None


def test_one_flipped_byte_of_the_document_is_detected() -> None:
    receipt = _batch(DOCS)[3]
    assert offline_problem(receipt, _flip(DOCS[3], 0)) is not None


@pytest.mark.parametrize("field", ["doc_hash", "salt", "root"])
def test_one_flipped_byte_of_a_receipt_field_is_detected(field: str) -> None:
    receipt = _batch(DOCS)[3].as_dict()
    value = bytes.fromhex(receipt[field])
    receipt[field] = _flip(value, 31).hex()
    assert offline_problem(parse_receipt(receipt), DOCS[3]) is not None


def test_one_flipped_byte_of_the_path_is_detected() -> None:
    receipt = _batch(DOCS)[3].as_dict()
    receipt["path"][1]["hash"] = _flip(bytes.fromhex(receipt["path"][1]["hash"]), 5).hex()
    assert offline_problem(parse_receipt(receipt), DOCS[3]) is not None


def test_a_swapped_side_in_the_path_is_detected() -> None:
    receipt = _batch(DOCS)[3].as_dict()
    step = receipt["path"][0]
    step["side"] = "left" if step["side"] == "right" else "right"
    assert offline_problem(parse_receipt(receipt), DOCS[3]) is not None


def test_a_proof_for_one_document_does_not_verify_another() -> None:
    receipts = _batch(DOCS)
    assert offline_problem(receipts[0], DOCS[1]) is not None
    # nor with the other document's hash written into the receipt
    forged = receipts[0].as_dict() | {"doc_hash": document_hash(DOCS[1]).hex()}
    assert offline_problem(parse_receipt(forged), DOCS[1]) is not None


def test_an_inner_node_cannot_pose_as_a_leaf() -> None:
    leaves = [leaf_hash(os.urandom(32), document_hash(doc)) for doc in DOCS[:4]]
    levels = build_levels(leaves)
    left, right = levels[0][0], levels[0][1]
    # the classic second preimage: present the inner node as if it were a leaf
    assert node_hash(left, right) == levels[1][0]
    assert leaf_hash(left, right) != levels[1][0]


def test_odd_node_is_promoted_not_duplicated() -> None:
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(3)]
    levels = build_levels(leaves)
    assert levels[1] == [node_hash(leaves[0], leaves[1]), leaves[2]]
    assert levels[2] == [node_hash(levels[1][0], leaves[2])]
    assert proof_path(levels, 2) == [PathStep("left", levels[1][0])]


def test_single_document_batch_has_an_empty_path() -> None:
    (receipt,) = _batch([b"only"])
    assert receipt.path == ()
    assert offline_problem(receipt, b"only") is None


def test_an_empty_tree_is_refused() -> None:
    with pytest.raises(MerkleError):
        build_levels([])


@pytest.mark.parametrize(
    "change",
    [
        {"hash_scheme": "fieldcrm-merkle-sha256-v0"},
        {"root": "AB" * 32},
        {"salt": "00" * 31},
        {"path": [{"side": "up", "hash": "00" * 32}]},
        {"anchor": {"chain_id": -1}},
    ],
)
def test_malformed_receipts_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ReceiptError):
        parse_receipt(_batch(DOCS)[0].as_dict() | change)


def test_a_receipt_of_a_large_batch_fits_in_a_qr_code() -> None:
    levels = build_levels([hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(10_000)])
    receipt = make_receipt(
        doc_hash=b"\x01" * 32,
        salt=b"\x02" * 32,
        path=proof_path(levels, 4321),
        root=levels[-1][0],
        anchor=ANCHOR,
    )
    assert len(receipt.to_json()) < 2_900  # version-40 QR, level L, binary mode: 2,953 bytes
    assert json.loads(receipt.to_json())["hash_scheme"] == "fieldcrm-merkle-sha256-v1"


@settings(max_examples=60, deadline=None)
@given(
    documents=st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=70, unique=True),
    data=st.data(),
)
def test_any_tree_proves_its_members_and_rejects_tampering(
    documents: list[bytes], data: st.DataObject
) -> None:
    receipts = _batch(documents)
    index = data.draw(st.integers(0, len(documents) - 1))
    receipt = receipts[index]
    assert offline_problem(parse_receipt(receipt.to_json()), documents[index]) is None
    field = data.draw(st.sampled_from(["doc_hash", "salt", "root"]))
    byte = data.draw(st.integers(0, 31))
    tampered = receipt.as_dict() | {
        field: _flip(bytes.fromhex(receipt.as_dict()[field]), byte).hex()
    }
    assert offline_problem(parse_receipt(tampered), documents[index]) is not None
    for other, document in enumerate(documents):
        if other != index:
            assert offline_problem(receipt, document) is not None
