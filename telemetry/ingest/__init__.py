"""The ingest process: MQTT shared subscription -> validate -> COPY -> rollups -> rules -> ack."""
