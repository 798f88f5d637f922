"""Outgoing mail and email commands, pure: building etiquette-proof messages,
the outbox's states and retry schedule, parsing and authorizing `reviewbot:` lines.
"""
