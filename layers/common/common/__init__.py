"""What every Storekeeper function shares: configuration, observability, HTTP errors, auth, money,
cursors, DynamoDB helpers and event envelopes. Nothing here knows about a domain."""
