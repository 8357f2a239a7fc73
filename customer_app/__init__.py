"""Customer-facing pages: devices, health, charts, work orders, history, certificates, surveys."""
