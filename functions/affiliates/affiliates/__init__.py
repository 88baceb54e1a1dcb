"""Affiliates: applications, approval, the commission ledger fed by order events, and payouts."""
