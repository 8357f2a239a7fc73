"""Anchoring certificate and contract hashes on an EVM chain: contract, Merkle batches, proofs, public verify page."""
