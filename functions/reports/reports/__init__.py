"""The reports domain: incremental aggregates kept from the bus, visits, the report API and the
scheduled reports that email CSV files and a chart. The only domain that carries a chart library."""
