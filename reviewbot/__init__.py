"""reviewbot: keeps every kernel subsystem's review queue visible and moving."""

__version__ = "0.1.0"
