"""/metrics tells how many documents wait, are anchored, or were orphaned by a chain reset."""

from __future__ import annotations

from contextlib import nullcontext

from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy.orm import Session

from ledger.metrics import AnchorStatusCollector
from ledger.service import request_anchor


def test_orphaned_documents_are_counted(db: Session) -> None:
    for index, status in enumerate(("pending", "orphaned", "orphaned")):
        request = request_anchor(db, sha256=f"{index:064x}", kind="test", reference=f"r{index}")
        request.status = status
    db.flush()
    registry = CollectorRegistry()
    registry.register(AnchorStatusCollector(lambda: nullcontext(db)))
    text = generate_latest(registry).decode()
    assert 'fieldcrm_ledger_documents{status="orphaned"} 2.0' in text
    assert 'fieldcrm_ledger_documents{status="pending"} 1.0' in text
