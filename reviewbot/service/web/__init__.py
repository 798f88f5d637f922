"""What the HTTP surface serves: the JSON API, chat commands, metrics and the dashboard."""
