"""Domain-separated SHA-256 Merkle trees over salted document hashes (pure, no I/O).

leaf = sha256(0x00 || salt32 || doc_hash32); node = sha256(0x01 || left || right).
An odd node at the end of a level is promoted unchanged to the next level (never paired with
a copy of itself), so a tree of n leaves has exactly one shape and a path has no entry for a
level where its node was promoted. The 0x00/0x01 prefixes make a leaf and an inner node
impossible to confuse, which rules out second-preimage proofs built from inner nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_BYTES = 32

Side = Literal["left", "right"]


class MerkleError(ValueError):
    """An input is not a 32-byte hash, or a tree has no leaves."""


@dataclass(frozen=True, slots=True)
class PathStep:
    """One sibling on the way to the root, and on which side of the running hash it sits."""

    side: Side
    hash: bytes


def _check32(value: bytes, what: str) -> bytes:
    if len(value) != HASH_BYTES:
        raise MerkleError(f"{what} must be {HASH_BYTES} bytes, got {len(value)}")
    return value


def leaf_hash(salt: bytes, doc_hash: bytes) -> bytes:
    """The leaf of one document: sha256(0x00 || salt || doc_hash)."""
    return hashlib.sha256(
        LEAF_PREFIX + _check32(salt, "salt") + _check32(doc_hash, "doc_hash")
    ).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An inner node: sha256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + _check32(left, "left") + _check32(right, "right")).digest()


def build_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, root last."""
    if not leaves:
        raise MerkleError("a Merkle tree needs at least one leaf")
    levels = [[_check32(leaf, "leaf") for leaf in leaves]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])  # odd node promoted
        levels.append(above)
    return levels


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root over leaves (a single leaf is its own root)."""
    return build_levels(leaves)[-1][0]


def proof_path(levels: Sequence[Sequence[bytes]], index: int) -> list[PathStep]:
    """The siblings from leaf `index` up to the root of a tree from build_levels."""
    if not 0 <= index < len(levels[0]):
        raise MerkleError(f"leaf index {index} outside the tree of {len(levels[0])} leaves")
    path: list[PathStep] = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            side: Side = "left" if sibling < index else "right"
            path.append(PathStep(side, level[sibling]))
        index //= 2
    return path


def root_from_path(leaf: bytes, path: Sequence[PathStep]) -> bytes:
    """Fold a leaf with its path into the root it implies."""
    running = _check32(leaf, "leaf")
    for step in path:
        if step.side == "left":
            running = node_hash(step.hash, running)
        elif step.side == "right":
            running = node_hash(running, step.hash)
        else:
            raise MerkleError(f"path side must be 'left' or 'right', got {step.side!r}")
    return running
