"""Notifications' use cases: which email an event makes (`compose`), how it looks (`render`), and sending
it once (`deliver`)."""
