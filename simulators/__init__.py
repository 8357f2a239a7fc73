"""Fleet, engineer and distributor simulators that talk to the system like real ones."""
