"""The tables (SQLModel classes) and how rows encode the core's values."""
