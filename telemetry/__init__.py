"""Device credentials and ACL, MQTT ingest into TimescaleDB, rules, alerts, health."""
