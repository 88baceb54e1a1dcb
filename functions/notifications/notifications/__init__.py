"""Notifications: the shop's customer emails and staff alerts, sent once per event from the bus."""
