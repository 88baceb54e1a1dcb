"""The orders domain: checkout priced on the server, the order's life through the workflow, shipments,
cancellations and refunds."""
