"""Subsystem trees in SQL: applied commits and pull-request drafts."""
