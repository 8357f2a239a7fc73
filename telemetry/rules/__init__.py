"""Rules evaluated on the telemetry stream: rules are data, evaluated per device per batch."""
