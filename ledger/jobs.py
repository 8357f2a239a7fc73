"""The ledger's background work: anchor waiting document hashes, watch for chain resets."""

from __future__ import annotations

from procrastinate import Blueprint

from core.config import get_settings
from core.db import get_sessionmaker
from ledger.anchoring import anchor_pending

blueprint = Blueprint()


@blueprint.periodic(cron="* * * * * */20")
@blueprint.task(queue="ledger", queueing_lock="ledger_anchor", lock="ledger_anchor")
def anchor_waiting_documents(timestamp: int) -> int:
    """Anchor the waiting requests (also re-checks the chain); returns how many got proofs."""
    with get_sessionmaker()() as session:
        return anchor_pending(session, get_settings())
