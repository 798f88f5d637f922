"""Stored series: the refresh's writes and every query's reads."""
