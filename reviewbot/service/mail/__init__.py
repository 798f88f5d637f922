"""Mail to people: the outbox, digests, reminders, suggestions, reports, email commands
and the schedule that sends them."""
