"""The committed contract artifact is what the pinned solc makes of the committed source."""

from __future__ import annotations

from ledger.compile import compile_contract, load_artifact


def test_committed_artifact_matches_a_fresh_compile() -> None:
    fresh = compile_contract()
    committed = load_artifact()
    assert committed["compiler"]["version"].startswith("0.8.37")
    assert fresh == committed, "run `python -m ledger.compile` and commit the artifact"


def test_contract_has_no_payable_function() -> None:
    payable = [item for item in load_artifact()["abi"] if item.get("stateMutability") == "payable"]
    assert payable == []
