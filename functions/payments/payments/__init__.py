"""The payments domain: Stripe PaymentIntents and refunds, the payment step of the order workflow, and
Stripe's webhooks. The only domain that imports `stripe`."""
