"""Device credentials and MQTT ACL, the ingest pipeline into TimescaleDB, rules, alerts, health scores."""
