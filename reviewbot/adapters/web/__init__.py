"""The HTTP edge on aiohttp: `/metrics`, `/healthz`, the JSON API, chat slash commands
and the dashboard, over a WebBackend (service/web/backend.py) called in worker threads."""
