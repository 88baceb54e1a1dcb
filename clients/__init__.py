"""Checks that the clients generated from docs/openapi.json are usable: `python -m clients.check`."""
