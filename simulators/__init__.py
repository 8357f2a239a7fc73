"""Fleet, engineer and distributor simulators that talk to the system over MQTT and HTTP, like the real ones."""
