"""Charts: a config validated against a result schema, and ECharts options computed from results."""
