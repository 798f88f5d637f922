"""Subsystem trees: applied detection, merge-window pull requests, upstream debt."""
