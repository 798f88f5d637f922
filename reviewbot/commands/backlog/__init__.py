"""Commands that read and act on the backlog: queue, series, stats, route, am,
quarantine, and the manual actions."""
