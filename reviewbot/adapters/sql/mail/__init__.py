"""Mail state in SQL: the outbox and what mail to people needs remembered."""
