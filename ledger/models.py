"""Ledger tables: anchor requests, batches (one transaction each), proofs, contract deployments."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow
from core.labels import register_labels


class RequestStatus(StrEnum):
    PENDING = "pending"
    ANCHORED = "anchored"
    ORPHANED = "orphaned"


register_labels(
    "anchor_status",
    {
        RequestStatus.PENDING: "Waiting to be anchored",
        RequestStatus.ANCHORED: "Anchored on the ledger",
        RequestStatus.ORPHANED: "Being re-anchored",
    },
)


class BatchStatus(StrEnum):
    SENDING = "sending"  # root fixed and committed; the transaction may or may not be out
    ANCHORED = "anchored"
    ORPHANED = "orphaned"


class AnchorRequest(Base):
    """One document hash waiting for, or holding, an anchor; the id is the public verify id."""

    __tablename__ = "anchor_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'anchored', 'orphaned')", name="status"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        Index(
            "ix_anchor_requests_pending",
            "requested_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_anchor_requests_sha256", "sha256"),
        Index("ix_anchor_requests_batch_id", "batch_id"),
    )

    # random, not a sequence: the public verify URL must not let anyone enumerate documents
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(200))
    salt: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("anchor_batches.id"))


class AnchorBatch(Base):
    """A Merkle root over pending requests and the one transaction that anchors it."""

    __tablename__ = "anchor_batches"
    __table_args__ = (
        CheckConstraint("status IN ('sending', 'anchored', 'orphaned')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    root: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.SENDING)
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    contract: Mapped[str | None] = mapped_column(String(42))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    log_index: Mapped[int | None] = mapped_column(Integer)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]


class AnchorProof(Base):
    """The receipt of one request in one batch; an orphaned batch's proofs stay as history."""

    __tablename__ = "anchor_proofs"
    __table_args__ = (UniqueConstraint("request_id", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("anchor_requests.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("anchor_batches.id"), index=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChainDeployment(Base):
    """Where the registry contract lives on a chain; a reset chain gets a new row."""

    __tablename__ = "chain_deployments"
    __table_args__ = (
        Index(
            "ix_chain_deployments_active",
            "chain_id",
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(String(66))
    contract: Mapped[str] = mapped_column(String(42))
    deploy_tx: Mapped[str] = mapped_column(String(66))
    deploy_block: Mapped[int] = mapped_column(BigInteger)
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
