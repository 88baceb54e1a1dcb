"""The local stack: the template's API, functions, tables, user pool, state machines, rules and
schedules on one machine, on moto (local AWS) and localstripe (local Stripe). `python -m local --help`."""
