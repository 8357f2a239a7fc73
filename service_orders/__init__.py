"""Engineers, work orders, PM plans, dispatch, SLAs, the engineer's mobile pages."""

# crm learns here which assets an engineer reaches (their offers and jobs)
from service_orders import engineer_reach as _engineer_reach  # noqa: F401
