"""Infrastructure shared by every domain: settings, database, web shell, auth, MQTT, jobs."""
