"""The backlog's use-cases: ingest, refresh, the queries behind queue and series, and
manual actions. Import the modules themselves: this package imports nothing."""
