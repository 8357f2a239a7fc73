"""Engineers, work orders, PM plans, dispatch, SLAs, the engineer's mobile pages."""
