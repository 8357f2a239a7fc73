"""Composition root: app factory, CLI, process runner, local services and the demo seed."""
