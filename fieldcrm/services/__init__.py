"""The project's own local services (PostgreSQL, Mosquitto, anvil), started from system binaries."""
