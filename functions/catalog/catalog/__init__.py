"""The catalog domain: products, categories and the keyword search index."""
