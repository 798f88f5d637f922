"""Use-cases: each a named step over ports and the pure core, returning a report."""

from reviewbot.ports import BatchOutcome, Store
from reviewbot.service.ingest import IngestReport, ingest, reparse

__all__ = ["BatchOutcome", "IngestReport", "Store", "ingest", "reparse"]
