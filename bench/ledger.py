"""Ledger benchmark: gas per document for batches of 1, 100 and 10,000; request to proof;
verify latency offline and with the chain. A throw-away anvil and a scratch database.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.fixtures import migrated, scratch_database
from core.config import PROJECT_ROOT, Settings, get_settings
from core.db import make_engine
from fieldcrm.services.base import free_port
from ledger.anchoring import anchor_pending
from ledger.models import AnchorBatch, AnchorProof, AnchorRequest
from ledger.proof import offline_problem, parse_receipt
from ledger.trust import installation_trust
from ledger.verify import verify

ANVIL = PROJECT_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
BATCHES = (1, 100, 10_000)
VERIFY_OFFLINE_RUNS = 2_000
VERIFY_CHAIN_RUNS = 200


@contextmanager
def throwaway_anvil() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdin=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _queue(session: Session, count: int) -> None:
    rows = [
        {
            "sha256": os.urandom(32).hex(),
            "kind": "bench",
            "reference": f"bench:{i}",
            "salt": os.urandom(32).hex(),
            "status": "pending",
        }
        for i in range(count)
    ]
    session.execute(insert(AnchorRequest), rows)
    session.commit()


def _percentile(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100)[q - 1], 3)


def measure(session: Session, settings: Settings, rpc_url: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    anchor_pending(session, settings)  # deploys the registry: not part of any batch's figures
    for size in BATCHES:
        _queue(session, size)
        started = time.perf_counter()
        anchored = anchor_pending(session, settings)
        elapsed = time.perf_counter() - started
        batch = session.scalars(select(AnchorBatch).order_by(AnchorBatch.id.desc())).first()
        assert batch is not None
        assert batch.gas_used
        assert anchored == size
        result[f"gas_per_doc_{size}"] = round(batch.gas_used / size, 1)
        result[f"gas_per_tx_{size}"] = batch.gas_used
        result[f"anchor_job_s_{size}"] = round(elapsed, 3)
    result["request_to_proof_s"] = result["anchor_job_s_100"]
    # a document of the 10,000 batch: the longest path (14 steps) is the slowest to check
    assert batch is not None
    receipt = session.scalars(
        select(AnchorProof.receipt).where(AnchorProof.batch_id == batch.id).limit(1)
    ).one()
    offline = []
    for _ in range(VERIFY_OFFLINE_RUNS):
        started = time.perf_counter()
        assert offline_problem(parse_receipt(receipt)) is None
        offline.append((time.perf_counter() - started) * 1000)
    chain = []
    trust = installation_trust(session, settings)  # once: a verify page loads it per request
    for _ in range(VERIFY_CHAIN_RUNS):
        started = time.perf_counter()
        assert verify(receipt, None, rpc_url, trust=trust).status == "valid"
        chain.append((time.perf_counter() - started) * 1000)
    result |= {
        "verify_p50_ms_offline": _percentile(offline, 50),
        "verify_p99_ms_offline": _percentile(offline, 99),
        "verify_p50_ms_chain": _percentile(chain, 50),
        "verify_p99_ms_chain": _percentile(chain, 99),
        "receipt_bytes_10000": len(json.dumps(receipt, separators=(",", ":"))),
    }
    return result


def main() -> None:
    with scratch_database("fieldcrm_bench_ledger") as url, throwaway_anvil() as port:
        engine = make_engine(migrated(url))
        settings = get_settings().model_copy(
            update={"chain_port": port, "ledger_rpc_url": None, "ledger_private_key": None}
        )
        try:
            with Session(engine, expire_on_commit=False) as session:
                result = measure(session, settings, settings.resolved_rpc_url())
        finally:
            engine.dispose()
    print(
        json.dumps(
            {
                "bench": "ledger",
                **result,
                "request_to_proof_note": (
                    "one anchoring job over 100 waiting requests (automine, 1 confirmation); "
                    "a request waits up to the job interval (20 s) before that"
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
