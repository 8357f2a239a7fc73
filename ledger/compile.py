"""Compile the Solidity contracts with the pinned solcjs and write the committed artifact."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
PROJECT_ROOT = CONTRACTS_DIR.parent.parent
CONTRACT = "AnchorRegistry"
SOURCE = CONTRACTS_DIR / f"{CONTRACT}.sol"
ARTIFACT = CONTRACTS_DIR / f"{CONTRACT}.json"
OPTIMIZER_RUNS = 200
_RUNTIME = ["evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"]

# solc's standard-JSON API, driven through node: offline, no native binary needed.
_NODE_SCRIPT = (
    "const solc=require('solc');let s='';process.stdin.on('data',d=>s+=d);"
    "process.stdin.on('end',()=>process.stdout.write(JSON.stringify("
    "{version:solc.version(),output:JSON.parse(solc.compile(s))})));"
)


class CompileError(RuntimeError):
    """solc reported errors, or node/solc is missing."""


def compile_contract() -> dict[str, Any]:
    """The artifact (abi, bytecode, compiler version) freshly compiled from the source."""
    source = SOURCE.read_text()
    request: dict[str, Any] = {
        "language": "Solidity",
        "sources": {SOURCE.name: {"content": source}},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": "cancun",
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", *_RUNTIME]}},
        },
    }
    node = shutil.which("node")
    if node is None:
        raise CompileError("node is not installed: it runs the pinned solc (node_modules/solc)")
    done = subprocess.run(  # noqa: S603  # fixed argv, no shell
        [node, "-e", _NODE_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise CompileError(f"solc failed: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    errors = [e for e in result["output"].get("errors", []) if e["severity"] == "error"]
    if errors:
        raise CompileError("\n".join(e["formattedMessage"] for e in errors))
    compiled = result["output"]["contracts"][SOURCE.name][CONTRACT]
    runtime = compiled["evm"]["deployedBytecode"]
    return {
        "contractName": CONTRACT,
        "compiler": {"name": "solcjs", "version": result["version"]},
        "settings": {k: v for k, v in request["settings"].items() if k != "outputSelection"},
        "sourceSha256": hashlib.sha256(source.encode()).hexdigest(),
        "abi": compiled["abi"],
        "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
        # the code a deployment holds, but for the immutables (the owner) the constructor fills in
        "deployedBytecode": "0x" + runtime["object"],
        "immutableRanges": sorted(
            [ref["start"], ref["length"]]
            for refs in runtime.get("immutableReferences", {}).values()
            for ref in refs
        ),
    }


def load_artifact() -> dict[str, Any]:
    """The committed artifact the chain client deploys."""
    artifact: dict[str, Any] = json.loads(ARTIFACT.read_text())
    return artifact


def is_current_code(code: bytes, artifact: dict[str, Any] | None = None) -> bool:
    """Whether `code` (read from a deployment) is the committed contract's: a deployment of an
    older version is not, and is replaced (ledger/deployments.py)."""
    artifact = artifact or load_artifact()
    expected = bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x"))
    if len(code) != len(expected):
        return False
    found, wanted = bytearray(code), bytearray(expected)
    for start, length in artifact["immutableRanges"]:
        found[start : start + length] = wanted[start : start + length]
    return found == wanted


def main() -> None:
    """Recompile and rewrite the committed artifact."""
    artifact = compile_contract()
    ARTIFACT.write_text(json.dumps(artifact, indent=2, sort_keys=True) + "\n")
    print(f"wrote {ARTIFACT} ({artifact['compiler']['version']})")


if __name__ == "__main__":
    main()
