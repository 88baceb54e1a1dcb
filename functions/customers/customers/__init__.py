"""Customers: profiles, addresses, purchase history, recommendations, win-back deals, support view."""
