"""Read models for pages and the JSON API: latest values, chart series, devices, dead letters."""
