"""Commands that write mail: digest, nag, outbox, suggest, report."""
