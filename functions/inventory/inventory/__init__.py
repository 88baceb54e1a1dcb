"""The inventory domain: stock per SKU that never oversells, holds per order, the adjustment ledger
and low-stock alerts."""
