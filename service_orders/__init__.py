"""Engineers, work orders and their state machine, PM plans, dispatch, SLAs, the engineer's mobile pages."""
