"""Alerts raised by the rules: one active alert per device and rule, with a lifecycle."""
