"""Use-cases: each a named step over ports and the pure core, returning a report.

Import the modules themselves (reviewbot.service.backlog.ingest, .queries, ...): this package
imports nothing, so a query never loads the parser.
"""
