"""Anchoring certificate and contract hashes on an EVM chain; proofs; public verify page."""
