"""Commands about subsystem trees: trees poll, applied, cycle, pr, debt."""
